"""backfill, replay and what bad NetSuite data does to a run."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mappings.models import NetSuiteReference
from sync.engine.run import sync_pass
from sync.models import SyncCursor, SyncRecord
from tests.sync.helpers import jaggaer_writes, netsuite_rows

pytestmark = pytest.mark.django_db
State = SyncRecord.State
PO_PATH = "/j1p/api/public/jp/v1/purchaseorders"


def test_a_backfill_dry_run_prints_the_payloads_and_changes_nothing(pair, netsuite, jaggaer, capsys):
    call_command("backfill", "--flow", "gl_accounts", "--since", "2020-01-01", "--dry-run")

    out = capsys.readouterr().out
    assert '"internalName": "6100"' in out and '"description": "Operating Expenses : Office Supplies"' in out
    assert "gl_accounts: dry run, 16 of 16 record(s) would be sent; nothing changed." in out
    assert not SyncRecord.objects.exists() and not NetSuiteReference.objects.exists()
    assert jaggaer_writes(jaggaer) == 0


def test_a_backfill_delivers_only_its_window_and_leaves_the_cursor_alone(pair, netsuite, jaggaer, capsys):
    call_command("backfill", "--flow", "gl_accounts", "--flow", "classifications", "--flow", "vendors",
                 "--since", "2020-01-01")
    call_command("backfill", "--flow", "purchase_orders", "--since", "2025-03-01", "--until", "2025-04-01")

    in_window = netsuite_rows(netsuite, (
        "SELECT tranid FROM transaction WHERE type = 'PurchOrd' AND "
        "lastmodifieddate >= TO_TIMESTAMP('2025-03-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS') AND "
        "lastmodifieddate < TO_TIMESTAMP('2025-04-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')"))
    assert 0 < len(in_window) < 200
    assert set(jaggaer.app.purchase_orders) == {row["tranid"] for row in in_window}
    assert not SyncCursor.objects.filter(flow="purchase_orders").exists()
    err = capsys.readouterr().err
    assert f"{len(in_window)}/{len(in_window)} read" in err and "records/s" in err


def test_a_backfill_refuses_a_window_that_ends_before_it_starts(pair):
    with pytest.raises(CommandError, match="must be after --since"):
        call_command("backfill", "--flow", "vendors", "--since", "2025-05-01", "--until", "2025-04-01")
    with pytest.raises(CommandError, match="is not a date"):
        call_command("backfill", "--flow", "vendors", "--since", "May 1st")


def test_replaying_failed_records_delivers_them_once_the_cause_is_gone(pair, netsuite, jaggaer, capsys):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"])
    jaggaer.app.add_fault(kind="batch_failure", return_code=1, message="Import rejected", path=PO_PATH)
    sync_pass(pair=pair, flows=["purchase_orders"])
    failed = SyncRecord.objects.filter(flow="purchase_orders", state=State.FAILED)
    assert failed.exists()
    jaggaer.app.clear_faults()

    call_command("replay", "--state", "failed")

    assert not SyncRecord.objects.filter(state=State.FAILED).exists()
    assert len(jaggaer.app.purchase_orders) == SyncRecord.objects.filter(flow="purchase_orders").count()
    assert "Replayed" in capsys.readouterr().out


def test_a_replay_whose_records_fail_again_lists_each_reason_and_exits_non_zero(pair, netsuite, jaggaer, capsys):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"])
    jaggaer.app.add_fault(kind="batch_failure", return_code=1, message="Import rejected", path=PO_PATH)
    sync_pass(pair=pair, flows=["purchase_orders"])
    failed = list(SyncRecord.objects.filter(flow="purchase_orders", state=State.FAILED).order_by("pk"))
    assert failed

    with pytest.raises(CommandError, match=f"{len(failed)} of {len(failed)} replayed record\\(s\\) failed again"):
        call_command("replay", "--state", "failed")

    out = capsys.readouterr().out
    assert f"Failed again: {failed[0]} (id {failed[0].pk}): " in out and "Import rejected" in out


def test_replaying_a_delivered_purchase_order_sends_the_next_revision_not_a_duplicate(pair, netsuite, jaggaer):
    sync_pass(pair=pair)
    record = SyncRecord.objects.filter(flow="purchase_orders", state=State.DELIVERED).first()

    call_command("replay", "--id", str(record.pk))

    record.refresh_from_db()
    assert record.state == State.DELIVERED and record.jaggaer_revision == 1
    assert jaggaer.app.purchase_orders[record.document_number]["poHeader"]["revisionNumber"] == 1
    assert record.events.filter(reason="Replay requested", actor="replay command").exists()


def test_replay_says_which_ids_do_not_exist(pair):
    with pytest.raises(CommandError, match="No sync record with id 999"):
        call_command("replay", "--id", "999")


def test_bad_netsuite_data_fails_only_its_own_record_with_a_clear_reason(pair, netsuite, jaggaer):
    pos = netsuite_rows(netsuite, "SELECT id, tranid FROM transaction WHERE type = 'PurchOrd' AND status = 'B' "
                                  "ORDER BY id")
    no_account, unknown_currency, unusual_text = pos[0], pos[1], pos[2]
    netsuite.app.dataset.update_purchase_order_line(no_account["id"], 1, account=None)
    netsuite.app.dataset.update_purchase_order(unknown_currency["id"], currency=99)
    memo = "Bestellung für Büro – 東京オフィス 🚚 " + "x" * 20_000
    netsuite.app.dataset.update_purchase_order(unusual_text["id"], memo=memo)

    sync_pass(pair=pair)

    def record(po):
        return SyncRecord.objects.get(flow="purchase_orders", netsuite_id=po["id"])

    assert record(no_account).state == State.FAILED
    assert record(no_account).last_error_message == (
        f"Line 1 of {no_account['tranid']} has no GL account (expense account)")
    assert record(unknown_currency).state == State.FAILED
    assert "unknown currency" in record(unknown_currency).last_error_message
    assert jaggaer.app.purchase_orders[unusual_text["tranid"]]["poHeader"]["notes"] == memo
    others = SyncRecord.objects.filter(flow="purchase_orders").exclude(
        netsuite_id__in=[no_account["id"], unknown_currency["id"]])
    assert set(others.values_list("state", flat=True)) == {State.DELIVERED}
