"""The push webhook (NetSuite contract, section 7): what the customer's script gets back for each kind of
request, and the inbox row that explains it."""

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import OperationalError
from django.test import Client

from credentials.models import NetSuiteConnection
from sandbox.netsuite.push import push_signature
from sync.models import WebhookEvent
from sync.operations.retention import prune_history

pytestmark = pytest.mark.django_db

SECRET = "whsec-acme-0a1b2c3d4e5f"
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
URL = "/webhooks/netsuite/acme-netsuite/"

accepted_event_ids: list[int] = []


def record_accepted(*, event_id: int) -> None:
    """Stands in for the lead's processor (sync.triggers.push.event_accepted)."""
    accepted_event_ids.append(event_id)


def explode(*, event_id: int) -> None:
    raise RuntimeError("the processor is down")


@pytest.fixture(autouse=True)
def processor(settings: Any) -> Iterator[list[int]]:
    settings.SYNC_WEBHOOK_ACCEPTED_HOOK = f"{__name__}.record_accepted"
    accepted_event_ids.clear()
    yield accepted_event_ids
    accepted_event_ids.clear()


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def make_connection(name: str = "acme-netsuite", webhook_secret: str = SECRET) -> NetSuiteConnection:
    return NetSuiteConnection.objects.create(
        name=name, account_id="1234567_SB1", base_url="http://127.0.0.1:1", auth_method="tba",
        consumer_key="ck", consumer_secret="cs", token_id="tid", token_secret="ts", webhook_secret=webhook_secret,
    )


def event(**overrides: Any) -> dict[str, Any]:
    data = {"eventId": str(uuid.uuid4()), "recordType": "purchaseorder", "recordId": "1211",
            "eventType": "edit", "occurredAt": "2026-11-24T09:29:58Z"}
    data.update(overrides)
    return data


def post(client: Client, body: bytes | dict, *, url: str = URL, secret: str = SECRET, timestamp: int | None = None,
         signature: str | None = None, content_type: str = "application/json", client_ip: str = "127.0.0.1") -> Any:
    """`content_type` "" sends none; `client_ip` is the caller's address as the server sees it."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if signature is None:
        signature = push_signature(secret=secret, timestamp=int(NOW.timestamp()) if timestamp is None else timestamp,
                                   body=raw)
    headers = {"X-Signature": signature} if signature else {}
    return client.generic("POST", url, data=raw, content_type=content_type, headers=headers, REMOTE_ADDR=client_ip)


def only_row() -> WebhookEvent:
    rows = list(WebhookEvent.objects.all())
    assert len(rows) == 1
    return rows[0]


def test_signed_event_is_stored_then_answered_202_and_handed_to_the_processor(
        client: Client, processor: list[int], django_capture_on_commit_callbacks: Any) -> None:
    connection = make_connection()
    sent = event(recordType="PurchaseOrder", eventType="APPROVE")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, sent)

    assert response.status_code == 202
    assert response.json()["status"] == "accepted"
    row = only_row()
    assert (row.status, row.http_status, row.connection, row.connection_slug) == (
        WebhookEvent.Status.ACCEPTED, 202, connection, "acme-netsuite")
    assert (row.event_id, row.record_type, row.record_id, row.event_type, row.occurred_at) == (
        sent["eventId"], "purchaseorder", "1211", "approve", "2026-11-24T09:29:58Z")
    assert json.loads(row.body) == sent
    assert row.received_at == NOW
    assert processor == [row.pk]


def test_the_url_works_without_its_trailing_slash(client: Client) -> None:
    make_connection()
    assert post(client, event(), url=URL.rstrip("/")).status_code == 202


def test_an_upper_case_hex_signature_is_accepted(client: Client) -> None:
    make_connection()
    raw = json.dumps(event()).encode()
    signature = push_signature(secret=SECRET, timestamp=int(NOW.timestamp()), body=raw)
    prefix, digest = signature.split("v1=")
    assert post(client, raw, signature=f"{prefix}v1={digest.upper()}").status_code == 202


def test_a_signature_made_with_another_secret_is_refused_401_without_revealing_the_secret(client: Client) -> None:
    make_connection()
    response = post(client, event(), secret="whsec-someone-else")

    assert response.status_code == 401
    assert "signature does not match" in response.json()["detail"]
    row = only_row()
    assert (row.status, row.http_status, row.record_id) == (WebhookEvent.Status.REJECTED, 401, "1211")
    assert SECRET not in response.content.decode() + row.reason


def test_a_body_changed_after_signing_is_refused_401(client: Client) -> None:
    make_connection()
    signed = json.dumps(event(recordId="1211")).encode()
    signature = push_signature(secret=SECRET, timestamp=int(NOW.timestamp()), body=signed)

    response = post(client, signed.replace(b"1211", b"1212"), signature=signature)

    assert response.status_code == 401
    assert only_row().status == WebhookEvent.Status.REJECTED


@pytest.mark.parametrize("header", ["", "sha256=abc", "t=,v1=00", "t=1764000000", "v1=00ff", "t=soon,v1=00",
                                    "t=\u0661\u0667\u0666\u0664,v1=00", "t=" + "9" * 5000 + ",v1=00"])
def test_a_missing_or_malformed_signature_header_is_refused_401(client: Client, header: str) -> None:
    make_connection()
    response = client.post(URL, data=json.dumps(event()), content_type="application/json",
                           headers={"X-Signature": header} if header else {})
    assert response.status_code == 401
    assert "X-Signature" in response.json()["detail"]
    assert only_row().http_status == 401


@pytest.mark.parametrize(("offset", "expected"), [(-301, 401), (-300, 202), (300, 202), (301, 401)])
def test_timestamps_more_than_five_minutes_off_are_refused(client: Client, offset: int, expected: int) -> None:
    make_connection()
    response = post(client, event(), timestamp=int(NOW.timestamp()) + offset)
    assert response.status_code == expected
    if expected == 401:
        assert "timestamp" in response.json()["detail"]
        assert only_row().status == WebhookEvent.Status.REJECTED


def test_a_replayed_event_id_is_answered_200_duplicate_and_processed_once(
        client: Client, processor: list[int], django_capture_on_commit_callbacks: Any) -> None:
    make_connection()
    sent = event()
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, sent)
    with time_machine.travel(NOW + timedelta(seconds=40), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        repeat = post(client, sent, timestamp=int(NOW.timestamp()) + 40)

    assert (first.status_code, repeat.status_code) == (202, 200)
    assert repeat.json()["status"] == "duplicate"
    statuses = sorted(WebhookEvent.objects.filter(event_id=sent["eventId"]).values_list("status", flat=True))
    assert statuses == [WebhookEvent.Status.ACCEPTED, WebhookEvent.Status.DUPLICATE]
    assert len(processor) == 1


def test_the_same_event_id_on_another_connection_is_a_different_event(client: Client) -> None:
    make_connection()
    make_connection(name="globex-netsuite", webhook_secret="whsec-globex")
    sent = event()
    assert post(client, sent).status_code == 202
    assert post(client, sent, url="/webhooks/netsuite/globex-netsuite/", secret="whsec-globex").status_code == 202


def test_an_event_id_that_was_only_refused_before_can_still_be_accepted(client: Client) -> None:
    make_connection()
    sent = event()
    assert post(client, sent, secret="wrong").status_code == 401
    assert post(client, sent).status_code == 202


def test_a_body_over_64_kib_is_refused_413_and_its_row_keeps_only_its_first_kib_and_size(client: Client) -> None:
    make_connection()
    huge = json.dumps(event(note="x" * 70_000)).encode()

    response = post(client, huge)

    assert response.status_code == 413
    assert f"({len(huge)} bytes)" in response.json()["detail"]
    row = only_row()
    assert (row.status, row.http_status) == (WebhookEvent.Status.REJECTED, 413)
    assert (row.body, row.body_size) == (huge[:1024].decode(), len(huge))
    assert row.body_sha256 == hashlib.sha256(huge[:65536]).hexdigest()


def test_a_body_of_exactly_64_kib_is_accepted(client: Client) -> None:
    make_connection()
    raw = json.dumps(event()).encode()
    raw = raw[:-1] + b" " * (65536 - len(raw)) + b"}"
    assert len(raw) == 65536
    assert post(client, raw).status_code == 202


@pytest.mark.parametrize("body", [b"not json", b'{"eventId": ', b"[1, 2]", b"\xff\xfe\x00", b"[" * 60_000])
def test_a_body_that_is_not_a_json_object_is_refused_400(client: Client, body: bytes) -> None:
    make_connection()
    response = post(client, body)
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert only_row().http_status == 400


@pytest.mark.parametrize(("changes", "detail"), [
    ({"recordId": None, "occurredAt": ""}, "Missing field(s): recordId, occurredAt"),
    ({"recordId": "12; DROP"}, "recordId must be a NetSuite internal id"),
    ({"recordId": True}, "recordId must be a NetSuite internal id"),
    ({"eventId": ["a"]}, "eventId must be a string"),
    ({"occurredAt": "yesterday"}, "occurredAt must be an ISO-8601"),
    ({"eventType": "print"}, "Unknown eventType 'print'"),
    ({"eventType": "\u0000"}, "Unknown eventType"),
])
def test_missing_or_invalid_fields_are_refused_400_naming_the_problem(
        client: Client, changes: dict, detail: str) -> None:
    make_connection()
    response = post(client, event(**changes))
    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert only_row().reason == response.json()["detail"]


def test_a_numeric_record_id_is_accepted_as_text(client: Client) -> None:
    make_connection()
    assert post(client, event(recordId=1211)).status_code == 202
    assert only_row().record_id == "1211"


def test_an_unknown_record_type_is_refused_422_and_the_row_names_it(client: Client) -> None:
    make_connection()
    response = post(client, event(recordType="salesorder"))
    assert response.status_code == 422
    assert "salesorder" in response.json()["detail"]
    row = only_row()
    assert (row.status, row.record_type, row.event_type) == (WebhookEvent.Status.REJECTED, "salesorder", "edit")


def test_an_unknown_connection_is_refused_404_and_logged_under_its_slug(client: Client) -> None:
    make_connection()
    response = post(client, event(), url="/webhooks/netsuite/initech-netsuite/")
    assert response.status_code == 404
    row = only_row()
    assert (row.connection, row.connection_slug, row.http_status) == (None, "initech-netsuite", 404)


def test_a_connection_without_a_webhook_secret_is_refused_403_with_what_to_do(client: Client) -> None:
    make_connection(webhook_secret="")
    response = post(client, event(), secret="")
    assert response.status_code == 403
    assert "has no webhook secret" in response.json()["detail"]
    assert only_row().http_status == 403


def test_an_inbox_that_cannot_be_written_answers_503_so_the_script_retries(
        client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    make_connection()

    def database_down(**kwargs: Any) -> None:
        raise OperationalError("connection to server lost")

    monkeypatch.setattr(WebhookEvent.objects, "create", database_down)
    response = post(client, event())
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable",
                                "detail": "The connector could not store the event; send it again later."}


def test_a_failing_processor_does_not_change_the_answer_and_the_event_stays_accepted(
        client: Client, settings: Any, django_capture_on_commit_callbacks: Any, caplog: Any) -> None:
    settings.SYNC_WEBHOOK_ACCEPTED_HOOK = f"{__name__}.explode"
    make_connection()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, event())
    assert response.status_code == 202
    assert only_row().status == WebhookEvent.Status.ACCEPTED
    assert "the processor is down" in caplog.text


def test_a_get_is_answered_405_in_json(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert not WebhookEvent.objects.exists()


def test_a_refused_request_keeps_the_first_kib_of_its_body_its_size_and_hash_not_the_whole_body(
        client: Client) -> None:
    make_connection()
    raw = json.dumps(event(note="x" * 60_000)).encode()

    response = post(client, raw, secret="whsec-someone-else")

    assert response.status_code == 401
    row = only_row()
    assert (row.body, row.body_size, row.body_sha256) == (
        raw[:1024].decode(), len(raw), hashlib.sha256(raw).hexdigest())
    assert (row.record_type, row.record_id) == ("purchaseorder", "1211")  # still explained


def test_an_accepted_event_keeps_its_whole_body(client: Client) -> None:
    make_connection()
    raw = json.dumps(event(note="x" * 60_000)).encode()
    assert post(client, raw).status_code == 202
    assert (only_row().body, only_row().body_size) == (raw.decode(), len(raw))


def test_a_burst_of_refusals_from_one_address_is_answered_429_after_the_limit_and_only_counted(
        client: Client, settings: Any) -> None:
    make_connection()
    limit = settings.SYNC_WEBHOOK_REFUSAL_LIMIT
    big_bad = json.dumps(event(note="x" * 60_000)).encode()

    codes = [post(client, big_bad, secret="forged", client_ip="203.0.113.9").status_code for _ in range(limit + 25)]
    last = post(client, big_bad, secret="forged", client_ip="203.0.113.9")

    assert codes == [401] * limit + [429] * 25
    assert last.status_code == 429
    assert last["Retry-After"] == str(settings.SYNC_WEBHOOK_REFUSAL_WINDOW_SECONDS)
    assert "Too many refused requests" in last.json()["detail"]
    assert "signature does not match" in last.json()["detail"]  # a misconfigured script still learns why
    rows = WebhookEvent.objects.all()
    assert rows.count() == limit
    assert sum(len(row.body) for row in rows) <= limit * 1024
    assert (rows.first().refusals_counted, rows.first().last_counted_at) == (26, NOW)


def test_a_signed_event_from_an_address_over_its_refusal_limit_is_still_accepted(
        client: Client, settings: Any, processor: list[int], django_capture_on_commit_callbacks: Any) -> None:
    make_connection()
    for _ in range(settings.SYNC_WEBHOOK_REFUSAL_LIMIT + 1):
        post(client, event(), secret="forged", client_ip="203.0.113.9")
    assert post(client, event(), secret="forged", client_ip="203.0.113.9").status_code == 429

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, event(), client_ip="203.0.113.9")

    assert response.status_code == 202
    accepted = WebhookEvent.objects.get(status=WebhookEvent.Status.ACCEPTED)
    assert processor == [accepted.pk]


def test_the_address_limit_spans_connection_names_and_spares_other_addresses(client: Client, settings: Any) -> None:
    limit = settings.SYNC_WEBHOOK_REFUSAL_LIMIT
    codes = [post(client, event(), url=f"/webhooks/netsuite/guess-{n}/", client_ip="198.51.100.7").status_code
             for n in range(limit + 3)]

    assert codes == [404] * limit + [429] * 3
    assert post(client, event(), url="/webhooks/netsuite/guess-x/", client_ip="198.51.100.8").status_code == 404
    assert WebhookEvent.objects.count() == limit + 1


def test_the_connection_limit_catches_refusals_spread_over_many_addresses(client: Client, settings: Any) -> None:
    make_connection()
    limit = settings.SYNC_WEBHOOK_REFUSAL_LIMIT
    codes = [post(client, event(), secret="forged", client_ip=f"192.0.2.{n}").status_code for n in range(limit + 3)]

    assert codes == [401] * limit + [429] * 3
    assert WebhookEvent.objects.count() == limit


def test_addresses_of_one_ipv6_64_network_share_a_limit(client: Client, settings: Any) -> None:
    limit = settings.SYNC_WEBHOOK_REFUSAL_LIMIT
    codes = [post(client, event(), url=f"/webhooks/netsuite/guess-{n}/", client_ip=f"2001:db8:1:2::{n + 1:x}")
             .status_code for n in range(limit + 1)]

    assert codes == [404] * limit + [429]
    assert set(WebhookEvent.objects.values_list("client_ip", flat=True)) == {"2001:db8:1:2::/64"}


def test_refusals_are_recorded_again_once_the_window_has_passed(client: Client, settings: Any) -> None:
    make_connection()
    for _ in range(settings.SYNC_WEBHOOK_REFUSAL_LIMIT + 1):
        post(client, event(), secret="forged")
    later = NOW + timedelta(seconds=settings.SYNC_WEBHOOK_REFUSAL_WINDOW_SECONDS + 1)

    with time_machine.travel(later, tick=False):
        response = post(client, event(), secret="forged", timestamp=int(later.timestamp()))

    assert response.status_code == 401
    assert WebhookEvent.objects.count() == settings.SYNC_WEBHOOK_REFUSAL_LIMIT + 1


@pytest.mark.parametrize("content_type", ["", "text/plain", "application/x-www-form-urlencoded",
                                          "application/jsonp", "application/json; charset=iso-8859-1"])
def test_a_body_not_sent_as_json_is_refused_415_and_recorded(client: Client, content_type: str) -> None:
    make_connection()
    response = post(client, event(), content_type=content_type)  # correctly signed all the same

    assert response.status_code == 415
    assert "Content-Type application/json" in response.json()["detail"]
    row = only_row()
    assert (row.status, row.http_status, row.reason) == (
        WebhookEvent.Status.REJECTED, 415, response.json()["detail"])


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON;charset=UTF-8"])
def test_json_with_a_utf8_charset_parameter_is_accepted(client: Client, content_type: str) -> None:
    make_connection()
    assert post(client, event(), content_type=content_type).status_code == 202


@pytest.mark.parametrize("record_id", ["\u00b2", "\u0663", "1\u00b2", "\uff11", "0001", "01211", "0", 0, -5, "12\n"],
                         ids=["superscript-2", "arabic-indic-3", "1-superscript-2", "fullwidth-1", "0001", "01211",
                              "text-0", "number-0", "negative", "trailing-newline"])
def test_a_record_id_that_is_not_one_canonical_internal_id_is_refused_400(
        client: Client, processor: list[int], django_capture_on_commit_callbacks: Any, record_id: Any) -> None:
    make_connection()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, event(recordId=record_id))

    assert response.status_code == 400
    assert "recordId must be a NetSuite internal id" in response.json()["detail"]
    assert only_row().status == WebhookEvent.Status.REJECTED
    assert processor == []  # nothing reaches the worker that re-reads the record


def test_inbox_rows_older_than_the_default_retention_are_pruned(client: Client) -> None:
    make_connection()
    with time_machine.travel(NOW - timedelta(days=100), tick=False):
        post(client, event(), secret="forged")
    post(client, event(), secret="forged")

    report = prune_history()

    assert report.webhook_events == 1
    assert list(WebhookEvent.objects.values_list("received_at", flat=True)) == [NOW]
