"""Answers that break the API contract, on demand for both sandboxes: an HTML error page or an empty body
with HTTP 200, truncated JSON, an empty object, a body that never ends, and for JAGGAER's batch answers
results out of order, without objects, with the wrong keys or with an undocumented status. A client must
never read any of them as a success, a deletion or "not found"."""

import json
import time
from collections.abc import Iterator
from typing import Any

from sandbox.http import Response, json_response

# Any answer.
HTML = "html"  # 200 with a proxy's HTML error page
EMPTY = "empty"  # 200 with no body
TRUNCATED = "truncated"  # the real body cut in half
EMPTY_OBJECT = "empty_object"  # 200 {}
NO_ITEMS = "no_items"  # 200 {"items": []}: a SuiteQL page stripped of everything but an empty list
NO_ROWS = "no_rows"  # a well-formed SuiteQL page without rows (a save not visible yet)
ENDLESS = "endless"  # the real body but its last byte, then a few spaces now and then: JSON that never ends
# JAGGAER batch answers (the write itself is applied).
REORDERED = "reordered"  # the results in reverse order
NON_OBJECTS = "non_objects"  # the results as strings
WRONG_KEYS = "wrong_keys"  # every result keyed by something the batch did not send
STATUS = "status"  # every result's status replaced by `status` (None: removed)
# JAGGAER reads by key.
NO_OBJECT = "no_object"  # returnCode 0 without the object asked for
MODES = (HTML, EMPTY, TRUNCATED, EMPTY_OBJECT, NO_ITEMS, NO_ROWS, ENDLESS, REORDERED, NON_OBJECTS, WRONG_KEYS,
         STATUS, NO_OBJECT)

_HTML_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
# An endless answer still ends after this long (or when the client hangs up), so that a client which never
# gives up cannot hold a server thread forever.
ENDLESS_SECONDS = 60.0
ENDLESS_INTERVAL_SECONDS = 0.2
_ENDLESS_FILLER = b" " * 16  # JSON allows any amount of whitespace: a parser keeps waiting for more


def broken(response: Response, mode: str, *, status: str | None = None) -> Response:
    """`response` broken as `mode` says; an answer that a mode does not apply to is returned as it is."""
    if not isinstance(response.body, bytes):
        return response  # already streaming: nothing left to break
    if mode == ENDLESS:
        return Response(response.status, _endless(response.body[:-1]), dict(response.headers))
    if mode == HTML:
        return Response(200, _HTML_PAGE, {"Content-Type": "text/html"})
    if mode == EMPTY:
        return Response(200, b"", {"Content-Type": "application/json"})
    if mode == TRUNCATED:
        return Response(200, response.body[: len(response.body) // 2], dict(response.headers))
    if mode == EMPTY_OBJECT:
        return json_response(200, {})
    if mode == NO_ITEMS:
        return json_response(200, {"items": []})
    if mode == NO_ROWS:
        return json_response(200, {"links": [], "count": 0, "hasMore": False, "items": [], "offset": 0,
                                   "totalResults": 0})
    try:
        body = json.loads(response.body)
    except ValueError:
        return response
    if mode == NO_OBJECT and isinstance(body, dict) and body.get("returnCode") == 0:
        return json_response(200, {"returnCode": 0, "returnMessage": ""})
    results = (body.get("resultList") or {}).get("result") if isinstance(body, dict) else None
    if not isinstance(results, list):
        return response
    body["resultList"]["result"] = _broken_results(results, mode, status)
    return json_response(response.status, body, {k: v for k, v in response.headers.items() if k != "Content-Type"})


def _endless(start: bytes) -> Iterator[bytes]:
    yield start
    stop = time.monotonic() + ENDLESS_SECONDS
    while time.monotonic() < stop:
        time.sleep(ENDLESS_INTERVAL_SECONDS)
        yield _ENDLESS_FILLER


def _broken_results(results: list[dict[str, Any]], mode: str, status: str | None) -> list[Any]:
    if mode == REORDERED:
        return list(reversed(results))
    if mode == NON_OBJECTS:
        return [str(result.get("key", "")) for result in results]
    if mode == WRONG_KEYS:
        return [{**result, "key": f"not-{result.get('key', '')}"} for result in results]
    if mode == STATUS:
        return [{k: v for k, v in result.items() if k != "status"} | ({} if status is None else {"status": status})
                for result in results]
    return results
