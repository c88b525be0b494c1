"""Answers from NetSuite and JAGGAER are untrusted: only an explicit success is a success. An empty, malformed
or unexpected answer is a retryable fault, never a deletion, a delivery or "not found"."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from credentials.jaggaer_auth import jaggaer_session
from sync.engine.deliver import claim, deliver_due
from sync.engine.pull import pull
from sync.engine.run import sync_pass
from sync.models import SyncAttempt, SyncCursor, SyncRecord, SyncRun, WebhookEvent
from sync.remote.errors import NetSuiteError
from sync.remote.jaggaer_client import JaggaerClient
from sync.triggers.push import process_due_events, process_event
from tests.sync.helpers import netsuite_rows

pytestmark = pytest.mark.django_db
State = SyncRecord.State
PO_PATH = "/j1p/api/public/jp/v1/purchaseorders"
SUPPLIER_PATH = "/j1p/api/public/js/v1/suppliers"


def retries_come_due() -> None:
    """The back-off of the records that wait for a retry has passed."""
    SyncRecord.objects.filter(state=State.RETRYING).update(next_attempt_at=timezone.now())


def open_po(netsuite) -> dict:
    return netsuite_rows(netsuite, "SELECT id, tranid FROM transaction WHERE type = 'PurchOrd' AND status = 'B' "
                                   "ORDER BY id")[0]


def pushed(pair, record_type: str, record_id: str) -> WebhookEvent:
    return WebhookEvent.objects.create(
        received_at=timezone.now(), connection=pair.netsuite, connection_slug=pair.netsuite.name,
        event_id=f"evt-{record_type}-{record_id}", record_type=record_type, record_id=record_id, event_type="edit",
        occurred_at=timezone.now().isoformat(), status=WebhookEvent.Status.ACCEPTED, http_status=202)


# NetSuite ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["empty_object", "no_items", "no_rows", "html", "empty", "truncated"])
def test_a_push_reread_answered_empty_or_broken_never_cancels_a_live_purchase_order(
        pair, netsuite, jaggaer, clients, mode):
    sync_pass(pair=pair, clients=clients)
    po = open_po(netsuite)
    # "no_rows" is a well-formed page without the record (a save not visible yet): once is enough. The
    # broken ones must outlast the client's own retries.
    netsuite.app.faults.add_broken_answers(mode=mode, count=1 if mode == "no_rows" else None)
    event = pushed(pair, "purchaseorder", po["id"])

    with pytest.raises(NetSuiteError) as raised:
        process_event(event_id=event.pk, clients=clients)

    assert raised.value.retryable
    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["status"] == "Open"
    assert not [r for r in jaggaer.app.received("purchase_order") if r["type"] == "cancel"]
    record = SyncRecord.objects.get(flow="purchase_orders", netsuite_id=po["id"])
    assert (record.state, record.deleted_in_netsuite) == (State.DELIVERED, False)
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.FAILED
    assert ("lists no deletion" if mode == "no_rows" else "NetSuite answered with") in event.reason

    # Once NetSuite answers properly again, the same event goes through and cancels nothing.
    netsuite.app.faults.clear()
    process_event(event_id=event.pk, clients=clients)
    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["status"] == "Open"


def test_a_push_reread_of_a_record_netsuite_lists_as_deleted_still_cancels_it(pair, netsuite, jaggaer, clients):
    sync_pass(pair=pair, clients=clients)
    po = open_po(netsuite)
    netsuite.app.dataset.delete_record("purchaseorder", po["id"])

    process_event(event_id=pushed(pair, "purchaseorder", po["id"]).pk, clients=clients)

    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["status"] == "Cancelled"


def test_a_push_event_that_failed_is_processed_again_when_its_retry_comes(pair, netsuite, jaggaer, clients):
    sync_pass(pair=pair, clients=clients)
    po = open_po(netsuite)
    netsuite.app.dataset.update_purchase_order(po["id"], memo="Pushed while NetSuite lagged")
    netsuite.app.faults.add_broken_answers(mode="no_rows", count=1)
    event = pushed(pair, "purchaseorder", po["id"])
    with pytest.raises(NetSuiteError):
        process_event(event_id=event.pk, clients=clients)
    event.refresh_from_db()
    assert (event.status, event.attempts) == (WebhookEvent.Status.FAILED, 1)
    assert event.next_attempt_at > timezone.now() and "(attempt 1; processed again from" in event.reason

    assert process_due_events() == 0  # not due yet
    with time_machine.travel(event.next_attempt_at + timedelta(seconds=1)):
        assert process_due_events() == 1

    event.refresh_from_db()
    assert (event.status, event.next_attempt_at) == (WebhookEvent.Status.PROCESSED, None)
    sent = jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]
    assert (sent["notes"], sent["revisionNumber"], sent["status"]) == ("Pushed while NetSuite lagged", 1, "Open")


def test_a_push_event_that_keeps_failing_is_given_up_with_the_reason(pair, netsuite, jaggaer, clients, settings):
    settings.SYNC_MAX_ATTEMPTS = 2
    event = pushed(pair, "purchaseorder", open_po(netsuite)["id"])
    netsuite.app.faults.add_broken_answers(mode="html")
    for _ in range(2):
        with pytest.raises(NetSuiteError):
            process_event(event_id=event.pk, clients=clients)
    event.refresh_from_db()
    assert (event.status, event.attempts, event.next_attempt_at) == (WebhookEvent.Status.FAILED, 2, None)
    assert "gave up after 2 attempts" in event.reason
    assert process_due_events(now=timezone.now() + timedelta(days=1)) == 0


@pytest.mark.parametrize("mode", ["html", "empty", "truncated", "empty_object", "no_items"])
def test_a_broken_suiteql_page_is_retried_and_the_pull_carries_on(pair, netsuite, jaggaer, clients, mode):
    netsuite.app.faults.add_broken_answers(mode=mode, count=2)

    sync_pass(pair=pair, clients=clients)

    assert SyncRun.objects.filter(succeeded=True).count() == 5
    assert not SyncRecord.objects.exclude(state__in=[State.DELIVERED, State.SKIPPED]).exists()
    assert len(jaggaer.app.purchase_orders) == SyncRecord.objects.filter(
        flow="purchase_orders", state=State.DELIVERED).count() > 100


def test_suiteql_pages_that_stay_broken_fail_the_run_with_the_reason_and_keep_the_cursor(
        pair, netsuite, jaggaer, clients):
    sync_pass(pair=pair, flows=["gl_accounts"], clients=clients)
    cursor = SyncCursor.objects.get(flow="gl_accounts").last_modified
    netsuite.app.faults.add_broken_answers(mode="html")

    with pytest.raises(NetSuiteError) as raised:
        sync_pass(pair=pair, flows=["gl_accounts"], clients=clients)

    assert raised.value.retryable and raised.value.code == "BAD_ANSWER"
    run = SyncRun.objects.latest("pk")
    assert not run.succeeded
    assert "SuiteQL page that is not JSON (HTTP 200, text/html" in run.message
    assert SyncCursor.objects.get(flow="gl_accounts").last_modified == cursor
    netsuite.app.faults.clear()
    sync_pass(pair=pair, flows=["gl_accounts"], clients=clients)
    assert SyncRun.objects.latest("pk").succeeded


# JAGGAER ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["Failed", "error", None])
def test_an_item_status_that_is_not_a_documented_success_is_not_a_delivery(
        pair, netsuite, jaggaer, clients, status):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"], clients=clients)
    jaggaer.app.add_fault(kind="broken_answer", mode="status", status=status, path=PO_PATH, method="POST", count=1)

    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)

    attempts = SyncAttempt.objects.filter(record__flow="purchase_orders", error_code="UNCONFIRMED")
    assert attempts.count() == 50  # the first batch, all of it
    attempt = attempts.first()
    assert attempt.state_after == State.RETRYING and attempt.result_status == (status or "")
    assert ("neither a success nor a refusal" in attempt.message)
    record = attempt.record
    record.refresh_from_db()
    assert record.state == State.RETRYING and record.outcome_unknown

    # The next attempt looks each PO up first: JAGGAER had applied them, so none is created twice.
    retries_come_due()
    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)
    created = [r["key"] for r in jaggaer.app.received("purchase_order") if r["status"] == "Created"]
    assert len(created) == len(set(created)) == len(jaggaer.app.purchase_orders)
    assert not SyncRecord.objects.filter(flow="purchase_orders").exclude(
        state__in=[State.DELIVERED, State.SKIPPED]).exists()


def test_jaggaers_errors_beside_an_undocumented_status_are_kept_in_the_audit(pair, netsuite, jaggaer, clients):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"], clients=clients)
    # JAGGAER refuses the POs coded to 6100 with an errorList, under a status that is not "Error".
    jaggaer.app.set_custom_field_value(field="GLAccount", internal_name="6100", active=False)
    jaggaer.app.add_fault(kind="broken_answer", mode="status", status="Failed", path=PO_PATH, method="POST")

    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)

    kept = [attempt for attempt in SyncAttempt.objects.filter(record__flow="purchase_orders", error_code="UNCONFIRMED")
            if attempt.result["errors"]]
    assert kept
    assert {error["code"] for error in kept[0].result["errors"]} == {"UNKNOWN_CUSTOM_FIELD_VALUE"}
    assert "No custom field found for GLAccount value '6100'" in kept[0].message
    assert not SyncRecord.objects.filter(pk=kept[0].record_id, state=State.DELIVERED).exists()


def test_results_in_another_order_are_matched_by_key(pair, netsuite, jaggaer, clients):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications"], clients=clients)
    jaggaer.app.add_fault(kind="broken_answer", mode="reordered", path=SUPPLIER_PATH, method="POST", count=1)

    sync_pass(pair=pair, flows=["vendors"], clients=clients)

    suppliers = jaggaer.app.suppliers
    records = SyncRecord.objects.filter(flow="vendors")
    assert records.count() == len(suppliers) > 2
    for record in records:
        assert record.state == State.DELIVERED
        assert record.jaggaer_id == suppliers[record.netsuite_id]["id"]


@pytest.mark.parametrize("mode", ["wrong_keys", "non_objects", "html", "empty", "truncated", "empty_object"])
def test_a_batch_answer_that_does_not_match_the_batch_is_a_fault_and_the_pass_goes_on(
        pair, netsuite, jaggaer, clients, mode):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications"], clients=clients)
    jaggaer.app.add_fault(kind="broken_answer", mode=mode, path=SUPPLIER_PATH, method="POST", count=1)

    outcomes = sync_pass(pair=pair, flows=["vendors", "purchase_orders", "vendor_bills"], clients=clients)

    assert [o.run.succeeded for o in outcomes] == [True, True, True]
    failed = SyncAttempt.objects.filter(record__flow="vendors", error_code="BAD_ANSWER")
    assert failed.count() == SyncRecord.objects.filter(flow="vendors").count()
    assert all(a.state_after == State.RETRYING and "JAGGAER answered with" in a.message for a in failed)
    assert not SyncRecord.objects.filter(flow="vendors", state=State.DELIVERED).exists()

    # Resent (suppliers are upserts): every vendor once in JAGGAER, each with its own id.
    retries_come_due()
    sync_pass(pair=pair, clients=clients)
    for record in SyncRecord.objects.filter(flow="vendors"):
        assert record.state == State.DELIVERED
        assert record.jaggaer_id == jaggaer.app.suppliers[record.netsuite_id]["id"]


def test_a_lookup_answered_without_the_object_is_not_taken_for_not_found(pair, netsuite, jaggaer, clients):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"], clients=clients)
    # The first PO batch is applied but its answer is lost; the lookups that follow come back hollow.
    jaggaer.app.add_fault(kind="broken_answer", mode="empty", path=PO_PATH, method="POST", count=1)
    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)
    jaggaer.app.add_fault(kind="broken_answer", mode="no_object", path=PO_PATH, method="GET")
    retries_come_due()

    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)

    lookups = SyncAttempt.objects.filter(record__flow="purchase_orders", action="lookup", error_code="BAD_ANSWER")
    assert lookups.count() == 50
    assert not [r for r in jaggaer.app.received("purchase_order") if r["status"] == "Error"]
    jaggaer.app.clear_faults()
    retries_come_due()
    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)
    created = [r["key"] for r in jaggaer.app.received("purchase_order") if r["status"] == "Created"]
    assert len(created) == len(set(created))
    assert not SyncRecord.objects.filter(flow="purchase_orders").exclude(
        state__in=[State.DELIVERED, State.SKIPPED]).exists()


# Claims -----------------------------------------------------------------------------------------


def test_a_slow_send_keeps_its_claim_so_no_other_process_sends_the_same_records(pair, netsuite, jaggaer, clients,
                                                                                 settings):
    # The other process is played from inside the sender's waits, on the test's database connection: batches
    # are sent one at a time, in this thread (test_concurrent_delivery covers claims of batches sent by threads).
    settings.SYNC_JAGGAER_IN_FLIGHT = 1
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"], clients=clients)
    pull(pair=pair, flow="purchase_orders", client=clients.netsuite)
    # JAGGAER in maintenance for 15 minutes: longer than a claim lasts unless it is renewed.
    jaggaer.app.add_fault(kind="maintenance", retry_after=300, count=3, path=PO_PATH, method="POST")
    taken_by_another_process = []
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        def wait(seconds: float) -> None:
            traveller.shift(seconds)
            in_flight = list(SyncRecord.objects.exclude(claim_token="").values_list("pk", flat=True))
            taken_by_another_process.extend(claim(pair=pair, flow="purchase_orders", size=50, only_ids=in_flight))

        slow = JaggaerClient(session=jaggaer_session(connection=pair.jaggaer), base_url=pair.jaggaer.base_url,
                             sleep=wait, backoff_cap=300)
        deliver_due(pair=pair, flow="purchase_orders", client=slow)

    assert taken_by_another_process == []
    created = [r["key"] for r in jaggaer.app.received("purchase_order") if r["status"] == "Created"]
    assert len(created) == len(set(created)) == SyncRecord.objects.filter(
        flow="purchase_orders", state=State.DELIVERED).count() > 100


def test_a_delivery_whose_claim_another_process_took_over_is_not_recorded_by_the_first(
        pair, netsuite, jaggaer, clients, settings):
    settings.SYNC_JAGGAER_IN_FLIGHT = 1  # the takeover is played inside the request, on the test's connection
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"], clients=clients)
    pull(pair=pair, flow="purchase_orders", client=clients.netsuite)
    session = jaggaer_session(connection=pair.jaggaer)
    send = session.request
    stolen: list[int] = []

    def request(method: str, url: str, **kwargs):
        if method == "POST" and not stolen:
            # The claim ran out while the batch was on its way, and another process claimed its records.
            in_flight = SyncRecord.objects.exclude(claim_token="")
            stolen.extend(in_flight.values_list("pk", flat=True))
            in_flight.update(claim_token="another-process", claimed_until=timezone.now() + timedelta(minutes=10))
        return send(method, url, **kwargs)

    session.request = request
    deliver_due(pair=pair, flow="purchase_orders", client=JaggaerClient(session=session,
                                                                         base_url=pair.jaggaer.base_url))

    assert len(stolen) == 50
    for record in SyncRecord.objects.filter(pk__in=stolen):
        assert (record.state, record.claim_token, record.in_jaggaer) == (State.PENDING, "another-process", False)
        attempt = SyncAttempt.objects.get(record=record)
        assert attempt.error_code == "CLAIM_LOST" and "another process took over" in attempt.message
        assert attempt.result_status == "Created"

    # The other process's claim ends; its delivery finds JAGGAER's copy and creates nothing twice.
    SyncRecord.objects.filter(pk__in=stolen).update(claim_token="", claimed_until=None)
    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)
    created = [r["key"] for r in jaggaer.app.received("purchase_order") if r["status"] == "Created"]
    assert len(created) == len(set(created))
    assert not SyncRecord.objects.filter(flow="purchase_orders").exclude(
        state__in=[State.DELIVERED, State.SKIPPED]).exists()


def test_a_flow_whose_pull_fails_does_not_keep_the_later_flows_of_the_pass_from_running(
        pair, netsuite, jaggaer, clients):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications"], clients=clients)
    netsuite.app.dataset.update_purchase_order(open_po(netsuite)["id"], memo="Edited while vendors fail")
    # Every vendor page stays broken while the other flows' reads are fine (the sandbox breaks answers by path,
    # and all SuiteQL shares one path, so the vendor queries are picked out here).
    read = clients.netsuite.suiteql

    def suiteql(*, query: str, **kwargs):
        if "FROM vendor v" in query:
            raise NetSuiteError(system="NetSuite", message="NetSuite answered with a broken page", retryable=True,
                                code="BAD_ANSWER")
        return read(query=query, **kwargs)

    clients.netsuite.suiteql = suiteql

    with pytest.raises(NetSuiteError):
        sync_pass(pair=pair, flows=["vendors", "purchase_orders", "vendor_bills"], clients=clients)

    runs = {run.flow: run for run in SyncRun.objects.filter(flow__in=["vendors", "purchase_orders", "vendor_bills"])}
    assert not runs["vendors"].succeeded and "broken page" in runs["vendors"].message
    assert runs["purchase_orders"].succeeded and runs["vendor_bills"].succeeded
    assert SyncRecord.objects.filter(flow="purchase_orders").exists()


def test_a_nul_escaped_in_a_suiteql_page_is_stored_marked_and_delivered(pair, netsuite, jaggaer, clients):
    po = open_po(netsuite)
    # The sandbox answers JSON with ASCII escapes, as "\u0000" reaches us from NetSuite (lone surrogates, which
    # its own database cannot hold, are tests/hostile's).
    netsuite.app.dataset.update_purchase_order(po["id"], memo="Rush\x00order, please")

    sync_pass(pair=pair, clients=clients)

    record = SyncRecord.objects.get(pair=pair, flow="purchase_orders", netsuite_id=po["id"])
    assert record.source["memo"] == "Rush\ufffdorder, please"
    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["notes"] == "Rush\ufffdorder, please"
