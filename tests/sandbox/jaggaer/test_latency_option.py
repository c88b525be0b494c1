"""The latency and in-flight options (issue 10): a request is held in its in-flight slot for the configured
latency, one more in flight than the limit gets 429 with Retry-After at once, and the sandbox counts requests
and the peak in flight. Held requests are let go by changing the latency: nothing waits one out or measures
time."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from sandbox.jaggaer.app import JaggaerSandbox
from tests.processes import wait_for


def test_a_request_over_the_in_flight_limit_while_another_is_held_gets_429_with_retry_after(api, jaggaer) -> None:
    jaggaer.app.configure(latency=20, max_in_flight=1, rate_per_second=1000)
    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(api.get, "/js/v1/suppliers")
        wait_for(lambda: jaggaer.app.stats()["in_flight"] == 1, seconds=10, what="the first request to take its slot")
        second = api.get("/js/v1/suppliers")
        still_held = not held.done()
        jaggaer.app.configure(latency=0)
        first = held.result(timeout=10)

    assert still_held
    assert second.status_code == 429 and second.headers["Retry-After"] == "1"
    assert first.status_code == 200
    assert jaggaer.app.peak_in_flight == 2
    assert jaggaer.app.stats() == {"requests": 2, "in_flight": 0, "peak_in_flight": 2, "max_in_flight": 1,
                                   "rate_per_second": 1000, "latency": 0.0}
    assert jaggaer.app.counts()["rate_limited"] == 1


def test_requests_one_after_another_never_raise_the_peak_above_one(api, jaggaer) -> None:
    jaggaer.app.configure(latency=0.01)

    statuses = [api.get("/js/v1/suppliers").status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert (jaggaer.app.stats()["requests"], jaggaer.app.peak_in_flight) == (3, 1)


def test_token_requests_are_not_held_or_counted(jaggaer) -> None:
    jaggaer.app.configure(latency=20)
    form = {"grant_type": "client_credentials", **{k: v for k, v in jaggaer.app.demo_credentials().items()
                                                   if k != "method"}}

    answer = requests.post(f"{jaggaer.url}/auth/realms/J1p-integrations/protocol/openid-connect/token", data=form,
                           timeout=10)

    assert answer.status_code == 200
    assert jaggaer.app.stats()["requests"] == 0


def test_reset_stats_counts_from_now_and_reset_restores_the_constructor_options() -> None:
    app = JaggaerSandbox(latency=0.5, max_in_flight=3, rate_per_second=50)
    app.configure(latency=2, max_in_flight=7)
    configured = app.stats()

    app.reset()

    assert (configured["latency"], configured["max_in_flight"]) == (2.0, 7)
    assert app.stats() == {"requests": 0, "in_flight": 0, "peak_in_flight": 0, "max_in_flight": 3,
                           "rate_per_second": 50, "latency": 0.5}


@pytest.mark.parametrize("latency", [-0.1, 31])
def test_a_latency_out_of_range_is_refused(latency: float) -> None:
    with pytest.raises(ValueError):
        JaggaerSandbox(latency=latency)


def test_options_and_stats_over_the_control_api(api, jaggaer) -> None:
    def control(method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{jaggaer.url}/_sandbox/{path}", timeout=10, **kwargs)

    control("POST", "config", json={"latency": 0.01, "max_in_flight": 2})
    api.get("/js/v1/suppliers")
    counted = control("GET", "stats").json()
    control("POST", "stats/reset")
    refused = control("POST", "config", json={"latency": 60})

    assert counted == {"requests": 1, "in_flight": 0, "peak_in_flight": 1, "max_in_flight": 2, "rate_per_second": 10,
                       "latency": 0.01}
    assert control("GET", "stats").json()["requests"] == 0
    assert refused.status_code == 400
