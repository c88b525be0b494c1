"""Pushed events re-read the record and deliver it through the same pipeline as polling."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from sync.engine.run import sync_pass
from sync.models import SyncRecord, WebhookEvent
from sync.triggers.push import process_event
from tests.sync.helpers import jaggaer_writes, netsuite_rows

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "whsec-acme-0a1b2c3d4e5f"  # the webhook secret of tests.credentials.conftest.netsuite_json


@pytest.fixture
def processed_inline(settings):
    """No worker in these tests: the accepted event is processed as soon as it is committed."""
    settings.SYNC_WEBHOOK_ACCEPTED_HOOK = "sync.tasks.process_webhook_event"


def push(netsuite, live_server, record_type: str, record_id: str, event_type: str):
    return netsuite.app.send_push_event(url=f"{live_server.url}/webhooks/netsuite/acme-netsuite/", secret=SECRET,
                                        record_type=record_type, record_id=record_id, event_type=event_type)


def test_a_pushed_edit_is_delivered_and_the_next_poll_sends_nothing_more(
        pair, netsuite, jaggaer, live_server, processed_inline):
    sync_pass(pair=pair)
    po = netsuite_rows(netsuite, "SELECT id, tranid FROM transaction WHERE type = 'PurchOrd' AND status = 'B' "
                                 "ORDER BY id")[0]
    netsuite.app.dataset.update_purchase_order(po["id"], memo="Changed, then pushed")

    answer = push(netsuite, live_server, "purchaseorder", po["id"], "edit")

    assert answer.status_code == 202
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    sent = jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]
    assert (sent["notes"], sent["revisionNumber"]) == ("Changed, then pushed", 1)
    writes = jaggaer_writes(jaggaer)

    sync_pass(pair=pair)

    assert jaggaer_writes(jaggaer) == writes
    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["revisionNumber"] == 1


def test_a_pushed_delete_cancels_the_purchase_order(pair, netsuite, jaggaer, live_server, processed_inline):
    sync_pass(pair=pair)
    po = netsuite_rows(netsuite, "SELECT id, tranid FROM transaction WHERE type = 'PurchOrd' AND status = 'B' "
                                 "ORDER BY id")[0]
    netsuite.app.dataset.delete_record("purchaseorder", po["id"])

    assert push(netsuite, live_server, "purchaseorder", po["id"], "delete").status_code == 202

    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["status"] == "Cancelled"
    assert SyncRecord.objects.get(flow="purchase_orders", netsuite_id=po["id"]).deleted_in_netsuite


def test_a_pushed_new_vendor_reaches_jaggaer_before_any_poll(pair, netsuite, jaggaer, live_server,
                                                             processed_inline):
    sync_pass(pair=pair)
    vendor_id = netsuite.app.dataset.create_vendor(companyname="Łódź Precision Tools Sp. z o.o.")

    assert push(netsuite, live_server, "vendor", vendor_id, "create").status_code == 202

    assert jaggaer.app.suppliers[vendor_id]["name"] == "Łódź Precision Tools Sp. z o.o."


def test_a_push_and_a_poll_of_the_same_change_at_the_same_time_deliver_it_once(pair, netsuite, jaggaer):
    sync_pass(pair=pair)
    po = netsuite_rows(netsuite, "SELECT id, tranid FROM transaction WHERE type = 'PurchOrd' AND status = 'B' "
                                 "ORDER BY id")[0]
    netsuite.app.dataset.update_purchase_order(po["id"], memo="Pushed and polled")
    event = WebhookEvent.objects.create(received_at=timezone.now(), connection=pair.netsuite,
                                        connection_slug=pair.netsuite.name, event_id="evt-both", record_type="purchaseorder",
                                        record_id=po["id"], event_type="edit", status=WebhookEvent.Status.ACCEPTED,
                                        http_status=202)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def together(work) -> None:
        try:
            start.wait(timeout=10)
            work()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=together, args=(lambda: process_event(event_id=event.pk),)),
               threading.Thread(target=together, args=(lambda: sync_pass(pair=pair, flows=["purchase_orders"]),))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    updates = [r for r in jaggaer.app.received("purchase_order") if r["key"] == po["tranid"] and r["type"] == "update"]
    assert len(updates) == 1
    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["notes"] == "Pushed and polled"
