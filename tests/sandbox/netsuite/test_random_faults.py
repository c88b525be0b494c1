"""Faults that meet each request with a probability: drawn from a seeded generator, so that the same seed
meets the same requests in the same order, and counted by kind for a soak's report."""

from typing import Any

import requests

from tests.sandbox.netsuite.test_faults import call


def statuses_with_seed(netsuite: Any, seed: int, requests_made: int = 40) -> list[int]:
    netsuite.app.faults.clear()
    netsuite.app.faults.seed(seed)
    netsuite.app.faults.add_server_errors(probability=0.2)
    netsuite.app.faults.add_rate_limit_storm(probability=0.2, status=400)
    token = netsuite.app.issue_access_token()
    return [call(netsuite, token).status_code for _ in range(requests_made)]


def test_the_same_seed_meets_the_same_requests_and_another_seed_others(netsuite: Any) -> None:
    first = statuses_with_seed(netsuite, 7)

    assert statuses_with_seed(netsuite, 7) == first
    assert statuses_with_seed(netsuite, 8) != first
    assert {500, 400, 200} <= set(first)


def test_injected_faults_are_counted_by_kind_and_the_400_variant_is_netsuites_concurrency_refusal(
        netsuite: Any) -> None:
    statuses = statuses_with_seed(netsuite, 11)

    injected = netsuite.app.faults.injected
    assert (injected["server_error"], injected["rate_limit_400"]) == (statuses.count(500), statuses.count(400))
    token = netsuite.app.issue_access_token()
    refusal = next(answer for answer in (call(netsuite, token) for _ in range(60)) if answer.status_code == 400)
    assert refusal.json()["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"


def test_random_faults_are_set_over_the_control_api_and_cleared_with_the_others(netsuite: Any) -> None:
    added = requests.post(f"{netsuite.url}/_sandbox/faults", timeout=5,
                          json={"kind": "rate_limit_storm", "probability": 1, "status": 429})
    token = netsuite.app.issue_access_token()

    assert added.status_code == 200
    assert call(netsuite, token).status_code == 429
    netsuite.app.faults.clear()
    assert call(netsuite, token).status_code == 200
