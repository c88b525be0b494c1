"""Concurrency governance (spec 6): requests in flight over the account's limit are refused at once with
NetSuite's body and no Retry-After; governanceLimits reports the configured limits."""

from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any

import requests

LIMITS_PATH = "/services/rest/system/v1/governanceLimits"
TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
OVER_LIMIT_DETAIL = {"detail": "Concurrent request limit exceeded. Request blocked.",
                     "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED"}


def governance_limits(netsuite: Any, token: str) -> requests.Response:
    return requests.get(netsuite.url + LIMITS_PATH, headers={"Authorization": f"Bearer {token}"}, timeout=20)


def fire_in_parallel(netsuite: Any, *, requests_count: int, while_held: Any = None
                     ) -> tuple[list[requests.Response], list[requests.Response]]:
    """Fires the requests while every admitted one is held by a latency fault; returns (refused, served).

    The refused ones answer at once, so the first answers to come back are exactly the refusals; the held ones
    are let go only after that (and after `while_held` ran), so none can free a slot early."""
    netsuite.app.faults.add_latency(seconds=20)
    token = netsuite.app.issue_access_token()
    expected_refusals = requests_count - netsuite.app.governor.effective_limit
    with ThreadPoolExecutor(max_workers=requests_count) as pool:
        futures: list[Future[requests.Response]] = [pool.submit(governance_limits, netsuite, token)
                                                    for _ in range(requests_count)]
        answered_at_once = []
        for future in as_completed(futures, timeout=15):
            answered_at_once.append(future)
            if len(answered_at_once) == expected_refusals:
                break
        if while_held:
            while_held()
        netsuite.app.faults.clear()
        refused = [future.result() for future in answered_at_once]
        served = [future.result(timeout=15) for future in futures if future not in answered_at_once]
    return refused, served


def test_requests_over_the_limit_get_the_429_body_without_retry_after(netsuite: Any) -> None:
    refused, served = fire_in_parallel(netsuite, requests_count=8)

    assert [answer.status_code for answer in refused] == [429, 429, 429]
    for answer in refused:
        assert "Retry-After" not in answer.headers
        assert answer.json() == {
            "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
            "title": "Bad Request",
            "status": 429,
            "o:errorCode": "USER_ERROR",
            "o:errorDetails": [OVER_LIMIT_DETAIL],
        }
    assert [answer.status_code for answer in served] == [200] * 5
    assert netsuite.app.governor.in_flight == 0


def test_account_configured_for_the_400_variant_answers_400_with_the_same_code(netsuite: Any) -> None:
    netsuite.app.faults.answer_concurrency_with(status=400)

    refused, served = fire_in_parallel(netsuite, requests_count=6)

    assert [answer.status_code for answer in refused] == [400]
    assert refused[0].json()["o:errorDetails"] == [OVER_LIMIT_DETAIL]
    assert len(served) == 5


def test_token_endpoint_stays_open_while_the_limit_is_taken(netsuite: Any) -> None:
    demo = netsuite.app.demo_credentials()["oauth2_authorization_code"]
    token_answers = []

    def refresh_a_token() -> None:
        token_answers.append(requests.post(
            netsuite.url + TOKEN_PATH, auth=(demo["client_id"], demo["client_secret"]), timeout=10,
            data={"grant_type": "refresh_token", "refresh_token": demo["refresh_token"]}).status_code)

    refused, _ = fire_in_parallel(netsuite, requests_count=6, while_held=refresh_a_token)

    assert len(refused) == 1 and token_answers == [200]


def test_governance_limits_without_an_integration_share(netsuite: Any) -> None:
    answer = governance_limits(netsuite, netsuite.app.issue_access_token())

    assert answer.json() == {"accountConcurrencyLimit": 5, "accountUnallocatedConcurrencyLimit": 5,
                             "integrationLimitType": "accountLimit"}


def test_integration_share_is_reported_and_enforced(netsuite: Any) -> None:
    netsuite.app.governor.integration_limit = 2

    limits = governance_limits(netsuite, netsuite.app.issue_access_token()).json()
    refused, served = fire_in_parallel(netsuite, requests_count=4)

    assert limits == {"accountConcurrencyLimit": 5, "accountUnallocatedConcurrencyLimit": 3,
                      "integrationConcurrencyLimit": 2, "integrationLimitType": "integrationSpecific"}
    assert [answer.status_code for answer in refused] == [429, 429]
    assert len(served) == 2
