"""JAGGAER kept busy: several delivery batches in flight at once (never more than SYNC_JAGGAER_IN_FLIGHT), each
record still sent once and journalled once; and deliveries start while NetSuite is still being read."""

import threading
import time
from collections import Counter
from typing import Any

import pytest
from django.db import connection

from sync.engine import deliver
from sync.engine.deliver import Deliveries, claim, deliver_due
from sync.engine.journal import record_deletions
from sync.engine.pull import pull
from sync.engine.run import Clients, sync_pass
from sync.models import SyncAttempt, SyncRecord
from tests.sync.helpers import netsuite_rows
from tests.sync.test_deliver import PO_PATH

pytestmark = pytest.mark.django_db
UP_TO_POS = ["gl_accounts", "classifications", "vendors", "purchase_orders"]


def test_batches_go_out_several_at_once_within_the_limit_and_each_purchase_order_once(pair, netsuite, jaggaer,
                                                                                     settings):
    settings.SYNC_JAGGAER_IN_FLIGHT = 3
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"])
    # Slow enough that a lone sender could never overlap its own requests; JAGGAER allows 4 at once.
    jaggaer.app.configure(latency=0.3, max_in_flight=4, rate_per_second=1000)
    jaggaer.app.reset_stats()

    sync_pass(pair=pair, flows=["purchase_orders"])

    stats = jaggaer.app.stats()
    assert 1 < stats["peak_in_flight"] <= 3
    assert jaggaer.app.counts()["rate_limited"] == 0
    purchase_orders = netsuite_rows(netsuite, "SELECT tranid FROM transaction WHERE type = 'PurchOrd'")
    assert sorted(jaggaer.app.purchase_orders) == sorted(row["tranid"] for row in purchase_orders)
    records = SyncRecord.objects.filter(pair=pair, flow="purchase_orders")
    assert Counter(records.values_list("state", flat=True)) == {SyncRecord.State.DELIVERED: len(purchase_orders)}
    # One attempt per record in the audit: no batch was sent, or journalled, twice.
    attempts = Counter(SyncAttempt.objects.filter(record__in=records).values_list("record_id", flat=True))
    assert set(attempts.values()) == {1}


def test_purchase_orders_go_out_while_later_pages_are_still_being_read(pair, netsuite, jaggaer, settings):
    settings.SYNC_PAGE_SIZE = 20  # the sandbox's 200 purchase orders come in ten header pages
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"])
    clients = Clients.for_pair(pair)
    events: list[str] = []
    lock = threading.Lock()
    read, send = clients.netsuite.suiteql, clients.jaggaer.send_purchase_orders

    def reading(*, query: str, **options: Any) -> dict:
        with lock:
            events.append("read")
        return read(query=query, **options)

    def sending(purchase_orders: list[dict]) -> Any:
        with lock:
            events.append("send")
        return send(purchase_orders)

    clients.netsuite.suiteql = reading  # type: ignore[method-assign]
    clients.jaggaer.send_purchase_orders = sending  # type: ignore[method-assign]

    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)

    assert "send" in events
    first_send = events.index("send")
    # NetSuite was still being read after the first purchase orders went to JAGGAER.
    assert "read" in events[first_send:]
    assert len(jaggaer.app.purchase_orders) == len(netsuite_rows(
        netsuite, "SELECT id FROM transaction WHERE type = 'PurchOrd'"))


@pytest.mark.django_db(transaction=True)
def test_batches_out_in_threads_keep_their_claims_so_no_other_process_takes_their_records(
        pair, netsuite, jaggaer, settings, monkeypatch):
    settings.SYNC_JAGGAER_IN_FLIGHT = 4
    # Claims that run out while JAGGAER answers, unless the thread that owns them renews them as it waits.
    monkeypatch.setattr(deliver, "CLAIM_SECONDS", 3.0)
    monkeypatch.setattr(deliver, "CLAIM_RENEW_SECONDS", 0.2)
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"])
    clients = Clients.for_pair(pair)
    pull(pair=pair, flow="purchase_orders", client=clients.netsuite)
    jaggaer.app.configure(latency=4.0, max_in_flight=4, rate_per_second=1000)
    taken: list[SyncRecord] = []
    done = threading.Event()

    def another_process() -> None:
        deadline = time.monotonic() + 60
        try:
            while not done.is_set() and time.monotonic() < deadline:
                in_flight = list(SyncRecord.objects.exclude(claim_token="").values_list("pk", flat=True))
                taken.extend(claim(pair=pair, flow="purchase_orders", size=50, only_ids=in_flight))
                time.sleep(0.1)
        finally:
            connection.close()

    watcher = threading.Thread(target=another_process)
    watcher.start()
    try:
        report = deliver_due(pair=pair, flow="purchase_orders", client=clients.jaggaer)
    finally:
        done.set()
        watcher.join(timeout=10)

    assert jaggaer.app.stats()["peak_in_flight"] > 1
    assert taken == []
    created = [entry["key"] for entry in jaggaer.app.received("purchase_order") if entry["status"] == "Created"]
    assert len(created) == len(set(created)) == report.counts[SyncRecord.State.DELIVERED] > 100


def test_a_po_deleted_in_netsuite_while_its_send_is_out_is_cancelled_not_left_delivered(pair, netsuite, jaggaer,
                                                                                            settings):
    settings.SYNC_JAGGAER_IN_FLIGHT = 1  # the deletion is recorded from inside the send, on this thread's connection
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"])
    clients = Clients.for_pair(pair)
    pull(pair=pair, flow="purchase_orders", client=clients.netsuite)
    doomed = SyncRecord.objects.filter(pair=pair, flow="purchase_orders").order_by("next_attempt_at", "id").first()
    send = clients.jaggaer.send_purchase_orders

    def deleted_meanwhile(purchase_orders: list[dict]) -> Any:
        if not SyncRecord.objects.filter(pk=doomed.pk, deleted_in_netsuite=True).exists():
            # A later page of the same run (or a push) reads the deletion while the batch is on its way.
            netsuite.app.dataset.delete_record("purchaseorder", doomed.netsuite_id)
            record_deletions(pair=pair, flow="purchase_orders", netsuite_ids=[doomed.netsuite_id])
        return send(purchase_orders)

    clients.jaggaer.send_purchase_orders = deleted_meanwhile  # type: ignore[method-assign]
    deliver_due(pair=pair, flow="purchase_orders", client=clients.jaggaer)

    # The delivery stayed due after the create, and the same run sent the cancellation.
    doomed.refresh_from_db()
    assert (doomed.state, doomed.deleted_in_netsuite) == (SyncRecord.State.DELIVERED, True)
    assert [entry["action"] for entry in doomed.sync_attempts.order_by("pk").values("action")] == ["new", "cancel"]
    assert jaggaer.app.purchase_orders[doomed.document_number]["poHeader"]["status"] == "Cancelled"


def test_when_the_run_fails_the_sending_threads_make_no_further_request_and_the_records_stay_due(
        pair, netsuite, jaggaer, settings):
    settings.SYNC_JAGGAER_IN_FLIGHT = 4
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"])
    clients = Clients.for_pair(pair)
    pull(pair=pair, flow="purchase_orders", client=clients.netsuite)
    clients.jaggaer.load_token()
    # JAGGAER in maintenance: each batch's first request is answered 503 with Retry-After: 1, and retried.
    jaggaer.app.add_fault(kind="maintenance", retry_after=1, count=1000, path=PO_PATH, method="POST")
    before = jaggaer.app.counts()["requests"]

    with pytest.raises(RuntimeError), Deliveries(pair=pair, flow="purchase_orders", client=clients.jaggaer) as out:
        out.pump()  # the four batches go out in threads
        raise RuntimeError("the run's database went away")  # what a retry's outcome could no longer be written to

    # One request per batch: no retry was made whose outcome nobody could have recorded.
    assert jaggaer.app.counts()["requests"] - before == 4
    records = SyncRecord.objects.filter(pair=pair, flow="purchase_orders")
    assert set(records.values_list("state", "claim_token")) == {(SyncRecord.State.PENDING, "")}
    assert not SyncAttempt.objects.filter(record__in=records).exists()
