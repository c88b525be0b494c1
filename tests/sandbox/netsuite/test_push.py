"""Push events as the customer's SuiteScript sends them (spec 7), received by a tiny server in the test and
checked with an HMAC computed here, independently of the sandbox's code."""

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox.http import RunningServer

SECRET = "webhook-shared-secret"


class Receiver:
    """Records what arrives and answers 202, as the connector's webhook does."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.url = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {"X-Signature": environ.get("HTTP_X_SIGNATURE", ""), "Content-Type": environ.get("CONTENT_TYPE", "")}
        self.received.append((headers, body))
        start_response("202 Accepted", [("Content-Length", "0")])
        return [b""]


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[Receiver]:
    app = Receiver()
    server = RunningServer(app)
    app.url = f"{server.url}/webhooks/netsuite/acme-netsuite/"
    yield app
    server.stop()


@pytest.fixture
def receiver(receiver_server: Receiver) -> tuple[Receiver, str]:
    receiver_server.received.clear()
    return receiver_server, receiver_server.url


def signature_timestamp(headers: dict[str, str]) -> int:
    return int(headers["X-Signature"].split(",")[0].removeprefix("t="))


def assert_signed(headers: dict[str, str], body: bytes, *, timestamp: int) -> None:
    parts = dict(part.split("=", 1) for part in headers["X-Signature"].split(","))
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert parts == {"t": str(timestamp), "v1": expected}


def test_push_event_is_posted_as_json_with_a_verifiable_signature(netsuite: Any, receiver: Any) -> None:
    app, url = receiver
    netsuite.app.clock.set(1_767_225_600)  # 2026-01-01T00:00:00Z; the clock keeps running from there

    answer = netsuite.app.send_push_event(url=url, secret=SECRET, record_type="purchaseOrder", record_id="1211",
                                          event_type="edit")

    assert answer.status_code == 202
    [(headers, body)] = app.received
    assert headers["Content-Type"] == "application/json"
    signed_at = signature_timestamp(headers)
    assert signed_at - 1_767_225_600 in (0, 1)
    event = json.loads(body)
    assert event.pop("eventId")
    assert event == {"recordType": "purchaseorder", "recordId": "1211", "eventType": "edit",
                     "occurredAt": f"2026-01-01T00:00:0{signed_at - 1_767_225_600}Z"}
    assert_signed(headers, body, timestamp=signed_at)


def test_push_event_carries_the_given_id_time_and_timestamp(netsuite: Any, receiver: Any) -> None:
    app, url = receiver

    netsuite.app.send_push_event(url=url, secret=SECRET, record_type="vendorbill", record_id="77",
                                 event_type="delete", event_id="3f1c7a56-0000-4000-8000-000000000001",
                                 occurred_at="2025-05-17T20:25:00Z", timestamp=1_700_000_000)

    [(headers, body)] = app.received
    assert json.loads(body)["eventId"] == "3f1c7a56-0000-4000-8000-000000000001"
    assert json.loads(body)["occurredAt"] == "2025-05-17T20:25:00Z"
    assert_signed(headers, body, timestamp=1_700_000_000)


def test_push_refuses_an_event_type_the_script_never_sends(netsuite: Any, receiver: Any) -> None:
    app, url = receiver

    with pytest.raises(ValueError, match="event_type"):
        netsuite.app.send_push_event(url=url, secret=SECRET, record_type="vendor", record_id="5", event_type="update")
    assert app.received == []


def test_push_over_the_http_control_api(netsuite: Any, receiver: Any) -> None:
    app, url = receiver

    answer = requests.post(f"{netsuite.url}/_sandbox/push", timeout=10, json={
        "url": url, "secret": SECRET, "record_type": "purchaseorder", "record_id": "9", "event_type": "create"})

    assert answer.json() == {"status": 202}
    [(headers, body)] = app.received
    signed_at = signature_timestamp(headers)
    assert abs(signed_at - netsuite.app.clock.now()) < 60
    assert_signed(headers, body, timestamp=signed_at)
    assert json.loads(body)["recordId"] == "9"
