"""Faults on demand: a failing, slow, throttling NetSuite and revoked tokens, set from Python or over the
sandbox's HTTP control API, each for the next N requests or until cleared."""

import re
import time
from typing import Any

import pytest
import requests

LIMITS_PATH = "/services/rest/system/v1/governanceLimits"


@pytest.fixture
def token(netsuite: Any) -> str:
    return netsuite.app.issue_access_token()


def call(netsuite: Any, token: str, **kwargs: Any) -> requests.Response:
    return requests.get(netsuite.url + LIMITS_PATH, headers={"Authorization": f"Bearer {token}"},
                        **({"timeout": 10} | kwargs))


def test_server_errors_answer_netsuite_500_body_for_the_next_requests_only(netsuite: Any, token: str) -> None:
    netsuite.app.faults.add_server_errors(count=2)

    failures = [call(netsuite, token) for _ in range(2)]

    for failure in failures:
        body = failure.json()
        assert (failure.status_code, body["title"], body["status"]) == (500, "Internal Server Error", 500)
        [detail] = body["o:errorDetails"]
        assert detail["o:errorCode"] == "UNEXPECTED_ERROR"
        assert re.fullmatch(r"An unexpected error occurred\. Error ID: [a-z0-9]{20}", detail["detail"])
    assert failures[0].json() != failures[1].json()  # every failure has its own error id
    assert call(netsuite, token).status_code == 200


def test_latency_holds_the_request_then_answers(netsuite: Any, token: str) -> None:
    netsuite.app.faults.add_latency(seconds=0.4, count=1)

    started = time.monotonic()
    slow = call(netsuite, token)
    slow_seconds = time.monotonic() - started
    started = time.monotonic()
    fast = call(netsuite, token)

    assert slow.status_code == fast.status_code == 200
    assert slow_seconds >= 0.4
    assert time.monotonic() - started < slow_seconds  # the fault held one request only


def test_timeout_outlasts_the_client_and_clearing_lets_the_server_go(netsuite: Any, token: str) -> None:
    netsuite.app.faults.add_timeouts(count=1)

    with pytest.raises(requests.ReadTimeout):
        call(netsuite, token, timeout=(5, 0.5))
    netsuite.app.faults.clear()

    assert call(netsuite, token).status_code == 200
    assert netsuite.app.governor.in_flight == 0


def test_rate_limit_storm_refuses_the_next_requests_then_serves_again(netsuite: Any, token: str) -> None:
    netsuite.app.faults.add_rate_limit_storm(count=3)

    statuses = [call(netsuite, token).status_code for _ in range(4)]

    assert statuses == [429, 429, 429, 200]
    assert [entry.status for entry in netsuite.app.requests_log] == statuses


def test_revoked_token_is_an_invalid_login_and_a_new_token_works(netsuite: Any, token: str) -> None:
    assert call(netsuite, token).status_code == 200

    netsuite.app.revoke_tokens()

    revoked = call(netsuite, token)
    assert revoked.status_code == 401
    assert revoked.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
    assert call(netsuite, netsuite.app.issue_access_token()).status_code == 200


def control(netsuite: Any, method: str, path: str, payload: dict[str, Any] | None = None) -> requests.Response:
    return requests.request(method, f"{netsuite.url}/_sandbox/{path}", json=payload, timeout=10)


def test_faults_are_set_and_cleared_over_the_http_control_api(netsuite: Any, token: str) -> None:
    assert control(netsuite, "POST", "faults", {"kind": "server_error"}).status_code == 200
    assert [call(netsuite, token).status_code for _ in range(2)] == [500, 500]  # until cleared

    assert control(netsuite, "DELETE", "faults").status_code == 200
    assert call(netsuite, token).status_code == 200

    control(netsuite, "POST", "faults", {"kind": "rate_limit_storm", "count": 1})
    assert [call(netsuite, token).status_code for _ in range(2)] == [429, 200]

    control(netsuite, "POST", "faults", {"kind": "concurrency_status", "status": 400})
    control(netsuite, "POST", "faults", {"kind": "rate_limit_storm", "count": 1})
    assert call(netsuite, token).status_code == 400

    control(netsuite, "POST", "faults", {"kind": "revoke_tokens"})
    assert call(netsuite, token).status_code == 401


def test_control_api_refuses_an_unknown_fault(netsuite: Any) -> None:
    answer = control(netsuite, "POST", "faults", {"kind": "meteor"})

    assert answer.status_code == 400 and "meteor" in answer.json()["error"]


def test_clock_moved_over_http_expires_tokens(netsuite: Any, token: str) -> None:
    moved = control(netsuite, "POST", "clock", {"advance": 3601})

    assert moved.json()["now"] >= time.time() + 3600
    assert call(netsuite, token).status_code == 401


def test_reset_over_http_clears_faults_and_forgets_tokens(netsuite: Any, token: str) -> None:
    netsuite.app.faults.add_server_errors()
    netsuite.app.clock.advance(600)

    assert control(netsuite, "POST", "reset").status_code == 200

    assert call(netsuite, token).status_code == 401
    assert call(netsuite, netsuite.app.issue_access_token()).status_code == 200
    assert abs(netsuite.app.clock.now() - time.time()) < 60
