"""Faults on demand, so that tests and the demo can show how the connector copes with a slow, failing or
throttling NetSuite. Each fault lasts for the next N API requests (the token endpoint and the consent page
are not counted) or until cleared."""

import secrets
import string
import threading
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

    def take(self) -> bool:
        if self.remaining is None:
            return True
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


class Faults:
    def __init__(self, *, governor: ConcurrencyGovernor, auth: NetSuiteAuth) -> None:
        self._governor = governor
        self._auth = auth
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._broken: list[_Fault] = []
        self._release = threading.Event()

    def add_latency(self, *, seconds: float, count: int | None = None) -> None:
        """Requests are held this long (at most MAX_HOLD_SECONDS) and then answered normally; a held request
        keeps its concurrency slot, as a slow NetSuite request does."""
        self._add(_Fault(FaultKind.LATENCY, count, min(seconds, MAX_HOLD_SECONDS)))

    def add_timeouts(self, *, count: int | None = None, seconds: float = MAX_HOLD_SECONDS) -> None:
        """A timeout is latency longer than the client waits: the client gives up while NetSuite carries on."""
        self.add_latency(seconds=seconds, count=count)

    def add_server_errors(self, *, count: int | None = None) -> None:
        self._add(_Fault(FaultKind.SERVER_ERROR, count))

    def add_rate_limit_storm(self, *, count: int) -> None:
        """The next `count` requests are refused as over the concurrency limit, whatever is in flight."""
        self._add(_Fault(FaultKind.RATE_LIMIT_STORM, count))

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
            due = next((fault for fault in self._broken if fault.path in path and fault.take()), None)
            self._broken = [fault for fault in self._broken if fault.remaining != 0]
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
            due = [fault for fault in self._faults if fault.take()]
            self._faults = [fault for fault in self._faults if fault.remaining != 0]
            release = self._release
        hold = max((fault.seconds for fault in due if fault.kind is FaultKind.LATENCY), default=0.0)
        if hold:
            release.wait(hold)
        kinds = {fault.kind for fault in due}
        if FaultKind.SERVER_ERROR in kinds:
            raise unexpected_error()
        if FaultKind.RATE_LIMIT_STORM in kinds:
            raise self._governor.over_limit_error()

    def _add(self, fault: _Fault) -> None:
        if fault.remaining is not None and fault.remaining < 1:
            raise ValueError("a fault lasts for at least one request, or until cleared")
        with self._lock:
            self._faults.append(fault)
