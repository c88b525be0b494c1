"""A per-account cap on NetSuite requests in flight, shared by every thread and process on the host.

NetSuite's concurrency limit is per account and shared by every integration (spec section 6); a
client that discovers it through 429s wastes requests and starves the customer's other integrations.
Each slot is a lock file: flock() locks belong to an open file description, so they exclude threads
of one process as well as other processes, and the kernel releases them when a worker dies."""

import fcntl
import hashlib
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path


class SlotUnavailable(Exception):
    pass


class AccountGate:
    """`limit` may be a function, asked once when the first request needs a slot: finding the account's
    limit may itself cost a request, which a client that never calls NetSuite should not make."""

    def __init__(self, *, account: str, limit: int | Callable[[], int], lock_dir: Path,
                 wait_timeout: float = 900.0) -> None:
        self._limit = limit
        self.wait_timeout = wait_timeout
        self._digest = hashlib.sha256(account.encode()).hexdigest()[:16]
        self._lock_dir = lock_dir

    @cached_property
    def limit(self) -> int:
        limit = self._limit() if callable(self._limit) else self._limit
        if limit < 1:
            raise ValueError("A concurrency limit must be at least 1")
        return limit

    @cached_property
    def _paths(self) -> list[Path]:
        self._lock_dir.mkdir(parents=True, exist_ok=True)
        return [self._lock_dir / f"netsuite-{self._digest}-{slot}.lock" for slot in range(self.limit)]

    @contextmanager
    def slot(self) -> Iterator[int]:
        """Holds one of the account's slots for the duration of a request."""
        deadline = time.monotonic() + self.wait_timeout
        while True:
            for index in random.sample(range(self.limit), self.limit):
                fd = os.open(self._paths[index], os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                try:
                    yield index
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
                return
            if time.monotonic() > deadline:
                raise SlotUnavailable(f"No NetSuite request slot came free in {self.wait_timeout:.0f} s")
            time.sleep(0.02 + random.random() * 0.03)
