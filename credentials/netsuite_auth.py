"""NetSuite authentication, one way per auth method, all behind `netsuite_session(connection=...)`.

- OAuth 2.0 client credentials: a JWT assertion signed PS*/ES* with the certificate's private key.
- OAuth 2.0 authorization code: consent once (PKCE), then refresh tokens mint access tokens.
- TBA: OAuth 1.0a HMAC-SHA256 with the account id as realm, signed anew for every request.
(NetSuite spec section 2.)"""

import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jwt
from django.db import transaction
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from oauthlib.oauth2 import WebApplicationClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth1

from credentials.accounts import consent_base_url
from credentials.errors import ConnectionFailed, Problem
from credentials.models import AccessToken, NetSuiteAuthMethod, NetSuiteConnection
from credentials.session import BearerAuth, ConnectionSession
from credentials.tokens import IssuedToken, SharedToken, TokenRefusal, request_token, token_row

ASSERTION_LIFETIME = 300  # seconds; NetSuite allows up to 3600, a short-lived assertion is safer
REFRESH_TOKEN_LIFETIME = timedelta(days=7)  # NetSuite's refresh tokens live 7 days
SCOPE = "rest_webservices"


def netsuite_session(*, connection: NetSuiteConnection) -> ConnectionSession:
    """A session authenticated as `connection`, whatever its auth method."""
    if connection.auth_method == NetSuiteAuthMethod.TBA:
        return ConnectionSession(auth=tba_auth(connection=connection))
    if connection.auth_method == NetSuiteAuthMethod.AUTHORIZATION_CODE:
        return ConnectionSession(auth=BearerAuth(AuthorizationCodeToken(connection=connection)))
    return ConnectionSession(auth=BearerAuth(ClientCredentialsToken(connection=connection)))


def tba_auth(*, connection: NetSuiteConnection) -> OAuth1:
    return OAuth1(
        connection.consumer_key, client_secret=connection.consumer_secret,
        resource_owner_key=connection.token_id, resource_owner_secret=connection.token_secret,
        signature_method=SIGNATURE_HMAC_SHA256, signature_type="AUTH_HEADER", realm=connection.realm,
    )


class NetSuiteToken(SharedToken):
    renew_fraction = 55 / 60  # 60-minute tokens renewed at 55 minutes

    def __init__(self, *, connection: NetSuiteConnection) -> None:
        super().__init__(owner={"netsuite": connection})
        self.connection = connection


class ClientCredentialsToken(NetSuiteToken):
    def fetch(self) -> IssuedToken:
        answer = request_token(
            url=self.connection.token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": client_assertion(connection=self.connection, now=time.time()),
            },
            explain=_explain_client_credentials,
        )
        return IssuedToken.from_answer(answer)


def client_assertion(*, connection: NetSuiteConnection, now: float) -> str:
    claims = {
        "iss": connection.client_id,
        "scope": [SCOPE],
        "aud": connection.token_url,
        "iat": int(now),
        "exp": int(now) + ASSERTION_LIFETIME,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, connection.private_key_pem, algorithm=connection.algorithm,
                      headers={"kid": connection.certificate_id, "typ": "JWT"})


def _explain_client_credentials(refusal: TokenRefusal) -> ConnectionFailed:
    if refusal.error == "invalid_client":
        return ConnectionFailed(Problem.BAD_KEY, (
            "NetSuite refused the client credentials (invalid_client): the client id, the certificate id "
            "or the private key does not match the integration record and its uploaded certificate."
            + _described(refusal)
        ))
    if refusal.error == "invalid_grant":
        return ConnectionFailed(Problem.CLOCK_SKEW, (
            "NetSuite refused the signed assertion as expired or not yet valid (invalid_grant): this "
            "computer's clock is probably more than a minute off; synchronise it (NTP)." + _described(refusal)
        ))
    return _token_endpoint_refused(refusal)


class AuthorizationCodeToken(NetSuiteToken):
    def fetch(self) -> IssuedToken:
        if not self.connection.refresh_token:
            raise ConnectionFailed(Problem.NEEDS_CONSENT, needs_consent_message(self.connection))
        body = WebApplicationClient(self.connection.client_id).prepare_refresh_body(
            refresh_token=self.connection.refresh_token
        )
        answer = _authorization_code_grant(connection=self.connection, body=body)
        if answer.get("refresh_token"):
            _keep_refresh_token(self.connection, answer["refresh_token"])
        return IssuedToken.from_answer(answer)

    def failed(self, error: ConnectionFailed) -> None:
        if error.problem == Problem.NEEDS_CONSENT and not self.connection.needs_consent:
            self.connection.needs_consent = True
            self.connection.save(update_fields=["needs_consent"])


def _authorization_code_grant(*, connection: NetSuiteConnection, body: str) -> dict[str, Any]:
    """Sends an authorization-code or refresh grant with the client's Basic credentials."""
    return request_token(
        url=connection.token_url, data=dict(parse_qsl(body)),
        auth=HTTPBasicAuth(connection.client_id, connection.client_secret),
        explain=lambda refusal: _explain_authorization_code(refusal, connection=connection),
    )


def _keep_refresh_token(connection: NetSuiteConnection, refresh_token: str, *also_changed: str) -> None:
    connection.refresh_token = refresh_token
    connection.refresh_token_expires_at = datetime.fromtimestamp(time.time(), tz=UTC) + REFRESH_TOKEN_LIFETIME
    connection.needs_consent = False
    connection.save(update_fields=["refresh_token", "refresh_token_expires_at", "needs_consent", *also_changed])


def _explain_authorization_code(refusal: TokenRefusal, *, connection: NetSuiteConnection) -> ConnectionFailed:
    if refusal.error == "invalid_grant":
        return ConnectionFailed(Problem.NEEDS_CONSENT, needs_consent_message(connection))
    if refusal.error == "invalid_client":
        return ConnectionFailed(Problem.BAD_CLIENT, (
            "NetSuite refused the client id or client secret (invalid_client): copy both again from the "
            "integration record." + _described(refusal)
        ))
    return _token_endpoint_refused(refusal)


def needs_consent_message(connection: NetSuiteConnection) -> str:
    return (
        f"NetSuite connection {connection.name} needs consent again: its refresh token expired or was "
        "refused (refresh tokens live 7 days). A NetSuite administrator must open the consent link "
        "on the connection's admin page."
    )


def _token_endpoint_refused(refusal: TokenRefusal) -> ConnectionFailed:
    code = refusal.error or f"HTTP {refusal.status}"
    return ConnectionFailed(Problem.REFUSED, f"NetSuite's token endpoint refused the request ({code})."
                            + _described(refusal))


def _described(refusal: TokenRefusal) -> str:
    return f" NetSuite said: {refusal.description}" if refusal.description else ""


def consent_url(*, connection: NetSuiteConnection, redirect_uri: str) -> str:
    """Starts a consent: remembers a fresh state and PKCE verifier and returns the URL a NetSuite
    administrator opens; NetSuite redirects back to `redirect_uri` with a code."""
    client = WebApplicationClient(connection.client_id)
    verifier = client.create_code_verifier(length=64)
    challenge = client.create_code_challenge(verifier, code_challenge_method="S256")
    connection.consent_state = secrets.token_urlsafe(32)  # 43 characters; NetSuite wants 22-1024
    connection.pkce_verifier = verifier
    connection.redirect_uri = redirect_uri
    connection.save(update_fields=["consent_state", "pkce_verifier", "redirect_uri"])
    query = urlencode({
        "response_type": "code", "client_id": connection.client_id, "redirect_uri": redirect_uri,
        "scope": SCOPE, "state": connection.consent_state, "code_challenge": challenge,
        "code_challenge_method": "S256",
    })
    base = consent_base_url(account_id=connection.account_id, base_url=connection.base_url)
    return f"{base}/app/login/oauth2/authorize.nl?{query}"


def complete_consent(*, state: str, code: str) -> NetSuiteConnection:
    """Exchanges the code NetSuite's redirect carried for tokens; the state names the connection."""
    if not state:
        raise ConnectionFailed(Problem.REFUSED, "The consent answer carries no state; start the consent again.")
    connection = NetSuiteConnection.objects.filter(consent_state=state).first()
    if connection is None:
        raise ConnectionFailed(Problem.REFUSED, "This consent answer matches no pending consent; start it again.")
    body = WebApplicationClient(connection.client_id).prepare_request_body(
        code=code, redirect_uri=connection.redirect_uri, code_verifier=connection.pkce_verifier,
        include_client_id=False,
    )
    started = time.time()
    answer = _authorization_code_grant(connection=connection, body=body)
    with transaction.atomic():
        connection.consent_state = ""
        connection.pkce_verifier = ""
        _keep_refresh_token(connection, answer.get("refresh_token", ""), "consent_state", "pkce_verifier")
        AccessToken.objects.update_or_create(netsuite=connection, defaults=token_row(
            IssuedToken.from_answer(answer), started=started, renew_fraction=NetSuiteToken.renew_fraction,
        ))
    return connection

