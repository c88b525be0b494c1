"""Rate limits with Retry-After and faults on demand in the JAGGAER sandbox (spec section 2)."""

import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest
import requests
import time_machine

from sandbox.jaggaer.app import TOKEN_PATH
from tests.sandbox.jaggaer.builders import supplier


def test_more_than_ten_requests_in_a_second_get_429_with_retry_after(api, jaggaer):
    # Time stands still, so the eleven requests surely fall in one window of the sandbox clock.
    with time_machine.travel(time.time(), tick=False):
        statuses = [api.get("/js/v1/suppliers").status_code for _ in range(10)]
        refused = api.get("/js/v1/suppliers")
        jaggaer.app.clock.advance(1)
        after_a_second = api.get("/js/v1/suppliers")

    assert statuses == [200] * 10
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert after_a_second.status_code == 200
    assert jaggaer.app.counts()["rate_limited"] == 1


def test_the_rate_is_counted_per_client(api, jaggaer):
    jaggaer.app.register_client(client_id="other", client_secret="x")
    other = requests.Session()
    other.headers["Authorization"] = f"Bearer {jaggaer.app.issue_access_token('other')}"

    with time_machine.travel(time.time(), tick=False):
        for _ in range(10):
            api.get("/js/v1/suppliers")
        mine = api.get("/js/v1/suppliers")
        theirs = other.get(f"{jaggaer.url}/j1p/api/public/js/v1/suppliers", timeout=5)

    assert (mine.status_code, theirs.status_code) == (429, 200)


def test_more_than_four_requests_in_flight_get_429(api, jaggaer):
    # Held requests stay in flight until the fault is cleared; 5 s bounds the test if that never happens.
    jaggaer.app.add_fault(kind="latency", seconds=5)
    statuses = []
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(api.get, "/js/v1/suppliers") for _ in range(6)]
        for future in as_completed(futures, timeout=10):
            statuses.append(future.result().status_code)
            if statuses.count(429) == 2:
                jaggaer.app.clear_faults()
            assert statuses.count(200) == 0 or statuses.count(429) == 2

    assert sorted(statuses) == [200, 200, 200, 200, 429, 429]


def test_maintenance_answers_503_with_retry_after_then_recovers(api, jaggaer):
    jaggaer.app.add_fault(kind="maintenance", count=1, retry_after=120)

    during = api.get("/js/v1/suppliers")
    after = api.get("/js/v1/suppliers")

    assert during.status_code == 503 and during.headers["Retry-After"] == "120"
    assert after.status_code == 200


def test_server_errors_for_the_next_two_requests(api, jaggaer):
    jaggaer.app.add_fault(kind="server_error", count=2)

    statuses = [api.get("/js/v1/suppliers").status_code for _ in range(3)]

    assert statuses == [500, 500, 200]


def test_a_forced_429_carries_the_chosen_retry_after(api, jaggaer):
    jaggaer.app.add_fault(kind="rate_limit", count=1, retry_after=7)

    response = api.get("/js/v1/suppliers")

    assert response.status_code == 429 and response.headers["Retry-After"] == "7"


def test_a_write_that_times_out_was_applied_and_can_be_looked_up(api, jaggaer):
    jaggaer.app.add_fault(kind="timeout_after_write", count=1, seconds=5)

    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post("/js/v1/suppliers", {"supplierList": {"supplier": [supplier("77")]}}, timeout=0.3)
    looked_up = api.get("/js/v1/suppliers/77")
    jaggaer.app.clear_faults()

    assert looked_up.json()["returnCode"] == 0
    assert looked_up.json()["supplier"]["supplierNumber"] == "77"


def test_faults_can_target_the_token_endpoint(jaggaer):
    jaggaer.app.add_fault(kind="maintenance", count=1, path="/auth/")
    form = {"grant_type": "client_credentials", **{k: v for k, v in jaggaer.app.demo_credentials().items()
                                                   if k != "method"}}

    first = requests.post(f"{jaggaer.url}{TOKEN_PATH}", data=form, timeout=5)
    second = requests.post(f"{jaggaer.url}{TOKEN_PATH}", data=form, timeout=5)

    assert (first.status_code, second.status_code) == (503, 200)
