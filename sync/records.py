"""Writing SyncRecords: every state change goes with its SyncEvent in the same transaction, and a
record's source is replaced only when NetSuite's content really changed."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from credentials.models import ConnectionPair
from sync.models import SyncEvent, SyncRecord

State = SyncRecord.State
# Tries at recording a page of which other processes keep creating new records meanwhile (pushes during a
# first full pull): each try that meets one has found those created before it.
RECORDING_TRIES = 5


def content_hash(content: Any) -> str:
    """SHA-256 of canonical JSON: equal content, equal hash, whatever the key order."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SourceItem:
    """A NetSuite record as a flow read it."""

    netsuite_id: str
    source: dict
    document_number: str = ""
    entity: str = ""
    label: str = ""
    last_modified: str = ""


def change_state(*, record: SyncRecord, to_state: str, reason: str, attempt: Any = None, actor: str = "",
                 **fields: Any) -> bool:
    """Saves the record in `to_state` with `fields` and writes the audit event, atomically. False when the
    record's NetSuite content changed since it was loaded (nothing is written then)."""
    from_state = record.state
    record.state = to_state
    record.updated_at = timezone.now()
    for name, value in fields.items():
        setattr(record, name, value)
    changes = {name: getattr(record, name) for name in ("state", "updated_at", *fields)}
    with transaction.atomic():
        # Guarded by the source it was decided on: if a pull or a push stored newer NetSuite content
        # meanwhile, that record is pending again and this decision about the old content is dropped.
        if not SyncRecord.objects.filter(pk=record.pk, source_sha256=record.source_sha256).update(**changes):
            return False
        SyncEvent.objects.create(record=record, at=record.updated_at, from_state=from_state, to_state=to_state,
                                 reason=reason, attempt=attempt, actor=actor)
    return True


def record_sources(*, pair: ConnectionPair, flow: str, items: Iterable[SourceItem]) -> int:
    """Creates or refreshes the records of one page of pulled sources. A record whose content did not
    change (a re-read of the overlap window, an echo of a push) is left alone. Returns how many records
    are new or changed, and so due for delivery."""
    items = list({item.netsuite_id: item for item in items}.values())
    for _ in range(RECORDING_TRIES - 1):
        try:
            return _record_sources(pair=pair, flow=flow, items=items)
        except IntegrityError:
            # Another process (a push's re-read beside a poll) created one of these new records after they were
            # looked up; its transaction is over, so looking again finds it, and this content updates it.
            continue
    return _record_sources(pair=pair, flow=flow, items=items)


@transaction.atomic
def _record_sources(*, pair: ConnectionPair, flow: str, items: list[SourceItem]) -> int:
    if not items:
        return 0
    now = timezone.now()
    existing = {
        record.netsuite_id: record
        for record in SyncRecord.objects.select_for_update()
        .filter(pair=pair, flow=flow, netsuite_id__in=[item.netsuite_id for item in items])
        .defer("payload")
    }
    created: list[SyncRecord] = []
    changed: list[SyncRecord] = []
    events: list[SyncEvent] = []
    for item in items:
        digest = content_hash(item.source)
        record = existing.get(item.netsuite_id)
        if record is not None and record.source_sha256 == digest and not record.deleted_in_netsuite:
            continue
        if record is None:
            record = SyncRecord(pair=pair, flow=flow, netsuite_id=item.netsuite_id)
            created.append(record)
            reason = "Read from NetSuite"
        else:
            changed.append(record)
            reason = "Changed in NetSuite"
        events.append(SyncEvent(record=record, at=now, from_state=record.state if record.pk else "",
                                to_state=State.PENDING, reason=reason))
        record.state = State.PENDING
        record.source = item.source
        record.source_sha256 = digest
        record.document_number = item.document_number[:200]
        record.netsuite_entity = item.entity
        record.label = item.label[:400]
        record.netsuite_last_modified = item.last_modified
        record.deleted_in_netsuite = False
        record.attempts = 0
        record.next_attempt_at = now
        record.updated_at = now
    SyncRecord.objects.bulk_create(created)
    SyncRecord.objects.bulk_update(
        changed,
        ["state", "source", "source_sha256", "document_number", "netsuite_entity", "label", "netsuite_last_modified",
         "deleted_in_netsuite", "attempts", "next_attempt_at", "updated_at"],
    )
    for event in events:
        event.record_id = event.record.pk
    SyncEvent.objects.bulk_create(events)
    return len(created) + len(changed)


@transaction.atomic
def record_deletions(*, pair: ConnectionPair, flow: str, netsuite_ids: Iterable[str]) -> int:
    """Marks records deleted in NetSuite so that delivery cancels (POs) or deactivates (vendors) them."""
    now = timezone.now()
    records = list(
        SyncRecord.objects.select_for_update()
        .filter(pair=pair, flow=flow, netsuite_id__in=list(netsuite_ids), deleted_in_netsuite=False)
        .defer("payload")
    )
    for record in records:
        change_state(record=record, to_state=State.PENDING, reason="Deleted in NetSuite",
                     deleted_in_netsuite=True, attempts=0, next_attempt_at=now)
    return len(records)


@transaction.atomic
def make_due(*, records: QuerySet[SyncRecord], reason: str, actor: str = "") -> int:
    """Puts records back to pending, due now (a released mapping, a delivered dependency, a replay)."""
    now = timezone.now()
    count = 0
    for record in records.select_for_update().defer("payload"):
        change_state(record=record, to_state=State.PENDING, reason=reason, actor=actor,
                     next_attempt_at=now, attempts=0)
        count += 1
    return count
