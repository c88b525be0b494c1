"""backfill --dry-run against the sandboxes: it reads the window from NetSuite, decides every record through
the current mappings and prints per flow what was read, what would be sent and what would wait for which
mapping, while JAGGAER receives nothing and no record or cursor is written."""

import re

import pytest
from django.core.management import call_command

from mappings.models import CodingMapping
from sync.engine.run import sync_pass
from sync.models import SyncCursor, SyncEvent, SyncRecord
from tests.sync.helpers import jaggaer_writes, netsuite_rows

pytestmark = pytest.mark.django_db
SINCE = "2025-03-01 00:00:00"
IN_WINDOW = ("SELECT id, tranid FROM transaction WHERE type = 'PurchOrd' AND "
             "lastmodifieddate >= TO_TIMESTAMP(?, 'YYYY-MM-DD HH24:MI:SS')")


def purchase_orders_in_window(netsuite) -> dict[str, str]:
    return {row["id"]: row["tranid"] for row in netsuite_rows(netsuite, IN_WINDOW, [SINCE])}


def dry_run(capsys, *flows: str, since: str = SINCE[:10]) -> tuple[str, str]:
    arguments = [argument for flow in flows for argument in ("--flow", flow)]
    call_command("backfill", *arguments, "--since", since, "--dry-run")
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_after_a_full_sync_the_dry_run_reads_the_real_window_and_says_nothing_would_be_sent(
        pair, netsuite, jaggaer, capsys):
    sync_pass(pair=pair)
    writes, records = jaggaer_writes(jaggaer), SyncRecord.objects.count()
    events, cursors = SyncEvent.objects.count(), list(SyncCursor.objects.values_list("stream", "last_modified"))
    capsys.readouterr()
    expected = purchase_orders_in_window(netsuite)
    assert len(expected) > 10

    out, err = dry_run(capsys, "purchase_orders")

    assert f"purchase_orders: read {len(expected)} from NetSuite in " in out
    assert f"purchase_orders: dry run, 0 of {len(expected)} record(s) would be sent; nothing changed." in out
    assert (f"purchase_orders: {len(expected)} were recorded before and are unchanged in NetSuite (left as they are)"
            in out)
    assert f"purchase_orders: {len(expected):,} of {len(expected):,} read from NetSuite" in err
    assert jaggaer_writes(jaggaer) == writes
    assert (SyncRecord.objects.count(), SyncEvent.objects.count()) == (records, events)
    assert list(SyncCursor.objects.values_list("stream", "last_modified")) == cursors


def test_the_dry_run_counts_what_would_be_sent_and_what_would_wait_for_which_mapping(pair, netsuite, jaggaer, capsys):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"])
    office = netsuite_rows(netsuite, "SELECT id, acctnumber FROM account WHERE acctnumber = '6100'")[0]
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id=office["id"], jaggaer_value="NOT-IN-JAGGAER")
    coded_6100 = {row["transaction"] for row in netsuite_rows(netsuite, (
        "SELECT DISTINCT tl.transaction FROM transactionline tl JOIN transaction t ON t.id = tl.transaction "
        "WHERE t.type = 'PurchOrd' AND tl.mainline = 'F' AND tl.expenseaccount = ?"), [office["id"]])}
    expected = purchase_orders_in_window(netsuite)
    waiting = {po for po in expected if po in coded_6100}
    assert 0 < len(waiting) < len(expected)
    writes, cursors = jaggaer_writes(jaggaer), list(SyncCursor.objects.values_list("stream", "last_modified"))
    capsys.readouterr()

    out, _ = dry_run(capsys, "purchase_orders")

    assert f"purchase_orders: read {len(expected)} from NetSuite in " in out
    sending = len(expected) - len(waiting)
    assert f"purchase_orders: dry run, {sending} of {len(expected)} record(s) would be sent; nothing changed." in out
    assert f"purchase_orders: {len(waiting)} would wait for a mapping:" in out
    assert (f"  GL account 6100 Office Supplies (NetSuite id {office['id']}) is mapped to JAGGAER GLAccount value "
            f"'NOT-IN-JAGGAER', but JAGGAER does not have it: {len(waiting)} record(s)") in out
    for netsuite_id in waiting:
        assert re.search(rf"purchase_orders {re.escape(expected[netsuite_id])} \(NetSuite id {netsuite_id}\): "
                         r"GL account 6100", out)
    assert jaggaer_writes(jaggaer) == writes
    assert not SyncRecord.objects.filter(flow="purchase_orders").exists()
    assert list(SyncCursor.objects.values_list("stream", "last_modified")) == cursors


def test_suppliers_the_dry_run_would_send_count_as_delivered_for_the_pos_that_follow_them(
        pair, netsuite, jaggaer, capsys):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications"])
    writes = jaggaer_writes(jaggaer)
    vendors = netsuite_rows(netsuite, "SELECT id FROM vendor")
    purchase_orders = netsuite_rows(netsuite, "SELECT id FROM transaction WHERE type = 'PurchOrd'")
    capsys.readouterr()

    out, _ = dry_run(capsys, "purchase_orders", "vendors", since="2000-01-01")

    assert out.index("vendors: dry run") < out.index("purchase_orders: dry run")
    assert f"vendors: dry run, {len(vendors)} of {len(vendors)} record(s) would be sent; nothing changed." in out
    assert (f"purchase_orders: dry run, {len(purchase_orders)} of {len(purchase_orders)} record(s) would be sent; "
            "nothing changed.") in out
    assert jaggaer_writes(jaggaer) == writes
    assert not SyncRecord.objects.filter(flow__in=["vendors", "purchase_orders"]).exists()
