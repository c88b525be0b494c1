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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SlotUnavailable(Exception):
    pass


class AccountGate:
    def __init__(self, *, account: str, limit: int, lock_dir: Path, wait_timeout: float = 900.0) -> None:
        if limit < 1:
            raise ValueError("A concurrency limit must be at least 1")
        self.limit = limit
        self.wait_timeout = wait_timeout
        digest = hashlib.sha256(account.encode()).hexdigest()[:16]
        lock_dir.mkdir(parents=True, exist_ok=True)
        self._paths = [lock_dir / f"netsuite-{digest}-{slot}.lock" for slot in range(limit)]

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
