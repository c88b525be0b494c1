"""Answers that never end, or grow without end, from either API (issue 11, section 3): the client gives up at
its deadline or size limit, the answer counts as a retryable BAD_ANSWER, nothing is marked delivered, and the
next pass recovers. Limits are short here so that each test ends in seconds."""

import json
import time

import pytest
import requests
from django.utils import timezone

import sandbox.broken
from credentials.jaggaer_auth import jaggaer_session
from credentials.netsuite_auth import netsuite_session
from sync.engine.run import Clients, sync_pass
from sync.models import SyncAttempt, SyncCursor, SyncRecord, SyncRun
from sync.remote.answer_limits import AnswerLimits
from sync.remote.errors import NetSuiteError
from sync.remote.jaggaer_client import DEFAULT_LIMITS as JAGGAER_LIMITS
from sync.remote.jaggaer_client import JaggaerClient
from sync.remote.netsuite_client import DEFAULT_LIMITS as NETSUITE_LIMITS
from sync.remote.netsuite_client import NetSuiteClient

pytestmark = pytest.mark.django_db
State = SyncRecord.State
SUPPLIER_PATH = "/j1p/api/public/js/v1/suppliers"
# What these tests allow each one to take: several short deadlines and the retries between them.
BOUND_SECONDS = 20


def clients_for(pair, *, netsuite: AnswerLimits = NETSUITE_LIMITS, jaggaer: AnswerLimits = JAGGAER_LIMITS) -> Clients:
    """The pair's clients with the given limits, two NetSuite attempts and no waits between retries."""
    return Clients(
        netsuite=NetSuiteClient(session=netsuite_session(connection=pair.netsuite), rest_url=pair.netsuite.rest_url,
                                limits=netsuite, max_attempts=2, sleep=lambda seconds: None),
        jaggaer=JaggaerClient(session=jaggaer_session(connection=pair.jaggaer), base_url=pair.jaggaer.base_url,
                              limits=jaggaer, sleep=lambda seconds: None),
    )


def test_the_sandboxes_endless_answer_trickles_real_json_without_its_end_and_stops_by_itself(
        netsuite, monkeypatch):
    monkeypatch.setattr(sandbox.broken, "ENDLESS_SECONDS", 0.6)
    netsuite.app.faults.add_broken_answers(mode="endless", count=1)
    started = time.monotonic()

    bearer = f"Bearer {netsuite.app.issue_access_token()}"
    answer = requests.post(f"{netsuite.url}/services/rest/query/v1/suiteql", json={"q": "SELECT id FROM subsidiary"},
                           headers={"Prefer": "transient", "Authorization": bearer}, timeout=10)

    assert 0.6 <= time.monotonic() - started < 5
    assert answer.status_code == 200 and "Content-Length" not in answer.headers
    start, filler = answer.content.rstrip(), answer.content[len(answer.content.rstrip()):]
    assert start.startswith(b'{"links"') and len(filler) >= 32 and not filler.strip()
    with pytest.raises(ValueError):
        json.loads(answer.content)


@pytest.mark.parametrize(("mode", "limits", "reason"), [
    ("endless", AnswerLimits(deadline=1.0), ("HTTP 200 BAD_ANSWER: NetSuite answered with a body still unfinished "
                                             "after 1 s (HTTP 200, application/json, ")),
    ("endless", AnswerLimits(max_bytes=64), "NetSuite answered with a body larger than 64 bytes (HTTP 200"),
    (None, AnswerLimits(max_bytes=64), "NetSuite answered with a body larger than 64 bytes ("),
], ids=["never-ending", "endless-over-the-size-limit", "announced-over-the-size-limit"])
def test_a_suiteql_answer_over_the_limits_fails_the_run_with_the_reason_and_keeps_the_cursor(
        pair, netsuite, jaggaer, mode, limits, reason):
    if mode:
        netsuite.app.faults.add_broken_answers(mode=mode)
    started = time.monotonic()

    with pytest.raises(NetSuiteError) as raised:
        sync_pass(pair=pair, flows=["gl_accounts"], clients=clients_for(pair, netsuite=limits))

    assert time.monotonic() - started < BOUND_SECONDS
    assert raised.value.retryable and raised.value.code == "BAD_ANSWER"
    run = SyncRun.objects.get()
    assert not run.succeeded and reason in run.message
    assert not SyncCursor.objects.exists() and not SyncRecord.objects.exists()
    assert jaggaer.app.received() == []

    netsuite.app.faults.clear()
    sync_pass(pair=pair, flows=["gl_accounts"], clients=clients_for(pair))
    assert SyncRun.objects.latest("pk").succeeded


def test_a_jaggaer_batch_answer_that_never_ends_leaves_the_records_to_retry_and_the_next_pass_delivers_once(
        pair, netsuite, jaggaer):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications"], clients=clients_for(pair))
    # JAGGAER applies the batch, then its answer trickles on and on.
    jaggaer.app.add_fault(kind="broken_answer", mode="endless", path=SUPPLIER_PATH, method="POST", count=1)
    started = time.monotonic()

    outcomes = sync_pass(pair=pair, flows=["vendors"], clients=clients_for(pair, jaggaer=AnswerLimits(deadline=1.0)))

    assert time.monotonic() - started < BOUND_SECONDS
    assert outcomes[0].run.succeeded
    vendors = SyncRecord.objects.filter(flow="vendors")
    attempts = SyncAttempt.objects.filter(record__flow="vendors")
    assert attempts.count() == vendors.count() > 2
    for attempt in attempts:
        assert (attempt.error_code, attempt.state_after) == ("BAD_ANSWER", State.RETRYING)
        assert "JAGGAER answered with a body still unfinished after 1 s" in attempt.message
    assert not vendors.filter(state=State.DELIVERED).exists()

    SyncRecord.objects.filter(state=State.RETRYING).update(next_attempt_at=timezone.now())
    sync_pass(pair=pair, flows=["vendors"], clients=clients_for(pair))
    created = [entry["key"] for entry in jaggaer.app.received("supplier") if entry["status"] == "Created"]
    assert sorted(created) == sorted(set(created)) == sorted(vendors.values_list("netsuite_id", flat=True))
    for record in vendors:
        assert record.state == State.DELIVERED
        assert record.jaggaer_id == jaggaer.app.suppliers[record.netsuite_id]["id"]
