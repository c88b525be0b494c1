"""REST records over real HTTP against the NetSuite sandbox: purchase orders with and without their
sublists, item versus expense lines, field selection, external ids, vendor bills pointing back at their
order, vendors, accounts, the list endpoint and NONEXISTENT_ID."""

from typing import Any

import pytest
import requests

RECORD_PATH = "/services/rest/record/v1"


def get(netsuite: Any, path: str, **params: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {netsuite.app.issue_access_token()}"}
    return requests.get(f"{netsuite.url}{RECORD_PATH}/{path}", params=params, headers=headers, timeout=10)


def record(netsuite: Any, path: str, **params: Any) -> dict[str, Any]:
    answer = get(netsuite, path, **params)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def order(netsuite: Any) -> str:
    dataset = netsuite.app.dataset
    vendor = dataset.create_vendor(companyname="Société Générale d'Équipement", currency=4, externalid="SGE-1")
    return dataset.create_purchase_order(
        vendor_id=vendor, tranid="PO-REC-1", trandate="2025-06-06", externalid="ERP-77", department=3, location=4,
        memo="Printer paper", lines=[
            {"item": 1, "quantity": 8, "rate": 92.25, "department": 2},
            {"account": 8, "amount": 514.88, "memo": "Desk lamps"},
        ])


def test_expanded_purchase_order_carries_item_and_expense_lines(netsuite: Any, order: str) -> None:
    body = record(netsuite, f"purchaseOrder/{order}", expandSubResources="true")

    assert body["id"] == order and body["tranId"] == "PO-REC-1" and body["tranDate"] == "2025-06-06"
    assert body["links"][0]["href"].endswith(f"{RECORD_PATH}/purchaseorder/{order}?expandSubResources=true")
    assert body["entity"]["refName"] == "Société Générale d'Équipement"
    assert body["currency"] == {"links": [{"rel": "self", "href": f"{netsuite.url}{RECORD_PATH}/currency/4"}],
                                "id": "4", "refName": "Euro"}
    assert body["department"]["id"] == "3" and body["location"]["refName"] == "Berlin Office"
    assert body["status"] == {"id": "B", "refName": "Pending Receipt"}
    assert body["total"] == 1252.88 and body["exchangeRate"] == 1.08
    assert body["lastModifiedDate"].endswith("Z") and "T" in body["lastModifiedDate"]
    [item_line] = body["item"]["items"]
    [expense_line] = body["expense"]["items"]
    assert body["item"]["totalResults"] == 1 and body["expense"]["totalResults"] == 1
    assert item_line["line"] == 1 and item_line["item"]["refName"] == "OFF-PAPER-A4"
    assert item_line["quantity"] == 8.0 and item_line["rate"] == 92.25 and item_line["amount"] == 738.0
    assert item_line["department"]["refName"] == "Sales : Wholesale" and item_line["isClosed"] is False
    assert "account" not in item_line
    assert expense_line["account"]["refName"] == "6100 Office Supplies"
    assert expense_line["amount"] == 514.88 and expense_line["memo"] == "Desk lamps"
    assert "class" not in body and "class" not in expense_line  # empty fields are left out


def test_purchase_order_without_expansion_shows_only_sublist_links(netsuite: Any, order: str) -> None:
    body = record(netsuite, f"purchaseorder/{order}")

    assert body["item"] == {"links": [{"rel": "self",
                                       "href": f"{netsuite.url}{RECORD_PATH}/purchaseorder/{order}/item"}]}
    assert set(body["expense"]) == {"links"}


def test_fields_restricts_the_top_level_fields(netsuite: Any, order: str) -> None:
    body = record(netsuite, f"purchaseOrder/{order}", fields="tranId,total")

    assert set(body) == {"links", "id", "tranId", "total"}
    assert get(netsuite, f"purchaseOrder/{order}", fields="nosuchfield").status_code == 400


def test_records_are_found_by_external_id(netsuite: Any, order: str) -> None:
    assert record(netsuite, "purchaseOrder/eid:ERP-77")["id"] == order
    assert record(netsuite, "vendor/eid:SGE-1")["companyName"] == "Société Générale d'Équipement"


@pytest.mark.parametrize("path", ["purchaseOrder/999999", "purchaseOrder/eid:NOPE", "vendor/abc"])
def test_a_missing_record_is_nonexistent_id(netsuite: Any, path: str) -> None:
    answer = get(netsuite, path)

    assert answer.status_code == 404
    assert answer.json()["o:errorDetails"] == [{"detail": "Record does not exist.", "o:errorCode": "NONEXISTENT_ID"}]


def test_vendor_bill_lines_point_back_at_the_order_and_its_line(netsuite: Any, order: str) -> None:
    bill = netsuite.app.dataset.create_vendor_bill(po_id=order, tranid="BILL-REC-1")

    body = record(netsuite, f"vendorBill/{bill}", expandSubResources="true")

    [item_line] = body["item"]["items"]
    [expense_line] = body["expense"]["items"]
    assert item_line["orderDoc"]["id"] == order and item_line["orderLine"] == 1
    assert item_line["orderDoc"]["links"][0]["href"].endswith(f"/purchaseorder/{order}")
    assert expense_line["orderDoc"]["id"] == order and expense_line["orderLine"] == 2
    assert body["account"]["refName"] == "2000 Accounts Payable"
    assert body["status"]["refName"] == "Open" and body["postingPeriod"]["refName"]
    assert get(netsuite, f"purchaseOrder/{bill}").status_code == 404  # a bill is not a purchase order
    billed = record(netsuite, f"purchaseOrder/{order}", expandSubResources="true")["item"]["items"][0]
    assert billed["quantityBilled"] == 8.0


def test_vendor_record_for_a_person_without_company_name(netsuite: Any) -> None:
    vendor = netsuite.app.dataset.create_vendor(entityid="Jane Doe", isperson=True, email="jane@example.com",
                                                defaultaddress="1 Main St\nSpringfield")

    body = record(netsuite, f"vendor/{vendor}")

    assert body["entityId"] == "Jane Doe" and body["isPerson"] is True and body["isInactive"] is False
    assert "companyName" not in body
    assert body["defaultAddress"] == "1 Main St\nSpringfield" and body["subsidiary"]["id"] == "2"


def test_account_record_shows_number_type_and_parent(netsuite: Any) -> None:
    account = netsuite.app.dataset.create_account(acctnumber="6150", name="Printer Supplies", parent=8)

    body = record(netsuite, f"account/{account}")

    assert body["acctNumber"] == "6150" and body["acctName"] == "Printer Supplies"
    assert body["acctType"]["id"] == "Expense" and body["parent"]["refName"] == "6100 Office Supplies"
    assert body["fullName"] == "Operating Expenses : Office Supplies : Printer Supplies"


def test_list_endpoint_gives_only_ids_and_links_with_paging(netsuite: Any) -> None:
    body = record(netsuite, "purchaseOrder", limit=5, offset=5)

    assert body["count"] == 5 and body["offset"] == 5 and body["hasMore"] is True
    assert body["totalResults"] == 200
    assert all(set(item) == {"links", "id"} for item in body["items"])
    assert body["items"][0]["links"][0]["href"] == f"{netsuite.url}{RECORD_PATH}/purchaseorder/{body['items'][0]['id']}"
    assert [link["rel"] for link in body["links"]] == ["self", "first", "prev", "next", "last"]
