"""A clock the tests can move, so that token lifetimes are tested without sleeping.

It follows `time.time()` plus an offset: tests in the same process may also use time-machine,
and tests in another process move it through the sandbox's control endpoint."""

import threading
import time
from datetime import datetime, timezone


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=timezone.utc)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def set(self, epoch_seconds: float) -> None:
        with self._lock:
            self._offset = epoch_seconds - time.time()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
