"""The clients' manners toward both systems: NetSuite's concurrency limit is never discovered by
hammering it, refusals back off with jitter, and JAGGAER's Retry-After is honoured."""

import threading
from collections import Counter

import pytest
import requests

from sync.remote.backoff import backoff_delay
from sync.remote.clients import netsuite_client as client_for
from sync.remote.errors import NetSuiteError
from sync.remote.jaggaer_client import JaggaerClient
from sync.remote.netsuite_client import NetSuiteClient
from sync.remote.request_gate import AccountGate

QUERY = "SELECT id FROM subsidiary ORDER BY id"


def bearer_session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def netsuite_client(netsuite, **options) -> NetSuiteClient:
    return NetSuiteClient(session=bearer_session(netsuite.app.issue_access_token()),
                          rest_url=f"{netsuite.url}/services/rest", **options)


def statuses(netsuite) -> Counter:
    return Counter(entry.status for entry in netsuite.app.requests_log if "suiteql" in entry.path)


def run_in_threads(count: int, work) -> list:
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(work())) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_the_shared_gate_keeps_requests_under_the_account_limit_so_netsuite_never_refuses_one(netsuite, tmp_path):
    netsuite.app.governor.account_limit = 2
    netsuite.app.faults.add_latency(seconds=0.2)

    # One client (and gate object) per thread, as separate workers would have: only the lock files are shared.
    results = run_in_threads(8, lambda: netsuite_client(
        netsuite, gate=AccountGate(account="1234567_SB1", limit=2, lock_dir=tmp_path)).suiteql(query=QUERY))

    assert len(results) == 8 and all(page["count"] == 5 for page in results)
    assert statuses(netsuite) == Counter({200: 8})


def test_without_the_gate_the_refusals_are_retried_with_jittered_back_off_429_and_400_alike(netsuite):
    netsuite.app.faults.add_rate_limit_storm(count=3)
    slept: list[float] = []

    page = netsuite_client(netsuite, sleep=slept.append).suiteql(query=QUERY)

    assert page["count"] == 5
    assert statuses(netsuite) == Counter({429: 3, 200: 1})
    assert len(slept) == 3 and len(set(slept)) == 3  # jittered: never the same pause twice in a row

    netsuite.app.faults.answer_concurrency_with(status=400)
    netsuite.app.faults.add_rate_limit_storm(count=2)
    assert netsuite_client(netsuite, sleep=lambda s: None).suiteql(query=QUERY)["count"] == 5
    assert statuses(netsuite)[400] == 2


def test_a_permanent_netsuite_error_is_raised_at_once_with_netsuites_words(netsuite):
    slept: list[float] = []
    with pytest.raises(NetSuiteError) as raised:
        netsuite_client(netsuite, sleep=slept.append).suiteql(query="SELECT nosuchcolumn FROM vendor")
    assert raised.value.status == 400 and not raised.value.retryable and slept == []
    assert "nosuchcolumn" in str(raised.value)


def test_back_off_grows_with_attempts_and_stays_within_its_window():
    delays = [backoff_delay(attempt=attempt, base=1, cap=30) for attempt in range(1, 8) for _ in range(50)]
    assert all(0 < delay <= 30 for delay in delays)
    assert max(backoff_delay(attempt=1, base=1, cap=30) for _ in range(50)) <= 1
    assert len({round(delay, 6) for delay in delays}) > 300


def test_jaggaer_429_is_retried_after_the_seconds_it_asks_for(jaggaer):
    jaggaer.app.add_fault(kind="rate_limit", count=1, retry_after=7)
    slept: list[float] = []
    client = JaggaerClient(session=bearer_session(jaggaer.app.issue_access_token()), base_url=jaggaer.url,
                           sleep=slept.append)

    assert [field["name"] for field in client.custom_fields()][:1] == ["GLAccount"]
    assert slept == [7.0]


def test_an_outage_longer_than_the_cap_is_asked_again_after_the_cap_and_the_log_says_that_wait(jaggaer, caplog):
    # JAGGAER in maintenance asks for 120 s; the connector asks again after its own 60 s cap, and says so.
    jaggaer.app.add_fault(kind="maintenance", count=2, retry_after=120)
    slept: list[float] = []
    client = JaggaerClient(session=bearer_session(jaggaer.app.issue_access_token()), base_url=jaggaer.url,
                           sleep=slept.append, backoff_cap=60)

    with caplog.at_level("INFO", logger="sync.remote.backoff"):
        assert client.custom_fields()

    assert slept == [60.0, 60.0]
    waits = [record.getMessage() for record in caplog.records if record.name == "sync.remote.backoff"]
    assert len(waits) == 2, waits
    assert waits[0].startswith("JAGGAER did not take GET ") and waits[0].endswith("waiting 60 s before try 2 of 5")
    assert waits[1].endswith("waiting 60 s before try 3 of 5")


@pytest.mark.django_db
def test_without_a_configured_cap_the_integrations_own_netsuite_limit_is_used_else_two(pair, netsuite):
    assert pair.netsuite.concurrency_limit is None
    assert client_for(pair.netsuite).gate.limit == 2  # NetSuite reserves nothing for this integration

    netsuite.app.governor.integration_limit = 3
    assert client_for(pair.netsuite).gate.limit == 3
    pair.netsuite.refresh_from_db()
    assert pair.netsuite.reported_concurrency_limit == 3

    pair.netsuite.concurrency_limit = 4
    assert client_for(pair.netsuite).gate.limit == 4
