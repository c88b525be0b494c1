"""Hostile pushes (issue 11, section 3): each is answered 4xx (a replay 200, so the script stops resending),
leaves an inbox row that explains it, and never reaches the worker. tests/sync/test_webhooks.py has each
refusal's answer and row; these add that nothing is handed to the processor, the bodies it lacked (signed
invalid UTF-8, valid JSON 10,000 deep) and a 10 MB body sent to a real server."""

import json
import socket
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client

import sync.triggers.views
from sandbox.netsuite.push import push_signature
from sync.models import WebhookEvent
from sync.triggers.webhooks import MAX_BODY_BYTES, PushAnswer

# `processor` (autouse) points SYNC_WEBHOOK_ACCEPTED_HOOK at a recorder of the events handed to the worker,
# `accepted_event_ids`.
from tests.sync.test_webhooks import (  # noqa: F401
    SECRET,
    URL,
    accepted_event_ids,
    make_connection,
    processor,
)

TEN_MB = 10 * 1024 * 1024


def event_body(**overrides: Any) -> bytes:
    data = {"eventId": str(uuid.uuid4()), "recordType": "purchaseorder", "recordId": "1211", "eventType": "edit",
            "occurredAt": "2026-11-24T09:29:58Z", **overrides}
    return json.dumps(data).encode()


def signed(body: bytes, *, offset: int = 0, secret: str = SECRET) -> dict[str, str]:
    return {"X-Signature": push_signature(secret=secret, timestamp=int(time.time()) + offset, body=body)}


NESTED = b'{"eventId": "e-1", "detail": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
INVALID_UTF8 = event_body(eventId="e-2").replace(b'"edit"', b'"ed\xff\xfeit"')
FORGED = {"secret": "whsec-forged"}
# body, how it is signed (None: not at all; signed when the test runs, so the timestamp is fresh), content type,
# the answer's status and words of its reason
CASES = {
    "bad signature": (event_body(), FORGED, "application/json", 401, "signature does not match"),
    "missing signature": (event_body(), None, "application/json", 401, "X-Signature header is missing"),
    "stale timestamp": (event_body(), {"offset": -3600}, "application/json", 401, "s old"),
    "future timestamp": (event_body(), {"offset": 3600}, "application/json", 401, "s ahead"),
    "invalid UTF-8, signed": (INVALID_UTF8, {}, "application/json", 400, "not valid JSON"),
    "JSON nested 10,000 deep, signed": (NESTED, {}, "application/json", 400, "nested too deeply"),
    "wrong content type, signed": (event_body(), {}, "text/plain", 415, "Content-Type application/json"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_push_is_refused_recorded_and_never_reaches_the_worker(
        client: Client, django_capture_on_commit_callbacks: Any, case: str) -> None:
    body, signing, content_type, status, reason = CASES[case]
    make_connection()
    headers = {} if signing is None else signed(body, **signing)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.generic("POST", URL, data=body, content_type=content_type, headers=headers)

    assert response.status_code == status
    assert reason in response.json()["detail"]
    row = WebhookEvent.objects.get()
    assert (row.status, row.http_status, row.reason) == (WebhookEvent.Status.REJECTED, status,
                                                         response.json()["detail"])
    assert accepted_event_ids == []


@pytest.mark.django_db
def test_a_replayed_event_id_is_recorded_as_a_duplicate_and_reaches_the_worker_once(
        client: Client, django_capture_on_commit_callbacks: Any) -> None:
    make_connection()
    body = event_body()
    with django_capture_on_commit_callbacks(execute=True):
        first = client.generic("POST", URL, data=body, content_type="application/json", headers=signed(body))
        # Captured by someone and sent again later, signed anew or not: the eventId is what counts.
        replays = [client.generic("POST", URL, data=body, content_type="application/json", headers=signed(body))
                   for _ in range(3)]

    assert first.status_code == 202 and [r.status_code for r in replays] == [200] * 3
    rows = WebhookEvent.objects.order_by("id")
    assert [row.status for row in rows] == [WebhookEvent.Status.ACCEPTED] + [WebhookEvent.Status.DUPLICATE] * 3
    assert accepted_event_ids == [rows[0].pk]


@pytest.fixture
def read_by_the_view(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(bytes the view read, bytes it was told about) of each request, seen where the view hands them on."""
    seen: list[tuple[int, int]] = []
    receive = sync.triggers.views.receive_push_event

    def spy(*, body: bytes, body_size: int, **kwargs: Any) -> PushAnswer:
        seen.append((len(body), body_size))
        return receive(body=body, body_size=body_size, **kwargs)

    monkeypatch.setattr(sync.triggers.views, "receive_push_event", spy)
    return seen


@pytest.mark.django_db(transaction=True)
def test_a_10_mb_body_sent_to_a_real_server_is_refused_413_after_reading_only_64_kib(
        live_server: Any, read_by_the_view: list[tuple[int, int]]) -> None:
    make_connection()
    huge = event_body(note="x" * TEN_MB)

    response = requests.post(f"{live_server.url}{URL}", data=huge, timeout=60,
                             headers={"Content-Type": "application/json", **signed(huge)})

    assert response.status_code == 413
    assert f"({len(huge)} bytes)" in response.json()["detail"]
    assert read_by_the_view == [(MAX_BODY_BYTES + 1, len(huge))]
    row = WebhookEvent.objects.get()
    assert (row.http_status, row.body_size, len(row.body)) == (413, len(huge), 1024)
    assert accepted_event_ids == []


@pytest.mark.django_db(transaction=True)
def test_the_413_is_answered_before_the_rest_of_a_10_mb_body_is_sent(
        live_server: Any, read_by_the_view: list[tuple[int, int]]) -> None:
    """The answer does not wait for the body: the client sends 100 KiB of the 10 MB it announced and gets its
    413 all the same."""
    make_connection()
    address = urlsplit(live_server.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(f"POST {URL} HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {TEN_MB}\r\nX-Signature: t=1,v1=00\r\n\r\n".encode("ascii"))
        connection.sendall(b"x" * (100 * 1024))
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 413")
    assert b"is larger than 64 KiB" in answer
    assert read_by_the_view == [(MAX_BODY_BYTES + 1, TEN_MB)]
