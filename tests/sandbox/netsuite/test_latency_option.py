"""The latency and concurrency-limit options (issue 10): a request is held in its concurrency slot for the
configured latency, one more in flight than the limit gets NetSuite's over-limit answer at once, and the
sandbox counts the requests and the peak in flight. Requests are held and then let go by changing the latency,
so nothing here waits out a latency or measures time."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from sandbox.netsuite.app import NetSuiteSandbox
from tests.processes import wait_for
from tests.sandbox.netsuite.test_governance import OVER_LIMIT_DETAIL, governance_limits


def held_request_and_one_more(netsuite: Any, *, latency: float = 20) -> tuple[requests.Response, requests.Response, bool]:
    """With a limit of 1: one request is held by the latency, a second is sent while it is, then the latency is
    lifted. Returns (the held one's answer, the second's answer, whether the held one was still unanswered when
    the second came back)."""
    token = netsuite.app.issue_access_token()
    netsuite.app.configure(latency=latency, concurrency_limit=1)
    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(governance_limits, netsuite, token)
        wait_for(lambda: netsuite.app.governor.in_flight == 1, seconds=10, what="the first request to take its slot")
        second = governance_limits(netsuite, token)
        still_held = not held.done()
        netsuite.app.configure(latency=0)
        return held.result(timeout=10), second, still_held


@pytest.mark.parametrize("status", [429, 400])
def test_a_request_over_the_limit_while_another_is_held_by_the_latency_is_refused_at_once(netsuite: Any,
                                                                                          status: int) -> None:
    netsuite.app.faults.answer_concurrency_with(status=status)

    held, second, still_held = held_request_and_one_more(netsuite)

    assert still_held
    assert second.status_code == status and "Retry-After" not in second.headers
    assert second.json()["o:errorDetails"] == [OVER_LIMIT_DETAIL]
    assert held.status_code == 200
    assert netsuite.app.stats() == {"requests": 2, "in_flight": 0, "peak_in_flight": 2, "concurrency_limit": 1,
                                    "latency": 0.0}


def test_requests_one_after_another_never_raise_the_peak_above_one(netsuite: Any) -> None:
    netsuite.app.configure(latency=0.01)
    token = netsuite.app.issue_access_token()

    answers = [governance_limits(netsuite, token).status_code for _ in range(3)]

    assert answers == [200, 200, 200]
    assert (netsuite.app.stats()["requests"], netsuite.app.peak_in_flight) == (3, 1)


def test_reset_stats_counts_from_now_and_reset_restores_the_constructor_options() -> None:
    app = NetSuiteSandbox(latency=0.5, concurrency_limit=3)
    app.configure(latency=2, concurrency_limit=7)
    configured = app.stats()

    app.reset()

    assert (configured["latency"], configured["concurrency_limit"]) == (2.0, 7)
    assert app.stats() == {"requests": 0, "in_flight": 0, "peak_in_flight": 0, "concurrency_limit": 3, "latency": 0.5}


@pytest.mark.parametrize("options", [{"latency": -1}, {"latency": 31}, {"concurrency_limit": 0}])
def test_out_of_range_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        NetSuiteSandbox().configure(**options)


def test_options_and_stats_over_the_control_api(netsuite: Any) -> None:
    def control(method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{netsuite.url}/_sandbox/{path}", timeout=10, **kwargs)
    token = netsuite.app.issue_access_token()

    configured = control("POST", "config", json={"latency": 0.01, "concurrency_limit": 3}).json()
    governance_limits(netsuite, token)
    counted = control("GET", "stats").json()
    control("POST", "stats/reset")
    refused = control("POST", "config", json={"latency": "slow"})

    assert configured == {"requests": 0, "in_flight": 0, "peak_in_flight": 0, "concurrency_limit": 3, "latency": 0.01}
    assert (counted["requests"], counted["peak_in_flight"]) == (1, 1)
    assert control("GET", "stats").json()["requests"] == 0
    assert refused.status_code == 400
