"""Each NetSuite auth method completes a real call to the sandbox; 401s renew once and retry once."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client

from credentials.errors import ConnectionFailed, Problem
from credentials.models import NetSuiteConnection
from credentials.netsuite_auth import netsuite_session, tba_auth
from tests.credentials.conftest import make_netsuite, suiteql_one, token_requests

pytestmark = pytest.mark.django_db


def test_client_credentials_with_a_ps256_rsa_key_read_with_suiteql(netsuite: Any) -> None:
    connection = make_netsuite(netsuite, "oauth2_client_credentials")

    response = suiteql_one(netsuite_session(connection=connection), connection)

    assert response.status_code == 200, response.text
    assert response.json()["count"] == 1
    assert netsuite.app.requests_log[-1].auth == "oauth2_client_credentials"


def test_client_credentials_with_an_es256_key_read_with_suiteql(netsuite: Any, ec_key: Any) -> None:
    netsuite.app.register_m2m_client(client_id="ec-client", certificate_id="ec-cert", public_key_pem=ec_key.public_pem)
    connection = make_netsuite(netsuite, "oauth2_client_credentials", auth={
        "method": "oauth2_client_credentials", "client_id": "ec-client", "certificate_id": "ec-cert",
        "private_key_pem": ec_key.private_pem, "algorithm": "ES256"})

    assert suiteql_one(netsuite_session(connection=connection), connection).status_code == 200


def test_authorization_code_with_a_refresh_token_reads_with_suiteql(netsuite: Any) -> None:
    connection = make_netsuite(netsuite, "oauth2_authorization_code")

    response = suiteql_one(netsuite_session(connection=connection), connection)

    assert response.status_code == 200
    assert netsuite.app.requests_log[-1].auth == "oauth2_authorization_code"


def test_tba_reads_with_suiteql_and_signs_every_request_anew(netsuite: Any) -> None:
    connection = make_netsuite(netsuite, "tba")
    session = netsuite_session(connection=connection)

    first, second = suiteql_one(session, connection), suiteql_one(session, connection)

    assert (first.status_code, second.status_code) == (200, 200)
    header = _text(first.request.headers["Authorization"])
    assert header != _text(second.request.headers["Authorization"])
    assert f'realm="{connection.account_id}"' in header and 'oauth_signature_method="HMAC-SHA256"' in header


def test_tba_signature_matches_oracles_published_example() -> None:
    connection = NetSuiteConnection(
        account_id="123456",
        consumer_key="ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4",
        consumer_secret="d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9e8b5",
        token_id="2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc",
        token_secret="c29a677df7d5439a458c063654187e3d678d73aca8e3c9d8bea1478a3eb0d295",
    )
    auth = tba_auth(connection=connection)
    auth.client.nonce, auth.client.timestamp = "fjaLirsIcCGVZWzBX0pg", "1508242306"

    signed = auth(requests.Request(
        "GET", "https://123456.suitetalk.api.netsuite.com/services/rest/record/v1/employee/40").prepare())

    header = _text(signed.headers["Authorization"])
    assert 'oauth_signature="B5OIWznZ2YP0OB7VrJrGkYsTh%2B8H%2B5T9Hag%2Bo92q0zY%3D"' in header
    assert header.startswith('OAuth realm="123456"')


def test_consent_in_the_admin_gives_a_working_authorization_code_connection(netsuite: Any) -> None:
    redirect_uri = "http://testserver/credentials/netsuite/oauth/callback/"
    netsuite.app.register_auth_code_client(client_id="web-client", client_secret="web-secret-123",
                                           redirect_uri=redirect_uri)
    connection = make_netsuite(netsuite, "oauth2_authorization_code", auth={
        "method": "oauth2_authorization_code", "client_id": "web-client", "client_secret": "web-secret-123"})
    assert connection.needs_consent
    browser = Client()
    browser.force_login(User.objects.create_superuser("ada", "ada@example.com", "pw"))

    to_netsuite = browser.get(f"/credentials/netsuite/{connection.name}/consent/")
    consent = requests.get(to_netsuite["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(consent.headers["Location"])
    assert back.path == "/credentials/netsuite/oauth/callback/"
    assert "code" in parse_qs(back.query), consent.headers["Location"]
    landed = browser.get(f"{back.path}?{back.query}")

    assert landed["Location"] == f"/admin/credentials/netsuiteconnection/{connection.pk}/change/"
    connection.refresh_from_db()
    assert not connection.needs_consent and connection.refresh_token and connection.refresh_token_expires_at
    assert suiteql_one(netsuite_session(connection=connection), connection).status_code == 200


def test_an_expired_refresh_token_shows_needs_consent_with_the_consent_link(netsuite: Any) -> None:
    connection = make_netsuite(netsuite, "oauth2_authorization_code")
    netsuite.app.clock.advance(7 * 24 * 3600 + 60)

    with pytest.raises(ConnectionFailed) as failed:
        suiteql_one(netsuite_session(connection=connection), connection)

    assert failed.value.problem == Problem.NEEDS_CONSENT
    connection.refresh_from_db()
    assert connection.needs_consent
    browser = Client()
    browser.force_login(User.objects.create_superuser("ada", "ada@example.com", "pw"))
    page = browser.get(f"/admin/credentials/netsuiteconnection/{connection.pk}/change/").content.decode()
    assert "Needs consent" in page and f"/credentials/netsuite/{connection.name}/consent/" in page


def test_a_revoked_token_is_renewed_once_and_the_request_retried_once(netsuite: Any) -> None:
    connection = make_netsuite(netsuite, "oauth2_client_credentials")
    session = netsuite_session(connection=connection)
    assert suiteql_one(session, connection).status_code == 200
    netsuite.app.revoke_tokens()

    response = suiteql_one(session, connection)

    assert response.status_code == 200
    assert token_requests(netsuite) == 2
    assert [entry.status for entry in netsuite.app.requests_log if "suiteql" in entry.path] == [200, 401, 200]


def test_a_refused_tba_signature_is_not_retried(netsuite: Any) -> None:
    connection = make_netsuite(netsuite, "tba")
    connection.token_secret = "0" * 64
    connection.save()

    response = suiteql_one(netsuite_session(connection=connection), connection)

    assert response.status_code == 401
    assert len([entry for entry in netsuite.app.requests_log if "suiteql" in entry.path]) == 1


def _text(header: str | bytes) -> str:
    """requests-oauthlib leaves its Authorization header as bytes."""
    return header.decode() if isinstance(header, bytes) else header
