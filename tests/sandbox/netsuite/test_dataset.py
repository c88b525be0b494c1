"""The NetSuite sandbox's data set itself: what the seeded generator makes, that it is deterministic, how
mutations stamp modification times, deletion records, reset, and speed on a large data set."""

import time
from typing import Any

import pytest

from sandbox.clock import Clock
from sandbox.netsuite.dataset import NetSuiteDataset
from sandbox.netsuite.errors import NetSuiteError


def query(dataset: NetSuiteDataset, sql: str, params: list | None = None, *, limit: int = 1000,
          offset: int = 0) -> dict[str, Any]:
    return dataset.suiteql(query=sql, params=params, limit=limit, offset=offset, self_url="http://sandbox/q")


def values(dataset: NetSuiteDataset, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    return query(dataset, sql, params)["items"]


@pytest.fixture(scope="module")
def demo() -> NetSuiteDataset:
    return NetSuiteDataset()


@pytest.fixture
def dataset() -> NetSuiteDataset:
    return NetSuiteDataset(vendors=8, purchase_orders=20, clock=Clock())


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(demo: NetSuiteDataset) -> None:
    sql = ("SELECT t.id, t.tranid, t.entity, t.foreigntotal, TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') "
           "AS modified FROM transaction t ORDER BY t.id")
    again = NetSuiteDataset()
    other = NetSuiteDataset(seed=7)

    assert demo.counts() == again.counts()
    assert values(demo, sql) == values(again, sql)
    assert values(demo, sql) != values(other, sql)


def test_demo_data_has_what_a_realistic_account_has(demo: NetSuiteDataset) -> None:
    counts = demo.counts()
    assert counts["vendor"] == 20
    assert len(values(demo, "SELECT id FROM transaction WHERE type = 'PurchOrd'")) == 200

    names = {row["entityid"] for row in values(demo, "SELECT entityid FROM vendor")}
    assert {"Müller Bürobedarf GmbH", "Société Générale d'Équipement", "Jane Doe"} <= names
    assert values(demo, "SELECT id FROM vendor WHERE companyname IS NULL")  # a person
    assert values(demo, "SELECT id FROM vendor WHERE isinactive = 'T'")
    assert values(demo, "SELECT entity FROM vendorsubsidiaryrelationship GROUP BY entity HAVING COUNT(*) > 1")

    accounts = values(demo, "SELECT acctnumber, fullname, accttype, isinactive, parent FROM account")
    assert {"Expense", "OthExpense", "COGS", "AcctPay", "Bank"} <= {a["accttype"] for a in accounts}
    assert any("acctnumber" not in a for a in accounts) and any(a["isinactive"] == "T" for a in accounts)
    assert {"acctnumber": "6100", "fullname": "Operating Expenses : Office Supplies", "accttype": "Expense",
            "isinactive": "F", "parent": "7", "links": []} in accounts
    for table in ("department", "classification", "location", "subsidiary"):
        segments = values(demo, f"SELECT parent, isinactive FROM {table}")
        assert any("parent" in s for s in segments) and any(s["isinactive"] == "T" for s in segments), table
    assert values(demo, "SELECT symbol, name FROM currency ORDER BY id")[3] == {"links": [], "symbol": "EUR",
                                                                                "name": "Euro"}


def test_demo_orders_have_item_expense_tax_and_main_lines_and_bills_from_orders(demo: NetSuiteDataset) -> None:
    lines = "SELECT COUNT(*) AS n FROM transactionline tl JOIN transaction t ON t.id = tl.transaction WHERE "
    orders = "t.type = 'PurchOrd'"

    def count(condition: str) -> int:
        return int(values(demo, lines + condition)[0]["n"])

    assert count(f"{orders} AND tl.mainline = 'T'") == 200
    assert count(f"{orders} AND tl.mainline = 'T' AND tl.subsidiary IS NOT NULL AND tl.department IS NOT NULL") == 200
    assert count(f"{orders} AND tl.mainline = 'F' AND tl.taxline = 'F' AND tl.item IS NOT NULL "
                 "AND tl.expenseaccount IS NOT NULL") > 0
    assert count(f"{orders} AND tl.mainline = 'F' AND tl.taxline = 'F' AND tl.item IS NULL") > 0
    assert count(f"{orders} AND tl.item IS NULL AND tl.mainline = 'F' AND tl.taxline = 'F' "
                 "AND tl.quantity IS NULL AND tl.foreignamount IS NOT NULL") > 0
    assert count(f"{orders} AND tl.taxline = 'T'") > 0
    assert count("t.type = 'VendBill' AND tl.mainline = 'F' AND tl.createdfrom IS NOT NULL") > 0
    statuses = {row["status"] for row in values(demo, "SELECT DISTINCT status FROM transaction")}
    assert all(len(status) == 1 for status in statuses) and len(statuses) > 3


def test_a_line_only_edit_moves_the_lines_timestamp_but_not_the_headers(dataset: NetSuiteDataset) -> None:
    vendor = dataset.create_vendor(companyname="Line Edit Co")
    po = dataset.create_purchase_order(vendor_id=vendor, lines=[{"item": 1, "quantity": 2, "rate": 5},
                                                                {"account": 8, "amount": 7}])
    stamps = ("SELECT TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS header, tl.id, t.foreigntotal, "
              "TO_CHAR(tl.linelastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS line FROM transaction t "
              "JOIN transactionline tl ON tl.transaction = t.id WHERE t.id = ? ORDER BY tl.id")
    before = values(dataset, stamps, [po])

    dataset.clock.advance(3600)
    dataset.update_purchase_order_line(po, 1, quantity=3)

    after = values(dataset, stamps, [po])
    assert [row["header"] for row in after] == [row["header"] for row in before]
    assert after[1]["line"] > before[1]["line"]
    assert after[0]["line"] == before[0]["line"] and after[2]["line"] == before[2]["line"]
    assert after[0]["foreigntotal"] == "22"


def test_a_header_edit_moves_the_headers_timestamp(dataset: NetSuiteDataset) -> None:
    po = dataset.create_purchase_order(vendor_id=dataset.create_vendor(companyname="Header Edit Co"),
                                       lines=[{"account": 8, "amount": 7}])
    stamp = "SELECT TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS at, memo FROM transaction WHERE id = ?"
    [before] = values(dataset, stamp, [po])

    dataset.clock.advance(60)
    dataset.update_purchase_order(po, memo="Rush order")

    [after] = values(dataset, stamp, [po])
    assert after["at"] > before["at"] and after["memo"] == "Rush order"


def test_deleting_a_record_adds_a_deleted_record_row(dataset: NetSuiteDataset) -> None:
    po = dataset.create_purchase_order(vendor_id=dataset.create_vendor(companyname="Deleted Co"),
                                       lines=[{"account": 8, "amount": 7}])

    dataset.delete_record("purchaseorder", po)

    assert values(dataset, "SELECT recordtype FROM deletedrecord WHERE recordid = ?", [po]) == [
        {"links": [], "recordtype": "purchaseorder"}]
    assert values(dataset, "SELECT id FROM transactionline WHERE transaction = ?", [po]) == []
    with pytest.raises(NetSuiteError) as missing:
        dataset.get_record(record_type="purchaseOrder", record_id=po, expand=False, fields=None, base_url="http://x")
    assert missing.value.status == 404


def test_inactivating_a_vendor_shows_in_suiteql(dataset: NetSuiteDataset) -> None:
    vendor = dataset.create_vendor(companyname="Soon Inactive")

    dataset.set_inactive("vendor", vendor)

    assert values(dataset, "SELECT isinactive FROM vendor WHERE id = ?", [vendor])[0]["isinactive"] == "T"


def test_reset_returns_to_the_seeded_state(dataset: NetSuiteDataset) -> None:
    seeded = dataset.counts()
    vendor = dataset.create_vendor(companyname="Temporary")
    dataset.create_purchase_order(vendor_id=vendor, lines=[{"account": 8, "amount": 1}])
    dataset.delete_record("vendor", vendor)

    dataset.reset()

    assert dataset.counts() == seeded


def test_a_deep_page_of_a_large_data_set_answers_well_under_a_second() -> None:
    large = NetSuiteDataset(purchase_orders=20_000)
    sql = ("SELECT t.id, TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS ts, BUILTIN.DF(t.entity) AS vendor "
           "FROM transaction t WHERE t.type = 'PurchOrd' ORDER BY t.lastmodifieddate, t.id")
    lines = ("SELECT tl.transaction, tl.id, BUILTIN.DF(tl.expenseaccount) AS account FROM transactionline tl "
             "JOIN transaction t ON t.id = tl.transaction WHERE t.type = 'PurchOrd' ORDER BY tl.transaction, tl.id")

    started = time.perf_counter()
    orders = query(large, sql, limit=1000, offset=19_000)
    order_lines = query(large, lines, limit=1000, offset=19_000)
    elapsed = time.perf_counter() - started

    assert orders["totalResults"] == 20_000 and orders["count"] == 1000
    assert order_lines["count"] == 1000
    assert elapsed < 1.0
