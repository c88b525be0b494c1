"""The record list's q (record collection filtering) and the records the REST read mode refers to, over real
HTTP against the NetSuite sandbox; and a role refused SuiteQL while REST records still answer."""

from datetime import UTC, datetime
from typing import Any

import requests

REST = "/services/rest"
RECORD_PATH = f"{REST}/record/v1"


def get(netsuite: Any, path: str, **params: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {netsuite.app.issue_access_token()}"}
    return requests.get(f"{netsuite.url}{RECORD_PATH}/{path}", params=params, headers=headers, timeout=10)


def listed(netsuite: Any, record_type: str, q: str) -> list[str]:
    answer = get(netsuite, record_type, q=q)
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


def suiteql(netsuite: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {netsuite.app.issue_access_token()}", "Prefer": "transient"}
    return requests.post(f"{netsuite.url}{REST}/query/v1/suiteql", json={"q": "SELECT id FROM subsidiary"},
                         headers=headers, timeout=10)


def test_a_lastmodifieddate_window_is_whole_days_of_the_accounts_time_zone(netsuite: Any) -> None:
    # 06:30 UTC on 10 March is still 9 March in Los Angeles (UTC-7 after the change to daylight saving time).
    netsuite.app.clock.set(datetime(2026, 3, 10, 6, 30, tzinfo=UTC).timestamp())
    late = netsuite.app.dataset.create_vendor(companyname="Late Evening Supplies")
    netsuite.app.clock.set(datetime(2026, 3, 10, 7, 30, tzinfo=UTC).timestamp())
    early = netsuite.app.dataset.create_vendor(companyname="Early Morning Supplies")

    on_the_ninth = 'lastModifiedDate ON_OR_AFTER "3/9/2026" AND lastModifiedDate BEFORE "3/10/2026"'
    assert listed(netsuite, "vendor", on_the_ninth) == [late]
    assert listed(netsuite, "vendor", 'lastModifiedDate ON "3/10/2026"') == [early]
    assert listed(netsuite, "vendor", 'lastModifiedDate AFTER "3/9/2026"') == [early]
    assert listed(netsuite, "vendor", 'lastModifiedDate ON_OR_AFTER "3/9/2026"') == [late, early]
    assert late not in listed(netsuite, "vendor", 'lastModifiedDate ON_OR_BEFORE "3/8/2026"')


def test_ids_and_references_filter_the_list(netsuite: Any) -> None:
    assert listed(netsuite, "vendor", "id GREATER_OR_EQUAL 102 AND id LESS 105") == ["102", "103", "104"]
    vendor = netsuite.app.dataset.create_vendor(companyname="Two Units Ltd", subsidiary=2, subsidiaries=[2, 3])
    links = listed(netsuite, "vendorSubsidiaryRelationship", f"entity ANY_OF [{vendor}]")
    subsidiaries = [get(netsuite, f"vendorSubsidiaryRelationship/{link}").json()["subsidiary"]["id"] for link in links]
    assert sorted(subsidiaries) == ["2", "3"]


def test_a_q_the_service_does_not_understand_is_an_invalid_parameter_on_q(netsuite: Any) -> None:
    for q in ("lastModifiedDate > 2026-03-09", 'lastModifiedDate ON_OR_AFTER "2026-03-09"',
              'lastModifiedDate ON_OR_AFTER "3/9/2026 11:00 pm"', "colour IS red", 'tranId ON "3/9/2026"'):
        answer = get(netsuite, "purchaseOrder", q=q)
        assert answer.status_code == 400, q
        [detail] = answer.json()["o:errorDetails"]
        assert (detail["o:errorCode"], detail["o:errorQueryParam"]) == ("INVALID_PARAMETER", "q")


def test_the_records_a_source_refers_to_are_served_typed(netsuite: Any) -> None:
    assert get(netsuite, "currency/4").json()["symbol"] == "EUR"
    assert get(netsuite, "term/2").json()["daysUntilNetDue"] == 30
    item = get(netsuite, "noninventoryitem/1").json()
    assert item["itemId"] == "OFF-PAPER-A4" and item["expenseAccount"]["id"] == "8"
    assert get(netsuite, "serviceitem/1").status_code == 404  # item 1 is not a service item
    department = get(netsuite, "department/1").json()
    assert department["fullName"] == "Sales" and department["isInactive"] is False
    assert department["lastModifiedDate"].endswith("Z")


def test_expense_lines_show_the_quantity_suiteql_shows(netsuite: Any) -> None:
    dataset = netsuite.app.dataset
    vendor = dataset.create_vendor(companyname="Counted Expenses Inc")
    po = dataset.create_purchase_order(vendor_id=vendor, lines=[{"account": 8, "quantity": 3, "rate": 10.5}])
    [line] = get(netsuite, f"purchaseOrder/{po}", expandSubResources="true").json()["expense"]["items"]
    assert (line["quantity"], line["rate"], line["amount"]) == (3.0, 10.5, 31.5)


def test_a_role_may_be_refused_suiteql_while_rest_records_answer(netsuite: Any) -> None:
    netsuite.app.configure(suiteql_allowed=False)
    refused = suiteql(netsuite)
    assert refused.status_code == 403
    [detail] = refused.json()["o:errorDetails"]
    assert detail["o:errorCode"] == "INSUFFICIENT_PERMISSION" and "SuiteAnalytics Workbook" in detail["detail"]
    assert get(netsuite, "subsidiary", limit=1).status_code == 200

    netsuite.app.reset()
    assert suiteql(netsuite).status_code == 200


def test_the_suiteql_refusal_is_set_over_the_control_api(netsuite: Any) -> None:
    assert requests.post(f"{netsuite.url}/_sandbox/config", json={"suiteql_allowed": False}, timeout=10).ok
    assert suiteql(netsuite).status_code == 403
    assert requests.post(f"{netsuite.url}/_sandbox/config", json={"suiteql_allowed": "no"}, timeout=10).status_code == 400
    assert requests.post(f"{netsuite.url}/_sandbox/config", json={"suiteql_allowed": True}, timeout=10).ok
    assert suiteql(netsuite).status_code == 200
