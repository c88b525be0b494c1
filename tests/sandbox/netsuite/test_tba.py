"""Token-based authentication (spec 2c): Oracle's published vector, a request signed by an independent OAuth 1.0a
implementation (requests-oauthlib), and each way a TBA request is refused with the generic 401 of 2d."""

from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from sandbox.netsuite.auth import tba_signature

LIMITS_PATH = "/services/rest/system/v1/governanceLimits"
CONSUMER_KEY = "c" * 64
CONSUMER_SECRET = "consumer-secret-0123456789"
TOKEN_ID = "t" * 64
TOKEN_SECRET = "token-secret-9876543210"


def test_oracle_published_vector_verifies() -> None:
    signature = tba_signature(
        method="GET",
        url="https://123456.suitetalk.api.netsuite.com/services/rest/record/v1/employee/40",
        oauth_params={
            "realm": "123456",
            "oauth_consumer_key": "ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4",
            "oauth_token": "2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc",
            "oauth_signature_method": "HMAC-SHA256",
            "oauth_timestamp": "1508242306",
            "oauth_nonce": "fjaLirsIcCGVZWzBX0pg",
            "oauth_version": "1.0",
        },
        form_params=[],
        consumer_secret="d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9e8b5",
        token_secret="c29a677df7d5439a458c063654187e3d678d73aca8e3c9d8bea1478a3eb0d295",
    )

    assert signature == "B5OIWznZ2YP0OB7VrJrGkYsTh+8H+5T9Hag+o92q0zY="


@pytest.fixture
def tba(netsuite: Any) -> Any:
    netsuite.app.register_tba(consumer_key=CONSUMER_KEY, consumer_secret=CONSUMER_SECRET, token_id=TOKEN_ID,
                              token_secret=TOKEN_SECRET)
    return netsuite


def oauth1(netsuite: Any, *, realm: str = "1234567_SB1", consumer_secret: str = CONSUMER_SECRET,
           nonce: str | None = None, timestamp: int | None = None) -> OAuth1:
    return OAuth1(CONSUMER_KEY, client_secret=consumer_secret, resource_owner_key=TOKEN_ID,
                  resource_owner_secret=TOKEN_SECRET, signature_method="HMAC-SHA256", realm=realm, nonce=nonce,
                  timestamp=str(int(netsuite.app.clock.now()) if timestamp is None else timestamp))


def get(netsuite: Any, auth: OAuth1, path: str = LIMITS_PATH, **kwargs: Any) -> requests.Response:
    return requests.get(netsuite.url + path, auth=auth, timeout=10, **kwargs)


def assert_generic_401(response: requests.Response) -> None:
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"


def test_request_signed_by_requests_oauthlib_is_accepted(tba: Any) -> None:
    answer = get(tba, oauth1(tba), params={"q": "a b/c", "limit": "5"})  # query parameters are signed too

    assert answer.status_code == 200
    assert tba.app.requests_log[-1].auth == "tba"


def test_post_with_json_body_signed_by_requests_oauthlib_is_accepted(tba: Any) -> None:
    answer = requests.post(tba.url + "/services/rest/query/v1/suiteql?limit=1", auth=oauth1(tba), timeout=10,
                           json={"q": "SELECT id FROM currency"}, headers={"Prefer": "transient"})

    assert answer.status_code == 200, answer.text


def test_demo_tba_credentials_are_accepted(netsuite: Any) -> None:
    demo = netsuite.app.demo_credentials()["tba"]
    auth = OAuth1(demo["consumer_key"], client_secret=demo["consumer_secret"], resource_owner_key=demo["token_id"],
                  resource_owner_secret=demo["token_secret"], signature_method="HMAC-SHA256", realm="1234567_SB1")

    assert get(netsuite, auth).status_code == 200


def test_wrong_secret_gives_a_bad_signature(tba: Any) -> None:
    assert_generic_401(get(tba, oauth1(tba, consumer_secret="not-the-secret")))


def test_lower_case_realm_is_refused(tba: Any) -> None:
    assert_generic_401(get(tba, oauth1(tba, realm="1234567_sb1")))


def test_timestamp_older_than_five_minutes_by_the_sandbox_clock_is_refused(tba: Any) -> None:
    signed_at = int(tba.app.clock.now())

    tba.app.clock.advance(301)

    assert_generic_401(get(tba, oauth1(tba, timestamp=signed_at)))
    assert get(tba, oauth1(tba, timestamp=signed_at + 10)).status_code == 200


def test_nonce_reused_with_the_same_timestamp_is_refused(tba: Any) -> None:
    timestamp = int(tba.app.clock.now())

    assert get(tba, oauth1(tba, nonce="nonce-123456", timestamp=timestamp)).status_code == 200
    assert_generic_401(get(tba, oauth1(tba, nonce="nonce-123456", timestamp=timestamp)))
    assert get(tba, oauth1(tba, nonce="nonce-123456", timestamp=timestamp + 1)).status_code == 200


def test_nonce_shorter_than_six_characters_is_refused(tba: Any) -> None:
    assert_generic_401(get(tba, oauth1(tba, nonce="abc12")))


def test_forged_request_does_not_spend_the_nonce_of_the_real_one(tba: Any) -> None:
    timestamp = int(tba.app.clock.now())

    assert_generic_401(get(tba, oauth1(tba, nonce="shared-nonce", timestamp=timestamp, consumer_secret="forged")))
    assert get(tba, oauth1(tba, nonce="shared-nonce", timestamp=timestamp)).status_code == 200


def test_unknown_token_is_refused(netsuite: Any) -> None:
    assert_generic_401(get(netsuite, oauth1(netsuite)))


def test_signature_covers_the_url_as_the_client_addressed_it(tba: Any) -> None:
    auth = oauth1(tba)
    prepared = requests.Request("GET", tba.url + LIMITS_PATH + "?limit=5", auth=auth).prepare()
    prepared.url = tba.url + LIMITS_PATH + "?limit=6"  # tampered after signing

    assert_generic_401(requests.Session().send(prepared, timeout=10))

