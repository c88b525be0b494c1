"""The ways a cursor silently skips records, each shown not to lose one."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sync.engine.run import sync_pass
from sync.models import SyncCursor
from tests.sync.helpers import netsuite_rows

pytestmark = pytest.mark.django_db
UP_TO_POS = ["gl_accounts", "classifications", "vendors", "purchase_orders"]
ACCOUNT_ZONE = ZoneInfo("America/Los_Angeles")


def first_po(netsuite, jaggaer) -> tuple[str, str]:
    row = netsuite_rows(netsuite, "SELECT id, tranid FROM transaction WHERE type = 'PurchOrd' ORDER BY id")[0]
    return row["id"], row["tranid"]


def header_modified(netsuite, po_id: str) -> str:
    return netsuite_rows(netsuite, "SELECT TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS m "
                         "FROM transaction WHERE id = ?", [int(po_id)])[0]["m"]


def test_a_save_stamped_just_before_the_cursor_is_found_by_the_overlap_window(pair, netsuite, jaggaer):
    sync_pass(pair=pair, flows=UP_TO_POS)
    cursor = SyncCursor.objects.get(pair=pair, flow="purchase_orders", stream="records").last_modified
    # NetSuite stamps lastmodifieddate when a save starts; the row can become visible after a pull has
    # moved past that moment.
    stamped = datetime.strptime(cursor, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ACCOUNT_ZONE).timestamp() - 300
    netsuite.app.clock.set(stamped)
    po_id, po_number = first_po(netsuite, jaggaer)
    netsuite.app.dataset.update_purchase_order(po_id, memo="Late-visible edit")
    assert header_modified(netsuite, po_id) < cursor

    sync_pass(pair=pair, flows=UP_TO_POS)

    po = jaggaer.app.purchase_orders[po_number]
    assert po["poHeader"]["notes"] == "Late-visible edit"
    assert po["poHeader"]["revisionNumber"] == 1


def test_a_line_only_edit_is_delivered_as_an_update(pair, netsuite, jaggaer):
    sync_pass(pair=pair, flows=UP_TO_POS)
    po_id, po_number = first_po(netsuite, jaggaer)
    before = header_modified(netsuite, po_id)
    netsuite.app.dataset.update_purchase_order_line(po_id, 1, memo="Only this line changed")
    assert header_modified(netsuite, po_id) == before

    sync_pass(pair=pair, flows=UP_TO_POS)

    po = jaggaer.app.purchase_orders[po_number]
    line = next(sent for sent in po["poLineList"]["poLine"] if sent["lineNumber"] == 1)
    assert line["description"] == "Only this line changed"
    assert po["poHeader"]["revisionNumber"] == 1


def test_a_change_made_during_the_pull_is_not_lost(pair, netsuite, jaggaer, settings):
    settings.SYNC_PAGE_SIZE = 25
    po_id, po_number = first_po(netsuite, jaggaer)
    edited = []

    def edit_after_first_page(progress) -> None:
        if progress.flow == "purchase_orders" and progress.pulled and not edited:
            netsuite.app.dataset.update_purchase_order(po_id, memo="Edited while the pull ran")
            edited.append(True)

    sync_pass(pair=pair, flows=UP_TO_POS, progress=edit_after_first_page)

    assert edited
    assert jaggaer.app.purchase_orders[po_number]["poHeader"]["notes"] == "Edited while the pull ran"


def test_an_edit_in_the_hour_that_repeats_when_daylight_saving_ends_is_not_lost(pair, netsuite, jaggaer):
    po_id, po_number = first_po(netsuite, jaggaer)
    vendor = netsuite_rows(netsuite, "SELECT entity FROM transaction WHERE id = ?", [int(po_id)])[0]["entity"]
    # 2026-11-01 01:45 PDT, then 01:10 PST: later in time, earlier on the account's clock. Both our side
    # and the sandbox travel, so that tokens stay valid.
    with time_machine.travel(datetime.fromisoformat("2026-11-01T08:45:00+00:00"), tick=True) as traveller:
        netsuite.app.dataset.update_purchase_order(po_id, memo="01:45 PDT")
        sync_pass(pair=pair, flows=UP_TO_POS)
        traveller.move_to(datetime.fromisoformat("2026-11-01T09:10:00+00:00"))
        new_po = netsuite.app.dataset.create_purchase_order(
            vendor_id=vendor, tranid="PO-DST-1", lines=[{"account": "8", "amount": 42}])
        assert header_modified(netsuite, new_po) < header_modified(netsuite, po_id)

        sync_pass(pair=pair, flows=UP_TO_POS)

    assert jaggaer.app.purchase_orders[po_number]["poHeader"]["notes"] == "01:45 PDT"
    assert "PO-DST-1" in jaggaer.app.purchase_orders
