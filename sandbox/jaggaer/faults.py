"""Faults on demand, so the connector's retry and recovery paths can be tested: latency, 500, 503
maintenance, 429, a timeout after the write was applied, a batch refused inside HTTP 200, and an answer
that breaks the contract after the request was carried out (sandbox/broken.py)."""

import threading
from dataclasses import asdict, dataclass
from typing import Any

from sandbox.broken import MODES

# The longest any fault holds a request, so a forgotten fault cannot hang a test run.
MAX_PAUSE_SECONDS = 30.0

LATENCY = "latency"  # wait `seconds`, then answer normally
SERVER_ERROR = "server_error"  # 500
MAINTENANCE = "maintenance"  # 503 with Retry-After
RATE_LIMIT = "rate_limit"  # 429 with Retry-After, whatever the client's rate
TIMEOUT_AFTER_WRITE = "timeout_after_write"  # apply the write, then hold the answer `seconds`
BATCH_FAILURE = "batch_failure"  # HTTP 200 with a non-zero returnCode, nothing applied
BROKEN_ANSWER = "broken_answer"  # carry the request out, then answer as `mode` says (sandbox/broken.py)
KINDS = (LATENCY, SERVER_ERROR, MAINTENANCE, RATE_LIMIT, TIMEOUT_AFTER_WRITE, BATCH_FAILURE, BROKEN_ANSWER)
# Only writes can be refused as a batch or time out after being applied.
_WRITE_ONLY = (TIMEOUT_AFTER_WRITE, BATCH_FAILURE)


@dataclass
class Fault:
    kind: str
    count: int | None = None  # the next N matching requests; None: until cleared
    seconds: float = 0.0
    retry_after: int = 1
    return_code: int = 3
    message: str = "The batch could not be processed; nothing was applied"
    path: str = "/j1p/"  # requests whose path starts with this; "/auth/" aims at the token endpoint
    method: str | None = None  # None: any method (writes only for timeout_after_write and batch_failure)
    mode: str = ""  # broken_answer: one of sandbox.broken.MODES
    status: str | None = "Failed"  # broken_answer mode "status": the status every result gets (None: none)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind '{self.kind}'; one of {', '.join(KINDS)}")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be at least 1, or null for 'until cleared'")
        if not 0 <= self.seconds <= MAX_PAUSE_SECONDS:
            raise ValueError(f"seconds must be between 0 and {MAX_PAUSE_SECONDS:g}")
        if self.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if self.kind == BROKEN_ANSWER and self.mode not in MODES:
            raise ValueError(f"a broken answer needs a mode, one of {', '.join(MODES)}")
        if self.kind == BATCH_FAILURE and self.return_code == 0:
            raise ValueError("a batch failure needs a non-zero return_code")
        if self.kind == TIMEOUT_AFTER_WRITE and self.seconds == 0:
            self.seconds = MAX_PAUSE_SECONDS
        if self.method is None and self.kind in _WRITE_ONLY:
            self.method = "POST"
        if self.method is not None:
            self.method = self.method.upper()

    def matches(self, *, method: str, path: str) -> bool:
        return path.startswith(self.path) and (self.method is None or self.method == method)


class FaultPlan:
    """The active faults; each request takes the faults that match it, using up counted ones."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(fault) for fault in self._faults]

    def take(self, *, method: str, path: str) -> list[Fault]:
        taken = []
        with self._lock:
            for fault in list(self._faults):
                if not fault.matches(method=method, path=path):
                    continue
                taken.append(fault)
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
        return taken
