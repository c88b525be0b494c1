"""Access tokens shared by every process through the database (encrypted), renewed ahead of expiry
by one process at a time per connection."""

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.db import transaction

from credentials.errors import ConnectionFailed, Problem
from credentials.models import AccessToken

TOKEN_REQUEST_TIMEOUT = 30  # seconds; a token endpoint slower than this is as good as down


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: float

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> "IssuedToken":
        return cls(token=answer["access_token"], expires_in=float(answer.get("expires_in", 3600)))


@dataclass(frozen=True)
class TokenRefusal:
    """A token endpoint's error answer: HTTP status, OAuth `error` and `error_description`."""

    status: int
    error: str
    description: str


class TokenNeedsRenewal(Exception):
    """A token is due for renewal in a thread that may not use the database (see `from_memory_only`)."""


_memory_only = threading.local()


@contextmanager
def from_memory_only() -> Iterator[None]:
    """Inside the block, this thread uses tokens it already holds in memory and raises TokenNeedsRenewal
    where a renewal (a database transaction) would be needed: threads that only send requests for the
    thread that owns the database connection leave renewals to it."""
    _memory_only.active = True
    try:
        yield
    finally:
        _memory_only.active = False


class SharedToken:
    """One connection's access token.

    `renew_fraction` of the lifetime may pass before a renewal (NetSuite 55/60, JAGGAER 0.9).
    Subclasses implement `fetch()`, which asks the token endpoint; it runs while this process holds
    the row lock, so concurrent callers wait and then reuse the fresh token."""

    renew_fraction: float = 0.9

    def __init__(self, *, owner: dict[str, Any]) -> None:
        self._owner = owner  # {"netsuite": connection} or {"jaggaer": connection}
        # The last token seen and when it is due for renewal, so that most requests skip the database.
        # Safe across processes: a token another process replaced gets a 401, and renew() then finds
        # the replacement in the database instead of asking for yet another one.
        self._memo: tuple[str, float] | None = None

    def fetch(self) -> IssuedToken:
        raise NotImplementedError

    def failed(self, error: ConnectionFailed) -> None:
        """Called after a failed renewal, outside its transaction, to record lasting consequences."""

    def get(self) -> str:
        memo = self._memo
        if memo and time.time() < memo[1]:
            return memo[0]
        if getattr(_memory_only, "active", False):
            raise TokenNeedsRenewal
        row = AccessToken.objects.filter(**self._owner).first()
        if row and _still_fresh(row, stale=None):
            return self._remember(row)
        return self._renew(stale=None)

    def get_cached(self) -> str:
        """The stored token, fresh or not ("" when there is none)."""
        row = AccessToken.objects.filter(**self._owner).first()
        return row.token if row else ""

    def renew(self, *, stale: str) -> str:
        """After a 401 with `stale`: one renewal, unless another process already replaced it."""
        if getattr(_memory_only, "active", False):
            raise TokenNeedsRenewal
        return self._renew(stale=stale)

    def _renew(self, *, stale: str | None) -> str:
        AccessToken.objects.get_or_create(**self._owner)
        try:
            with transaction.atomic():
                row = AccessToken.objects.select_for_update().get(**self._owner)
                if _still_fresh(row, stale=stale):
                    return self._remember(row)
                started = time.time()
                issued = self.fetch()
                for field, value in token_row(issued, started=started, renew_fraction=self.renew_fraction).items():
                    setattr(row, field, value)
                row.save()
                return self._remember(row)
        except ConnectionFailed as exc:
            self._memo = None
            self.failed(exc)
            raise

    def _remember(self, row: AccessToken) -> str:
        self._memo = (row.token, row.renew_at.timestamp())
        return row.token


def _still_fresh(row: AccessToken, *, stale: str | None) -> bool:
    if not row.token or row.renew_at is None:
        return False
    if stale is not None and row.token == stale:
        return False
    return time.time() < row.renew_at.timestamp()


def token_row(issued: IssuedToken, *, started: float, renew_fraction: float) -> dict[str, Any]:
    """AccessToken field values for a token asked for at `started` (epoch seconds)."""
    return {
        "token": issued.token,
        "obtained_at": _moment(started),
        # Whole seconds, rounded down: the stored datetime's microsecond rounding must never push the
        # renewal past the moment it is due (at 55 minutes, not a hair after).
        "renew_at": _moment(math.floor(started + issued.expires_in * renew_fraction)),
        "expires_at": _moment(started + issued.expires_in),
    }


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def request_token(*, url: str, data: dict[str, str], auth: Any = None,
                  explain: Callable[[TokenRefusal], ConnectionFailed]) -> dict[str, Any]:
    """POSTs a form to a token endpoint and returns its answer (which has an access token); a refusal
    becomes the ConnectionFailed that `explain` words."""
    try:
        response = requests.post(url, data=data, auth=auth, headers={"Accept": "application/json"},
                                 timeout=TOKEN_REQUEST_TIMEOUT)
    except requests.RequestException as exc:
        raise unreachable(url, exc) from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
        return body
    body = body if isinstance(body, dict) else {}
    raise explain(TokenRefusal(status=response.status_code, error=str(body.get("error", "")),
                               description=str(body.get("error_description", ""))))


def unreachable(url: str, exc: requests.RequestException) -> ConnectionFailed:
    """Plain words for a network failure; the URL carries no secret (credentials travel in bodies)."""
    host = urlsplit(url).netloc
    if isinstance(exc, requests.Timeout):
        reason = "it did not answer in time"
    elif "Name or service not known" in str(exc) or "nodename nor servname" in str(exc) \
            or "Failed to resolve" in str(exc):
        reason = "the host name does not exist (check the account id or base URL)"
    elif "refused" in str(exc).lower():
        reason = "the connection was refused (nothing listens there)"
    else:
        reason = f"a network error ({type(exc).__name__})"
    return ConnectionFailed(Problem.UNREACHABLE, f"Could not reach {host}: {reason}.")
