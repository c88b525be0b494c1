"""Faults on demand, so that tests and the demo can show how the connector copes with a slow, failing or
throttling NetSuite. Each fault lasts for the next N API requests (the token endpoint and the consent page
are not counted) or until cleared, and meets either every such request or each with a probability drawn from
a generator of its own: seeded (Faults.seed), so that a failing soak can be replayed with its seed."""

import random
import secrets
import string
import threading
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from sandbox.broken import MODES, broken
from sandbox.http import Response
from sandbox.netsuite.auth import NetSuiteAuth
from sandbox.netsuite.errors import NetSuiteError
from sandbox.netsuite.governance import ConcurrencyGovernor

# A held request never outlives this, so a forgotten fault cannot wedge a server thread or a test run.
MAX_HOLD_SECONDS = 30.0
_ERROR_ID_ALPHABET = string.ascii_lowercase + string.digits


def unexpected_error() -> NetSuiteError:
    """NetSuite's 500, which names an error id for its support desk and nothing else (spec 5)."""
    error_id = "".join(secrets.choice(_ERROR_ID_ALPHABET) for _ in range(20))
    return NetSuiteError(500, "UNEXPECTED_ERROR", f"An unexpected error occurred. Error ID: {error_id}")


class FaultKind(StrEnum):
    LATENCY = "latency"
    SERVER_ERROR = "server_error"
    RATE_LIMIT_STORM = "rate_limit_storm"
    BROKEN_ANSWER = "broken_answer"


@dataclass
class _Fault:
    kind: FaultKind
    remaining: int | None  # None: until cleared
    seconds: float = 0.0
    mode: str = ""  # broken answers: one of sandbox.broken.MODES
    path: str = ""  # broken answers: only requests whose path contains this
    probability: float | None = None  # each request meets it with this probability; None: every one
    status: int | None = None  # rate-limit storms: 429 or 400 (None: what the governor answers)

    def take(self, rng: random.Random) -> bool:
        if self.probability is not None and rng.random() >= self.probability:
            return False
        if self.remaining is None:
            return True
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


@dataclass(frozen=True)
class _Injected:
    injected: str  # the kind counted in Faults.injected
    error: NetSuiteError


class Faults:
    def __init__(self, *, governor: ConcurrencyGovernor, auth: NetSuiteAuth) -> None:
        self._governor = governor
        self._auth = auth
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._broken: list[_Fault] = []
        self._release = threading.Event()
        self._random = random.Random(0)
        # The answers the faults changed, by kind ("rate_limit_400" for the 400 variant), and the requests they
        # were drawn for: what a soak reports.
        self.injected: Counter[str] = Counter()
        self.requests_seen = 0

    def seed(self, seed: int) -> None:
        """Restarts the generator that decides which requests meet a fault with a probability."""
        with self._lock:
            self._random = random.Random(seed)

    def add_latency(self, *, seconds: float, count: int | None = None) -> None:
        """Requests are held this long (at most MAX_HOLD_SECONDS) and then answered normally; a held request
        keeps its concurrency slot, as a slow NetSuite request does."""
        self._add(_Fault(FaultKind.LATENCY, count, min(seconds, MAX_HOLD_SECONDS)))

    def add_timeouts(self, *, count: int | None = None, seconds: float = MAX_HOLD_SECONDS) -> None:
        """A timeout is latency longer than the client waits: the client gives up while NetSuite carries on."""
        self.add_latency(seconds=seconds, count=count)

    def add_server_errors(self, *, count: int | None = None, probability: float | None = None) -> None:
        self._add(_Fault(FaultKind.SERVER_ERROR, count, probability=probability))

    def add_rate_limit_storm(self, *, count: int | None = None, probability: float | None = None,
                             status: int | None = None) -> None:
        """The next `count` requests (or each with `probability`, until cleared) are refused as over the
        concurrency limit, whatever is in flight; `status` 400 gives the variant some accounts answer."""
        if count is None and probability is None:
            raise ValueError("a rate-limit storm needs a count or a probability")
        if status not in (None, 400, 429):
            raise ValueError("NetSuite answers an exceeded concurrency limit with 429 or 400")
        self._add(_Fault(FaultKind.RATE_LIMIT_STORM, count, probability=probability, status=status))

    def add_broken_answers(self, *, mode: str, count: int | None = None, path: str = "/query/v1/suiteql") -> None:
        """The next `count` requests whose path contains `path` are carried out and then answered as `mode`
        says (sandbox/broken.py): an HTML page or an empty body with HTTP 200, truncated JSON, `{}`..."""
        if mode not in MODES:
            raise ValueError(f"unknown broken-answer mode {mode!r}; one of {', '.join(MODES)}")
        if count is not None and count < 1:
            raise ValueError("a fault lasts for at least one request, or until cleared")
        with self._lock:
            self._broken.append(_Fault(FaultKind.BROKEN_ANSWER, count, mode=mode, path=path))

    def after_request(self, path: str, response: Response) -> Response:
        """The answer as a broken-answer fault due for this request makes it."""
        with self._lock:
            due = next((fault for fault in self._broken if fault.path in path and fault.take(self._random)), None)
            self._broken = [fault for fault in self._broken if fault.remaining != 0]
            if due:
                self.injected[FaultKind.BROKEN_ANSWER] += 1
        return broken(response, due.mode) if due else response

    def revoke_tokens(self) -> None:
        self._auth.revoke_access_tokens()

    def answer_concurrency_with(self, *, status: int) -> None:
        if status not in (400, 429):
            raise ValueError("NetSuite answers an exceeded concurrency limit with 429 or 400")
        self._governor.over_limit_status = status

    def clear(self) -> None:
        """Removes every fault and lets requests that are being held go at once."""
        with self._lock:
            self._faults = []
            self._broken = []
            self._release.set()
            self._release = threading.Event()
        self._governor.over_limit_status = 429

    def before_request(self) -> None:
        """Applies the faults due for this request: holds it, or raises the error NetSuite would answer."""
        with self._lock:
            self.requests_seen += 1
            due = [fault for fault in self._faults if fault.take(self._random)]
            self._faults = [fault for fault in self._faults if fault.remaining != 0]
            release = self._release
            hold = max((fault.seconds for fault in due if fault.kind is FaultKind.LATENCY), default=0.0)
            error = self._error_of(due)
            if hold:
                self.injected[FaultKind.LATENCY] += 1
            if error:
                self.injected[error.injected] += 1
        if hold:
            release.wait(hold)
        if error:
            raise error.error

    def _error_of(self, due: list[_Fault]) -> "_Injected | None":
        """The error answer of the faults due for a request, if any: a 500 before a refusal."""
        if any(fault.kind is FaultKind.SERVER_ERROR for fault in due):
            return _Injected(FaultKind.SERVER_ERROR, unexpected_error())
        storm = next((fault for fault in due if fault.kind is FaultKind.RATE_LIMIT_STORM), None)
        if storm is None:
            return None
        refusal = self._governor.over_limit_error(status=storm.status)
        return _Injected(f"rate_limit_{refusal.status}", refusal)

    def _add(self, fault: _Fault) -> None:
        if fault.remaining is not None and fault.remaining < 1:
            raise ValueError("a fault lasts for at least one request, or until cleared")
        if fault.probability is not None and not 0 < fault.probability <= 1:
            raise ValueError("a probability is above 0 and at most 1")
        with self._lock:
            self._faults.append(fault)
