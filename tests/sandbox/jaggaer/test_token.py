"""The Keycloak-style token endpoint and bearer checks of the JAGGAER sandbox (spec section 1)."""

import requests

from sandbox.jaggaer.app import API, TOKEN_PATH


def _token_request(jaggaer, **form: str) -> requests.Response:
    return requests.post(f"{jaggaer.url}{TOKEN_PATH}", data=form, timeout=5)


def _good_form(jaggaer) -> dict[str, str]:
    credentials = jaggaer.app.demo_credentials()
    return {"grant_type": "client_credentials", "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"]}


def _suppliers(jaggaer, token: str) -> requests.Response:
    return requests.get(f"{jaggaer.url}{API}/js/v1/suppliers", headers={"Authorization": f"Bearer {token}"},
                        timeout=5)


def test_client_credentials_in_the_form_give_a_bearer_token_that_opens_the_api(jaggaer):
    response = _token_request(jaggaer, **_good_form(jaggaer))

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["refresh_expires_in"] == 0
    assert _suppliers(jaggaer, body["access_token"]).json()["returnCode"] == 0


def test_a_registered_client_gets_tokens_with_its_own_secret(jaggaer):
    jaggaer.app.register_client(client_id="acme", client_secret="s3cret")

    good = _token_request(jaggaer, grant_type="client_credentials", client_id="acme", client_secret="s3cret")
    bad = _token_request(jaggaer, grant_type="client_credentials", client_id="acme", client_secret="other")

    assert good.status_code == 200
    assert bad.status_code == 401


def test_a_wrong_secret_is_refused_as_unauthorized_client(jaggaer):
    response = _token_request(jaggaer, **{**_good_form(jaggaer), "client_secret": "wrong"})

    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized_client",
                                "error_description": "Invalid client or Invalid client credentials"}


def test_credentials_in_a_basic_header_are_refused(jaggaer):
    credentials = jaggaer.app.demo_credentials()
    response = requests.post(f"{jaggaer.url}{TOKEN_PATH}", data={"grant_type": "client_credentials"},
                             auth=(credentials["client_id"], credentials["client_secret"]), timeout=5)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized_client"


def test_other_grant_types_are_unsupported(jaggaer):
    response = _token_request(jaggaer, **{**_good_form(jaggaer), "grant_type": "password"})

    assert response.status_code == 400
    assert response.json() == {"error": "unsupported_grant_type"}


def test_a_json_body_is_not_a_form(jaggaer):
    response = requests.post(f"{jaggaer.url}{TOKEN_PATH}", json=_good_form(jaggaer), timeout=5)

    assert response.status_code == 400


def test_a_token_expires_after_its_lifetime_by_the_sandbox_clock(jaggaer):
    token = _token_request(jaggaer, **_good_form(jaggaer)).json()["access_token"]
    jaggaer.app.clock.advance(299)
    assert _suppliers(jaggaer, token).status_code == 200

    jaggaer.app.clock.advance(2)
    response = _suppliers(jaggaer, token)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_missing_and_unknown_tokens_are_refused_with_the_bearer_challenge(jaggaer):
    missing = requests.get(f"{jaggaer.url}{API}/js/v1/suppliers", timeout=5)
    unknown = _suppliers(jaggaer, "not-a-token")

    for response in (missing, unknown):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_the_lifetime_can_be_an_hour(jaggaer):
    jaggaer.app.configure(token_lifetime=3600)

    body = _token_request(jaggaer, **_good_form(jaggaer)).json()
    jaggaer.app.clock.advance(3000)

    assert body["expires_in"] == 3600
    assert _suppliers(jaggaer, body["access_token"]).status_code == 200
