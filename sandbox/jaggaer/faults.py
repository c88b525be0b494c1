"""Faults on demand, so the connector's retry and recovery paths can be tested: latency, 500, 503
maintenance, 429, a timeout or a hang-up after the write was applied, a batch refused inside HTTP 200, and an
answer that breaks the contract after the request was carried out (sandbox/broken.py).

A fault hits every matching request, the next `count` of them, or each with a `probability` drawn from the
plan's own generator: seeded (FaultPlan.seed), so that a failing soak can be replayed with its seed."""

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from sandbox.broken import MODES
from sandbox.clock import Clock

# The longest any fault holds a request, so a forgotten fault cannot hang a test run.
MAX_PAUSE_SECONDS = 30.0
# The longest a fault with `for_seconds` lasts (a maintenance window).
MAX_FAULT_SECONDS = 3600.0

LATENCY = "latency"  # wait `seconds`, then answer normally
SERVER_ERROR = "server_error"  # 500
MAINTENANCE = "maintenance"  # 503 with Retry-After
RATE_LIMIT = "rate_limit"  # 429 with Retry-After, whatever the client's rate
TIMEOUT_AFTER_WRITE = "timeout_after_write"  # apply the write, then hold the answer `seconds`
BATCH_FAILURE = "batch_failure"  # HTTP 200 with a non-zero returnCode, nothing applied
BROKEN_ANSWER = "broken_answer"  # carry the request out, then answer as `mode` says (sandbox/broken.py)
DROP_AFTER_WRITE = "drop_after_write"  # apply the write, then close the connection without an answer
KINDS = (LATENCY, SERVER_ERROR, MAINTENANCE, RATE_LIMIT, TIMEOUT_AFTER_WRITE, BATCH_FAILURE, BROKEN_ANSWER,
         DROP_AFTER_WRITE)
# Only writes can be refused as a batch, or time out or be hung up on after being applied.
_WRITE_ONLY = (TIMEOUT_AFTER_WRITE, BATCH_FAILURE, DROP_AFTER_WRITE)


@dataclass
class Fault:
    kind: str
    count: int | None = None  # the next N matching requests; None: until cleared
    seconds: float = 0.0
    retry_after: int = 1
    return_code: int = 3
    message: str = "The batch could not be processed; nothing was applied"
    path: str = "/j1p/"  # requests whose path starts with this; "/auth/" aims at the token endpoint
    method: str | None = None  # None: any method (only writes for the kinds in _WRITE_ONLY)
    mode: str = ""  # broken_answer: one of sandbox.broken.MODES
    status: str | None = "Failed"  # broken_answer mode "status": the status every result gets (None: none)
    probability: float | None = None  # each matching request meets it with this probability; None: every one
    for_seconds: float | None = None  # it ends this long after it was added (sandbox clock); None: by count
    expires_at: float | None = field(default=None, init=False)  # set by the plan from for_seconds

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind '{self.kind}'; one of {', '.join(KINDS)}")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be at least 1, or null for 'until cleared'")
        if not 0 <= self.seconds <= MAX_PAUSE_SECONDS:
            raise ValueError(f"seconds must be between 0 and {MAX_PAUSE_SECONDS:g}")
        if self.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if self.probability is not None and not 0 < self.probability <= 1:
            raise ValueError("probability must be above 0 and at most 1")
        if self.for_seconds is not None and not 0 < self.for_seconds <= MAX_FAULT_SECONDS:
            raise ValueError(f"for_seconds must be above 0 and at most {MAX_FAULT_SECONDS:g}")
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
    """The active faults; each request takes the faults that match it, using up counted ones and dropping
    those whose time is over."""

    def __init__(self, *, clock: Clock) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._clock = clock
        self._random = random.Random(0)

    def seed(self, seed: int) -> None:
        """Restarts the generator that decides which requests meet a fault with a probability."""
        with self._lock:
            self._random = random.Random(seed)

    def add(self, fault: Fault) -> None:
        if fault.for_seconds is not None:
            fault.expires_at = self._clock.now() + fault.for_seconds
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
        now = self._clock.now()
        with self._lock:
            self._faults = [fault for fault in self._faults if fault.expires_at is None or fault.expires_at > now]
            for fault in list(self._faults):
                if not fault.matches(method=method, path=path):
                    continue
                if fault.probability is not None and self._random.random() >= fault.probability:
                    continue
                taken.append(fault)
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
        return taken
