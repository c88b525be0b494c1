"""Tokens renewed ahead of expiry over a long run, and one token request per renewal however many
threads share the connection."""

import threading
from typing import Any

import pytest
import time_machine
from django.db import connection as db_connection

from credentials.models import NetSuiteConnection
from credentials.netsuite_auth import netsuite_session
from tests.credentials.conftest import make_netsuite, suiteql_one, token_requests


@pytest.mark.django_db
def test_a_three_hour_run_never_sends_an_expired_token_and_renews_at_55_minutes(netsuite: Any) -> None:
    connection = make_netsuite(netsuite, "oauth2_client_credentials")
    with time_machine.travel(netsuite.app.clock.utcnow(), tick=False) as traveller:
        session = netsuite_session(connection=connection)
        statuses = []
        for _ in range(36):  # a call every 5 minutes for 3 hours
            statuses.append(suiteql_one(session, connection).status_code)
            traveller.shift(300)

    assert set(statuses) == {200}
    assert all(entry.status != 401 for entry in netsuite.app.requests_log)
    # Tokens at 0, 55, 110 and 165 minutes (renewal is due at the first call on or after each mark).
    assert token_requests(netsuite) == 4


def _call_from_threads(count: int, connection_id: int, netsuite: Any) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(count)

    def call() -> None:
        try:
            connection = NetSuiteConnection.objects.get(pk=connection_id)
            session = netsuite_session(connection=connection)
            barrier.wait(timeout=10)
            statuses.append(suiteql_one(session, connection).status_code)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=call) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return statuses


@pytest.mark.django_db(transaction=True)
def test_eight_threads_sharing_a_connection_make_one_token_request_per_renewal(netsuite: Any) -> None:
    netsuite.app.governor.account_limit = 20  # this test is about tokens, not concurrency governance
    connection = make_netsuite(netsuite, "oauth2_client_credentials")
    with time_machine.travel(netsuite.app.clock.utcnow(), tick=False) as traveller:
        assert _call_from_threads(8, connection.pk, netsuite) == [200] * 8
        assert token_requests(netsuite) == 1

        traveller.shift(56 * 60)  # past the 55-minute renewal mark
        assert _call_from_threads(8, connection.pk, netsuite) == [200] * 8
        assert token_requests(netsuite) == 2

        netsuite.app.revoke_tokens()  # all eight get a 401; only one of them renews
        assert _call_from_threads(8, connection.pk, netsuite) == [200] * 8
        assert token_requests(netsuite) == 3
