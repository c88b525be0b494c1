"""Concurrency governance (spec section 6): NetSuite counts the requests an account has IN FLIGHT across
every endpoint and refuses the one that goes over the limit, at once and without a Retry-After."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.netsuite.errors import NetSuiteError

OVER_LIMIT_DETAIL = "Concurrent request limit exceeded. Request blocked."


class ConcurrencyGovernor:
    """The account's limit, optionally a share of it reserved for our integration, and the requests in flight.

    The sandbox serves a single integration, so the integration's own limit (when an administrator set one)
    is what it enforces; otherwise the whole account limit."""

    def __init__(self, *, account_limit: int, integration_limit: int | None = None) -> None:
        self.account_limit = account_limit
        self.integration_limit = integration_limit
        # Most accounts answer 429; some answer 400 with the same code (spec 6), which a client must also retry.
        self.over_limit_status = 429
        self._in_flight = 0
        self._peak = 0
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def peak_in_flight(self) -> int:
        """The most requests in flight at once since the last reset_peak(), counting a request refused for
        going over the limit: it is above the limit exactly when a client sent one request too many."""
        with self._lock:
            return self._peak

    def reset_peak(self) -> None:
        with self._lock:
            self._peak = self._in_flight

    @property
    def effective_limit(self) -> int:
        return self.integration_limit or self.account_limit

    def over_limit_error(self, *, status: int | None = None) -> NetSuiteError:
        """The refusal, with `status` (429 or 400) or else the one this account answers."""
        # "Bad Request" is NetSuite's own title even on the 429 (sic, spec 6).
        return NetSuiteError(status or self.over_limit_status, "CONCURRENCY_LIMIT_EXCEEDED", OVER_LIMIT_DETAIL,
                             title="Bad Request", top_level_code="USER_ERROR")

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Holds one of the limited slots for the duration of a request; raises the over-limit error when none
        is free."""
        with self._lock:
            self._peak = max(self._peak, self._in_flight + 1)
            if self._in_flight >= self.effective_limit:
                raise self.over_limit_error()
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def limits(self) -> dict[str, Any]:
        """The body of GET /system/v1/governanceLimits, in the shape Oracle documents for each limit type."""
        if self.integration_limit is None:
            return {"accountConcurrencyLimit": self.account_limit,
                    "accountUnallocatedConcurrencyLimit": self.account_limit,
                    "integrationLimitType": "accountLimit"}
        return {"accountConcurrencyLimit": self.account_limit,
                "accountUnallocatedConcurrencyLimit": self.account_limit - self.integration_limit,
                "integrationConcurrencyLimit": self.integration_limit,
                "integrationLimitType": "integrationSpecific"}
