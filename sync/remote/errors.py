"""One error type per remote system, and the one place per vendor that decides what is retryable."""

from dataclasses import dataclass

import requests

from credentials.errors import ConnectionFailed

_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass
class RemoteError(Exception):
    """A call to NetSuite or JAGGAER that did not do what we asked. `message` is for people and holds
    no secret: it is built from the vendor's error text, never from our request."""

    system: str
    message: str
    retryable: bool
    status: int | None = None
    code: str = ""
    retry_after: float | None = None

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status else "no response"
        code = f" {self.code}" if self.code else ""
        return f"{self.system} {where}{code}: {self.message}"


class SourceDataError(ValueError):
    """NetSuite sent something we cannot turn into a JAGGAER object; the message says what, for people."""


class NetSuiteError(RemoteError):
    pass


class JaggaerError(RemoteError):
    pass


def netsuite_error(response: requests.Response) -> NetSuiteError:
    """NetSuite's error body (spec section 5). The concurrency limit answers 429 or, on some accounts,
    400 with CONCURRENCY_LIMIT_EXCEEDED (spec section 6): both are retryable, the 400 included."""
    code, detail = "", response.reason or "error"
    try:
        body = response.json()
        first = (body.get("o:errorDetails") or [{}])[0]
        code = first.get("o:errorCode") or body.get("o:errorCode") or ""
        detail = first.get("detail") or body.get("title") or detail
    except (ValueError, AttributeError, IndexError, TypeError):
        pass
    retryable = response.status_code in _RETRYABLE_STATUSES or code == "CONCURRENCY_LIMIT_EXCEEDED"
    return NetSuiteError(system="NetSuite", message=detail, retryable=retryable, status=response.status_code, code=code)


def jaggaer_error(response: requests.Response) -> JaggaerError:
    """An HTTP-level JAGGAER failure (contract section 2): 429, 503 and 5xx are retryable and may say
    when (Retry-After); any other 4xx is not."""
    message = response.reason or "error"
    try:
        body = response.json()
        message = body.get("returnMessage") or body.get("error_description") or body.get("error") or message
    except (ValueError, AttributeError):
        pass
    return JaggaerError(
        system="JAGGAER",
        message=str(message),
        retryable=response.status_code in _RETRYABLE_STATUSES,
        status=response.status_code,
        code=f"HTTP_{response.status_code}",
        retry_after=_retry_after(response),
    )


def transport_error(system: str, exc: requests.RequestException) -> RemoteError:
    """Timeouts and connection failures. Whether the remote side applied a write is unknown: callers
    that write must look the object up before they resend."""
    kind = "timed out" if isinstance(exc, requests.Timeout) else "could not be reached"
    cls = NetSuiteError if system == "NetSuite" else JaggaerError
    return cls(system=system, message=f"{system} {kind} ({type(exc).__name__})", retryable=True, code="TRANSPORT")


def bad_answer(system: str, what: str, response: requests.Response | None = None) -> RemoteError:
    """An answer that is not what the contract promises (an HTML page or an empty body with HTTP 200,
    truncated JSON, wrong types, results that do not match the request). Never a success: whether a write
    behind it was applied is unknown, so it is retryable and writers look the object up before resending.
    The body itself is not quoted: it is untrusted and may be large."""
    cls = NetSuiteError if system == "NetSuite" else JaggaerError
    seen = ""
    if response is not None:
        kind = response.headers.get("Content-Type", "") or "no content type"
        seen = f" (HTTP {response.status_code}, {kind}, {len(response.content)} bytes)"
    return cls(system=system, message=f"{system} answered with {what}{seen}", retryable=True,
               status=response.status_code if response is not None else None, code="BAD_ANSWER")


def _retry_after(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def failure_words(exc: BaseException) -> str:
    """What a run or an event stores about why it failed. Our own errors are worded without secrets;
    anything else is named by its type only, because its text is not ours to vouch for (the worker's
    log has the traceback)."""
    if isinstance(exc, (RemoteError, ConnectionFailed)):
        return str(exc)[:2000]
    return f"{type(exc).__name__} (an unexpected error: see the worker's log)"
