"""SuiteQL over real HTTP against the NetSuite sandbox: paging, the offset ceiling, NetSuite's rendering of
rows, its query errors, dates in the account's time zone, BUILTIN.DF, parameters and joins."""

from datetime import datetime, timezone
from typing import Any

import pytest
import requests

SUITEQL_PATH = "/services/rest/query/v1/suiteql"


def run_query(netsuite: Any, query: str, *, params: list | None = None, limit: int = 1000,
              offset: int = 0) -> requests.Response:
    # A fresh token per request: tests move the sandbox clock, and a token lives an hour of that clock.
    headers = {"Authorization": f"Bearer {netsuite.app.issue_access_token()}", "Prefer": "transient"}
    body: dict[str, Any] = {"q": query}
    if params is not None:
        body["params"] = params
    return requests.post(netsuite.url + SUITEQL_PATH, params={"limit": limit, "offset": offset}, json=body,
                         headers=headers, timeout=30)


def rows(netsuite: Any, query: str, **kwargs: Any) -> list[dict[str, Any]]:
    answer = run_query(netsuite, query, **kwargs)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def query_error(netsuite: Any, query: str, **kwargs: Any) -> dict[str, Any]:
    answer = run_query(netsuite, query, **kwargs)
    assert answer.status_code == 400, answer.text
    [detail] = answer.json()["o:errorDetails"]
    return detail


def a_vendor(netsuite: Any, **fields: Any) -> str:
    return netsuite.app.dataset.create_vendor(companyname="Paging Test Supplies", **fields)


def test_paging_to_the_end_of_5000_rows_with_a_unique_order_sees_every_row_once(netsuite: Any) -> None:
    dataset = netsuite.app.dataset
    vendor = a_vendor(netsuite)
    created = {dataset.create_purchase_order(vendor_id=vendor, memo="bulk", lines=[{"account": 8, "amount": 5}])
               for _ in range(5000)}
    query = "SELECT id, tranid FROM transaction WHERE memo = 'bulk' ORDER BY lastmodifieddate, id"

    seen, pages, offset = [], 0, 0
    while pages < 10:
        page = run_query(netsuite, query, limit=1000, offset=offset).json()
        pages += 1
        seen.extend(row["id"] for row in page["items"])
        assert page["totalResults"] == 5000
        if not page["hasMore"]:
            break
        offset += 1000

    assert pages == 5
    assert len(seen) == len(set(seen)) == 5000
    assert set(seen) == created


def test_page_links_name_the_next_and_last_pages(netsuite: Any) -> None:
    page = run_query(netsuite, "SELECT id FROM currency ORDER BY id", limit=1, offset=1).json()

    links = {link["rel"]: link["href"] for link in page["links"]}
    assert page["count"] == 1 and page["offset"] == 1 and page["totalResults"] == 4 and page["hasMore"] is True
    assert links["self"].endswith(f"{SUITEQL_PATH}?limit=1&offset=1")
    assert links["next"].endswith("limit=1&offset=2") and links["last"].endswith("limit=1&offset=3")
    assert links["prev"].endswith("limit=1&offset=0") and links["first"].endswith("limit=1&offset=0")


def test_rows_that_tie_on_the_order_by_come_back_in_a_different_order_on_each_request(netsuite: Any) -> None:
    vendor = a_vendor(netsuite)
    for _ in range(200):
        netsuite.app.dataset.create_purchase_order(vendor_id=vendor, memo="tie", lines=[{"account": 8, "amount": 1}])
    query = "SELECT id FROM transaction WHERE memo = 'tie' ORDER BY memo"

    orders = {tuple(row["id"] for row in rows(netsuite, query)) for _ in range(3)}

    assert len(orders) > 1
    assert all(sorted(order) == sorted(next(iter(orders))) for order in orders)


def test_offset_of_100000_or_more_is_refused_and_offset_must_be_a_multiple_of_limit(netsuite: Any) -> None:
    ceiling = query_error(netsuite, "SELECT id FROM transaction", limit=1000, offset=100_000)
    misaligned = query_error(netsuite, "SELECT id FROM transaction", limit=1000, offset=500)
    past_the_rows = run_query(netsuite, "SELECT id FROM transaction", limit=1000, offset=99_000)

    assert ceiling["o:errorQueryParam"] == "offset" and "offset" in ceiling["detail"].lower()
    assert misaligned["o:errorQueryParam"] == "offset"
    assert past_the_rows.status_code == 200 and past_the_rows.json()["items"] == []


@pytest.mark.parametrize("limit", [0, 1001])
def test_limit_outside_1_to_1000_is_refused(netsuite: Any, limit: int) -> None:
    assert query_error(netsuite, "SELECT id FROM currency", limit=limit)["o:errorQueryParam"] == "limit"


def test_values_are_strings_booleans_t_or_f_and_null_columns_are_left_out(netsuite: Any) -> None:
    dataset = netsuite.app.dataset
    po = dataset.create_purchase_order(vendor_id=a_vendor(netsuite), lines=[
        {"item": 3, "quantity": 10, "rate": 125.05},
        {"account": 8, "amount": 0.5},
    ])

    [row] = rows(netsuite, "SELECT T.ID, t.Foreigntotal AS Total, tl.quantity, tl.rate, tl.isclosed, tl.mainline, "
                           "t.memo FROM transaction t JOIN transactionline tl ON tl.transaction = t.id "
                           "WHERE t.id = ? AND tl.id = 1", params=[po])

    assert row == {"links": [], "id": po, "total": "1251", "quantity": "10", "rate": "125.05",
                   "isclosed": "F", "mainline": "F"}


def test_unknown_column_and_unknown_table_answer_as_netsuite_does(netsuite: Any) -> None:
    answer = run_query(netsuite, "SELECT id, nosuchfield FROM transaction")

    assert answer.status_code == 400
    assert answer.json() == {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html", "title": "Bad Request", "status": 400,
        "o:errorDetails": [{"detail": "Search error occurred: Field 'nosuchfield' not found.",
                            "o:errorCode": "INVALID_PARAMETER", "o:errorQueryParam": "q"}],
    }
    assert query_error(netsuite, "SELECT id FROM nosuchtable")["detail"] == "Invalid search query."
    assert query_error(netsuite, "SELEKT id FROM transaction")["detail"] == "Invalid search query."


def test_unnamed_expressions_are_named_expr1_expr2(netsuite: Any) -> None:
    [row] = rows(netsuite, "SELECT COUNT(*), MAX(id) AS newest, MIN(id) FROM currency")

    assert row == {"links": [], "expr1": "4", "newest": "4", "expr2": "1"}


def test_timestamps_filter_and_render_in_the_account_time_zone_across_the_day_boundary(netsuite: Any) -> None:
    dataset = netsuite.app.dataset
    vendor = a_vendor(netsuite)
    # 2027-01-05 07:30 UTC is 23:30 on 4 January in Los Angeles; 08:30 UTC is 00:30 on the 5th.
    netsuite.app.clock.set(datetime(2027, 1, 5, 7, 30, tzinfo=timezone.utc).timestamp())
    late_on_the_4th = dataset.create_purchase_order(vendor_id=vendor, lines=[{"account": 8, "amount": 1}])
    netsuite.app.clock.advance(3600)
    early_on_the_5th = dataset.create_purchase_order(vendor_id=vendor, lines=[{"account": 8, "amount": 1}])

    found = rows(netsuite, "SELECT id, lastmodifieddate, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS local "
                           "FROM transaction WHERE lastmodifieddate >= TO_TIMESTAMP(?, 'YYYY-MM-DD HH24:MI:SS') "
                           "ORDER BY id", params=["2027-01-05 00:00:00"])
    before = rows(netsuite, "SELECT id FROM transaction WHERE lastmodifieddate < TO_TIMESTAMP('2027-01-05 00:00:00', "
                            "'YYYY-MM-DD HH24:MI:SS') AND id = ?", params=[late_on_the_4th])

    assert [row["id"] for row in found] == [early_on_the_5th]
    assert found[0]["lastmodifieddate"] == "1/5/2027 12:30 am"
    assert found[0]["local"].startswith("2027-01-05 00:30:")
    assert [row["id"] for row in before] == [late_on_the_4th]


def test_sysdate_arithmetic_finds_what_changed_in_the_last_day(netsuite: Any) -> None:
    dataset = netsuite.app.dataset
    po = dataset.create_purchase_order(vendor_id=a_vendor(netsuite), lines=[{"account": 8, "amount": 1}])
    query = "SELECT id FROM transaction WHERE lastmodifieddate > SYSDATE - 1"

    assert rows(netsuite, query) == [{"links": [], "id": po}]
    netsuite.app.clock.advance(2 * 86400)
    assert rows(netsuite, query) == []


def test_trunc_of_sysdate_is_midnight_in_the_account_time_zone(netsuite: Any) -> None:
    netsuite.app.clock.set(datetime(2027, 1, 5, 7, 30, tzinfo=timezone.utc).timestamp())  # 23:30 on the 4th in LA
    po = netsuite.app.dataset.create_purchase_order(vendor_id=a_vendor(netsuite), lines=[{"account": 8, "amount": 1}])
    query = "SELECT id, TRUNC(SYSDATE) AS today FROM transaction WHERE lastmodifieddate >= TRUNC(SYSDATE)"

    assert rows(netsuite, query) == [{"links": [], "id": po, "today": "1/4/2027 12:00 am"}]
    netsuite.app.clock.advance(3600)  # 00:30 on the 5th in Los Angeles: a new day there
    assert rows(netsuite, query) == []


def test_dates_render_in_the_users_date_format(netsuite: Any) -> None:
    po = netsuite.app.dataset.create_purchase_order(vendor_id=a_vendor(netsuite), trandate="2022-04-10",
                                                    lines=[{"account": 8, "amount": 1}])

    [row] = rows(netsuite, "SELECT trandate, TO_CHAR(trandate, 'MM/DD/YYYY') AS us FROM transaction WHERE id = ?",
                 params=[po])

    assert row == {"links": [], "trandate": "4/10/2022", "us": "04/10/2022"}


def test_builtin_df_shows_the_display_name_of_the_referenced_record(netsuite: Any) -> None:
    dataset = netsuite.app.dataset
    vendor = dataset.create_vendor(companyname="Müller Bürobedarf GmbH", currency=4)
    po = dataset.create_purchase_order(vendor_id=vendor, department=2, lines=[{"account": 8, "amount": 10},
                                                                               {"account": 14, "amount": 1}])

    [row] = rows(netsuite, "SELECT BUILTIN.DF(t.entity) AS vendor, BUILTIN.DF(t.currency) AS currencyname, "
                           "c.symbol, BUILTIN.DF(tl.expenseaccount) AS account, BUILTIN.DF(tl.department) AS dept, "
                           "BUILTIN.DF(t.status) AS status, BUILTIN.DF(t.tranid) AS same "
                           "FROM transaction t JOIN transactionline tl ON tl.transaction = t.id "
                           "JOIN currency c ON c.id = t.currency WHERE t.id = ? AND tl.id = 1", params=[po])

    assert row["vendor"] == "Müller Bürobedarf GmbH"
    assert row["currencyname"] == "Euro" and row["symbol"] == "EUR"
    assert row["account"] == "6100 Office Supplies"
    assert row["dept"] == "Sales : Wholesale"
    assert row["status"] == "Purchase Order : Pending Receipt"
    assert row["same"].startswith("PO")
    [unnumbered] = rows(netsuite, "SELECT BUILTIN.DF(expenseaccount) AS account FROM transactionline "
                                  "WHERE transaction = ? AND id = 2", params=[po])
    assert unnumbered["account"] == "Miscellaneous Expense"  # an account without a number


def test_an_in_list_of_more_than_1000_items_is_refused(netsuite: Any) -> None:
    thousand = ", ".join(str(n) for n in range(1, 1001))

    assert run_query(netsuite, f"SELECT id FROM transaction WHERE id IN ({thousand})").status_code == 200
    assert query_error(netsuite, f"SELECT id FROM transaction WHERE id IN ({thousand}, 1001)")["o:errorCode"] == \
        "INVALID_PARAMETER"


@pytest.mark.parametrize("query", [
    "SELECT id FROM transaction WHERE trandate > DATE '2025-01-01'",
    "SELECT id FROM transaction WHERE lastmodifieddate > TIMESTAMP '2025-01-01 00:00:00'",
    "WITH recent AS (SELECT id FROM transaction) SELECT id FROM recent",
])
def test_date_literals_and_with_are_refused(netsuite: Any, query: str) -> None:
    detail = query_error(netsuite, query)

    assert detail["o:errorCode"] == "INVALID_PARAMETER" and detail["o:errorQueryParam"] == "q"


def test_parameters_bind_to_question_marks_and_their_count_must_match(netsuite: Any) -> None:
    dataset = netsuite.app.dataset
    vendor = a_vendor(netsuite)
    po = dataset.create_purchase_order(vendor_id=vendor, tranid="PO-'quoted'", lines=[{"account": 8, "amount": 1}])

    found = rows(netsuite, "SELECT id FROM transaction WHERE tranid = ? AND entity = ?", params=["PO-'quoted'", vendor])

    assert found == [{"links": [], "id": po}]
    assert query_error(netsuite, "SELECT id FROM transaction WHERE tranid = ?", params=[])["o:errorQueryParam"] == "q"
    assert query_error(netsuite, "SELECT id FROM transaction WHERE id = ?", params=[1, 2])["o:errorCode"] == \
        "INVALID_PARAMETER"


def test_parameters_bind_in_the_order_they_are_written_across_subqueries_and_joins(netsuite: Any) -> None:
    po = netsuite.app.dataset.create_purchase_order(vendor_id=a_vendor(netsuite), lines=[
        {"account": 8, "amount": 1}, {"account": 9, "amount": 2}])

    found = rows(netsuite, "SELECT ? AS tag, tl.expenseaccount FROM (SELECT id FROM transaction WHERE id = ?) t "
                           "JOIN transactionline tl ON tl.transaction = t.id AND tl.id = ? WHERE tl.mainline = ?",
                 params=["mine", po, 2, "F"])

    assert found == [{"links": [], "tag": "mine", "expenseaccount": "9"}]


def test_transaction_joined_to_its_lines_shows_header_segments_on_the_main_line(netsuite: Any) -> None:
    dataset = netsuite.app.dataset
    po = dataset.create_purchase_order(vendor_id=a_vendor(netsuite), department=3, location=1, lines=[
        {"item": 1, "quantity": 2, "rate": 6.49, "department": 4},
        {"account": 9, "amount": 120},
    ])

    found = rows(netsuite, "SELECT t.tranid, tl.id, tl.mainline, tl.item, tl.expenseaccount, tl.department, "
                           "tl.location, tl.foreignamount FROM transaction t "
                           "INNER JOIN transactionline tl ON tl.transaction = t.id WHERE t.id = ? "
                           "ORDER BY tl.id", params=[po])

    assert [(r["id"], r["mainline"], r.get("item"), r["expenseaccount"], r["department"]) for r in found] == [
        ("0", "T", None, "2", "3"), ("1", "F", "1", "8", "4"), ("2", "F", None, "9", "3")]
    assert found[0]["foreignamount"] == "-132.98" and found[2]["foreignamount"] == "120"
    assert {r["location"] for r in found} == {"1"}


def test_left_join_without_a_match_leaves_the_columns_out(netsuite: Any) -> None:
    po = netsuite.app.dataset.create_purchase_order(vendor_id=a_vendor(netsuite), lines=[{"account": 8, "amount": 3}])

    found = rows(netsuite, "SELECT tl.id, i.itemid FROM transactionline tl LEFT JOIN item i ON i.id = tl.item "
                           "WHERE tl.transaction = ? AND tl.mainline = 'F'", params=[po])

    assert found == [{"links": [], "id": "1"}]


def test_aggregates_group_by_distinct_and_nvl_concatenation(netsuite: Any) -> None:
    dataset = netsuite.app.dataset
    vendor = a_vendor(netsuite)
    for amount in (10, 20.5):
        dataset.create_purchase_order(vendor_id=vendor, memo="agg", lines=[{"account": 8, "amount": amount}])
    dataset.create_purchase_order(vendor_id=vendor, lines=[{"account": 8, "amount": 1}])

    [total] = rows(netsuite, "SELECT entity, COUNT(*) AS orders, SUM(foreigntotal) AS amount FROM transaction "
                             "WHERE entity = ? GROUP BY entity", params=[vendor])
    memos = rows(netsuite, "SELECT DISTINCT NVL(memo, 'none') || '!' AS memo FROM transaction WHERE entity = ? "
                           "ORDER BY memo", params=[vendor])

    assert total == {"links": [], "entity": vendor, "orders": "3", "amount": "31.5"}
    assert [row["memo"] for row in memos] == ["agg!", "none!"]


def test_select_star_lists_the_tables_columns(netsuite: Any) -> None:
    [row] = rows(netsuite, "SELECT * FROM currency WHERE symbol = 'EUR'")

    assert row == {"links": [], "id": "4", "symbol": "EUR", "name": "Euro"}


def test_the_connectors_keyed_paging_query_pages_by_timestamp_and_key(netsuite: Any) -> None:
    query = ("SELECT t.id, TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS cursor_ts FROM transaction t "
             "WHERE (t.type = 'PurchOrd') AND (t.lastmodifieddate > TO_TIMESTAMP(?, 'YYYY-MM-DD HH24:MI:SS') OR "
             "(t.lastmodifieddate = TO_TIMESTAMP(?, 'YYYY-MM-DD HH24:MI:SS') AND t.id > ?)) "
             "ORDER BY t.lastmodifieddate, t.id")
    all_orders = {row["id"] for row in rows(netsuite, "SELECT id FROM transaction WHERE type = 'PurchOrd'")}

    seen: list[str] = []
    position = ("1970-01-01 00:00:00", 0)
    for _ in range(len(all_orders)):
        page = rows(netsuite, query, params=[position[0], position[0], position[1]], limit=37)
        if not page:
            break
        seen.extend(row["id"] for row in page)
        position = (page[-1]["cursor_ts"], int(page[-1]["id"]))

    assert len(seen) == len(set(seen)) and set(seen) == all_orders
