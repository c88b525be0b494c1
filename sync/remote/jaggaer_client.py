"""Writes to and reads from JAGGAER's J1P REST API (JAGGAER contract).

Only refusals that guarantee nothing was applied are retried here: 429 and 503 (maintenance), after
their Retry-After. A 500, a timeout or a dropped connection may follow an applied write, so they are
raised with `retryable` set and the delivery code looks the object up before it sends it again. So is an
answer that does not end within a deadline or grows past a size limit (sync/remote/answer_limits.py)."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from credentials.errors import ConnectionFailed, Problem
from credentials.session import ConnectionSession
from sync.remote.answer_limits import AnswerLimits, bounded_request
from sync.remote.backoff import backoff_delay, wait_to_retry
from sync.remote.errors import JaggaerError, bad_answer, jaggaer_error, transport_error

API = "/j1p/api/public"
NOT_FOUND = 2  # returnCode of a read by key that found nothing (contract section 2)
PAGE_SIZE = 100
# Twice the wait for a first byte: a batch answer is small, so anything slower is a server that trickles.
DEFAULT_LIMITS = AnswerLimits(deadline=120.0)


@dataclass
class ItemError:
    code: str
    message: str
    field: str = ""


# The item statuses that say JAGGAER holds what was sent (contract section 2). Only these are a delivery.
SUCCESS_STATUSES = frozenset({"Created", "Updated", "Unchanged", "Cancelled"})
# The one documented refusal: nothing of the item was applied, and its errors say why.
ERROR_STATUS = "Error"


@dataclass
class ItemResult:
    """One item's outcome in a batch answer."""

    key: str
    status: str  # Created | Updated | Unchanged | Cancelled | Error, or whatever else JAGGAER said
    jaggaer_id: str = ""
    errors: list[ItemError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in SUCCESS_STATUSES

    @property
    def refused(self) -> bool:
        """A documented refusal. A status that is neither this nor a success leaves unknown whether the item
        was applied."""
        return self.status == ERROR_STATUS


class JaggaerClient:
    def __init__(
        self,
        *,
        session: requests.Session,
        base_url: str,
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        timeout: float = 60.0,
        limits: AnswerLimits = DEFAULT_LIMITS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.timeout = timeout
        self.limits = limits
        self._sleep = sleep
        self.requests_made = 0
        self._counting = threading.Lock()
        self._before_request: dict[int, Callable[[], None]] = {}  # by thread

    @contextmanager
    def calling_first(self, hook: Callable[[], None]) -> Iterator[None]:
        """Calls `hook` before every request this thread makes inside the block, retries included (a delivery
        keeps its claim on the records alive while JAGGAER is slow, and makes no request it could not record).
        Each thread has its own hook."""
        thread = threading.get_ident()
        self._before_request[thread] = hook
        try:
            yield
        finally:
            self._before_request.pop(thread, None)

    def load_token(self) -> None:
        """Before requests are handed to threads that may not renew a token (deliver.Deliveries)."""
        if isinstance(self.session, ConnectionSession):
            self.session.load_token()

    def upsert_suppliers(self, suppliers: list[dict]) -> list[ItemResult]:
        return self._batch("/js/v1/suppliers", {"supplierList": {"supplier": suppliers}},
                           [str(supplier.get("supplierNumber", "")) for supplier in suppliers])

    def send_purchase_orders(self, purchase_orders: list[dict]) -> list[ItemResult]:
        return self._batch(
            "/jp/v1/purchaseorders", {"purchaseOrderList": {"purchaseOrder": purchase_orders}},
            [str(po.get("poHeader", {}).get("poNumber", "")) for po in purchase_orders],
        )

    def send_invoices(self, invoices: list[dict]) -> list[ItemResult]:
        return self._batch("/ji/v1/invoices", {"invoiceList": {"invoice": invoices}},
                           [str(invoice.get("header", {}).get("supplierInvoiceNumber", "")) for invoice in invoices])

    def upsert_custom_field_values(self, *, field_name: str, values: list[dict]) -> list[ItemResult]:
        return self._batch(
            f"/jcf/v1/customfields/{_segment(field_name)}/values", {"customFieldValueList": {"customFieldValue": values}},
            [str(value.get("internalName", "")) for value in values],
        )

    # Reads ------------------------------------------------------------------------------------

    def get_purchase_order(self, po_number: str) -> dict | None:
        return self._get_one(f"/jp/v1/purchaseorders/{_segment(po_number)}", "purchaseOrder")

    def find_invoice(self, *, supplier_number: str, supplier_invoice_number: str) -> dict | None:
        found = self._list(
            "/ji/v1/invoices", ("invoiceList", "invoice"),
            flt=f"supplierInvoiceNumber=={supplier_invoice_number};supplierNumber=={supplier_number}",
        )
        return found[0] if found else None

    def invoices_dated(self, invoice_date: str) -> list[dict]:
        """Every invoice whose invoiceDate is that day (YYYY-MM-DD): what reconciliation compares."""
        return self._list("/ji/v1/invoices", ("invoiceList", "invoice"), flt=f"invoiceDate=={invoice_date}")

    def custom_fields(self) -> list[dict]:
        return self._list("/jcf/v1/customfields", ("customFieldList", "customField"))

    def custom_field_values(self, field_name: str) -> list[dict]:
        return self._list(
            f"/jcf/v1/customfields/{_segment(field_name)}/values", ("customFieldValueList", "customFieldValue")
        )

    # Plumbing ---------------------------------------------------------------------------------

    def _batch(self, path: str, body: dict, keys: list[str]) -> list[ItemResult]:
        answer = self._call("POST", path, json=body)
        holder = answer.get("resultList")
        results = holder.get("result") if isinstance(holder, dict) else None
        if not isinstance(results, list) or not all(isinstance(result, dict) for result in results):
            raise bad_answer("JAGGAER", "a batch answer without a list of result objects")
        return _matched(keys, [_item_result(result) for result in results])

    def _get_one(self, path: str, name: str) -> dict | None:
        answer = self._call("GET", path, accept_codes=(NOT_FOUND,))
        if answer["returnCode"] == NOT_FOUND:
            return None
        found = answer.get(name)
        if not isinstance(found, dict):
            # Never "not found": that would send a `new` for an object JAGGAER may hold.
            raise bad_answer("JAGGAER", f"a read by key without its {name} object")
        return found

    def _list(self, path: str, names: tuple[str, str], flt: str | None = None) -> list[dict]:
        items: list[dict] = []
        start = 1
        while True:
            params: dict[str, Any] = {"start": start, "limit": PAGE_SIZE}
            if flt:
                params["flt"] = flt
            answer = self._call("GET", path, params=params)
            holder = answer.get(names[0]) or {}
            page = (holder.get(names[1]) if isinstance(holder, dict) else None) or []
            try:
                if not isinstance(page, list) or not all(isinstance(item, dict) for item in page):
                    raise ValueError
                returned = int(answer.get("returnedRecords", len(page)))
                total = int(answer.get("totRecords", 0))
            except (ValueError, TypeError):
                raise bad_answer("JAGGAER", f"a {names[0]} page of unexpected shape") from None
            items.extend(page)
            start += returned
            if not page or returned <= 0 or start - 1 >= total:
                return items

    def _call(self, method: str, path: str, *, accept_codes: tuple[int, ...] = (), **kwargs: Any) -> dict:
        response = self._answered(method, f"{self.base_url}{API}{path}", label=path, **kwargs)
        return _checked_envelope(response, accept_codes)

    def _answered(self, method: str, url: str, *, label: str, session: requests.Session | None = None,
                  **kwargs: Any) -> requests.Response:
        """The HTTP 200 answer to one request, after the retries that 429 and 503 allow; shared by the J1P API
        and the XML imports (sync/remote/jaggaer_xml.py), which keep to the same gate and back-off."""
        attempt = 0
        while True:
            attempt += 1
            hook = self._before_request.get(threading.get_ident())
            if hook:
                hook()
            try:
                with self._counting:
                    self.requests_made += 1
                response = bounded_request(session=session or self.session, system="JAGGAER", method=method,
                                           url=url, timeout=self.timeout, limits=self.limits, **kwargs)
            except requests.RequestException as exc:
                raise transport_error("JAGGAER", exc) from None
            if response.status_code == 200:
                return response
            if response.status_code == 401:
                # The session already renewed the token once: our credentials are refused. That stops the
                # run (the records stay due) instead of failing every record as if the data were wrong.
                raise ConnectionFailed(Problem.REFUSED, "JAGGAER refused a freshly issued token (HTTP 401): "
                                       "check the integration client's roles in JAGGAER.")
            error = jaggaer_error(response)
            # Only these two answers guarantee that nothing was applied.
            if response.status_code not in (429, 503) or attempt >= self.max_attempts:
                raise error
            delay = error.retry_after
            if delay is None:
                delay = backoff_delay(attempt=attempt, base=self.backoff_base, cap=self.backoff_cap)
            # A Retry-After past the cap (an outage announced as hours) is asked again sooner.
            wait_to_retry(system="JAGGAER", request=f"{method} {label}", error=error, attempt=attempt,
                          max_attempts=self.max_attempts, seconds=min(delay, self.backoff_cap), sleep=self._sleep)


def _segment(value: str) -> str:
    """A natural key in a URL path: PO numbers may hold '/', '#' or spaces."""
    return quote(value, safe="")


def _checked_envelope(response: requests.Response, accept_codes: tuple[int, ...]) -> dict:
    """Business errors arrive in HTTP 200 with a non-zero returnCode; nothing was applied then. An answer
    without a readable returnCode says nothing either way."""
    try:
        answer = response.json()
        code = answer["returnCode"]
        if isinstance(code, bool) or not isinstance(code, (int, str)):
            raise TypeError
        code = int(code)
    except (ValueError, KeyError, TypeError):
        raise bad_answer("JAGGAER", "HTTP 200 without a JSON envelope and its returnCode", response) from None
    answer["returnCode"] = code
    if code != 0 and code not in accept_codes:
        raise JaggaerError(system="JAGGAER", retryable=False, status=200, code=f"RETURN_CODE_{code}",
                           message=str(answer.get("returnMessage") or "no message"))
    return answer


def _item_result(result: dict) -> ItemResult:
    holder = result.get("errorList")
    listed = holder.get("error") if isinstance(holder, dict) else None
    errors = [
        ItemError(code=str(e.get("code", "")), message=str(e.get("message", "")), field=str(e.get("field", "")))
        if isinstance(e, dict) else ItemError(code="", message=str(e)[:500])
        for e in (listed if isinstance(listed, list) else [])
    ]
    # A missing status is not an error JAGGAER reported: it stays unknown, and so does the item's fate.
    status = result.get("status")
    return ItemResult(key=str(result.get("key", "")), status="" if status is None else str(status)[:100],
                      jaggaer_id=str(result.get("id") or ""), errors=errors)


def _matched(keys: list[str], results: list[ItemResult]) -> list[ItemResult]:
    """The results in the order of `keys`. JAGGAER echoes each item's natural key; items that share a key
    are matched in order among themselves. Results whose keys are not exactly the batch's are a fault:
    taking them by position once gave two vendors each other's JAGGAER ids."""
    by_key: dict[str, list[ItemResult]] = {}
    for result in results:
        by_key.setdefault(result.key, []).append(result)
    matched = []
    for key in keys:
        candidates = by_key.get(key)
        if not candidates:
            break
        matched.append(candidates.pop(0))
    if len(matched) != len(keys) or len(results) != len(keys):
        raise bad_answer("JAGGAER", f"{len(results)} results whose keys do not match the batch of {len(keys)} items")
    return matched
