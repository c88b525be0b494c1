"""A per-account cap on NetSuite requests in flight, shared by every worker that may call the account.

NetSuite's concurrency limit is per account and shared by every integration (spec section 6); a
client that discovers it through 429s wastes requests and starves the customer's other integrations.
An account has `limit` numbered slots and a request holds one of them while it is in flight. Only where a
slot is locked varies (settings.SYNC_REQUEST_GATE): lock files exclude the workers of one host, PostgreSQL
advisory locks those of every host sharing the database. Either way the lock dies with its holder (the
kernel closes the file, the server ends the session): a crashed worker frees its slots at once, a vanished
host within seconds (SERVER_KEEPALIVES)."""

import fcntl
import hashlib
import logging
import os
import random
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

Release = Callable[[], None]

# A session whose host vanished (power cut, network partition) never says goodbye: with these TCP keepalives
# (seconds) the server notices after idle + interval * count, about 11 s, ends it and frees its slots.
SERVER_KEEPALIVES = {"tcp_keepalives_idle": 5, "tcp_keepalives_interval": 2, "tcp_keepalives_count": 3}


class SlotUnavailable(Exception):
    pass


class SlotLocks(ABC):
    """Where the slots of an account are locked: the one thing the gates differ in."""

    @abstractmethod
    def try_lock(self, *, account: str, index: int) -> Release | None:
        """Locks the account's slot `index` unless someone holds it, and returns what unlocks it."""


class LockFiles(SlotLocks):
    """A lock file per slot in `directory`: flock() locks belong to an open file description, so they exclude
    threads of one process as well as other processes, but only on this host."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def try_lock(self, *, account: str, index: int) -> Release | None:
        self.directory.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(account.encode()).hexdigest()[:16]
        fd = os.open(self.directory / f"netsuite-{digest}-{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None

        def release() -> None:
            # Unlocked explicitly: a process forked meanwhile shares the open file, so closing ours would not do.
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        return release


class AdvisoryLocks(SlotLocks):
    """PostgreSQL session-level advisory locks keyed (account, slot), seen by every host on the database.

    A lock is taken over the calling thread's own Django connection (Django keeps one per thread). A session's
    advisory locks are re-entrant: threads sharing one session would all take the same slot, which is also why
    pgbouncer's transaction pooling, handing a session to other clients between transactions, breaks them."""

    def __init__(self, *, using: str = DEFAULT_DB_ALIAS) -> None:
        if connections[using].vendor != "postgresql":
            raise ImproperlyConfigured(
                f"SYNC_REQUEST_GATE=database needs PostgreSQL (advisory locks); database {using!r} is "
                f"{connections[using].display_name}. Use SYNC_REQUEST_GATE=files on a single host.")
        self.using = using

    def try_lock(self, *, account: str, index: int) -> Release | None:
        key = (_account_key(account), index)
        held = _held_by_this_thread()
        if (self.using, *key) in held:  # the session would grant it again: re-entrancy is not a second slot
            return None
        database = connections[self.using]
        with database.cursor() as cursor:
            if database.connection not in _with_keepalives:
                cursor.execute("; ".join(f"SET {name} = {value}" for name, value in SERVER_KEEPALIVES.items()))
                if not database.in_atomic_block:  # a SET in a transaction is undone if the caller rolls back
                    _with_keepalives.add(database.connection)
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
            if not cursor.fetchone()[0]:
                return None
        held.add((self.using, *key))

        def release() -> None:
            held.discard((self.using, *key))
            try:
                with database.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
            except DatabaseError as exc:
                # Ending the session frees every lock it holds, so the slot is free whatever went wrong; the
                # request's own outcome, not this, is what the caller must hear about.
                logger.warning("NetSuite request slot unlock failed (%s); closing its database session", exc)
                database.close()
        return release


def _account_key(account: str) -> int:
    """The advisory lock's first key (a signed 32-bit integer): accounts whose hashes collide would merely
    share their slots, erring on the side of fewer requests."""
    digest = hashlib.sha256(f"ml-connector netsuite slots {account}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


_this_thread = threading.local()
_with_keepalives: "weakref.WeakSet[object]" = weakref.WeakSet()  # database sessions SERVER_KEEPALIVES were set on


def _held_by_this_thread() -> set[tuple[str, int, int]]:
    """(database alias, account key, slot) locked by this thread, that is by its Django connection."""
    return _this_thread.__dict__.setdefault("held", set())


class AccountGate:
    """`limit` may be a function, asked once when the first request needs a slot: finding the account's
    limit may itself cost a request, which a client that never calls NetSuite should not make. `lock_dir`
    is short for `locks=LockFiles(lock_dir)`."""

    def __init__(self, *, account: str, limit: int | Callable[[], int], lock_dir: Path | None = None,
                 locks: SlotLocks | None = None, wait_timeout: float = 900.0) -> None:
        if locks is None:
            if lock_dir is None:
                raise TypeError("AccountGate needs lock_dir or locks")
            locks = LockFiles(lock_dir)
        self.account = account
        self.locks = locks
        self.wait_timeout = wait_timeout
        self._limit = limit

    @cached_property
    def limit(self) -> int:
        limit = self._limit() if callable(self._limit) else self._limit
        if limit < 1:
            raise ValueError("A concurrency limit must be at least 1")
        return limit

    @contextmanager
    def slot(self) -> Iterator[int]:
        """Holds one of the account's slots for the duration of a request."""
        deadline = time.monotonic() + self.wait_timeout
        while True:
            for index in random.sample(range(self.limit), self.limit):
                release = self.locks.try_lock(account=self.account, index=index)
                if release is None:
                    continue
                try:
                    yield index
                finally:
                    release()
                return
            if time.monotonic() > deadline:
                raise SlotUnavailable(f"No NetSuite request slot came free in {self.wait_timeout:.0f} s")
            time.sleep(0.02 + random.random() * 0.03)


def request_gate(*, account: str, limit: int | Callable[[], int]) -> AccountGate:
    """The account's gate where settings.SYNC_REQUEST_GATE keeps it: `database` (every host sharing the
    database), `files` (this host, SYNC_LOCK_DIR), or `auto`: the database when it is PostgreSQL, else files,
    so that SQLite on a single host needs no set-up."""
    choice = settings.SYNC_REQUEST_GATE
    if choice == "auto":
        choice = "database" if connections[DEFAULT_DB_ALIAS].vendor == "postgresql" else "files"
    if choice == "database":
        return AccountGate(account=account, limit=limit, locks=AdvisoryLocks())
    if choice == "files":
        return AccountGate(account=account, limit=limit, lock_dir=settings.SYNC_LOCK_DIR)
    raise ImproperlyConfigured(f"SYNC_REQUEST_GATE must be 'auto', 'database' or 'files', not {choice!r}")
