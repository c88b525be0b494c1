"""The journal: the only writer of SyncRecord states, SyncEvents and SyncAttempts. Every state change goes
with its SyncEvent in the same transaction; a record's source is replaced only when NetSuite's content really
changed; an outcome is written only to a record its writer still holds (a delivery's claim), and the attempt
is written either way, so that the audit shows every send."""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from credentials.models import ConnectionPair
from mappings.resolution import MissingCode
from sync.models import MissingCoding, SyncAttempt, SyncEvent, SyncRecord

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
    _insert_each(created)
    _update_each(changed, ("state", "source", "source_sha256", "document_number", "netsuite_entity", "label",
                           "netsuite_last_modified", "deleted_in_netsuite", "attempts", "next_attempt_at", "updated_at"))
    for event in events:
        event.record_id = event.record.pk
    _insert_each(events)
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


@transaction.atomic
def mark_for_replay(*, records: QuerySet[SyncRecord], actor: str) -> dict[tuple[int, str], list[int]]:
    """Marks the records pending and due now, to be sent even if unchanged; returns their ids by
    (pair, flow)."""
    now = timezone.now()
    chosen: dict[tuple[int, str], list[int]] = defaultdict(list)
    events = []
    for record in records.select_for_update().only("pk", "pair_id", "flow", "state"):
        events.append(SyncEvent(record_id=record.pk, at=now, from_state=record.state,
                                to_state=State.PENDING, reason="Replay requested", actor=actor))
        chosen[(record.pair_id, record.flow)].append(record.pk)
    ids = [pk for group in chosen.values() for pk in group]
    SyncRecord.objects.filter(pk__in=ids).update(
        state=State.PENDING, resend=True, attempts=0, next_attempt_at=now, claimed_until=None,
        claim_token="", updated_at=now)
    _insert_each(events)
    return dict(chosen)


# Attempts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Try:
    """One attempt at a record as the audit keeps it: what was done and sent, and what came back."""

    action: str
    started_at: Any
    duration_ms: int = 0
    request: dict | None = None
    http_status: int | None = None
    result_status: str = ""
    result: dict | None = None
    mappings_used: tuple[tuple[int, int | None], ...] = ()

    def attempt(self, record: SyncRecord, **outcome: Any) -> SyncAttempt:
        return SyncAttempt(record=record, started_at=self.started_at, duration_ms=self.duration_ms, action=self.action,
                           request=self.request, http_status=self.http_status, result_status=self.result_status,
                           result=self.result, mappings_used=[list(used) for used in self.mappings_used], **outcome)


def held(*, claim_token: str, record_ids: list[int]) -> set[int]:
    """Which of these records the claim still holds, locked until the transaction ends so that no other
    process claims them before their outcome is written."""
    return set(SyncRecord.objects.select_for_update().filter(
        pk__in=record_ids, claim_token=claim_token).values_list("pk", flat=True))


def write_outcome(*, record: SyncRecord, claim_token: str, attempt: Try, to_state: str, reason: str, code: str = "",
                  missing: Iterable[MissingCode] = (), **fields: Any) -> bool:
    """Writes the attempt, and, if the claim still holds the record, its new state with `fields`, its event and
    the codes it now waits for (`missing`). False when another process took the record over meanwhile: then
    the attempt says so, and nothing else is written."""
    with transaction.atomic():
        still_held = bool(held(claim_token=claim_token, record_ids=[record.pk]))
        if still_held:
            outcome = {"state_after": to_state, "error_code": code, "message": reason}
        else:
            outcome = {"state_after": record.state, "error_code": "CLAIM_LOST",
                       "message": f"{reason} (not recorded: another process took over this record meanwhile)"}
        written = attempt.attempt(record, **outcome)
        written.save()
        if not still_held:
            return False
        MissingCoding.objects.filter(record=record).delete()
        MissingCoding.objects.bulk_create(
            [MissingCoding(record=record, kind=code.kind, netsuite_id=code.netsuite_id) for code in missing])
        change_state(record=record, to_state=to_state, reason=reason, attempt=written, claim_token="",
                     claimed_until=None, **fields)
    return True


def write_lost_claim(*, record: SyncRecord, attempt: Try, reason: str) -> None:
    """A send JAGGAER accepted for a record another process holds by now: only the attempt, for the audit;
    the process that holds the record finds JAGGAER's copy and records the outcome."""
    attempt.attempt(record, state_after=record.state, error_code="CLAIM_LOST", message=reason).save()


_WHAT_JAGGAER_HAS = ("delivered_sha256", "payload_sha256", "payload", "jaggaer_id", "jaggaer_revision")


def _insert_each(rows: list[Model]) -> None:
    """Inserts rows of one model, a statement per chunk, and gives them their primary keys. Django's
    bulk_create compiles each value of each row through its query compiler: for a page of deliveries that
    cost more CPU than encoding their JSON."""
    if not rows:
        return
    meta = rows[0]._meta
    if not connection.features.can_return_rows_from_bulk_insert:  # SQLite before 3.35
        type(rows[0]).objects.bulk_create(rows)
        return
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) VALUES "
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    size = connection.ops.bulk_batch_size(fields, rows)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start:start + size]
            # Rows come back in the order of VALUES on both databases, which Django's bulk_create relies on too.
            cursor.execute(
                head + ", ".join([placeholders] * len(chunk)) + f" RETURNING {quote(meta.pk.column)}",
                [field.get_db_prep_save(field.pre_save(row, True), connection) for row in chunk for field in fields])
            for row, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                row.pk = pk
                row._state.adding, row._state.db = False, connection.alias


def _update_each(records: list[SyncRecord], fields: tuple[str, ...]) -> None:
    """One UPDATE statement run for every record (executemany): Django's bulk_update builds a CASE expression
    per field and row, and compiling those cost more CPU than everything else a delivery does."""
    if not records:
        return
    meta = SyncRecord._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    rows = [[column.get_db_prep_save(getattr(record, column.attname), connection) for column in columns] + [record.pk]
            for record in records]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


@dataclass(frozen=True)
class Delivery:
    """A record JAGGAER accepted: what it now holds of it."""

    record: SyncRecord
    attempt: Try
    message: str
    digest: str
    jaggaer_id: str
    revision: int | None


def write_deliveries(deliveries: list[Delivery]) -> None:
    """Records accepted items in bulk (per-record writes and commits would dominate a run's time): their
    attempts, their new state and its events. Call inside the transaction that checked the claim. A record
    whose NetSuite source changed since it was sent keeps what JAGGAER has, and stays due for the newer
    content."""
    if not deliveries:
        return
    now = timezone.now()
    attempts = [delivery.attempt.attempt(delivery.record, state_after=State.DELIVERED, message=delivery.message)
                for delivery in deliveries]
    _insert_each(attempts)
    # The rows are locked by the caller's claim check: their sources cannot change before this commits.
    now_in_netsuite = {pk: (digest, deleted) for pk, digest, deleted in SyncRecord.objects.filter(
        pk__in=[d.record.pk for d in deliveries]).values_list("pk", "source_sha256", "deleted_in_netsuite")}
    events = []
    settled: list[SyncRecord] = []
    for delivery, attempt in zip(deliveries, attempts, strict=True):
        record = delivery.record
        record.jaggaer_id = delivery.jaggaer_id or record.jaggaer_id
        if delivery.revision is not None:
            record.jaggaer_revision = delivery.revision
        record.delivered_sha256 = record.payload_sha256 = delivery.digest
        record.payload = delivery.attempt.request
        record.in_jaggaer, record.outcome_unknown, record.claimed_until, record.claim_token = True, False, None, ""
        # Only a record whose NetSuite source is still the one that was sent becomes delivered; one that a pull
        # or a push changed, or deleted, meanwhile keeps what JAGGAER has and stays due, to send the newer
        # content or the cancellation.
        if now_in_netsuite.get(record.pk) == (record.source_sha256, record.deleted_in_netsuite):
            events.append(SyncEvent(record=record, at=now, from_state=record.state, to_state=State.DELIVERED,
                                    reason=attempt.message, attempt=attempt))
            record.state = State.DELIVERED
            settled.append(record)
    _update_each([delivery.record for delivery in deliveries], _WHAT_JAGGAER_HAS)
    SyncRecord.objects.filter(pk__in=[delivery.record.pk for delivery in deliveries]).update(
        in_jaggaer=True, outcome_unknown=False, claimed_until=None, claim_token="")
    # What every delivered record has in common, in one statement.
    SyncRecord.objects.filter(pk__in=[record.pk for record in settled]).update(
        state=State.DELIVERED, delivered_at=now, updated_at=now, resend=False, attempts=0, next_attempt_at=None,
        last_error_kind="", last_error_code="", last_error_message="", blocked_by="")
    _insert_each(events)
    MissingCoding.objects.filter(record__in=settled).delete()
