"""Purchase orders in the JAGGAER sandbox: new, update, cancel and the item errors (spec section 5)."""

import pytest

from tests.sandbox.jaggaer.builders import coding, errors_of, po_line, purchase_order, supplier

PATH = "/jp/v1/purchaseorders"


@pytest.fixture
def supplier_77(api, jaggaer):
    api.results("/js/v1/suppliers", {"supplierList": {"supplier": [supplier("77")]}})
    jaggaer.app.set_custom_field_value(field="GLAccount", internal_name="6100", description="Office Supplies")
    jaggaer.app.set_custom_field_value(field="GLAccount", internal_name="6900", active=False)
    jaggaer.app.set_custom_field_value(field="CostCenter", internal_name="10")


def _send(api, *orders: dict) -> list[dict]:
    return api.results(PATH, {"purchaseOrderList": {"purchaseOrder": list(orders)}})


def test_a_new_po_is_created_and_read_back_open_with_its_revision(api, supplier_77):
    order = purchase_order("PO1042", customFieldValueSetList=coding(CostCenter="10"),
                           lines=[po_line(1, customFieldValueSetList=coding(GLAccount="6100")),
                                  po_line(2, quantity="0")])

    [result] = _send(api, order)
    stored = api.get(f"{PATH}/PO1042").json()

    assert result["status"] == "Created" and result["key"] == "PO1042" and result["id"]
    assert stored["returnCode"] == 0
    assert stored["purchaseOrder"]["poHeader"]["status"] == "Open"
    assert stored["purchaseOrder"]["poHeader"]["revisionNumber"] == 0
    assert [line["status"] for line in stored["purchaseOrder"]["poLineList"]["poLine"]] == ["Open", "Cancelled"]


def test_a_new_po_whose_number_exists_is_a_duplicate(api, supplier_77):
    _send(api, purchase_order("PO1"))

    [result] = _send(api, purchase_order("PO1"))

    assert result["status"] == "Error" and "id" not in result
    assert errors_of(result) == [("DUPLICATE", "Purchase order PO1 already exists")]


def test_an_update_needs_a_greater_revision(api, jaggaer, supplier_77):
    _send(api, purchase_order("PO1"))

    updated = _send(api, purchase_order("PO1", type="update", revision=1, notes="second"))
    stale = _send(api, purchase_order("PO1", type="update", revision=1, notes="third"))

    assert updated[0]["status"] == "Updated"
    assert stale[0]["status"] == "Error"
    assert [code for code, _ in errors_of(stale[0])] == ["STALE_REVISION"]
    header = jaggaer.app.purchase_orders["PO1"]["poHeader"]
    assert (header["revisionNumber"], header["notes"]) == (1, "second")


def test_an_update_of_an_unknown_po_is_unknown_po(api, supplier_77):
    [result] = _send(api, purchase_order("PO404", type="update", revision=1))

    assert [code for code, _ in errors_of(result)] == ["UNKNOWN_PO"]


def test_cancel_voids_the_po_and_a_second_cancel_is_unchanged(api, supplier_77):
    _send(api, purchase_order("PO1"))
    cancel = {"poHeader": {"poNumber": "PO1", "type": "cancel"}}

    first = _send(api, cancel)
    second = _send(api, cancel)
    update = _send(api, purchase_order("PO1", type="update", revision=5))

    assert first[0]["status"] == "Cancelled"
    assert second[0]["status"] == "Unchanged"
    assert [code for code, _ in errors_of(update[0])] == ["VALIDATION"]
    assert api.get(f"{PATH}/PO1").json()["purchaseOrder"]["poHeader"]["status"] == "Cancelled"


def test_an_unknown_supplier_and_inactive_or_missing_coding_are_all_reported(api, supplier_77):
    order = purchase_order(
        "PO9", supplier_number="88", customFieldValueSetList=coding(Project="X"),
        lines=[po_line(1, customFieldValueSetList=coding(GLAccount="6900")),
               po_line(2, customFieldValueSetList=coding(GLAccount="7777", CostCenter="10"))])

    [result] = _send(api, order)

    assert errors_of(result) == [
        ("UNKNOWN_SUPPLIER", "No supplier 88"),
        ("UNKNOWN_CUSTOM_FIELD_VALUE", "No custom field found for Project"),
        ("UNKNOWN_CUSTOM_FIELD_VALUE", "No custom field found for GLAccount value '6900'"),
        ("UNKNOWN_CUSTOM_FIELD_VALUE", "No custom field found for GLAccount value '7777'"),
    ]


def test_amounts_must_be_decimal_strings_and_order_date_is_required(api, supplier_77):
    order = purchase_order("PO5", total={"currency": "USD", "value": "1.25e3"},
                           lines=[po_line(1, quantity=10), po_line(2, price="12,50")])
    del order["poHeader"]["orderDate"]

    [result] = _send(api, order)

    fields = [error["field"] for error in result["errorList"]["error"]]
    assert fields == ["poHeader.orderDate", "poHeader.total.value", "poLineList.poLine[0].quantity",
                      "poLineList.poLine[1].unitPrice.value"]
    assert {error["code"] for error in result["errorList"]["error"]} == {"VALIDATION"}


def test_a_missing_po_answers_returncode_2(api):
    assert api.get(f"{PATH}/PO404").json()["returnCode"] == 2
