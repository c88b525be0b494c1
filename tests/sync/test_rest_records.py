"""Read mode rest_records: the same flows read through NetSuite's REST record list and records, for roles that may
not run SuiteQL, landing in JAGGAER exactly what SuiteQL mode lands."""

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from credentials.models import NetSuiteReadMode
from mappings.models import NetSuiteReference
from sync.engine.run import refresh_reference_lists, sync_pass
from sync.models import SyncCursor, SyncRecord, WebhookEvent
from sync.remote.errors import NetSuiteError
from sync.triggers.push import process_event
from tests.sync.helpers import netsuite_rows

pytestmark = pytest.mark.django_db
State = SyncRecord.State
DIMENSION_FIELDS = ("GLAccount", "CostCenter", "Class", "Location", "BusinessUnit")


def rest_records(pair: Any) -> None:
    pair.netsuite.read_mode = NetSuiteReadMode.REST_RECORDS
    pair.netsuite.save()


def written(objects: dict) -> dict:
    """JAGGAER's objects without the ids JAGGAER assigns itself."""
    return {key: {name: value for name, value in body.items() if name != "id"} for key, body in objects.items()}


def landed(jaggaer: Any) -> dict:
    """What JAGGAER holds, as the connector wrote it."""
    return {
        "purchase_orders": written(jaggaer.app.purchase_orders),
        "suppliers": written(jaggaer.app.suppliers),
        "invoices": written(jaggaer.app.invoices),
        "values": {field: jaggaer.app.custom_field_values(field) for field in DIMENSION_FIELDS},
    }


def test_a_full_sync_through_rest_records_lands_in_jaggaer_exactly_what_suiteql_lands(pair, netsuite, jaggaer):
    sync_pass(pair=pair)
    through_suiteql = landed(jaggaer)
    jaggaer.app.reset()
    jaggaer.app.configure(rate_per_second=10_000, max_in_flight=16)
    SyncRecord.objects.all().delete()
    SyncCursor.objects.all().delete()
    rest_records(pair)
    netsuite.app.configure(suiteql_allowed=False)

    sync_pass(pair=pair)

    assert not SyncRecord.objects.exclude(state=State.DELIVERED).exists()
    through_rest = landed(jaggaer)
    assert through_rest["purchase_orders"] and through_rest["invoices"] and through_rest["suppliers"]
    for part in through_suiteql:
        for key in through_suiteql[part]:
            assert through_rest[part].get(key) == through_suiteql[part][key], (part, key)
        assert through_rest[part].keys() == through_suiteql[part].keys()


def open_po(netsuite: Any) -> dict:
    return netsuite_rows(netsuite, "SELECT id, tranid FROM transaction WHERE type = 'PurchOrd' AND status = 'B' "
                                   "ORDER BY id")[0]


def pushed(pair: Any, record_type: str, record_id: str) -> WebhookEvent:
    return WebhookEvent.objects.create(
        received_at=timezone.now(), connection=pair.netsuite, connection_slug=pair.netsuite.name,
        event_id=f"evt-{record_type}-{record_id}", record_type=record_type, record_id=record_id, event_type="delete",
        occurred_at=timezone.now().isoformat(), status=WebhookEvent.Status.ACCEPTED, http_status=202)


def test_a_header_edit_is_picked_up_by_the_next_pass(pair, netsuite, jaggaer):
    rest_records(pair)
    sync_pass(pair=pair)
    po = open_po(netsuite)
    netsuite.app.dataset.update_purchase_order(po["id"], memo="Edited for the REST reader")

    sync_pass(pair=pair, flows=["purchase_orders"])

    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["notes"] == "Edited for the REST reader"
    assert SyncRecord.objects.get(flow="purchase_orders", netsuite_id=po["id"]).state == State.DELIVERED


def test_a_purchase_order_deleted_in_netsuite_is_cancelled_in_jaggaer(pair, netsuite, jaggaer):
    rest_records(pair)
    netsuite.app.configure(suiteql_allowed=False)
    sync_pass(pair=pair)
    po = open_po(netsuite)
    netsuite.app.dataset.delete_record("purchaseorder", po["id"])

    sync_pass(pair=pair, flows=["purchase_orders"])

    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["status"] == "Cancelled"
    record = SyncRecord.objects.get(flow="purchase_orders", netsuite_id=po["id"])
    assert record.deleted_in_netsuite and record.state == State.DELIVERED
    assert SyncRecord.objects.filter(flow="purchase_orders", deleted_in_netsuite=True).count() == 1


def test_a_pushed_deletion_is_confirmed_by_netsuites_own_answer_before_the_po_is_cancelled(
        pair, netsuite, jaggaer, clients):
    rest_records(pair)
    netsuite.app.configure(suiteql_allowed=False)
    sync_pass(pair=pair, clients=clients)
    po = open_po(netsuite)
    netsuite.app.dataset.delete_record("purchaseorder", po["id"])

    process_event(event_id=pushed(pair, "purchaseorder", po["id"]).pk, clients=clients)

    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["status"] == "Cancelled"


@pytest.mark.parametrize("mode", ["empty_object", "html", "empty", "truncated"])
def test_a_garbled_answer_to_the_confirming_read_never_marks_the_po_deleted(pair, netsuite, jaggaer, clients, mode):
    rest_records(pair)
    sync_pass(pair=pair, clients=clients)
    po = open_po(netsuite)
    netsuite.app.dataset.delete_record("purchaseorder", po["id"])
    # The list no longer names the PO; every read of it is answered with a broken body instead of the 404.
    netsuite.app.faults.add_broken_answers(mode=mode, path=f"/record/v1/purchaseOrder/{po['id']}")

    with pytest.raises(NetSuiteError):
        sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)
    with pytest.raises(NetSuiteError):
        process_event(event_id=pushed(pair, "purchaseorder", po["id"]).pk, clients=clients)

    assert not SyncRecord.objects.filter(deleted_in_netsuite=True).exists()
    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["status"] == "Open"

    # Once NetSuite answers properly, its 404 is the evidence.
    netsuite.app.faults.clear()
    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)
    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["status"] == "Cancelled"


def test_server_errors_on_record_reads_mark_nothing_deleted_and_keep_the_cursor(pair, netsuite, jaggaer, clients):
    rest_records(pair)
    sync_pass(pair=pair, clients=clients)
    cursors = dict(SyncCursor.objects.values_list("stream", "last_modified").filter(flow="purchase_orders"))
    netsuite.app.dataset.update_purchase_order(open_po(netsuite)["id"], memo="Not read yet")
    netsuite.app.faults.add_server_errors()

    with pytest.raises(NetSuiteError):
        sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)

    assert not SyncRecord.objects.filter(deleted_in_netsuite=True).exists()
    assert dict(SyncCursor.objects.values_list("stream", "last_modified").filter(flow="purchase_orders")) == cursors
    assert {po["poHeader"]["status"] for po in jaggaer.app.purchase_orders.values()} <= {"Open", "Cancelled"}
    assert not [po for po in jaggaer.app.purchase_orders.values() if po["poHeader"].get("notes") == "Not read yet"]


def test_records_are_read_several_at_once_within_the_accounts_limit(pair, netsuite, jaggaer):
    rest_records(pair)
    pair.netsuite.concurrency_limit = 3
    pair.netsuite.save()
    netsuite.app.configure(latency=0.02, concurrency_limit=3)
    netsuite.app.reset_stats()

    outcomes = sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"])

    assert netsuite.app.peak_in_flight == 3  # reads overlapped, up to the limit and never past it
    assert not [entry for entry in netsuite.app.requests_log if entry.status == 429]
    assert sum(outcome.run.netsuite_requests for outcome in outcomes) == netsuite.app.stats()["requests"]


def test_check_connections_says_suiteql_is_refused_and_rest_records_allowed_and_suggests_the_mode(pair, netsuite):
    netsuite.app.configure(suiteql_allowed=False)
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("check_connections", pair.netsuite.name, stdout=out)

    assert ("FAIL acme-netsuite (NetSuite): SuiteQL refused: the role lacks SuiteAnalytics Workbook; REST records "
            'allowed: set the connection\'s read mode to REST records ("read_mode": "rest_records"), or give the role '
            "SuiteAnalytics Workbook.") in out.getvalue()

    rest_records(pair)
    out = StringIO()
    call_command("check_connections", pair.netsuite.name, stdout=out)
    assert out.getvalue().startswith("ok   acme-netsuite (NetSuite): ")
    assert ("listed subsidiaries through REST records; SuiteQL refused: the role lacks SuiteAnalytics Workbook; "
            "REST records allowed; read mode REST records.") in out.getvalue()


def test_check_connections_with_both_modes_allowed_suggests_suiteql(pair, netsuite):
    rest_records(pair)
    out = StringIO()
    call_command("check_connections", pair.netsuite.name, stdout=out)
    assert ("SuiteQL allowed; REST records allowed (suggested read mode: SuiteQL, which reads in bulk and sees "
            "line-only edits); read mode REST records.") in out.getvalue()


def test_a_line_only_edit_is_not_seen_by_polling_but_a_push_carries_it(pair, netsuite, jaggaer, clients):
    rest_records(pair)
    sync_pass(pair=pair, clients=clients)
    po = open_po(netsuite)
    netsuite.app.dataset.update_purchase_order_line(po["id"], 1, memo="Changed on the line only")

    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)
    lines = jaggaer.app.purchase_orders[po["tranid"]]["poLineList"]["poLine"]
    assert "Changed on the line only" not in [line.get("description") for line in lines]  # the documented blind spot

    event = pushed(pair, "purchaseorder", po["id"])
    event.event_type = "edit"
    event.save()
    process_event(event_id=event.pk, clients=clients)
    lines = jaggaer.app.purchase_orders[po["tranid"]]["poLineList"]["poLine"]
    assert "Changed on the line only" in [line.get("description") for line in lines]


def test_refreshing_the_reference_lists_reads_every_code_through_rest_records(pair, netsuite, jaggaer):
    rest_records(pair)
    netsuite.app.configure(suiteql_allowed=False)
    sync_pass(pair=pair, flows=["gl_accounts", "classifications"])
    read_before = SyncRecord.objects.filter(flow__in=["gl_accounts", "classifications"]).count()

    outcomes = refresh_reference_lists(pair=pair)

    assert sum(outcome.run.records_read for outcome in outcomes) == read_before > 0
    assert NetSuiteReference.objects.filter(reference_list__kind="gl_account").count() == len(
        netsuite_rows(netsuite, "SELECT id FROM account"))
