"""A full pass over the seeded sandboxes: every record lands in JAGGAER with its coding, once."""

import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from sync.engine.run import sync_pass
from sync.models import SyncAttempt, SyncRecord
from tests.sync.helpers import coding_of, jaggaer_writes, netsuite_rows, write_path

pytestmark = pytest.mark.django_db


def test_full_sync_lands_every_vendor_gl_value_po_and_bill_with_the_coding_of_every_line(pair, netsuite, jaggaer):
    sync_pass(pair=pair)

    vendors = netsuite_rows(netsuite, "SELECT id, isinactive FROM vendor")
    assert set(jaggaer.app.suppliers) == {v["id"] for v in vendors}
    assert {n: s["active"] for n, s in jaggaer.app.suppliers.items()} == {v["id"]: v["isinactive"] == "F" for v in vendors}

    accounts = netsuite_rows(netsuite, "SELECT id, acctnumber FROM account")
    assert set(jaggaer.app.custom_field_values("GLAccount")) == {a.get("acctnumber") or a["id"] for a in accounts}
    departments = netsuite_rows(netsuite, "SELECT id FROM department")
    assert set(jaggaer.app.custom_field_values("CostCenter")) == {d["id"] for d in departments}

    expected_lines = netsuite_rows(netsuite, (
        "SELECT t.tranid, tl.linesequencenumber, a.acctnumber, tl.expenseaccount, tl.department, tl.class, "
        "tl.location FROM transactionline tl JOIN transaction t ON t.id = tl.transaction "
        "JOIN account a ON a.id = tl.expenseaccount "
        "WHERE t.type = 'PurchOrd' AND tl.mainline = 'F' AND tl.taxline = 'F'"))
    purchase_orders = jaggaer.app.purchase_orders
    assert len(purchase_orders) == len(netsuite_rows(netsuite, "SELECT id FROM transaction WHERE type = 'PurchOrd'"))
    for line in expected_lines:
        po = purchase_orders[line["tranid"]]
        sent = {int(sent["lineNumber"]): sent for sent in po["poLineList"]["poLine"]}[int(line["linesequencenumber"])]
        coding = coding_of(sent.get("customFieldValueSetList"))
        assert coding["GLAccount"] == line.get("acctnumber", line["expenseaccount"])
        assert coding.get("CostCenter") == line.get("department")
        assert coding.get("Class") == line.get("class")
        assert coding.get("Location") == line.get("location")

    bills = netsuite_rows(netsuite, (
        "SELECT t.tranid, t.entity, t.foreigntotal, po.tranid AS ponumber FROM transaction t "
        "JOIN transactionline tl ON tl.transaction = t.id AND tl.mainline = 'F' AND tl.taxline = 'F' "
        "JOIN transaction po ON po.id = tl.createdfrom WHERE t.type = 'VendBill'"))
    invoices = jaggaer.app.invoices
    for bill in bills:
        invoice = invoices[(bill["entity"], bill["tranid"])]
        assert invoice["header"]["poNumber"] == bill["ponumber"]
        assert Decimal(invoice["header"]["total"]["value"]) == Decimal(bill["foreigntotal"])
    assert SyncRecord.objects.exclude(state=SyncRecord.State.DELIVERED).count() == 0


def test_a_second_sync_now_makes_no_jaggaer_writes(pair, netsuite, jaggaer, capsys):
    call_command("sync_now")
    writes = jaggaer_writes(jaggaer)
    attempts = SyncAttempt.objects.count()

    call_command("sync_now")

    assert jaggaer_writes(jaggaer) == writes
    assert SyncAttempt.objects.count() == attempts
    out = capsys.readouterr().out
    assert "Purchase orders: read" in out and "NetSuite requests" in out


def test_sync_status_json_counts_records_per_flow_and_state(pair, netsuite, jaggaer, capsys):
    sync_pass(pair=pair, flows=["gl_accounts"])
    capsys.readouterr()
    call_command("sync_status", "--json")
    status = json.loads(capsys.readouterr().out)
    accounts = netsuite_rows(netsuite, "SELECT id FROM account")
    assert status["flows"]["gl_accounts"]["delivered"] == len(accounts)
    assert sum(status["flows"]["gl_accounts"].values()) == len(accounts)
    assert status["flows"]["purchase_orders"] == {state: 0 for state in SyncRecord.State.values}


@pytest.mark.parametrize("jaggaer_transport", ["j1p", "xml"])
def test_sync_now_during_a_jaggaer_outage_says_it_waits_and_how_long_then_delivers(pair, netsuite, jaggaer, caplog,
                                                                                   jaggaer_transport):
    call_command("sync_now", flow=["gl_accounts", "classifications", "vendors"])
    # JAGGAER's maintenance answers the first purchase order batch with 503 and Retry-After: 1.
    jaggaer.app.add_fault(kind="maintenance", retry_after=1, count=1,
                          path=write_path(jaggaer_transport, "purchase_order"), method="POST")

    with caplog.at_level("INFO", logger="sync"):
        call_command("sync_now", flow=["purchase_orders"])

    waits = [record.getMessage() for record in caplog.records if "waiting" in record.getMessage()]
    assert len(waits) == 1 and waits[0].startswith("JAGGAER did not take POST "), waits
    assert waits[0].endswith("waiting 1 s before try 2 of 5")
    assert len(jaggaer.app.purchase_orders) == len(netsuite_rows(netsuite, "SELECT id FROM transaction "
                                                                           "WHERE type = 'PurchOrd'"))
