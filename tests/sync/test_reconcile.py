"""Reconciliation: NetSuite's documents of a day against what JAGGAER holds, record by record."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from sync.engine.run import sync_pass
from sync.models import SyncRecord
from sync.operations.reconcile import reconcile

pytestmark = pytest.mark.django_db


def forget_in_jaggaer(jaggaer, *, po_number: str) -> None:
    """JAGGAER lost a PO (an administrator deleted it): the sandbox's own store, not its API."""
    with jaggaer.app._lock:
        del jaggaer.app._data.purchase_orders[po_number]


def test_reconciliation_finds_pos_missing_in_jaggaer_and_agrees_on_the_rest(pair, netsuite, jaggaer, admin_client):
    sync_pass(pair=pair)
    lost = SyncRecord.objects.filter(flow="purchase_orders", state="delivered").order_by("pk").first()
    day = lost.source["trandate"]
    before = reconcile(pair=pair, flow="purchase_orders", day=_date(day))
    assert before.differences == [] and before.netsuite_count == before.jaggaer_count > 0
    assert before.netsuite_total == before.jaggaer_total

    forget_in_jaggaer(jaggaer, po_number=lost.document_number)
    new_id = netsuite.app.dataset.create_purchase_order(vendor_id=lost.netsuite_entity, trandate=day,
                                                        lines=[{"account": 8, "amount": 125.5}])
    after = reconcile(pair=pair, flow="purchase_orders", day=_date(day))

    assert [(d.netsuite_id, d.problem) for d in after.differences] == [
        (lost.netsuite_id, "Missing in JAGGAER"), (new_id, "Missing in JAGGAER")]
    assert after.differences[0].record_id == lost.pk and after.differences[1].record_id is None
    assert after.netsuite_count == before.netsuite_count + 1 and after.jaggaer_count == before.jaggaer_count - 1
    assert after.netsuite_total == before.netsuite_total + Decimal("125.5")

    page = admin_client.get(reverse("sync:reconciliation"), {"flow": "purchase_orders", "day": day}).content.decode()
    assert page.count("Missing in JAGGAER") == 2 and lost.document_number in page
    with pytest.raises(CommandError, match="2 differences"):
        call_command("reconcile", "--flow", "purchase_orders", "--day", day)


def test_reconciliation_of_bills_reads_jaggaer_invoices_and_reports_a_different_total(pair, netsuite, jaggaer):
    sync_pass(pair=pair)
    bill = SyncRecord.objects.filter(flow="vendor_bills", state="delivered").order_by("pk").first()
    day = bill.source["trandate"]
    assert reconcile(pair=pair, flow="vendor_bills", day=_date(day)).differences == []
    with jaggaer.app._lock:
        stored = jaggaer.app._data.invoices[(bill.netsuite_entity, bill.document_number)]
        stored["header"]["total"]["value"] = "1.00"

    result = reconcile(pair=pair, flow="vendor_bills", day=_date(day))

    assert [(d.document, d.problem) for d in result.differences] == [
        (bill.document_number, f"Total differs: NetSuite {Decimal(bill.source['foreigntotal'])}, JAGGAER 1.00")]


def test_reconcile_command_refuses_a_flow_without_documents_and_a_bad_day(pair):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("reconcile", "--flow", "purchase_orders", "--day", "24/11/2026")
    with pytest.raises(CommandError):
        call_command("reconcile", "--flow", "vendors", "--day", "2026-11-24")


def _date(text: str) -> date:
    return date.fromisoformat(text)
