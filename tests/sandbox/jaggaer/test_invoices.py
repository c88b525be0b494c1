"""Invoices in the JAGGAER sandbox (spec section 6)."""

import pytest

from tests.sandbox.jaggaer.builders import errors_of, invoice, po_line, purchase_order, supplier

PATH = "/ji/v1/invoices"


@pytest.fixture
def supplier_and_po(api):
    api.results("/js/v1/suppliers", {"supplierList": {"supplier": [supplier("77"), supplier("78")]}})
    api.results("/jp/v1/purchaseorders", {"purchaseOrderList": {"purchaseOrder": [purchase_order("PO1042")]}})


def _send(api, *invoices: dict) -> list[dict]:
    return api.results(PATH, {"invoiceList": {"invoice": list(invoices)}})


def test_an_invoice_is_keyed_by_supplier_invoice_number_and_read_back_by_id(api, supplier_and_po):
    [result] = _send(api, invoice("INV-889", poNumber="PO1042",
                                  lines=[{**po_line(1), "poNumber": "PO1042", "poLineNumber": 1}]))
    stored = api.get(f"{PATH}/{result['id']}").json()

    assert result["status"] == "Created" and result["key"] == "INV-889"
    assert stored["returnCode"] == 0
    assert stored["invoice"]["header"]["supplierInvoiceNumber"] == "INV-889"
    assert stored["invoice"]["lineList"]["invoiceLine"][0]["poNumber"] == "PO1042"


def test_header_only_invoices_are_valid_and_the_pair_supplier_number_is_unique(api, supplier_and_po):
    first = _send(api, invoice("INV-1"), invoice("INV-1", supplier_number="78"))
    again = _send(api, invoice("INV-1"))

    assert [r["status"] for r in first] == ["Created", "Created"]
    assert errors_of(again[0]) == [("DUPLICATE", "Invoice INV-1 of supplier 77 already exists")]


def test_unknown_supplier_and_unknown_po_on_header_and_line(api, supplier_and_po):
    [result] = _send(api, invoice("INV-2", supplier_number="99", poNumber="PO404",
                                  lines=[{**po_line(1), "poNumber": "PO405"}]))

    assert [code for code, _ in errors_of(result)] == ["UNKNOWN_SUPPLIER", "UNKNOWN_PO", "UNKNOWN_PO"]
    assert api.get(PATH).json()["totRecords"] == 0


def test_invoice_date_and_total_are_required(api, supplier_and_po):
    document = invoice("INV-3")
    del document["header"]["invoiceDate"], document["header"]["total"]

    [result] = _send(api, document)

    assert [error["field"] for error in result["errorList"]["error"]] == ["header.invoiceDate", "header.total"]


def test_a_missing_invoice_id_answers_returncode_2(api):
    assert api.get(f"{PATH}/123").json() == {"returnCode": 2, "returnMessage": "Invoice not found"}
