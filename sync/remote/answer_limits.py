"""How long one request to NetSuite or JAGGAER may take and how large its answer may be, whatever the server
does. requests' own timeout bounds each wait for a byte, not the whole answer: a server (or a proxy) that
keeps sending a few bytes now and then would hold a worker forever, and one that sends without end would
fill its memory. The clients read every answer through `bounded_request`, which gives up on both."""

import time
from dataclasses import dataclass

import requests
import urllib3.exceptions

from sync.remote.errors import bad_answer

# At most this much is read from the socket at a time, so the deadline is checked between small reads.
_READ_BYTES = 64 * 1024


@dataclass(frozen=True)
class AnswerLimits:
    """`deadline`: seconds from sending a request to the last byte of its answer. `max_bytes`: the largest
    answer taken, after decompression (a SuiteQL page of 1,000 wide rows is a few MB; a JAGGAER batch answer
    far less)."""

    deadline: float = 300.0
    max_bytes: int = 50 * 1024 * 1024


def bounded_request(*, session: requests.Session, system: str, method: str, url: str, timeout: float,
                    limits: AnswerLimits, **kwargs: object) -> requests.Response:
    """`session.request` with the whole answer read within `limits`: the response's `content` and `json()`
    work as usual. An answer over a limit raises the system's retryable BAD_ANSWER error and its connection is
    dropped, so nothing more is read; transport failures raise requests' exceptions as usual."""
    started = time.monotonic()
    response = session.request(method, url, timeout=min(timeout, limits.deadline), stream=True, **kwargs)
    try:
        _read_within(response, system=system, started=started, limits=limits)
    except BaseException:
        response.raw.close()  # the rest of the answer stays unread: the connection cannot be used again
        response.close()
        raise
    return response


def _read_within(response: requests.Response, *, system: str, started: float, limits: AnswerLimits) -> None:
    """Reads the answer into `response.content`; what was read before a limit was met is kept there too, so the
    error can say how much came."""
    announced = response.headers.get("Content-Length", "")
    if announced.isascii() and announced.isdigit() and int(announced) > limits.max_bytes:
        _keep(response, [])
        raise bad_answer(system, f"a body larger than {limits.max_bytes} bytes ({announced} announced)", response)
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() - started > limits.deadline:
            _keep(response, chunks)
            raise bad_answer(system, f"a body still unfinished after {limits.deadline:g} s", response)
        chunk = _read_some(response)
        if not chunk:
            _keep(response, chunks)
            return
        size += len(chunk)
        chunks.append(chunk)
        if size > limits.max_bytes:
            _keep(response, chunks)
            raise bad_answer(system, f"a body larger than {limits.max_bytes} bytes", response)


def _keep(response: requests.Response, chunks: list[bytes]) -> None:
    # What `content`, `text` and `json()` return from now on, as requests itself stores a body it has read.
    response._content = b"".join(chunks)
    response._content_consumed = True


def _read_some(response: requests.Response) -> bytes:
    """The next bytes that have arrived (one socket read, decompressed): `read1` returns as soon as there are
    any, where `read(n)` would wait for all n of a trickle. urllib3's errors become requests' own, as
    `iter_content` would raise them."""
    try:
        return response.raw.read1(_READ_BYTES, decode_content=True) or b""
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.ReadTimeout(exc, response=response) from exc
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc, response=response) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise requests.ConnectionError(exc, response=response) from exc
