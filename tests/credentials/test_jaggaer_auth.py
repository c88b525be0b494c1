"""JAGGAER client credentials against the sandbox: a real call, renewal ahead of a 300 s expiry, one
renewal and one retry on a 401."""

from typing import Any

import pytest
import time_machine

from credentials.jaggaer_auth import jaggaer_session
from tests.credentials.conftest import make_jaggaer

pytestmark = pytest.mark.django_db

CUSTOM_FIELDS = "/j1p/api/public/jcf/v1/customfields"


def test_client_credentials_read_the_custom_fields(jaggaer: Any) -> None:
    connection = make_jaggaer(jaggaer)

    response = jaggaer_session(connection=connection).get(connection.base_url + CUSTOM_FIELDS)

    assert response.status_code == 200
    assert "GLAccount" in [field["name"] for field in response.json()["customFieldList"]["customField"]]


def test_tokens_that_live_300_seconds_are_renewed_before_they_expire(jaggaer: Any) -> None:
    connection = make_jaggaer(jaggaer)
    jaggaer.app.configure(token_lifetime=300)
    with time_machine.travel(jaggaer.app.clock.utcnow(), tick=False) as traveller:
        session = jaggaer_session(connection=connection)
        statuses = []
        for _ in range(40):  # 20 minutes, a call every 30 s
            statuses.append(session.get(connection.base_url + CUSTOM_FIELDS).status_code)
            traveller.shift(30)

    assert set(statuses) == {200}
    # Renewed at 270 s (90%) each time: never a 401, so never a retry; 1200 s / 270 s -> 5 tokens.
    assert jaggaer.app.counts()["token_requests"] == 5
    assert jaggaer.app.counts()["requests"] == 40


def test_a_401_renews_the_token_once_and_retries_once(jaggaer: Any) -> None:
    connection = make_jaggaer(jaggaer)
    session = jaggaer_session(connection=connection)
    assert session.get(connection.base_url + CUSTOM_FIELDS).status_code == 200
    jaggaer.app.reset()  # forgets every issued token, as a server restart would

    response = session.get(connection.base_url + CUSTOM_FIELDS)

    assert response.status_code == 200
    assert jaggaer.app.counts()["token_requests"] == 1
    assert jaggaer.app.counts()["requests"] == 2


def test_a_401_that_persists_is_answered_after_one_retry_not_a_loop(jaggaer: Any) -> None:
    connection = make_jaggaer(jaggaer)
    jaggaer.app.configure(token_lifetime=0)  # every token it issues is already expired

    response = jaggaer_session(connection=connection).get(connection.base_url + CUSTOM_FIELDS)

    assert response.status_code == 401
    assert jaggaer.app.counts()["token_requests"] == 2
    assert jaggaer.app.counts()["requests"] == 2
