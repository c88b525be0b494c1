"""The HTTP app around the data set: request checks NetSuite makes before a query runs, case-insensitive record
paths, the opaque 500 for anything unexpected, and the control API's mutations."""

from typing import Any

import pytest
import requests

SUITEQL_PATH = "/services/rest/query/v1/suiteql"


@pytest.fixture
def bearer(netsuite: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {netsuite.app.issue_access_token()}"}


def suiteql(netsuite: Any, headers: dict[str, str], **kwargs: Any) -> requests.Response:
    return requests.post(netsuite.url + SUITEQL_PATH, headers=headers, timeout=10, **kwargs)


def only_detail(response: requests.Response) -> dict[str, str]:
    [detail] = response.json()["o:errorDetails"]
    return detail


def test_suiteql_without_prefer_transient_is_a_user_error(netsuite: Any, bearer: dict[str, str]) -> None:
    answer = suiteql(netsuite, bearer, json={"q": "SELECT id FROM currency"})

    assert answer.status_code == 400
    assert only_detail(answer)["o:errorCode"] == "USER_ERROR"
    assert suiteql(netsuite, bearer | {"Prefer": "transient"}, json={"q": "SELECT id FROM currency"}).status_code == 200


@pytest.mark.parametrize("body", [b"{not json", b'{"query": "SELECT id FROM currency"}', b'{"q": "x", "params": 5}'])
def test_suiteql_with_malformed_body_is_invalid_content(netsuite: Any, bearer: dict[str, str], body: bytes) -> None:
    answer = suiteql(netsuite, bearer | {"Prefer": "transient", "Content-Type": "application/json"}, data=body)

    assert answer.status_code == 400
    assert only_detail(answer)["o:errorCode"] == "INVALID_CONTENT"


def test_suiteql_limit_that_is_not_a_number_is_an_invalid_parameter(netsuite: Any, bearer: dict[str, str]) -> None:
    answer = suiteql(netsuite, bearer | {"Prefer": "transient"}, params={"limit": "ten"},
                     json={"q": "SELECT id FROM currency"})

    assert answer.status_code == 400
    assert only_detail(answer)["o:errorCode"] == "INVALID_PARAMETER"
    assert only_detail(answer)["o:errorQueryParam"] == "limit"


def test_record_paths_are_case_insensitive(netsuite: Any, bearer: dict[str, str]) -> None:
    listed = requests.get(f"{netsuite.url}/services/rest/record/v1/purchaseOrder", params={"limit": 1},
                          headers=bearer, timeout=10)
    record_id = listed.json()["items"][0]["id"]

    answers = [requests.get(f"{netsuite.url}/services/rest/record/v1/{spelling}/{record_id}", headers=bearer,
                            timeout=10) for spelling in ("purchaseOrder", "purchaseorder", "PURCHASEORDER")]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0].json() == answers[1].json() == answers[2].json()


def test_unexpected_failure_is_netsuite_opaque_500(netsuite: Any, bearer: dict[str, str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_query(**_: Any) -> dict[str, Any]:
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(netsuite.app.dataset, "suiteql", broken_query)

    answer = suiteql(netsuite, bearer | {"Prefer": "transient"}, json={"q": "SELECT id FROM currency"})

    assert answer.status_code == 500
    assert only_detail(answer)["o:errorCode"] == "UNEXPECTED_ERROR"
    assert "internal detail" not in answer.text and "Traceback" not in answer.text


def test_mutation_over_the_control_api_changes_what_the_api_serves(netsuite: Any, bearer: dict[str, str]) -> None:
    listed = requests.get(f"{netsuite.url}/services/rest/record/v1/purchaseOrder", params={"limit": 1},
                          headers=bearer, timeout=10)
    record_id = listed.json()["items"][0]["id"]

    deleted = requests.post(f"{netsuite.url}/_sandbox/mutations/delete_record", timeout=10,
                            json={"record_type": "purchaseorder", "record_id": record_id})

    assert deleted.status_code == 200
    gone = requests.get(f"{netsuite.url}/services/rest/record/v1/purchaseOrder/{record_id}", headers=bearer, timeout=10)
    assert gone.status_code == 404
    assert only_detail(gone)["o:errorCode"] == "NONEXISTENT_ID"


def test_control_api_refuses_what_is_not_a_mutation(netsuite: Any) -> None:
    unknown = requests.post(f"{netsuite.url}/_sandbox/mutations/reset", json={}, timeout=10)
    wrong_arguments = requests.post(f"{netsuite.url}/_sandbox/mutations/delete_record", json={"colour": "red"},
                                    timeout=10)

    assert unknown.status_code == wrong_arguments.status_code == 400


def test_requests_log_counts_api_requests_but_not_control_calls(netsuite: Any, bearer: dict[str, str]) -> None:
    suiteql(netsuite, bearer | {"Prefer": "transient"}, json={"q": "SELECT id FROM currency"})
    requests.get(f"{netsuite.url}/_sandbox/clock", timeout=10)

    assert list(netsuite.app.requests_log) == [("POST", SUITEQL_PATH, 200, "oauth2_client_credentials")]
    assert requests.get(f"{netsuite.url}/_sandbox/requests", timeout=10).json() == [
        {"method": "POST", "path": SUITEQL_PATH, "status": 200, "auth": "oauth2_client_credentials"}]
