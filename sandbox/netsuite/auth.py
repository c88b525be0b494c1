"""NetSuite's three ways in (spec section 2), checked as strictly as the contract says:
the OAuth 2.0 client-credentials grant with a signed JWT (2a), the authorization-code grant with PKCE
and refresh tokens (2b), token-based authentication signed per OAuth 1.0a with HMAC-SHA256 (2c), and
the Bearer tokens the OAuth grants hand out. All lifetimes are measured on the sandbox clock."""

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from sandbox.clock import Clock
from sandbox.http import Request, Response, json_response
from sandbox.netsuite.errors import NetSuiteError

# Oracle accepts only RSA-PSS and ECDSA signatures for the M2M assertion; RS256 is refused (spec 2a).
JWT_ALGORITHMS = frozenset({"PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
NETSUITE_SCOPES = frozenset({"rest_webservices", "restlets", "suite_analytics"})
JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ACCESS_TOKEN_SECONDS = 3600
LONGEST_ASSERTION_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 7 * 24 * 3600
AUTHORIZATION_CODE_SECONDS = 600  # (ours) Oracle does not publish it; codes are meant to be redeemed at once
CLOCK_LEEWAY_SECONDS = 60
TBA_TIMESTAMP_WINDOW_SECONDS = 300
TBA_SHORTEST_NONCE = 6
STATE_LENGTHS = range(22, 1025)
# NetSuite's consent redirect names the role and entity that granted access; the sandbox grants as the administrator.
CONSENT_ROLE = "3"
CONSENT_ENTITY = "-5"

M2M = "oauth2_client_credentials"
AUTH_CODE = "oauth2_authorization_code"
TBA = "tba"

_OAUTH_HEADER_PARAM = re.compile(r'([A-Za-z0-9_]+)="([^"]*)"')
_SCOPE_SEPARATORS = re.compile(r"[,\s]+")


class OAuthError(Exception):
    """A token endpoint refusal: `{"error": ...}`, 400 unless the client itself is not recognised."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error
        self.status = 401 if error == "invalid_client" else 400

    def response(self) -> Response:
        return json_response(self.status, {"error": self.error})


class InvalidLogin(NetSuiteError):
    """The one answer NetSuite gives to every bad Bearer token or TBA signature (spec 2d): it never says which
    part was wrong."""

    def __init__(self, *, account_id: str) -> None:
        super().__init__(
            401,
            "INVALID_LOGIN",
            "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
            "Setup > Users/Roles > User Management > View Login Audit Trail.",
        )
        self.headers = {
            "WWW-Authenticate": f'Bearer realm="{account_id}", error="invalid_token", '
            f'error_description="Invalid login attempt."'
        }


@dataclass(frozen=True)
class M2MClient:
    client_id: str
    certificate_id: str
    public_key: Any


@dataclass(frozen=True)
class AuthCodeClient:
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass(frozen=True)
class TbaToken:
    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str


@dataclass(frozen=True)
class AccessToken:
    method: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass(frozen=True)
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    code_challenge: str
    scopes: frozenset[str]
    expires_at: float


@dataclass(frozen=True)
class RefreshToken:
    client_id: str
    scopes: frozenset[str]
    expires_at: float


def load_public_key(pem: str) -> Any:
    """The key of an uploaded certificate; a bare public key PEM is accepted as well."""
    data = pem.encode("ascii")
    if b"BEGIN CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return load_pem_public_key(data)


def percent_encode(value: str) -> str:
    """RFC 5849 3.6: only unreserved characters stay as they are."""
    return quote(value, safe="-._~")


def tba_signature(*, method: str, url: str, oauth_params: dict[str, str], form_params: list[tuple[str, str]],
                  consumer_secret: str, token_secret: str) -> str:
    """HMAC-SHA256 over the RFC 5849 3.4.1 base string: the request's method, its URL as addressed (default port
    dropped) and every oauth, query and form parameter except realm and the signature itself."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    default_port = {"http": 80, "https": 443}.get(scheme)
    authority = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
    base_uri = f"{scheme}://{authority}{parts.path or '/'}"
    params = [(k, v) for k, v in oauth_params.items() if k not in ("realm", "oauth_signature")]
    params += parse_qsl(parts.query, keep_blank_values=True) + form_params
    normalized = "&".join(f"{k}={v}" for k, v in sorted((percent_encode(k), percent_encode(v)) for k, v in params))
    base_string = "&".join(percent_encode(part) for part in (method.upper(), base_uri, normalized))
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    digest = hmac.new(key.encode("utf-8"), base_string.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url of the SHA-256 of the verifier, without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("utf-8")).digest()).rstrip(b"=").decode("ascii")


def _parse_scopes(raw: Any) -> frozenset[str]:
    """A list or a comma- (or space-) separated string naming only NetSuite's scopes."""
    items = raw if isinstance(raw, list) else _SCOPE_SEPARATORS.split(raw) if isinstance(raw, str) else [None]
    if not all(isinstance(item, str) for item in items):
        raise OAuthError("invalid_scope")
    scopes = frozenset(item.strip() for item in items if item.strip())
    if not scopes or not scopes <= NETSUITE_SCOPES:
        raise OAuthError("invalid_scope")
    return scopes


def _b64url_json(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=").decode()


def _new_access_token_string(expires_at: float) -> str:
    """Real NetSuite access tokens are JWTs; clients must treat them as opaque, so this one only looks the part."""
    header = _b64url_json({"kid": "sandbox", "typ": "JWT", "alg": "ES256"})
    payload = _b64url_json({"jti": str(uuid.uuid4()), "exp": int(expires_at)})
    return f"{header}.{payload}.{secrets.token_urlsafe(48)}"


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except ValueError:
        return None
    client_id, separator, client_secret = decoded.partition(":")
    # Taken as sent: NetSuite's ids and secrets are hex, and most clients do not form-encode them first.
    return (client_id, client_secret) if separator else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class NetSuiteAuth:
    """Registrations, issued tokens and seen nonces of one sandbox account; safe to use from many threads."""

    def __init__(self, *, account_id: str, clock: Clock) -> None:
        self.account_id = account_id
        self.clock = clock
        self._lock = threading.Lock()
        self.forget_everything()

    def forget_everything(self) -> None:
        with self._lock:
            self._m2m_by_certificate: dict[str, M2MClient] = {}
            self._auth_code_clients: dict[str, AuthCodeClient] = {}
            self._tba_tokens: dict[tuple[str, str], TbaToken] = {}
            self._access_tokens: dict[str, AccessToken] = {}
            self._codes: dict[str, AuthorizationCode] = {}
            self._refresh_tokens: dict[str, RefreshToken] = {}
            self._seen_nonces: dict[tuple[str, str, str, str], float] = {}

    # --- registrations -------------------------------------------------------------------------------------

    def register_m2m_client(self, *, client_id: str, certificate_id: str, public_key_pem: str) -> None:
        client = M2MClient(client_id=client_id, certificate_id=certificate_id,
                           public_key=load_public_key(public_key_pem))
        with self._lock:
            self._m2m_by_certificate[certificate_id] = client

    def register_auth_code_client(self, *, client_id: str, client_secret: str, redirect_uri: str) -> None:
        with self._lock:
            self._auth_code_clients[client_id] = AuthCodeClient(client_id, client_secret, redirect_uri)

    def register_tba(self, *, consumer_key: str, consumer_secret: str, token_id: str, token_secret: str) -> None:
        with self._lock:
            self._tba_tokens[(consumer_key, token_id)] = TbaToken(consumer_key, consumer_secret, token_id, token_secret)

    def register_refresh_token(self, *, client_id: str, refresh_token: str,
                               scopes: frozenset[str] = frozenset({"rest_webservices"})) -> None:
        """A refresh token as if a person had consented just now (the demo's built-in one)."""
        with self._lock:
            self._refresh_tokens[refresh_token] = RefreshToken(client_id, scopes,
                                                               self.clock.now() + REFRESH_TOKEN_SECONDS)

    # --- issuing -------------------------------------------------------------------------------------------

    def issue_access_token(self, *, method: str, client_id: str,
                           scopes: frozenset[str] = frozenset({"rest_webservices"})) -> str:
        now = self.clock.now()
        expires_at = now + ACCESS_TOKEN_SECONDS
        token = _new_access_token_string(expires_at)
        with self._lock:
            # Expired tokens are dropped here so that a long demo run does not grow the table without bound.
            self._access_tokens = {t: a for t, a in self._access_tokens.items() if a.expires_at > now}
            self._access_tokens[token] = AccessToken(method, client_id, scopes, expires_at)
        return token

    def issue_authorization_code(self, *, client_id: str, redirect_uri: str, code_challenge: str,
                                 scopes: frozenset[str] = frozenset({"rest_webservices"})) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = AuthorizationCode(client_id, redirect_uri, code_challenge, scopes,
                                                  self.clock.now() + AUTHORIZATION_CODE_SECONDS)
        return code

    def revoke_access_tokens(self) -> None:
        """Every Bearer token stops working at once, as when an administrator revokes them; refresh tokens and
        client registrations stay, so a client that mints or refreshes a new token gets back in."""
        with self._lock:
            self._access_tokens.clear()

    # --- the consent page (spec 2b) ------------------------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        """Auto-consent: a valid request is redirected at once with a code, as if the administrator clicked Allow."""
        query = request.query
        with self._lock:
            client = self._auth_code_clients.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        if client is None or redirect_uri != client.redirect_uri:
            # Never redirect to an address that is not registered: that would make this page an open redirector.
            return json_response(400, {"error": "invalid_request"})
        state = query.get("state", "")
        try:
            if query.get("response_type") != "code":
                raise OAuthError("unsupported_response_type")
            scopes = _parse_scopes(query.get("scope"))
            challenge = query.get("code_challenge", "")
            if (len(state) not in STATE_LENGTHS or query.get("code_challenge_method") != "S256"
                    or not 43 <= len(challenge) <= 128):
                raise OAuthError("invalid_request")
        except OAuthError as refused:
            answer = {"error": refused.error} | ({"state": state} if len(state) in STATE_LENGTHS else {})
            return self._redirect(redirect_uri, answer)
        code = self.issue_authorization_code(client_id=client.client_id, redirect_uri=redirect_uri,
                                             code_challenge=challenge, scopes=scopes)
        return self._redirect(redirect_uri, {"code": code, "state": state, "role": CONSENT_ROLE,
                                             "entity": CONSENT_ENTITY, "company": self.account_id})

    @staticmethod
    def _redirect(redirect_uri: str, params: dict[str, str]) -> Response:
        separator = "&" if "?" in redirect_uri else "?"
        return Response(status=302, headers={"Location": f"{redirect_uri}{separator}{urlencode(params)}"})

    # --- the token endpoint --------------------------------------------------------------------------------

    def token_endpoint(self, request: Request) -> Response:
        try:
            form = request.form()
        except UnicodeDecodeError:
            return OAuthError("invalid_request").response()
        grant_type = form.get("grant_type")
        try:
            if grant_type == "client_credentials":
                return self._client_credentials_grant(request, form)
            if grant_type in ("authorization_code", "refresh_token"):
                client = self._authenticated_auth_code_client(request)
                if grant_type == "authorization_code":
                    return self._authorization_code_grant(client, form)
                return self._refresh_token_grant(client, form)
            raise OAuthError("unsupported_grant_type" if grant_type else "invalid_request")
        except OAuthError as refused:
            return refused.response()

    def _client_credentials_grant(self, request: Request, form: dict[str, str]) -> Response:
        # The client authenticates with its signed assertion only: a Basic header means it is confused (spec 2a).
        if "Authorization" in request.headers or form.get("client_assertion_type") != JWT_BEARER_ASSERTION:
            raise OAuthError("invalid_request")
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise OAuthError("invalid_request") from None
        algorithm = header.get("alg")
        if algorithm not in JWT_ALGORITHMS:
            raise OAuthError("invalid_request")
        kid = header.get("kid")
        with self._lock:
            client = self._m2m_by_certificate.get(kid) if isinstance(kid, str) else None
        # A key of the other family cannot have made this signature (an EC assertion against an RSA certificate).
        key_family = rsa.RSAPublicKey if algorithm.startswith("PS") else ec.EllipticCurvePublicKey
        if client is None or not isinstance(client.public_key, key_family):
            raise OAuthError("invalid_client")
        try:
            # Only the signature is checked by pyjwt; every time and audience rule is ours, on the sandbox clock.
            claims = jwt.decode(assertion, client.public_key, algorithms=[algorithm],
                                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                         "verify_aud": False, "verify_iss": False})
        except jwt.InvalidSignatureError:
            raise OAuthError("invalid_client") from None
        except jwt.PyJWTError:
            raise OAuthError("invalid_request") from None
        if claims.get("iss") != client.client_id:
            raise OAuthError("invalid_client")
        issued_at, expires = claims.get("iat"), claims.get("exp")
        if not (_is_number(issued_at) and _is_number(expires)):
            raise OAuthError("invalid_request")
        now = self.clock.now()
        if (claims.get("aud") not in (request.url, [request.url]) or expires + CLOCK_LEEWAY_SECONDS < now
                or issued_at - CLOCK_LEEWAY_SECONDS > now or expires - issued_at > LONGEST_ASSERTION_SECONDS):
            raise OAuthError("invalid_grant")
        scopes = _parse_scopes(claims.get("scope"))
        token = self.issue_access_token(method=M2M, client_id=client.client_id, scopes=scopes)
        return json_response(200, {"access_token": token, "expires_in": ACCESS_TOKEN_SECONDS, "token_type": "Bearer"})

    def _authenticated_auth_code_client(self, request: Request) -> AuthCodeClient:
        credentials = _basic_credentials(request)
        with self._lock:
            client = self._auth_code_clients.get(credentials[0]) if credentials else None
        if client is None or not hmac.compare_digest(client.client_secret.encode(), credentials[1].encode()):
            raise OAuthError("invalid_client")
        return client

    def _authorization_code_grant(self, client: AuthCodeClient, form: dict[str, str]) -> Response:
        code, redirect_uri, verifier = form.get("code"), form.get("redirect_uri"), form.get("code_verifier")
        if not (code and redirect_uri and verifier):
            raise OAuthError("invalid_request")
        with self._lock:
            # Popped before any check: a code is spent by its first use, right or wrong (RFC 6749 4.1.2).
            grant = self._codes.pop(code, None)
        if (grant is None or grant.client_id != client.client_id or grant.expires_at <= self.clock.now()
                or grant.redirect_uri != redirect_uri
                or not hmac.compare_digest(pkce_challenge(verifier), grant.code_challenge)):
            raise OAuthError("invalid_grant")
        refresh_token = secrets.token_urlsafe(48)
        self.register_refresh_token(client_id=client.client_id, refresh_token=refresh_token, scopes=grant.scopes)
        access_token = self.issue_access_token(method=AUTH_CODE, client_id=client.client_id, scopes=grant.scopes)
        return json_response(200, {"access_token": access_token, "refresh_token": refresh_token,
                                   "expires_in": ACCESS_TOKEN_SECONDS, "token_type": "bearer"})

    def _refresh_token_grant(self, client: AuthCodeClient, form: dict[str, str]) -> Response:
        presented = form.get("refresh_token")
        if not presented:
            raise OAuthError("invalid_request")
        with self._lock:
            grant = self._refresh_tokens.get(presented)
        if grant is None or grant.client_id != client.client_id or grant.expires_at <= self.clock.now():
            raise OAuthError("invalid_grant")
        access_token = self.issue_access_token(method=AUTH_CODE, client_id=client.client_id, scopes=grant.scopes)
        return json_response(200, {"access_token": access_token, "expires_in": ACCESS_TOKEN_SECONDS,
                                   "token_type": "bearer"})

    # --- authenticating API requests -----------------------------------------------------------------------

    def authenticate(self, request: Request) -> str:
        """The auth method that let the request in; raises InvalidLogin otherwise."""
        header = request.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            return self._authenticate_bearer(credentials.strip())
        if scheme.lower() == "oauth":
            return self._authenticate_tba(request, credentials)
        raise InvalidLogin(account_id=self.account_id)

    def _authenticate_bearer(self, token: str) -> str:
        with self._lock:
            grant = self._access_tokens.get(token)
        if grant is None or grant.expires_at <= self.clock.now() or "rest_webservices" not in grant.scopes:
            raise InvalidLogin(account_id=self.account_id)
        return grant.method

    def _authenticate_tba(self, request: Request, credentials: str) -> str:
        refused = InvalidLogin(account_id=self.account_id)
        params = {name: unquote(value) for name, value in _OAUTH_HEADER_PARAM.findall(credentials)}
        with self._lock:
            registration = self._tba_tokens.get((params.get("oauth_consumer_key", ""), params.get("oauth_token", "")))
        timestamp, nonce = params.get("oauth_timestamp", ""), params.get("oauth_nonce", "")
        now = self.clock.now()
        # The realm is compared as written: NetSuite refuses `1234567_sb1` for account `1234567_SB1` (spec 1).
        if (registration is None or params.get("realm") != self.account_id
                or params.get("oauth_signature_method") != "HMAC-SHA256"
                or params.get("oauth_version", "1.0") != "1.0"
                or not timestamp.isdigit() or abs(int(timestamp) - now) > TBA_TIMESTAMP_WINDOW_SECONDS
                or len(nonce) < TBA_SHORTEST_NONCE):
            raise refused
        is_form = request.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
        expected = tba_signature(
            method=request.method, url=request.url, oauth_params=params,
            form_params=parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True) if is_form else [],
            consumer_secret=registration.consumer_secret, token_secret=registration.token_secret,
        )
        if not hmac.compare_digest(expected.encode(), params.get("oauth_signature", "").encode()):
            raise refused
        nonce_key = (registration.consumer_key, registration.token_id, timestamp, nonce)
        with self._lock:
            # Only a verified request spends its nonce, so a forged request cannot lock out the real one.
            if nonce_key in self._seen_nonces:
                raise refused
            self._seen_nonces = {k: t for k, t in self._seen_nonces.items()
                                 if t > now - 2 * TBA_TIMESTAMP_WINDOW_SECONDS}
            self._seen_nonces[nonce_key] = int(timestamp)
        return TBA
