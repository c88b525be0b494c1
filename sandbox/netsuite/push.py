"""What the customer's SuiteScript does after a record is saved (spec section 7): it posts the record type and
id to the connector's webhook, signed with the shared secret. The push is only a hint; the connector re-reads
the record."""

import hashlib
import hmac
import json
import uuid
from datetime import datetime, timezone

import requests

PUSH_EVENT_TYPES = frozenset({"create", "edit", "delete", "approve", "cancel"})
# SuiteScript's https.post gives up after 5 s to connect and 45 s in all (spec 7).
PUSH_TIMEOUT = (5, 45)


def push_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The X-Signature header value: `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`."""
    signed = f"{timestamp}.".encode("ascii") + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _iso_utc(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def send_push_event(*, url: str, secret: str, record_type: str, record_id: str, event_type: str, now: float,
                    event_id: str | None = None, occurred_at: str | None = None,
                    timestamp: int | None = None) -> requests.Response:
    """Posts one push event; `now` (the sandbox clock) fills the times the caller leaves out."""
    if event_type not in PUSH_EVENT_TYPES:
        raise ValueError(f"event_type must be one of {sorted(PUSH_EVENT_TYPES)}")
    timestamp = int(now) if timestamp is None else timestamp
    body = json.dumps({
        "eventId": event_id or str(uuid.uuid4()),
        # SuiteScript's record.type is the lower-case record type id, e.g. "purchaseorder".
        "recordType": record_type.lower(),
        "recordId": str(record_id),
        "eventType": event_type,
        "occurredAt": occurred_at or _iso_utc(int(now)),
    }).encode("utf-8")
    signature = push_signature(secret=secret, timestamp=timestamp, body=body)
    return requests.post(url, data=body, timeout=PUSH_TIMEOUT,
                         headers={"Content-Type": "application/json", "X-Signature": signature})
