"""Reads from NetSuite over REST web services: SuiteQL pages, and REST record lists and records (spec section 4)
for roles that may not run SuiteQL.

Every call holds one of the account's request slots, and 429s, the 400 concurrency variant, 5xx,
timeouts and dropped connections are retried here with jittered back-off: all of them are reads, so
a retry is always safe. Authentication (and its one renewal on a 401) belongs to the session. An answer is
read within a deadline and a size limit (sync/remote/answer_limits.py): one that trickles on or is too large is
retried like a malformed one."""

import random
import re
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import requests

from credentials.errors import ConnectionFailed, Problem
from sync.remote.answer_limits import AnswerLimits, bounded_request
from sync.remote.backoff import backoff_delay, wait_to_retry
from sync.remote.errors import NetSuiteError, bad_answer, netsuite_error, transport_error
from sync.remote.request_gate import AccountGate
from sync.remote.storable_text import storable_text

MAX_PAGE = 1000  # SuiteQL's largest page (spec section 3), and the record list's
# "Record does not exist." (spec sections 4 and 5): the one answer that says a record is gone.
NONEXISTENT_ID = "NONEXISTENT_ID"
# A slow SuiteQL page may take the whole 120 s timeout before its first byte; its body then comes quickly.
DEFAULT_LIMITS = AnswerLimits(deadline=300.0)
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


class NetSuiteClient:
    def __init__(
        self,
        *,
        session: requests.Session,
        rest_url: str,
        gate: AccountGate | None = None,
        max_attempts: int = 6,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        timeout: float = 120.0,
        limits: AnswerLimits = DEFAULT_LIMITS,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.session = session
        self.rest_url = rest_url.rstrip("/")
        self.gate = gate
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.timeout = timeout
        self.limits = limits
        self._sleep = sleep
        self._rng = rng
        self.requests_made = 0  # every HTTP request, retries included: what the pull reports per 1,000 records
        # REST records are read by several threads at once (sync/engine/rest_records.py): the count stays exact.
        self._count_lock = threading.Lock()

    def suiteql(self, *, query: str, params: list[Any] | None = None, limit: int = MAX_PAGE, offset: int = 0) -> dict:
        """One page of a SuiteQL query, as NetSuite returns it (all values strings, NULLs omitted)."""
        body: dict[str, Any] = {"q": query}
        if params:
            body["params"] = params
        return self._call(
            "POST", "/query/v1/suiteql", read=_suiteql_page, params={"limit": limit, "offset": offset}, json=body,
            headers={"Prefer": "transient", "Content-Type": "application/json"},
        )

    def suiteql_rows(self, *, query: str, params: list[Any] | None = None, limit: int = MAX_PAGE) -> list[dict]:
        """Every row of a query that is known to be small (reference lists). Offset paging stops at
        NetSuite's 100,000-row ceiling, so transactions are paged by key in sync/engine/pull.py instead."""
        rows: list[dict] = []
        offset = 0
        while True:
            page = self.suiteql(query=query, params=params, limit=limit, offset=offset)
            rows.extend(page.get("items", []))
            if not page.get("hasMore"):
                return rows
            offset += limit

    def record_ids(self, *, record_type: str, q: str, limit: int = MAX_PAGE, offset: int = 0) -> dict:
        """One page of `GET /record/v1/{type}?q=`: `items` of {"id"}, `totalResults` and `hasMore` (spec section 4)."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if q:
            params["q"] = q
        return self._call("GET", f"/record/v1/{record_type}", read=_record_list_page, params=params)

    def record(self, *, record_type: str, record_id: str, expand: bool = False,
               fields: tuple[str, ...] = ()) -> dict | None:
        """One record as typed JSON, or None when NetSuite answers that it does not exist (404 NONEXISTENT_ID,
        and only that: any other refusal or a malformed answer raises, so it can never read as a deletion)."""
        params: dict[str, Any] = {}
        if expand:
            params["expandSubResources"] = "true"
        if fields:
            params["fields"] = ",".join(fields)
        try:
            return self._call("GET", f"/record/v1/{record_type}/{record_id}", read=_record_body, params=params)
        except NetSuiteError as error:
            if error.status == 404 and error.code == NONEXISTENT_ID:
                return None
            raise

    def _count_request(self) -> None:
        with self._count_lock:
            self.requests_made += 1

    def _call(self, method: str, path: str, *, read: Callable[[requests.Response], Any], **kwargs: Any) -> Any:
        """`read` turns a 2xx answer into its value, or raises a retryable NetSuiteError when the answer is
        not what the contract promises: such an answer is retried like a 5xx (every call here is a read)."""
        url = f"{self.rest_url}{path}"
        attempt = 0
        while True:
            attempt += 1
            error: NetSuiteError
            try:
                with self.gate.slot() if self.gate else nullcontext():
                    self._count_request()
                    # Read whole inside the slot: NetSuite counts the request until its answer has been sent.
                    response = bounded_request(session=self.session, system="NetSuite", method=method, url=url,
                                               timeout=self.timeout, limits=self.limits, **kwargs)
            except requests.RequestException as exc:
                error = transport_error("NetSuite", exc)  # type: ignore[assignment]
            except NetSuiteError as unreadable:
                error = unreadable
            else:
                if response.ok:
                    try:
                        return read(response)
                    except NetSuiteError as malformed:
                        error = malformed
                elif response.status_code == 401:
                    # After the session's one renewal: the credentials themselves are refused.
                    raise ConnectionFailed(Problem.REFUSED, "NetSuite refused a freshly issued login (HTTP 401 "
                                           "INVALID_LOGIN): check the integration's role and permissions.")
                else:
                    error = netsuite_error(response)
            if not error.retryable or attempt >= self.max_attempts:
                raise error
            wait_to_retry(system="NetSuite", request=f"{method} {path}", error=error, attempt=attempt,
                          max_attempts=self.max_attempts, sleep=self._sleep,
                          seconds=backoff_delay(attempt=attempt, base=self.backoff_base, cap=self.backoff_cap,
                                                rng=self._rng))


def _suiteql_page(response: requests.Response) -> dict:
    """A SuiteQL page (spec section 3): an object with `items` (objects of strings) and `hasMore`. Anything
    else, an empty object included, says nothing about NetSuite's data: it must never read as "no rows"."""
    try:
        page = response.json()
    except ValueError:
        raise bad_answer("NetSuite", "a SuiteQL page that is not JSON", response) from None
    if not (isinstance(page, dict) and isinstance(page.get("items"), list) and isinstance(page.get("hasMore"), bool)
            and all(isinstance(row, dict) for row in page["items"])):
        raise bad_answer("NetSuite", "a SuiteQL page without its items and hasMore", response)
    if not all(isinstance(value, str) for row in page["items"] for column, value in row.items() if column != "links"):
        raise bad_answer("NetSuite", "a SuiteQL page whose values are not all text", response)
    # A NUL or a lone surrogate (from a "\u0000" or "\ud800" escape) in one memo would otherwise fail the
    # storing of the whole page: rows are kept as text and jsonb. Only such an escape can put one there (JSON
    # refuses a raw NUL, UTF-8 cannot carry a lone surrogate), so a page without one is kept as it came.
    if _UNSTORABLE_ESCAPE.search(response.text):
        page["items"] = [{column: value if column == "links" else storable_text(value) for column, value in row.items()}
                         for row in page["items"]]
    return page


def _json_object(response: requests.Response, what: str) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise bad_answer("NetSuite", f"{what} that is not JSON", response) from None
    if not isinstance(body, dict):
        raise bad_answer("NetSuite", f"{what} that is not an object", response)
    return body


def _record_list_page(response: requests.Response) -> dict:
    """A record list page: `items` of objects with an internal id, `totalResults` and `hasMore`. An empty object
    or a page without them says nothing about which records exist: it must never read as "none"."""
    page = _json_object(response, "a record list page")
    items, total = page.get("items"), page.get("totalResults")
    if not (isinstance(items, list) and isinstance(page.get("hasMore"), bool) and isinstance(total, int)
            and not isinstance(total, bool)
            and all(isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"].isdigit()
                    for item in items)):
        raise bad_answer("NetSuite", "a record list page without its items, totalResults and hasMore", response)
    return page


def _record_body(response: requests.Response) -> dict:
    """A record: an object carrying its internal id (an empty object, or one without an id, is no record)."""
    record = _json_object(response, "a record")
    if not (isinstance(record.get("id"), str) and record["id"].isdigit()):
        raise bad_answer("NetSuite", "a record without its internal id", response)
    return record
