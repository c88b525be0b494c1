"""The receiving end of push (NetSuite contract, section 7): the customer's SuiteScript posts
`{"eventId","recordType","recordId","eventType","occurredAt"}` signed with the connection's webhook secret.

Every request lands in the WebhookEvent inbox before it is answered, whether it is accepted or refused, so
that nothing pushed is lost and every refusal can be explained in the admin. An accepted event is only a
hint: the processor named by SYNC_WEBHOOK_ACCEPTED_HOOK re-reads the record from NetSuite.

Answers (small JSON `{"status", "detail"}`, never a secret):
  202 accepted · 200 duplicate (the eventId was already accepted for this connection: nothing to redo, and a
  2xx stops the script from retrying) · 400 bad JSON, missing/invalid field, unknown eventType ·
  401 missing/bad signature or timestamp more than 5 minutes off · 403 connection without a webhook secret ·
  404 unknown connection · 413 body over 64 KiB · 422 unknown recordType · 503 the inbox could not be
  written (the script retries).
"""

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from credentials.models import NetSuiteConnection
from sync.models import WebhookEvent

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# Spec section 7: a timestamp more than 5 minutes away from our clock is refused, in either direction.
SIGNATURE_TOLERANCE_SECONDS = 300
RECORD_TYPES = frozenset({
    "purchaseorder", "vendorbill", "vendor", "account", "subsidiary", "department", "classification", "location",
})
EVENT_TYPES = frozenset({"create", "edit", "delete", "approve", "cancel"})

_Status = WebhookEvent.Status


@dataclass(frozen=True)
class PushAnswer:
    """What the endpoint answers; `event` is the inbox row written for the request (None only on 503)."""

    http_status: int
    status: str
    detail: str
    event: WebhookEvent | None = field(default=None, compare=False)

    def as_json(self) -> dict[str, str]:
        return {"status": self.status, "detail": self.detail}


class _Refusal(Exception):
    def __init__(self, http_status: int, reason: str) -> None:
        super().__init__(reason)
        self.http_status = http_status
        self.reason = reason


def receive_push_event(*, slug: str, body: bytes, signature_header: str | None, body_too_large: bool) -> PushAnswer:
    """Checks one pushed request and records it in the inbox. `body` is at most the first 64 KiB (+1 byte) of
    what was sent; `body_too_large` says that more was announced or sent."""
    slug = _text_for_database(slug)
    try:
        return _receive(slug=slug, body=body, signature_header=signature_header, body_too_large=body_too_large)
    except DatabaseError:
        # The event is not stored, so it must not be acknowledged: 503 makes the script send it again.
        logger.exception("Push event for %r could not be stored in the inbox", slug)
        return PushAnswer(503, "unavailable", "The connector could not store the event; send it again later.")


def notify_accepted(event: WebhookEvent) -> None:
    """Hands an accepted event to the processor named by SYNC_WEBHOOK_ACCEPTED_HOOK (a dotted path to a
    function taking `event_id`)."""
    import_string(settings.SYNC_WEBHOOK_ACCEPTED_HOOK)(event_id=event.pk)


def _receive(*, slug: str, body: bytes, signature_header: str | None, body_too_large: bool) -> PushAnswer:
    received_at = timezone.now()
    connection = NetSuiteConnection.objects.filter(name=slug).first()
    try:
        if connection is None:
            raise _Refusal(404, f"No NetSuite connection is named {slug!r}.")
        if body_too_large:
            raise _Refusal(413, f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.")
        if not connection.webhook_secret:
            raise _Refusal(403, f"Connection {slug!r} has no webhook secret: set one on the NetSuite connection "
                                "and in NetSuite's API Secrets before deploying the push script.")
        _check_signature(secret=connection.webhook_secret, header=signature_header, body=body,
                         now=received_at.timestamp())
        fields = _event_fields(body)
    except _Refusal as refusal:
        event = _store(connection=connection, slug=slug, body=body, received_at=received_at,
                       fields=_readable_fields(body),
                       status=_Status.REJECTED, http_status=refusal.http_status, reason=refusal.reason)
        logger.warning("Push event for %r refused (%s): %s", slug, refusal.http_status, refusal.reason)
        return PushAnswer(refusal.http_status, "rejected", refusal.reason, event)
    return _accept(connection=connection, slug=slug, body=body, received_at=received_at, fields=fields)


def _accept(*, connection: NetSuiteConnection, slug: str, body: bytes, received_at: datetime,
            fields: dict[str, Any]) -> PushAnswer:
    already = WebhookEvent.objects.filter(
        connection=connection, event_id=fields["event_id"],
        status__in=[_Status.ACCEPTED, _Status.PROCESSED, _Status.FAILED],
    ).exists()
    if not already:
        try:
            with transaction.atomic():
                event = _store(connection=connection, slug=slug, body=body, received_at=received_at, fields=fields,
                               status=_Status.ACCEPTED, http_status=202, reason="")
                # robust: a failing processor is logged; the event stays accepted in the inbox to be re-driven.
                transaction.on_commit(lambda: notify_accepted(event), robust=True)
        except IntegrityError:
            already = True  # the same eventId was accepted by a concurrent request a moment ago
        else:
            logger.info("Push event %s accepted: %s %s %s", fields["event_id"], fields["event_type"],
                        fields["record_type"], fields["record_id"])
            return PushAnswer(202, "accepted", "Stored; the record will be re-read from NetSuite.", event)
    detail = f"Event {fields['event_id']} was already received; this repeat is ignored."
    event = _store(connection=connection, slug=slug, body=body, received_at=received_at, fields=fields,
                   status=_Status.DUPLICATE, http_status=200, reason=detail)
    return PushAnswer(200, "duplicate", detail, event)


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
    if not any(hmac.compare_digest(expected, candidate.encode("utf-8")) for candidate in signatures):
        raise _Refusal(401, "The signature does not match the body: check the API secret in NetSuite.")
    drift = now - int(timestamp)
    if abs(drift) > SIGNATURE_TOLERANCE_SECONDS:
        raise _Refusal(401, f"The signature timestamp is {abs(drift):.0f} s {'old' if drift > 0 else 'ahead'}; "
                            f"at most {SIGNATURE_TOLERANCE_SECONDS} s are accepted.")


def _event_fields(body: bytes) -> dict[str, Any]:
    """The validated event; the first problem found is the refusal."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise _Refusal(400, "The body is not valid JSON.") from None
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
    if isinstance(record_id, bool) or not isinstance(record_id, (str, int)) or not str(record_id).isdigit() \
            or len(str(record_id)) > 64:
        # Only digits: the id goes into the SuiteQL that re-reads the record.
        raise _Refusal(400, "recordId must be a NetSuite internal id (digits).")
    if not isinstance(data["occurredAt"], str) or not _is_iso_datetime(data["occurredAt"]):
        raise _Refusal(400, "occurredAt must be an ISO-8601 date and time.")
    event_type = data["eventType"]
    if not isinstance(event_type, str) or event_type.lower() not in EVENT_TYPES:
        raise _Refusal(400, f"Unknown eventType {str(event_type)[:20]!r}; "
                            f"expected one of {', '.join(sorted(EVENT_TYPES))}.")
    record_type = data["recordType"]
    if not isinstance(record_type, str) or record_type.lower() not in RECORD_TYPES:
        raise _Refusal(422, f"Record type {str(record_type)[:40]!r} is not synced; expected one of "
                            f"{', '.join(sorted(RECORD_TYPES))}.")
    return {"event_id": _text_for_database(event_id), "record_type": record_type.lower(), "record_id": str(record_id),
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
            fields[column] = _text_for_database(str(value))[:max_length]
    return fields


def _store(*, connection: NetSuiteConnection | None, slug: str, body: bytes, received_at: datetime,
           fields: dict[str, Any], status: str, http_status: int, reason: str) -> WebhookEvent:
    slug_length = WebhookEvent._meta.get_field("connection_slug").max_length
    return WebhookEvent.objects.create(
        received_at=received_at, connection=connection, connection_slug=slug[:slug_length],
        body=_text_for_database(body[:MAX_BODY_BYTES].decode("utf-8", errors="replace")),
        status=status, http_status=http_status, reason=reason, **fields,
    )


def _text_for_database(text: str) -> str:
    # PostgreSQL text cannot hold NUL characters; a hostile body must still leave its inbox row.
    return text.replace("\x00", "\ufffd")


def _is_iso_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return len(value) <= 40
