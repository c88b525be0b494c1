"""Faults with a probability, a maintenance window of a given length, and a write applied before the
connection is dropped without an answer."""

import pytest
import requests

from tests.sandbox.jaggaer.builders import supplier

SUPPLIERS = {"supplierList": {"supplier": [supplier("77")]}}


def test_a_dropped_answer_comes_after_the_write_was_applied(api, jaggaer):
    jaggaer.app.add_fault(kind="drop_after_write", count=1)

    with pytest.raises(requests.ConnectionError):
        api.post("/js/v1/suppliers", SUPPLIERS)

    assert api.get("/js/v1/suppliers/77").json()["supplier"]["supplierNumber"] == "77"
    assert jaggaer.app.faults_injected() == {"drop_after_write": 1}
    assert api.get("/js/v1/suppliers").status_code == 200  # reads are never dropped


def test_maintenance_for_a_time_ends_by_itself(api, jaggaer):
    jaggaer.app.add_fault(kind="maintenance", for_seconds=60, retry_after=5)

    during = api.get("/js/v1/suppliers")
    jaggaer.app.clock.advance(61)
    after = api.get("/js/v1/suppliers")

    assert (during.status_code, during.headers["Retry-After"], after.status_code) == (503, "5", 200)


def test_faults_with_a_probability_follow_the_seed(api, jaggaer):
    jaggaer.app.configure(rate_per_second=10_000)  # only the faults refuse requests here

    def statuses(seed: int) -> list[int]:
        jaggaer.app.clear_faults()
        jaggaer.app.seed_faults(seed)
        jaggaer.app.add_fault(kind="server_error", probability=0.3)
        return [api.get("/js/v1/suppliers").status_code for _ in range(30)]

    first = statuses(3)

    assert statuses(3) == first
    assert 0 < first.count(500) < 30
    assert jaggaer.app.faults_injected()["server_error"] == 2 * first.count(500)


def test_a_probability_outside_0_to_1_is_refused(jaggaer):
    with pytest.raises(ValueError, match="probability"):
        jaggaer.app.add_fault(kind="rate_limit", probability=1.5)
