"""The sandbox's OAuth 2.0 logins (spec 2a, 2b, 2d) over real HTTP: what a correct client gets, and the exact
refusal for each kind of bad credential."""

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
CONSENT_PATH = "/app/login/oauth2/authorize.nl"
LIMITS_PATH = "/services/rest/system/v1/governanceLimits"
PRODUCTION_TOKEN_URL = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_ID = "integration-client-1"
CERTIFICATE_ID = "certificate-1"
WEB_CLIENT_ID = "web-integration"
WEB_CLIENT_SECRET = "web-integration-secret"
REDIRECT_URI = "https://connector.example.com/oauth/callback/"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=3072)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: Any) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def client_assertion(netsuite: Any, key: Any, *, algorithm: str = "PS256", kid: str = CERTIFICATE_ID,
                     **claim_overrides: Any) -> str:
    now = int(netsuite.app.clock.now())
    claims = {"iss": CLIENT_ID, "scope": ["rest_webservices"], "aud": netsuite.url + TOKEN_PATH,
              "iat": now, "exp": now + 3600} | claim_overrides
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def post_assertion(netsuite: Any, assertion: str, **kwargs: Any) -> requests.Response:
    return requests.post(netsuite.url + TOKEN_PATH, timeout=10, data={
        "grant_type": "client_credentials", "client_assertion_type": JWT_BEARER, "client_assertion": assertion,
    }, **kwargs)


def governance_limits(netsuite: Any, token: str) -> requests.Response:
    return requests.get(netsuite.url + LIMITS_PATH, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def assert_invalid_login(response: requests.Response) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="1234567_SB1", error="invalid_token", error_description="Invalid login attempt."')
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized"
    assert body["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
    assert body["o:errorDetails"][0]["detail"].startswith("Invalid login attempt.")


@pytest.mark.parametrize(("key_fixture", "algorithm"), [("rsa_key", "PS256"), ("ec_key", "ES256")])
def test_m2m_client_gets_a_bearer_token_that_opens_the_api(netsuite: Any, request: pytest.FixtureRequest,
                                                          key_fixture: str, algorithm: str) -> None:
    key = request.getfixturevalue(key_fixture)
    netsuite.app.register_m2m_client(client_id=CLIENT_ID, certificate_id=CERTIFICATE_ID, public_key_pem=public_pem(key))

    answer = post_assertion(netsuite, client_assertion(netsuite, key, algorithm=algorithm))

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["expires_in"] == 3600 and body["token_type"] == "Bearer"
    assert body["access_token"].count(".") == 2  # looks like the JWT NetSuite hands out
    assert governance_limits(netsuite, body["access_token"]).status_code == 200
    assert netsuite.app.requests_log[-1] == ("GET", LIMITS_PATH, 200, "oauth2_client_credentials")


def test_m2m_accepts_scopes_as_comma_separated_string_and_expiry_within_leeway(netsuite: Any, rsa_key: Any) -> None:
    netsuite.app.register_m2m_client(client_id=CLIENT_ID, certificate_id=CERTIFICATE_ID,
                                     public_key_pem=public_pem(rsa_key))
    now = int(netsuite.app.clock.now())

    answer = post_assertion(netsuite, client_assertion(netsuite, rsa_key, scope="rest_webservices,restlets",
                                                       iat=now - 3630, exp=now - 30))

    assert answer.status_code == 200


REFUSED_ASSERTIONS = [
    # (case, assertion arguments, status, error)
    ("RS256 is not among Oracle's algorithms", {"algorithm": "RS256"}, 400, "invalid_request"),
    ("unknown certificate id", {"kid": "certificate-2"}, 401, "invalid_client"),
    ("issuer is another client", {"iss": "integration-client-2"}, 401, "invalid_client"),
    ("signed with another key", {"key": "other"}, 401, "invalid_client"),
    ("audience is the production token URL", {"aud": PRODUCTION_TOKEN_URL}, 400, "invalid_grant"),
    ("expired beyond the 60 s leeway", {"iat": -3700, "exp": -100}, 400, "invalid_grant"),
    ("lives longer than an hour", {"iat": 0, "exp": 3601}, 400, "invalid_grant"),
    ("scope outside NetSuite's three", {"scope": ["rest_webservices", "openid"]}, 400, "invalid_scope"),
    ("no scope", {"scope": []}, 400, "invalid_scope"),
]


@pytest.mark.parametrize(("case", "arguments", "status", "error"), REFUSED_ASSERTIONS,
                         ids=[case for case, *_ in REFUSED_ASSERTIONS])
def test_m2m_refuses_bad_assertion(netsuite: Any, rsa_key: Any, case: str, arguments: dict[str, Any],
                                   status: int, error: str) -> None:
    netsuite.app.register_m2m_client(client_id=CLIENT_ID, certificate_id=CERTIFICATE_ID,
                                     public_key_pem=public_pem(rsa_key))
    arguments = dict(arguments)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if arguments.pop("key", None) else rsa_key
    now = int(netsuite.app.clock.now())
    for claim in ("iat", "exp"):
        if claim in arguments:
            arguments[claim] += now

    answer = post_assertion(netsuite, client_assertion(netsuite, key, **arguments))

    assert (answer.status_code, answer.json()) == (status, {"error": error})


def test_m2m_refuses_an_assertion_sent_with_a_basic_header(netsuite: Any, rsa_key: Any) -> None:
    netsuite.app.register_m2m_client(client_id=CLIENT_ID, certificate_id=CERTIFICATE_ID,
                                     public_key_pem=public_pem(rsa_key))

    answer = post_assertion(netsuite, client_assertion(netsuite, rsa_key), auth=(CLIENT_ID, "secret"))

    assert (answer.status_code, answer.json()) == (400, {"error": "invalid_request"})


def test_m2m_refuses_an_ec_assertion_against_an_rsa_certificate(netsuite: Any, rsa_key: Any, ec_key: Any) -> None:
    netsuite.app.register_m2m_client(client_id=CLIENT_ID, certificate_id=CERTIFICATE_ID,
                                     public_key_pem=public_pem(rsa_key))

    answer = post_assertion(netsuite, client_assertion(netsuite, ec_key, algorithm="ES256"))

    assert (answer.status_code, answer.json()) == (401, {"error": "invalid_client"})


def test_access_token_expires_after_an_hour_on_the_sandbox_clock(netsuite: Any) -> None:
    token = netsuite.app.issue_access_token()

    netsuite.app.clock.advance(3599)
    assert governance_limits(netsuite, token).status_code == 200
    netsuite.app.clock.advance(2)
    assert_invalid_login(governance_limits(netsuite, token))


def test_missing_or_unknown_bearer_token_is_an_invalid_login(netsuite: Any) -> None:
    assert_invalid_login(requests.get(netsuite.url + LIMITS_PATH, timeout=10))
    assert_invalid_login(governance_limits(netsuite, "not-a-token"))
    assert netsuite.app.requests_log[-1] == ("GET", LIMITS_PATH, 401, None)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def consent(netsuite: Any, **overrides: str) -> requests.Response:
    params = {"response_type": "code", "client_id": WEB_CLIENT_ID, "redirect_uri": REDIRECT_URI,
              "scope": "rest_webservices", "state": "state-" + "x" * 30, "code_challenge": pkce_pair()[1],
              "code_challenge_method": "S256"} | overrides
    return requests.get(netsuite.url + CONSENT_PATH, params=params, allow_redirects=False, timeout=10)


def redirect_params(response: requests.Response) -> dict[str, str]:
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def token_request(netsuite: Any, data: dict[str, str], *, secret: str = WEB_CLIENT_SECRET) -> requests.Response:
    return requests.post(netsuite.url + TOKEN_PATH, data=data, auth=(WEB_CLIENT_ID, secret), timeout=10)


@pytest.fixture
def web_client(netsuite: Any) -> Any:
    netsuite.app.register_auth_code_client(client_id=WEB_CLIENT_ID, client_secret=WEB_CLIENT_SECRET,
                                           redirect_uri=REDIRECT_URI)
    return netsuite


def test_authorization_code_with_pkce_then_refresh_until_seven_days_pass(web_client: Any) -> None:
    netsuite = web_client
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)

    redirected = consent(netsuite, code_challenge=challenge, state=state)

    assert redirected.status_code == 302
    params = redirect_params(redirected)
    assert params["state"] == state and params["company"] == "1234567_SB1"
    assert params["role"] and params["entity"]
    exchange = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier}
    granted = token_request(netsuite, exchange)
    assert granted.status_code == 200
    tokens = granted.json()
    assert tokens["expires_in"] == 3600 and tokens["token_type"] == "bearer"
    assert governance_limits(netsuite, tokens["access_token"]).status_code == 200
    assert netsuite.app.requests_log[-1].auth == "oauth2_authorization_code"
    assert token_request(netsuite, exchange).json() == {"error": "invalid_grant"}  # a code is single-use

    netsuite.app.clock.advance(6 * 24 * 3600)
    refreshed = token_request(netsuite, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    assert governance_limits(netsuite, refreshed.json()["access_token"]).status_code == 200

    netsuite.app.clock.advance(24 * 3600 + 1)
    expired = token_request(netsuite, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert (expired.status_code, expired.json()) == (400, {"error": "invalid_grant"})


@pytest.mark.parametrize(("case", "exchange_overrides", "error"), [
    ("verifier does not match the challenge", {"code_verifier": "another-verifier-" + "v" * 40}, "invalid_grant"),
    ("redirect URI differs from the consent's", {"redirect_uri": "https://connector.example.com/other/"},
     "invalid_grant"),
    ("no verifier", {"code_verifier": ""}, "invalid_request"),
])
def test_authorization_code_exchange_refused(web_client: Any, case: str, exchange_overrides: dict[str, str],
                                             error: str) -> None:
    verifier, challenge = pkce_pair()
    code = web_client.app.issue_authorization_code(client_id=WEB_CLIENT_ID, redirect_uri=REDIRECT_URI,
                                                   code_challenge=challenge)
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier} | exchange_overrides

    answer = token_request(web_client, exchange)

    assert (answer.status_code, answer.json()) == (400, {"error": error})


def test_token_endpoint_refuses_a_wrong_client_secret_and_unknown_grants(web_client: Any) -> None:
    refresh = {"grant_type": "refresh_token", "refresh_token": "whatever"}
    wrong_secret = token_request(web_client, refresh, secret="guess")
    assert (wrong_secret.status_code, wrong_secret.json()) == (401, {"error": "invalid_client"})
    no_client = requests.post(web_client.url + TOKEN_PATH, data=refresh, timeout=10)
    assert (no_client.status_code, no_client.json()) == (401, {"error": "invalid_client"})
    unknown_refresh = token_request(web_client, refresh)
    assert (unknown_refresh.status_code, unknown_refresh.json()) == (400, {"error": "invalid_grant"})
    password = token_request(web_client, {"grant_type": "password"})
    assert (password.status_code, password.json()) == (400, {"error": "unsupported_grant_type"})


@pytest.mark.parametrize(("case", "overrides", "error"), [
    ("state shorter than 22 characters", {"state": "short"}, "invalid_request"),
    ("plain PKCE", {"code_challenge_method": "plain"}, "invalid_request"),
    ("scope NetSuite does not know", {"scope": "openid"}, "invalid_scope"),
    ("implicit flow", {"response_type": "token"}, "unsupported_response_type"),
])
def test_consent_redirects_back_with_an_error_for_a_bad_request(web_client: Any, case: str,
                                                               overrides: dict[str, str], error: str) -> None:
    answer = consent(web_client, **overrides)

    assert answer.status_code == 302
    params = redirect_params(answer)
    assert params["error"] == error and "code" not in params


def test_consent_never_redirects_to_an_unregistered_address(web_client: Any) -> None:
    answer = consent(web_client, redirect_uri="https://attacker.example.com/")

    assert answer.status_code == 400 and "Location" not in answer.headers


def test_demo_credentials_survive_a_reset(netsuite: Any) -> None:
    m2m = netsuite.app.demo_credentials()["oauth2_client_credentials"]
    netsuite.app.reset()
    key = serialization.load_pem_private_key(m2m["private_key_pem"].encode(), password=None)
    now = int(netsuite.app.clock.now())
    assertion = jwt.encode({"iss": m2m["client_id"], "scope": ["rest_webservices"], "aud": netsuite.url + TOKEN_PATH,
                            "iat": now, "exp": now + 3600}, key, algorithm=m2m["algorithm"],
                           headers={"kid": m2m["certificate_id"]})
    assert post_assertion(netsuite, assertion).status_code == 200

    code_client = netsuite.app.demo_credentials()["oauth2_authorization_code"]
    refreshed = requests.post(netsuite.url + TOKEN_PATH, auth=(code_client["client_id"], code_client["client_secret"]),
                              data={"grant_type": "refresh_token", "refresh_token": code_client["refresh_token"]},
                              timeout=10)
    assert refreshed.status_code == 200


def test_token_without_the_rest_webservices_scope_does_not_open_rest(netsuite: Any, ec_key: Any) -> None:
    netsuite.app.register_m2m_client(client_id=CLIENT_ID, certificate_id=CERTIFICATE_ID,
                                     public_key_pem=public_pem(ec_key))
    answer = post_assertion(netsuite, client_assertion(netsuite, ec_key, algorithm="ES256", scope=["restlets"]))

    assert answer.status_code == 200
    assert_invalid_login(governance_limits(netsuite, answer.json()["access_token"]))
