"""Whatever is posted to the webhook, and however often, the answer is a 2xx or a 4xx with a reason, never a
5xx; each request leaves an inbox row that explains it, or is counted on one (429); and only a correctly
signed, valid event is accepted."""

import json
import time
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from credentials.models import NetSuiteConnection
from sandbox.netsuite.push import push_signature
from sync.models import WebhookEvent
from sync.triggers.webhooks import PushAnswer, receive_push_event
from tests.hostile.strategies import HOSTILE, NASTY, ODD_CHARACTERS, mostly, rolled_back
from tests.sync.test_webhooks import SECRET, make_connection

SLUG = "acme-netsuite"
SIGNED = "signed"  # stands for "the right signature of this body, made now" in a drawn request

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(ODD_CHARACTERS, max_size=8)
    | st.sampled_from(NASTY),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@st.composite
def events(draw: st.DrawFn) -> bytes:
    """An event of the contract's shape whose every field may be anything instead."""
    valid = {"eventId": st.uuids().map(str), "recordType": st.sampled_from(["purchaseorder", "VendorBill", "vendor"]),
             "recordId": st.from_regex(r"\A[1-9][0-9]{0,5}\Z"), "eventType": st.sampled_from(["create", "edit"]),
             "occurredAt": st.just("2026-11-24T09:29:58Z")}
    event = {name: draw(mostly(value, json_values)) for name, value in valid.items()}
    return json.dumps(event, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


bodies = st.one_of(events(), events(), st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode()),
                   st.integers(1, 3000).map(lambda depth: b'{"eventId": ' + b"[" * depth + b"]" * depth + b"}"))
requests_ = st.fixed_dictionaries({
    "slug": mostly(st.just(SLUG), st.text(max_size=120)),
    "body": bodies,
    "content_type": mostly(st.just("application/json"), st.one_of(st.none(), st.text(max_size=40),
                                                                   st.just("application/json; charset*=utf-8''%ff"))),
    "signature": mostly(st.just(SIGNED), st.one_of(st.none(), st.text(max_size=60),
                                                   st.from_regex(r"\At=[0-9]{1,12},v1=[0-9a-f]{64}\Z"))),
    "drift": st.sampled_from([0, 0, 0, -299, 299, -301, 301, 10**6]),
    "announced": st.sampled_from([0, 0, 0, 70_000, 2**40]),
    "client_ip": mostly(st.sampled_from(["127.0.0.1", "203.0.113.9", "2001:db8::1"]), st.text(max_size=50)),
})


def sent(request: dict[str, Any]) -> PushAnswer:
    signature = request["signature"]
    if signature == SIGNED:
        signature = push_signature(secret=SECRET, timestamp=int(time.time()) + request["drift"], body=request["body"])
    return receive_push_event(slug=request["slug"], body=request["body"],
                              body_size=len(request["body"]) + request["announced"],
                              content_type=request["content_type"], signature_header=signature,
                              client_ip=request["client_ip"])


@pytest.fixture
def connection(db: None, settings: Any) -> NetSuiteConnection:
    settings.SYNC_WEBHOOK_REFUSAL_LIMIT = 2  # so that a few requests of one example reach the 429s
    return make_connection()


@settings(HOSTILE, max_examples=120)
@given(batch=st.lists(requests_, min_size=1, max_size=4))
@example(batch=[{"slug": SLUG, "body": b'{"eventId": "e-1", "recordType": "vendor", "recordId": "7", '
                                      b'"eventType": "edit", "occurredAt": "2026-11-24T09:29:58Z"}',
                 "content_type": "application/json", "signature": SIGNED, "drift": 0, "announced": 0,
                 "client_ip": "127.0.0.1"}] * 2)  # the same event twice: 202, then 200 duplicate
@example(batch=[{"slug": SLUG, "body": b"", "content_type": "application/json", "signature": SIGNED, "drift": 0,
                 "announced": 2**40, "client_ip": "127.0.0.1"}])
@example(batch=[{"slug": SLUG, "body": b'{"eventId": "\\ud800", "recordId": "1"}', "content_type": "application/json",
                 "signature": None, "drift": 0, "announced": 0, "client_ip": "127.0.0.1"}])
@example(batch=[{"slug": SLUG, "body": b'{"eventId": "e\\udc00", "recordType": "vendor", "recordId": "1", '
                 b'"eventType": "edit", "occurredAt": "2026-11-24T09:29:58Z"}', "content_type": "application/json",
                 "signature": SIGNED, "drift": 0, "announced": 0, "client_ip": "127.0.0.1"}])
@example(batch=[{"slug": "acme\ud800", "body": b"{}", "content_type": "application/json", "signature": SIGNED,
                 "drift": 0, "announced": 0, "client_ip": "127.0.0.1"}])
@example(batch=[{"slug": SLUG, "body": b"{}", "content_type": "application/json", "signature": "t=1,v1=\udcff",
                 "drift": 0, "announced": 0, "client_ip": "127.0.0.1"}])
def test_any_requests_get_a_2xx_or_4xx_with_a_reason_and_a_row_or_a_count(
        connection: NetSuiteConnection, batch: list[dict[str, Any]]) -> None:
    with rolled_back():
        for request in batch:
            counted_before = sum(WebhookEvent.objects.values_list("refusals_counted", flat=True))
            answer = sent(request)
            event(f"HTTP {answer.http_status}")

            assert answer.http_status < 500 and answer.detail, answer
            assert answer.status in {"accepted", "duplicate", "rejected"}
            if answer.http_status == 429:
                assert answer.event is None
                assert sum(WebhookEvent.objects.values_list("refusals_counted", flat=True)) == counted_before + 1
                continue
            row = WebhookEvent.objects.get(pk=answer.event.pk)
            assert row.http_status == answer.http_status
            if answer.http_status == 202:
                assert request["signature"] == SIGNED and request["slug"] == SLUG
                assert row.status == WebhookEvent.Status.ACCEPTED
            else:
                assert row.reason == answer.detail
                assert len(row.body) <= 1024


@settings(HOSTILE, max_examples=40)
@given(slug=mostly(st.just(SLUG), st.text(min_size=1, max_size=40).filter(lambda text: "/" not in text)),
       body=bodies, content_length=st.sampled_from([None, "", "abc", "-5", "0"]),
       headers=st.dictionaries(st.sampled_from(["X-Signature", "Content-Type", "X-Forwarded-For", "Transfer-Encoding"]),
                               st.text(st.characters(max_codepoint=255), max_size=40), max_size=4))
def test_the_url_answers_any_post_in_json_and_never_with_a_5xx(
        connection: NetSuiteConnection, slug: str, body: bytes, content_length: str | None,
        headers: dict[str, str]) -> None:
    # WSGI hands headers over as Latin-1 text; the test client cannot send a Content-Length above the body's
    # length, so only unusable ones are drawn (a larger one is tests/hostile/test_webhook_hostile.py's).
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()
            if name != "Content-Type"}
    meta["CONTENT_TYPE"] = headers.get("Content-Type", "application/json")
    if content_length is not None:
        meta["CONTENT_LENGTH"] = content_length
    with rolled_back():
        response = Client().generic("POST", f"/webhooks/netsuite/{quote(slug, safe='')}/", data=body, **meta)
        assert 200 <= response.status_code < 500
        assert response.json()["detail"]
