"""Delivering due records to JAGGAER, exactly once, and recording every try.

Records are claimed with a conditional UPDATE, so two processes never send the same record. An item's
result is read one by one; an HTTP 200 with a non-zero returnCode delivered nothing. A send whose outcome
is unknown (timeout, dropped connection, 500) is looked up in JAGGAER before anything is sent again, and
a DUPLICATE for our own content counts as delivered."""

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from credentials.models import ConnectionPair
from mappings.models import CodingMapping
from mappings.references import dimension_fields_of
from mappings.resolution import CodingResolver
from sync.backoff import backoff_delay
from sync.errors import JaggaerError
from sync.jaggaer_client import ItemResult, JaggaerClient
from sync.locks import extend_lease
from sync.models import ErrorKind, Flow, MissingCoding, SyncAttempt, SyncEvent, SyncRecord
from sync.payloads import Built, build
from sync.records import change_state, content_hash, make_due

logger = logging.getLogger(__name__)
State = SyncRecord.State

DUE_STATES = (State.PENDING, State.RETRYING, State.WAITING_FOR_MAPPING, State.WAITING_FOR_DEPENDENCY)
CLAIM_SECONDS = 600
# A batch renews its claim before a JAGGAER request once this much of it has passed: one request with its
# retries never outlasts the rest.
CLAIM_RENEW_SECONDS = CLAIM_SECONDS / 5
BATCH_SIZES = {Flow.PURCHASE_ORDERS: 50, Flow.VENDOR_BILLS: 50}  # JAGGAER's document batch limit
DEFAULT_BATCH_SIZE = 100
DEPENDENCY_NAMES = {Flow.VENDORS: "Supplier (NetSuite vendor id {})", Flow.PURCHASE_ORDERS: "Purchase order (NetSuite id {})"}


@dataclass
class DeliveryReport:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    jaggaer_requests: int = 0

    def count(self, state: str) -> None:
        self.counts[state] += 1


@dataclass
class _Outgoing:
    record: SyncRecord
    built: Built
    digest: str
    item: dict
    action: str
    revision: int | None = None


@dataclass
class _Held:
    """A record that is not sent now, and why."""

    state: str
    reason: str
    options: dict


@dataclass
class Preview:
    record: SyncRecord
    action: str
    payload: dict | None
    outcome: str  # "send", or the state the record would stay in
    reason: str


# What a lookup or an earlier step may have changed on the record in memory: saved with its next state.
CARRIED_FIELDS = ("outcome_unknown", "jaggaer_revision", "jaggaer_id", "delivered_sha256", "in_jaggaer")



def _result_json(result: ItemResult) -> dict:
    """JAGGAER's answer for one item, as the audit keeps it: its errors included, also beside a success."""
    return {"key": result.key, "id": result.jaggaer_id, "errors": [vars(error) for error in result.errors]}


def _attempt_outcome(held: bool, to_state: str, code: str, message: str, record: SyncRecord) -> dict[str, str]:
    """An attempt's outcome columns; one made after another process took the record over changes nothing."""
    if held:
        return {"state_after": to_state, "error_code": code, "message": message}
    return {"state_after": record.state, "error_code": "CLAIM_LOST",
            "message": f"{message} (not recorded: another process took over this record meanwhile)"}


def _errors_words(result: ItemResult) -> str:
    return "; ".join(f"{e.code}: {e.message}" if e.code else e.message for e in result.errors)


def _delivered_words(result: ItemResult) -> str:
    return {"Unchanged": "JAGGAER already had this content"}.get(result.status, f"{result.status} in JAGGAER")


def _with_carried(record: SyncRecord, fields: dict[str, object]) -> dict[str, object]:
    return {**{name: getattr(record, name) for name in CARRIED_FIELDS}, **fields}


def preview(*, pair: ConnectionPair, flow: str, records: list[SyncRecord]) -> list[Preview]:
    """What sending these records now would send (replay preview, backfill --dry-run); changes nothing."""
    return _Batch(pair=pair, flow=flow, client=None, report=DeliveryReport()).preview(records)  # type: ignore[arg-type]


def due_records(*, pair: ConnectionPair, flow: str, now: datetime) -> "Q":
    return Q(pair=pair, flow=flow, state__in=DUE_STATES, next_attempt_at__lte=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )


def claim(*, pair: ConnectionPair, flow: str, size: int, only_ids: list[int] | None = None) -> list[SyncRecord]:
    """Claims up to `size` due records for this process. The UPDATE re-checks the claim condition, so of
    two processes racing for a row exactly one gets it, on PostgreSQL and SQLite alike."""
    now = timezone.now()
    candidates = SyncRecord.objects.filter(due_records(pair=pair, flow=flow, now=now))
    if only_ids is not None:
        candidates = candidates.filter(pk__in=only_ids)
    ids = list(candidates.order_by("next_attempt_at", "id").values_list("pk", flat=True)[:size])
    if not ids:
        return []
    token = uuid.uuid4().hex
    SyncRecord.objects.filter(Q(pk__in=ids) & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))).update(
        claim_token=token, claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
    )
    return list(SyncRecord.objects.filter(claim_token=token, claimed_until__gt=now).order_by("id"))


def deliver_due(*, pair: ConnectionPair, flow: str, client: JaggaerClient, only_ids: list[int] | None = None,
                progress: Callable[[DeliveryReport], None] | None = None) -> DeliveryReport:
    """Delivers every record of `flow` that is due now, batch by batch, until none is left."""
    report = DeliveryReport()
    before = client.requests_made
    size = BATCH_SIZES.get(Flow(flow), DEFAULT_BATCH_SIZE)
    while batch := claim(pair=pair, flow=flow, size=size, only_ids=only_ids):
        sender = _Batch(pair=pair, flow=flow, client=client, report=report)
        # Taken now: recording an outcome empties the record's claim_token in memory too, and releasing by an
        # empty token would rewrite every unclaimed record of the table (and deadlock with other workers).
        token = batch[0].claim_token
        try:
            with client.calling_first(sender.keep_claim):
                sender.deliver(batch)
        finally:
            # A batch cut short (JAGGAER's token endpoint down, a crash) must not keep its records claimed
            # until the claim expires: what was not recorded is due again at once.
            SyncRecord.objects.filter(claim_token=token).update(claim_token="", claimed_until=None)
        extend_lease(pair=pair, flow=flow)
        if progress:
            progress(report)
    report.jaggaer_requests = client.requests_made - before
    return report


class _Batch:
    def __init__(self, *, pair: ConnectionPair, flow: str, client: JaggaerClient, report: DeliveryReport) -> None:
        self.pair = pair
        self.flow = Flow(flow)
        self.client = client
        self.report = report
        # Outcomes are written only to records this batch still holds: one whose claim another process took
        # over is that process's to send and to record.
        self.claim_token = ""
        self.claim_renewed = timezone.now()
        self.dimension_fields = dimension_fields_of(pair.jaggaer)
        self.started_at = timezone.now()
        # Built per batch: every record of a batch sees one consistent state of the mappings.
        self.resolver = CodingResolver(pair=pair, dimension_fields=self.dimension_fields)
        self.delivered: list[str] = []

    def _build(self, records: list[SyncRecord]) -> dict[int, Built]:
        today = timezone.localdate()
        return {record.pk: build(flow=self.flow, source=record.source, deleted=record.deleted_in_netsuite,
                                 resolver=self.resolver, dimension_fields=self.dimension_fields, on=today)
                for record in records}

    def deliver(self, records: list[SyncRecord]) -> None:
        """Sends records claimed together by claim()."""
        self.claim_token = records[0].claim_token
        self.claim_renewed = timezone.now()
        built = self._build(records)
        delivered_dependencies = self._delivered_dependencies(built.values())
        outgoing: list[_Outgoing] = []
        for record in records:
            prepared = self._prepare(record, built[record.pk], delivered_dependencies)
            if prepared is not None:
                outgoing.append(prepared)
        self._send(outgoing)
        self._release_dependents()
        self._recheck_dependencies([record for record in records if record.state == State.WAITING_FOR_DEPENDENCY])
        self._recheck_mappings([record for record in records if record.state == State.WAITING_FOR_MAPPING])

    def keep_claim(self) -> None:
        """Called before every JAGGAER request: a slow batch (lookups, retries after 429 or 503) must not
        outlive its claim, or another process would send the same records meanwhile."""
        now = timezone.now()
        if not self.claim_token or (now - self.claim_renewed).total_seconds() < CLAIM_RENEW_SECONDS:
            return
        SyncRecord.objects.filter(claim_token=self.claim_token).update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        self.claim_renewed = now

    def _held(self, records: list[SyncRecord]) -> set[int]:
        """Which of these records this batch still holds, locked until the transaction ends so that no other
        process claims them before their outcome is written."""
        return set(SyncRecord.objects.select_for_update().filter(
            pk__in=[record.pk for record in records], claim_token=self.claim_token).values_list("pk", flat=True))

    # Before sending ---------------------------------------------------------------------------

    def _delivered_dependencies(self, builds: Iterable[Built]) -> set[tuple[str, str]]:
        wanted: dict[str, set[str]] = defaultdict(set)
        for item in builds:
            for dep_flow, netsuite_id in item.depends_on:
                wanted[dep_flow].add(netsuite_id)
        delivered: set[tuple[str, str]] = set()
        for dep_flow, ids in wanted.items():
            rows = SyncRecord.objects.filter(pair=self.pair, flow=dep_flow, netsuite_id__in=ids, in_jaggaer=True)
            delivered.update((dep_flow, netsuite_id) for netsuite_id in rows.values_list("netsuite_id", flat=True))
        return delivered

    def _decide(self, record: SyncRecord, built: Built, delivered_dependencies: set,
                looked_up: bool = False) -> "_Outgoing | _Held":
        """What happens to a record, before anything is written or sent."""
        if built.problem:
            return _Held(State.FAILED, built.problem, dict(kind=ErrorKind.SOURCE_DATA, code="SOURCE_DATA"))
        if built.missing:
            return _Held(State.WAITING_FOR_MAPPING, "; ".join(code.message for code in built.missing),
                         dict(kind=ErrorKind.MAPPING, code="UNMAPPED", retry=True))
        unmet = [dep for dep in built.depends_on if dep not in delivered_dependencies]
        if unmet:
            dep_flow, dep_id = unmet[0]
            return _Held(State.WAITING_FOR_DEPENDENCY, f"{DEPENDENCY_NAMES[dep_flow].format(dep_id)} is not in JAGGAER yet",
                         dict(kind=ErrorKind.DEPENDENCY, code="DEPENDENCY", blocked_by=f"{dep_flow}:{dep_id}", retry=True))
        digest = content_hash({"content": built.content, "cancel": built.cancel})
        never_sent = not record.in_jaggaer and not record.outcome_unknown
        if built.cancel and never_sent:
            return _Held(State.SKIPPED, "Deleted or rejected in NetSuite before it reached JAGGAER: nothing to cancel", {})
        if digest == record.delivered_sha256 and not record.resend and (looked_up or not record.outcome_unknown):
            return _Held(State.SKIPPED, "Unchanged since the last delivery: nothing sent", {})
        return self._outgoing(record, built, digest)

    def _prepare(self, record: SyncRecord, built: Built, delivered_dependencies: set) -> _Outgoing | None:
        decision = self._decide(record, built, delivered_dependencies)
        if isinstance(decision, _Outgoing) and record.outcome_unknown:
            started = time.monotonic()
            try:
                if not self._send_after_lookup(record, built, decision.digest):
                    return None
            except JaggaerError as error:
                self._failed_send(replace(decision, action="lookup"), error, started)
                return None
            decision = self._decide(record, built, delivered_dependencies, looked_up=True)
        if isinstance(decision, _Outgoing):
            return decision
        if decision.state == State.WAITING_FOR_MAPPING:
            self._wait_for_mapping(record, built, decision)
        else:
            self._settle(record, decision.state, decision.reason, action="build", built=built, **decision.options)
        return None

    def preview(self, records: list[SyncRecord]) -> list["Preview"]:
        """What delivering these records now would do, without writing or sending anything."""
        built = self._build(records)
        delivered_dependencies = self._delivered_dependencies(built.values())
        previews = []
        for record in records:
            decision = self._decide(record, built[record.pk], delivered_dependencies)
            if isinstance(decision, _Outgoing):
                note = " (JAGGAER is asked first whether an earlier send arrived)" if record.outcome_unknown else ""
                previews.append(Preview(record=record, action=decision.action, payload=decision.item,
                                        outcome="send", reason=f"Would send as {decision.action}{note}"))
            else:
                previews.append(Preview(record=record, action="", payload=None, outcome=decision.state,
                                        reason=decision.reason))
        return previews

    def _outgoing(self, record: SyncRecord, built: Built, digest: str) -> _Outgoing:
        content = built.content or {}
        if self.flow == Flow.PURCHASE_ORDERS:
            action = "cancel" if built.cancel else ("update" if record.in_jaggaer else "new")
            revision = (record.jaggaer_revision or 0) + 1 if record.in_jaggaer else 0
            item = {**content, "poHeader": {**content["poHeader"], "type": action, "revisionNumber": revision}}
            return _Outgoing(record, built, digest, item, action, revision)
        if self.flow == Flow.VENDOR_BILLS:
            action = "cancel" if built.cancel else ("update" if record.in_jaggaer else "new")
            item = {**content, "header": {**content["header"], "type": action}}
            return _Outgoing(record, built, digest, item, action)
        return _Outgoing(record, built, digest, content, "upsert")

    def _send_after_lookup(self, record: SyncRecord, built: Built, digest: str) -> bool:
        """Our last send may have been applied: looks it up. False when nothing is left to send."""
        found = self._look_up(built)
        if found is None:
            return True  # it never arrived: send as planned
        if not self._adopt(record, built, found):
            return False
        record.outcome_unknown = False
        record.delivered_sha256 = record.payload_sha256
        if digest != record.payload_sha256:
            return True  # it arrived, and NetSuite has changed since: the changes go as an update
        self._settle(record, State.DELIVERED, "Found in JAGGAER: the send whose answer was lost had been applied",
                     action="lookup", built=built, delivered_at=timezone.now(), attempts=0)
        return False

    def _look_up(self, built: Built) -> dict | None:
        content = built.content or {}
        if self.flow == Flow.PURCHASE_ORDERS:
            return self.client.get_purchase_order(content["poHeader"]["poNumber"])
        if self.flow == Flow.VENDOR_BILLS:
            header = content["header"]
            return self.client.find_invoice(supplier_number=header["supplier"]["supplierNumber"],
                                            supplier_invoice_number=header["supplierInvoiceNumber"])
        return None  # suppliers and custom-field values are upserts: resending cannot duplicate them

    def _adopt(self, record: SyncRecord, built: Built, found: dict) -> bool | None:
        """Takes JAGGAER's copy as ours when it is ours. True: our send was applied; None: it is somebody
        else's object, and the record failed."""
        header = found.get("poHeader") or found.get("header") or found
        if str(header.get("externalId", "")) not in ("", record.netsuite_id):
            self._settle(record, State.FAILED, self._duplicate_words(record, str(header.get("externalId"))),
                         kind=ErrorKind.REJECTED, code="DUPLICATE", action="lookup", built=built)
            return None
        record.in_jaggaer = True
        if "revisionNumber" in header:
            record.jaggaer_revision = int(header["revisionNumber"])
        record.jaggaer_id = str(found.get("id") or header.get("id") or record.jaggaer_id)
        return True

    def _duplicate_words(self, record: SyncRecord, other_id: str) -> str:
        """Why a record fails on a number another NetSuite record holds in JAGGAER, in the words of its own
        document (an invoice also names a PO, which is not what clashes) and with what fixes it."""
        number = record.document_number or record.netsuite_id
        if self.flow == Flow.VENDOR_BILLS:
            vendor = f" from {record.label}" if record.label else ""
            return (f"Invoice {number}{vendor} already exists in JAGGAER (NetSuite bill {other_id}). Change the "
                    "bill number in NetSuite, then replay.")
        return (f"Purchase order {number} already exists in JAGGAER (NetSuite purchase order {other_id}). Change "
                "the PO number in NetSuite, then replay.")

    def _wait_for_mapping(self, record: SyncRecord, built: Built, decision: "_Held") -> None:
        self._settle(record, decision.state, decision.reason, action="build", built=built, missing=True,
                     **decision.options)

    # Sending ----------------------------------------------------------------------------------

    def _send(self, outgoing: list[_Outgoing]) -> None:
        if not outgoing:
            return
        groups: dict[str, list[_Outgoing]] = defaultdict(list)
        for entry in outgoing:
            groups[entry.item.get("field", "")].append(entry)
        for group in groups.values():
            self._send_group(group)

    def _send_group(self, group: list[_Outgoing]) -> None:
        started = time.monotonic()
        items = [entry.item["value"] if "field" in entry.item else entry.item for entry in group]
        try:
            results = self._post(group[0].item.get("field", ""), items)
        except JaggaerError as error:
            if not error.retryable and len(group) > 1:
                for entry in group:  # nothing was applied: find the item JAGGAER cannot read
                    self._send_group([entry])
                return
            for entry in group:
                self._failed_send(entry, error, started)
            return
        # Deliveries in one transaction, written in bulk: per-record writes and commits would dominate the
        # run's time.
        delivered = [(entry, result) for entry, result in zip(group, results, strict=True) if result.ok]
        with transaction.atomic():
            held = self._held([entry.record for entry, _ in delivered])
            self._record_deliveries([(e, r) for e, r in delivered if e.record.pk in held], started)
            for entry, result in delivered:
                if entry.record.pk not in held:
                    self._claim_lost(entry, result, started)
        for entry, result in zip(group, results, strict=True):
            if result.refused:
                self._result(entry, result, started)
            elif not result.ok:
                self._unconfirmed(entry, result, started)

    def _post(self, field_name: str, items: list[dict]) -> list[ItemResult]:
        if self.flow == Flow.VENDORS:
            return self.client.upsert_suppliers(items)
        if self.flow == Flow.PURCHASE_ORDERS:
            return self.client.send_purchase_orders(items)
        if self.flow == Flow.VENDOR_BILLS:
            return self.client.send_invoices(items)
        return self.client.upsert_custom_field_values(field_name=field_name, values=items)

    def _result(self, entry: _Outgoing, result: ItemResult, started: float) -> None:
        try:
            self._refused(entry, result, started)
        except JaggaerError as error:  # a lookup the refusal called for failed: the record's fate stays open
            self._failed_send(entry, error, started)

    def _refused(self, entry: _Outgoing, result: ItemResult, started: float) -> None:
        record = entry.record
        codes = {error.code for error in result.errors}
        message = _errors_words(result) or "JAGGAER refused the item"
        common = {"entry": entry, "started": started, "result": result, "code": ",".join(sorted(codes))}
        if "DUPLICATE" in codes and self.flow in (Flow.PURCHASE_ORDERS, Flow.VENDOR_BILLS):
            found = self._look_up(entry.built)
            if found is not None and self._adopt(record, entry.built, found):
                # Ours, from a send whose answer was lost; what it held is unknown, so the current
                # content follows as an update (an identical one changes nothing).
                record.delivered_sha256 = ""
                self._attempted(State.PENDING, "JAGGAER already had it from an earlier send: sending the "
                                "current content as an update", retry_now=True, **common)
                return
            if found is not None:
                return  # _adopt failed the record
        if codes == {"STALE_REVISION"}:
            found = self._look_up(entry.built)
            if found is not None:
                self._adopt(record, entry.built, found)
            self._attempted(State.PENDING, f"{message} (JAGGAER has revision {record.jaggaer_revision}): "
                            "sending the next revision", retry_now=True, **common)
        elif codes == {"UNKNOWN_CUSTOM_FIELD_VALUE"}:
            self._attempted(State.WAITING_FOR_MAPPING, message, kind=ErrorKind.MAPPING, **common)
        elif codes and codes <= {"UNKNOWN_SUPPLIER", "UNKNOWN_PO", "UNKNOWN_CUSTOM_FIELD_VALUE"}:
            self._attempted(State.WAITING_FOR_DEPENDENCY, message, kind=ErrorKind.DEPENDENCY, **common)
        else:
            self._attempted(State.FAILED, message, kind=ErrorKind.REJECTED, **common)

    def _unconfirmed(self, entry: _Outgoing, result: ItemResult, started: float) -> None:
        """An item status that is neither a success nor the documented refusal: JAGGAER may or may not hold
        the item, so it is never counted as delivered, and a `new` is looked up before it is sent again."""
        entry.record.outcome_unknown = entry.record.outcome_unknown or entry.action == "new"
        said = f"JAGGAER answered status {result.status!r}" if result.status else "JAGGAER answered no status"
        errors = _errors_words(result)
        self._attempted(State.RETRYING, f"{said} for this item, neither a success nor a refusal"
                        f"{': ' + errors if errors else ''}; it is checked and sent again later",
                        kind=ErrorKind.REMOTE, entry=entry, started=started, result=result, code="UNCONFIRMED")

    def _claim_lost(self, entry: _Outgoing, result: ItemResult, started: float) -> None:
        """JAGGAER accepted the item, but this batch no longer holds the record: the process that does will
        find JAGGAER's copy (DUPLICATE, Unchanged or a stale revision) and record it. Only the attempt is
        written here, so that the audit shows the send."""
        SyncAttempt.objects.create(
            record=entry.record, started_at=timezone.now(), duration_ms=int((time.monotonic() - started) * 1000),
            action=entry.action, request=entry.item, http_status=200, result_status=result.status,
            result=_result_json(result), state_after=entry.record.state, error_code="CLAIM_LOST",
            message=f"{_delivered_words(result)}, but another process took over this record meanwhile: "
                    "its outcome is recorded by that process", mappings_used=[list(u) for u in entry.built.mappings_used])
        logger.warning("Record %s: delivered after its claim was lost; left to the process that holds it",
                       entry.record.pk)

    def _failed_send(self, entry: _Outgoing, error: JaggaerError, started: float) -> None:
        if error.retryable:
            # A 500 or a lost answer may follow an applied write: look before sending again.
            # Only a lost `new` needs a lookup: resending an update or a cancel that was applied is
            # answered STALE_REVISION or Unchanged, which the next attempt handles.
            entry.record.outcome_unknown = entry.record.outcome_unknown or entry.action == "new"
            self._attempted(State.RETRYING, str(error), kind=ErrorKind.REMOTE, entry=entry, started=started,
                            code=error.code, http_status=error.status, retry_after=error.retry_after)
        else:
            self._attempted(State.FAILED, str(error), kind=ErrorKind.REJECTED, entry=entry, started=started,
                            code=error.code, http_status=error.status)

    # Recording --------------------------------------------------------------------------------

    def _record_deliveries(self, delivered: list[tuple[_Outgoing, ItemResult]], started: float) -> None:
        """Records delivered items in bulk: their attempts, their new state and its audit events."""
        if not delivered:
            return
        now = timezone.now()
        duration = int((time.monotonic() - started) * 1000)
        attempts = SyncAttempt.objects.bulk_create([
            SyncAttempt(record=entry.record, started_at=now, duration_ms=duration, action=entry.action,
                        request=entry.item, http_status=200, result_status=result.status,
                        result=_result_json(result),
                        state_after=State.DELIVERED, message=_delivered_words(result),
                        mappings_used=[list(used) for used in entry.built.mappings_used])
            for entry, result in delivered
        ])
        events = []
        settled = []
        for (entry, result), attempt in zip(delivered, attempts, strict=True):
            record = entry.record
            record.jaggaer_id = result.jaggaer_id or record.jaggaer_id
            if entry.revision is not None:
                record.jaggaer_revision = entry.revision
            what_jaggaer_has = dict(delivered_sha256=entry.digest, payload_sha256=entry.digest, payload=entry.item,
                                    jaggaer_id=record.jaggaer_id, jaggaer_revision=record.jaggaer_revision,
                                    in_jaggaer=True, outcome_unknown=False, claimed_until=None, claim_token="")
            # Only a record whose NetSuite source is still the one that was sent becomes delivered; one
            # that a pull or a push changed meanwhile stays due, to send the newer content.
            if SyncRecord.objects.filter(pk=record.pk, source_sha256=record.source_sha256).update(
                    state=State.DELIVERED, **what_jaggaer_has):
                events.append(SyncEvent(record=record, at=now, from_state=record.state, to_state=State.DELIVERED,
                                        reason=attempt.message, attempt=attempt))
                settled.append(record)
            else:
                SyncRecord.objects.filter(pk=record.pk).update(**what_jaggaer_has)
        records = [entry.record for entry, _ in delivered]
        # What every delivered record has in common, in one statement.
        SyncRecord.objects.filter(pk__in=[record.pk for record in settled]).update(
            delivered_at=now, updated_at=now, resend=False, attempts=0, next_attempt_at=None, last_error_kind="",
            last_error_code="", last_error_message="", blocked_by="")
        SyncEvent.objects.bulk_create(events)
        MissingCoding.objects.filter(record__in=settled).delete()
        self.report.counts[State.DELIVERED] += len(records)
        self.delivered.extend(record.netsuite_id for record in records)

    def _attempted(self, to_state: str, message: str, *, entry: _Outgoing, started: float, code: str,
                   kind: str = "", result: ItemResult | None = None, http_status: int | None = 200,
                   retry_now: bool = False, retry_after: float | None = None) -> None:
        record = entry.record
        attempts = record.attempts + 1
        if to_state in (State.RETRYING, State.PENDING) and attempts >= settings.SYNC_MAX_ATTEMPTS:
            to_state, message = State.FAILED, f"{message} (gave up after {attempts} attempts)"
        next_at = timezone.now() if retry_now else self._next_attempt(attempts, retry_after)
        self._record_attempt(
            entry, to_state, message, started=started, result=result, http_status=http_status, attempts=attempts,
            payload=entry.item, payload_sha256=entry.digest, last_error_kind=kind, last_error_code=code,
            last_error_message=message, next_attempt_at=None if to_state == State.FAILED else next_at,
        )

    def _record_attempt(self, entry: _Outgoing, to_state: str, message: str, *, started: float,
                        result: ItemResult | None, http_status: int | None, **fields: object) -> None:
        record = entry.record
        fields = _with_carried(record, fields)
        with transaction.atomic():
            held = bool(self._held([record]))
            attempt = SyncAttempt.objects.create(
                record=record, started_at=timezone.now(), duration_ms=int((time.monotonic() - started) * 1000),
                action=entry.action, request=entry.item, http_status=http_status,
                result_status=result.status if result else "",
                result=_result_json(result) if result else None,
                **_attempt_outcome(held, to_state, str(fields.get("last_error_code", "")), message, record),
                mappings_used=[list(used) for used in entry.built.mappings_used],
            )
            if not held:
                return
            MissingCoding.objects.filter(record=record).delete()
            change_state(record=record, to_state=to_state, reason=message, attempt=attempt,
                         claim_token="", claimed_until=None, **fields)
        self.report.count(to_state)

    def _settle(self, record: SyncRecord, to_state: str, reason: str, *, action: str, built: Built, kind: str = "",
                code: str = "", blocked_by: str = "", retry: bool = False, missing: bool = False,
                **fields: object) -> None:
        """A decision made without sending to JAGGAER (waiting, skipped, bad data, found by a lookup), with
        its audit rows. `missing`: the record waits for the codes `built` lacks."""
        fields = _with_carried(record, fields)
        fields.setdefault("attempts", record.attempts + 1 if retry else record.attempts)
        attempts = int(fields["attempts"])  # type: ignore[call-overload]
        with transaction.atomic():
            held = bool(self._held([record]))
            attempt = SyncAttempt.objects.create(
                record=record, started_at=timezone.now(), action=action,
                **_attempt_outcome(held, to_state, code, reason, record),
                mappings_used=[list(used) for used in built.mappings_used],
            )
            if not held:
                return
            MissingCoding.objects.filter(record=record).delete()
            if missing:
                MissingCoding.objects.bulk_create(
                    [MissingCoding(record=record, kind=c.kind, netsuite_id=c.netsuite_id) for c in built.missing])
            change_state(
                record=record, to_state=to_state, reason=reason, attempt=attempt, claim_token="", claimed_until=None,
                blocked_by=blocked_by, last_error_kind=kind, last_error_code=code,
                last_error_message=reason if kind else "", resend=False,
                next_attempt_at=self._next_attempt(attempts, None) if retry else None, **fields,
            )
        self.report.count(to_state)

    @staticmethod
    def _next_attempt(attempts: int, retry_after: float | None) -> datetime:
        delay = backoff_delay(attempt=max(1, attempts), base=settings.SYNC_RETRY_BASE_SECONDS,
                              cap=settings.SYNC_RETRY_CAP_SECONDS)
        return timezone.now() + timedelta(seconds=max(delay, retry_after or 0))

    def _recheck_dependencies(self, waiting: list[SyncRecord]) -> None:
        """Another process may have delivered what these records wait for while this batch decided they
        wait, and released them before the decision was written: look again, after writing it."""
        if not waiting:
            return
        wanted: dict[str, list[str]] = defaultdict(list)
        for record in waiting:
            dep_flow, _, dep_id = record.blocked_by.partition(":")
            wanted[dep_flow].append(dep_id)
        arrived = {
            f"{dep_flow}:{netsuite_id}"
            for dep_flow, ids in wanted.items()
            for netsuite_id in SyncRecord.objects.filter(pair=self.pair, flow=dep_flow, netsuite_id__in=ids,
                                                         in_jaggaer=True).values_list("netsuite_id", flat=True)
        }
        if arrived:
            make_due(records=SyncRecord.objects.filter(pk__in=[r.pk for r in waiting if r.blocked_by in arrived],
                                                       state=State.WAITING_FOR_DEPENDENCY),
                     reason="What it waited for reached JAGGAER meanwhile")

    def _recheck_mappings(self, waiting: list[SyncRecord]) -> None:
        """A mapping saved while this batch resolved with the mappings as they were released nothing (the
        records were not waiting yet): look for one now that they are."""
        if not waiting:
            return
        saved = set(CodingMapping.history.filter(pair_id=self.pair.pk, history_date__gte=self.started_at)
                    .values_list("kind", "netsuite_id"))
        if not saved:
            return
        blocked = MissingCoding.objects.filter(record__in=waiting).values_list("record_id", "kind", "netsuite_id")
        released = [record_id for record_id, kind, netsuite_id in blocked if (kind, netsuite_id) in saved]
        if released:
            make_due(records=SyncRecord.objects.filter(pk__in=released, state=State.WAITING_FOR_MAPPING),
                     reason="A mapping it needs was saved meanwhile")

    def _release_dependents(self) -> None:
        """Records that waited for what this batch delivered go out in their own flow's next delivery."""
        if not self.delivered:
            return
        keys = [f"{self.flow}:{netsuite_id}" for netsuite_id in self.delivered]
        waiting = SyncRecord.objects.filter(pair=self.pair, state=State.WAITING_FOR_DEPENDENCY, blocked_by__in=keys)
        make_due(records=waiting, reason="What it waited for reached JAGGAER")
