"""The receiving end of push (NetSuite contract, section 7): the customer's SuiteScript posts
`{"eventId","recordType","recordId","eventType","occurredAt"}` signed with the connection's webhook secret.

Every request lands in the WebhookEvent inbox before it is answered, whether it is accepted or refused, so
that nothing pushed is lost and every refusal can be explained in the admin. An accepted event is only a
hint: the processor named by SYNC_WEBHOOK_ACCEPTED_HOOK re-reads the record from NetSuite.

Anyone can send a refused request, so refusals must not fill the database: only an accepted event keeps its
whole body (other rows keep the first KiB, the size and a SHA-256), and once a source (client address, or
connection slug) has SYNC_WEBHOOK_REFUSAL_LIMIT refusals stored within SYNC_WEBHOOK_REFUSAL_WINDOW_SECONDS,
its further refusals are answered 429 and counted on its latest refused row instead of stored. The limit
applies only to requests that are refused anyway: a correctly signed, valid event is always accepted.

Answers (small JSON `{"status", "detail"}`, never a secret):
  202 accepted · 200 duplicate (the eventId was already accepted for this connection: nothing to redo, and a
  2xx stops the script from retrying) · 400 bad JSON, missing/invalid field (recordId: ASCII digits, no
  leading zero, not 0), unknown eventType · 401 missing/bad signature or timestamp more than 5 minutes off ·
  403 connection without a webhook secret · 404 unknown connection · 413 body over 64 KiB ·
  415 Content-Type not application/json (UTF-8) · 422 unknown recordType · 429 too many refusals from the
  source (counted, not stored; Retry-After) · 503 the inbox could not be written (the script retries).
"""

import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.http import parse_header_parameters
from django.utils.module_loading import import_string

from connector_project.callers import rate_limit_source
from credentials.models import NetSuiteConnection
from sync.flows import PUSHED_RECORD_TYPES
from sync.models import WebhookEvent
from sync.remote.storable_text import storable_text

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# What a row that is not an accepted event keeps of its body: enough to read what was sent.
SUMMARY_BODY_BYTES = 1024
# The largest body_size the inbox column holds (PostgreSQL integer): a caller may announce any Content-Length.
MAX_RECORDED_SIZE = 2**31 - 1
# Spec section 7: a timestamp more than 5 minutes away from our clock is refused, in either direction.
SIGNATURE_TOLERANCE_SECONDS = 300
EVENT_TYPES = frozenset({"create", "edit", "delete", "approve", "cancel"})
# A NetSuite internal id as one spelling only: str.isdigit() also takes "²" and "٣", and "0001" would be keyed
# apart from the record 1 that the re-read finds. JSON numbers cannot have leading zeros either.
INTERNAL_ID = re.compile(r"[1-9][0-9]{0,63}")

_Status = WebhookEvent.Status


@dataclass(frozen=True)
class PushAnswer:
    """What the endpoint answers; `event` is the inbox row written for the request (None on 503, and on 429:
    the request was only counted on an earlier row); `retry_after` in seconds for a 429."""

    http_status: int
    status: str
    detail: str
    event: WebhookEvent | None = field(default=None, compare=False)
    retry_after: int | None = None

    def as_json(self) -> dict[str, str]:
        return {"status": self.status, "detail": self.detail}


class _Refusal(Exception):
    def __init__(self, http_status: int, reason: str) -> None:
        super().__init__(reason)
        self.http_status = http_status
        self.reason = reason


@dataclass(frozen=True)
class _Request:
    slug: str  # clipped to the inbox column: what the row and the rate limit use
    client: str  # the rate-limit source of the caller's address, "" when unknown
    body: bytes
    body_size: int
    received_at: datetime
    connection: NetSuiteConnection | None


def receive_push_event(*, slug: str, body: bytes, body_size: int, content_type: str | None,
                       signature_header: str | None, client_ip: str) -> PushAnswer:
    """Checks one pushed request and records it in the inbox. `body` is at most the first 64 KiB (+1 byte) of
    what was sent, `body_size` how many bytes were sent or announced; `client_ip` is the caller's address."""
    slug = storable_text(slug)
    try:
        return _receive(slug=slug, body=body, body_size=body_size, content_type=content_type,
                        signature_header=signature_header, client_ip=client_ip)
    except DatabaseError:
        # The event is not stored, so it must not be acknowledged: 503 makes the script send it again.
        logger.exception("Push event for %r could not be stored in the inbox", slug)
        return PushAnswer(503, "unavailable", "The connector could not store the event; send it again later.")


def notify_accepted(event: WebhookEvent) -> None:
    """Hands an accepted event to the processor named by SYNC_WEBHOOK_ACCEPTED_HOOK (a dotted path to a
    function taking `event_id`)."""
    import_string(settings.SYNC_WEBHOOK_ACCEPTED_HOOK)(event_id=event.pk)


def _receive(*, slug: str, body: bytes, body_size: int, content_type: str | None, signature_header: str | None,
             client_ip: str) -> PushAnswer:
    slug_length = WebhookEvent._meta.get_field("connection_slug").max_length
    request = _Request(
        slug=slug[:slug_length], client=rate_limit_source(client_ip), body=body, body_size=max(body_size, len(body)),
        received_at=timezone.now(), connection=NetSuiteConnection.objects.filter(name=slug).first(),
    )
    try:
        fields = _checked_event(request, content_type=content_type, signature_header=signature_header)
    except _Refusal as refusal:
        return _refuse(request, refusal)
    return _accept(request, fields)


def _checked_event(request: _Request, *, content_type: str | None, signature_header: str | None) -> dict[str, Any]:
    """The event's fields once the request passes the checks in this order; the first that fails refuses it."""
    connection = request.connection
    if connection is None:
        raise _Refusal(404, f"No NetSuite connection is named {request.slug!r}.")
    if request.body_size > MAX_BODY_BYTES:
        raise _Refusal(413, f"The body ({request.body_size} bytes) is larger than {MAX_BODY_BYTES // 1024} KiB.")
    _check_content_type(content_type)
    if not connection.webhook_secret:
        raise _Refusal(403, f"Connection {request.slug!r} has no webhook secret: set one on the NetSuite connection "
                            "and in NetSuite's API Secrets before deploying the push script.")
    _check_signature(secret=connection.webhook_secret, header=signature_header, body=request.body,
                     now=request.received_at.timestamp())
    return _event_fields(request.body)


def _refuse(request: _Request, refusal: _Refusal) -> PushAnswer:
    counted_on = _latest_refusal_of_limited_source(request)
    if counted_on is None:
        event = _store(request, fields=_readable_fields(request.body), status=_Status.REJECTED,
                       http_status=refusal.http_status, reason=refusal.reason)
        logger.warning("Push event for %r refused (%s): %s", request.slug, refusal.http_status, refusal.reason)
        return PushAnswer(refusal.http_status, "rejected", refusal.reason, event)
    # Neither stored nor logged: a flood must not grow the database or the logs, only this counter.
    WebhookEvent.objects.filter(pk=counted_on).update(refusals_counted=F("refusals_counted") + 1,
                                                      last_counted_at=request.received_at)
    window = settings.SYNC_WEBHOOK_REFUSAL_WINDOW_SECONDS
    detail = (f"Too many refused requests from this address or for this connection (at most "
              f"{settings.SYNC_WEBHOOK_REFUSAL_LIMIT} are recorded per {window} s); this one was counted, not "
              f"recorded. It was refused because: {refusal.reason}")
    return PushAnswer(429, "rejected", detail, retry_after=window)


def _latest_refusal_of_limited_source(request: _Request) -> int | None:
    """The id of the newest refused row of a source of this request (its address, then its slug) that has
    reached the limit within the window, if one has. The rows themselves are the count, so every process
    sees it; refusals racing each other may store a few rows beyond the limit, never an unbounded number."""
    limit = settings.SYNC_WEBHOOK_REFUSAL_LIMIT
    since = request.received_at - timedelta(seconds=settings.SYNC_WEBHOOK_REFUSAL_WINDOW_SECONDS)
    refused = WebhookEvent.objects.filter(status=_Status.REJECTED, received_at__gt=since)
    refused = refused.order_by("-received_at", "-id")
    sources = [Q(client_ip=request.client)] if request.client else []
    for source in [*sources, Q(connection_slug=request.slug)]:
        newest = list(refused.filter(source).values_list("pk", flat=True)[:limit])
        if len(newest) >= limit:
            return newest[0]
    return None


def _accept(request: _Request, fields: dict[str, Any]) -> PushAnswer:
    already = WebhookEvent.objects.filter(
        connection=request.connection, event_id=fields["event_id"],
        status__in=[_Status.ACCEPTED, _Status.PROCESSED, _Status.FAILED],
    ).exists()
    if not already:
        try:
            with transaction.atomic():
                event = _store(request, fields=fields, status=_Status.ACCEPTED, http_status=202, reason="")
                # robust: a failing processor is logged; the event stays accepted in the inbox to be re-driven.
                transaction.on_commit(lambda: notify_accepted(event), robust=True)
        except IntegrityError:
            already = True  # the same eventId was accepted by a concurrent request a moment ago
        else:
            logger.info("Push event %s accepted: %s %s %s", fields["event_id"], fields["event_type"],
                        fields["record_type"], fields["record_id"])
            return PushAnswer(202, "accepted", "Stored; the record will be re-read from NetSuite.", event)
    detail = f"Event {fields['event_id']} was already received; this repeat is ignored."
    event = _store(request, fields=fields, status=_Status.DUPLICATE, http_status=200, reason=detail)
    return PushAnswer(200, "duplicate", detail, event)


def _check_content_type(header: str | None) -> None:
    # JSON is UTF-8 (RFC 8259); other parameters than charset change nothing and are let through.
    media_type, parameters = parse_header_parameters(header or "")
    if media_type != "application/json" or parameters.get("charset", "utf-8").lower() not in {"utf-8", "utf8"}:
        sent = f"not {header[:100]!r}" if header else "and the Content-Type header is missing"
        raise _Refusal(415, f"The body must be sent as Content-Type application/json (UTF-8), {sent}.")


def _check_signature(*, secret: str, header: str | None, body: bytes, now: float) -> None:
    if not header:
        raise _Refusal(401, "The X-Signature header is missing.")
    timestamp, signatures = "", []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value.strip()
        elif key == "v1":
            signatures.append(value.strip().lower())
    # ASCII digits of a plausible length only: int() would take other scripts' digits and choke on huge numbers.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not signatures:
        raise _Refusal(401, "The X-Signature header is malformed: expected t=<unix seconds>,v1=<hex HMAC-SHA256>.")
    signed = timestamp.encode("ascii") + b"." + body
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest().encode("ascii")
    # "replace": a header can carry what is not UTF-8 (an unpaired surrogate), and it is then simply not a match.
    if not any(hmac.compare_digest(expected, candidate.encode("utf-8", "replace")) for candidate in signatures):
        raise _Refusal(401, "The signature does not match the body: check the API secret in NetSuite.")
    drift = now - int(timestamp)
    if abs(drift) > SIGNATURE_TOLERANCE_SECONDS:
        raise _Refusal(401, f"The signature timestamp is {abs(drift):.0f} s {'old' if drift > 0 else 'ahead'}; "
                            f"at most {SIGNATURE_TOLERANCE_SECONDS} s are accepted.")


def _event_fields(body: bytes) -> dict[str, Any]:
    """The validated event; the first problem found is the refusal."""
    try:
        data = json.loads(body)
    except ValueError:
        raise _Refusal(400, "The body is not valid JSON.") from None
    except RecursionError:
        raise _Refusal(400, "The body's JSON is nested too deeply to be an event.") from None
    if not isinstance(data, dict):
        raise _Refusal(400, "The body must be a JSON object.")
    missing = [name for name in ("eventId", "recordType", "recordId", "eventType", "occurredAt")
               if data.get(name) in (None, "")]
    if missing:
        raise _Refusal(400, f"Missing field(s): {', '.join(missing)}.")
    event_id = data["eventId"]
    if not isinstance(event_id, str) or len(event_id) > 100:
        raise _Refusal(400, "eventId must be a string of at most 100 characters.")
    record_id = data["recordId"]
    record_id = str(record_id) if isinstance(record_id, (str, int)) and not isinstance(record_id, bool) else ""
    if not INTERNAL_ID.fullmatch(record_id):
        # The id goes into the SuiteQL that re-reads the record and keys the SyncRecord.
        raise _Refusal(400, "recordId must be a NetSuite internal id: ASCII digits without leading zeros, not 0.")
    if not isinstance(data["occurredAt"], str) or not _is_iso_datetime(data["occurredAt"]):
        raise _Refusal(400, "occurredAt must be an ISO-8601 date and time.")
    event_type = data["eventType"]
    if not isinstance(event_type, str) or event_type.lower() not in EVENT_TYPES:
        raise _Refusal(400, f"Unknown eventType {str(event_type)[:20]!r}; "
                            f"expected one of {', '.join(sorted(EVENT_TYPES))}.")
    record_type = data["recordType"]
    if not isinstance(record_type, str) or record_type.lower() not in PUSHED_RECORD_TYPES:
        raise _Refusal(422, f"Record type {str(record_type)[:40]!r} is not synced; expected one of "
                            f"{', '.join(sorted(PUSHED_RECORD_TYPES))}.")
    return {"event_id": storable_text(event_id), "record_type": record_type.lower(), "record_id": record_id,
            "event_type": event_type.lower(), "occurred_at": data["occurredAt"]}


def _readable_fields(body: bytes) -> dict[str, str]:
    """Whatever event fields can be read from a refused body, clipped to the inbox columns, to explain it."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    columns = {"event_id": "eventId", "record_type": "recordType", "record_id": "recordId",
               "event_type": "eventType", "occurred_at": "occurredAt"}
    fields = {}
    for column, key in columns.items():
        value = data.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            max_length = WebhookEvent._meta.get_field(column).max_length
            fields[column] = storable_text(str(value))[:max_length]
    return fields


def _store(request: _Request, *, fields: dict[str, Any], status: str, http_status: int, reason: str) -> WebhookEvent:
    # Only an accepted event needs its whole body (it is the durable event); for the others the start, size and
    # hash explain what came without letting strangers store 64 KiB a request.
    kept = request.body if status == _Status.ACCEPTED else request.body[:SUMMARY_BODY_BYTES]
    return WebhookEvent.objects.create(
        received_at=request.received_at, connection=request.connection, connection_slug=request.slug,
        client_ip=request.client, body=storable_text(kept.decode("utf-8", errors="replace")),
        body_size=min(request.body_size, MAX_RECORDED_SIZE),
        body_sha256=hashlib.sha256(request.body[:MAX_BODY_BYTES]).hexdigest(),
        status=status, http_status=http_status, reason=reason, **fields,
    )


def _is_iso_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return len(value) <= 40
