"""Delivering due records to JAGGAER, exactly once, and recording every try.

Records are claimed with a conditional UPDATE, so two processes never send the same record. Each claimed
record is decided (sync/engine/decide.py), sent through its flow's writer, and the outcome written by the journal
to the records the batch still holds. An item's result is read one by one; an HTTP 200 with a non-zero
returnCode delivered nothing. A send whose outcome is unknown (timeout, dropped connection, 500) is looked
up in JAGGAER before anything is sent again, and a DUPLICATE for our own content counts as delivered."""

import logging
import re
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from credentials.models import ConnectionPair
from credentials.tokens import TokenNeedsRenewal, from_memory_only
from mappings.models import CodingKind
from mappings.resolution import CodingResolver, MissingCode
from sync.engine.decide import Decider, Hold, Send, decide
from sync.engine.journal import Delivery, Try, held, make_due, write_deliveries, write_lost_claim, write_outcome
from sync.engine.locks import extend_lease
from sync.flows import flow_named
from sync.flows.base import Built
from sync.models import ErrorKind, MissingCoding, SyncRecord, blocker_key, blocker_of
from sync.remote.backoff import backoff_delay
from sync.remote.errors import JaggaerError
from sync.remote.jaggaer_client import ItemResult, JaggaerClient

logger = logging.getLogger(__name__)
State = SyncRecord.State

DUE_STATES = (State.PENDING, State.RETRYING, State.WAITING_FOR_MAPPING, State.WAITING_FOR_DEPENDENCY)
CLAIM_SECONDS = 600
# A batch renews its claim before a JAGGAER request once this much of it has passed: one request with its
# retries never outlasts the rest.
CLAIM_RENEW_SECONDS = CLAIM_SECONDS / 5
# How often a run waiting for JAGGAER renews claims and checks that it can still record what comes back.
WATCH_SECONDS = 1.0
# What a lookup or an earlier step may have changed on the record in memory: saved with its next state.
CARRIED_FIELDS = ("outcome_unknown", "jaggaer_revision", "jaggaer_id", "delivered_sha256", "in_jaggaer")


@dataclass
class DeliveryReport:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    jaggaer_requests: int = 0

    def count(self, state: str) -> None:
        self.counts[state] += 1


def _result_json(result: ItemResult) -> dict:
    """JAGGAER's answer for one item, as the audit keeps it: its errors included, also beside a success."""
    return {"key": result.key, "id": result.jaggaer_id, "errors": [vars(error) for error in result.errors]}


def _errors_words(result: ItemResult) -> str:
    return "; ".join(f"{e.code}: {e.message}" if e.code else e.message for e in result.errors)


def _delivered_words(result: ItemResult) -> str:
    return {"Unchanged": "JAGGAER already had this content"}.get(result.status, f"{result.status} in JAGGAER")


# JAGGAER's words for a value it does not have or holds inactive (contract section 2).
_REFUSED_VALUE = re.compile(r"No custom field found for (?P<field>\S+) value '(?P<value>.*)'")


def _codes_behind_refused_values(built: Built, result: ItemResult) -> list[MissingCode]:
    """The NetSuite codes that were coded to the values JAGGAER refused: what the record now waits for. A
    message that names no value leaves the record waiting for its next try alone."""
    refused = {(found["field"], found["value"]) for error in result.errors
               if (found := _REFUSED_VALUE.search(error.message))}
    return [MissingCode(kind=code.kind, netsuite_id=code.netsuite_id,
                        message=f"JAGGAER refused {code.field} value '{code.value}'")
            for code in built.coded if (code.field, code.value) in refused]


def _with_carried(record: SyncRecord, fields: dict[str, object]) -> dict[str, object]:
    return {**{name: getattr(record, name) for name in CARRIED_FIELDS}, **fields}


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
    # By id as well as by token: the token column has no index, and a scan per batch grows with the table.
    return list(SyncRecord.objects.filter(pk__in=ids, claim_token=token, claimed_until__gt=now).order_by("id"))


def deliver_due(*, pair: ConnectionPair, flow: str, client: JaggaerClient, only_ids: list[int] | None = None,
                progress: Callable[[DeliveryReport], None] | None = None) -> DeliveryReport:
    """Delivers every record of `flow` that is due now, batch by batch, until none is left."""
    with Deliveries(pair=pair, flow=flow, client=client, only_ids=only_ids, progress=progress) as deliveries:
        return deliveries.finish()


@dataclass
class Sent:
    """What one JAGGAER request of a batch came back with: results, or the error that stopped it, or None of
    either when it must be sent again by the thread that owns the database (its token needs renewing)."""

    group: list["Send"]
    seconds: float  # how long the request took, retries included
    results: list[ItemResult] | None = None
    error: JaggaerError | None = None

    @property
    def started(self) -> float:
        """A monotonic start that dates the attempt rows written now with the request's own duration."""
        return time.monotonic() - self.seconds


@dataclass
class _InFlight:
    batch: "Batch"
    groups: list[list["Send"]]
    token: str
    ids: list[int]
    sending: Future | None = None


class Deliveries:
    """One flow's due records delivered batch after batch, with up to SYNC_JAGGAER_IN_FLIGHT batch requests in
    flight at once. Only JAGGAER requests run in the pool's threads: claims, decisions and outcomes are written
    by the calling thread, in its own database connection and transactions, as a single batch's are.

    `pump()` starts what is due and records what came back without waiting, so a pull calls it after each page
    it recorded and JAGGAER is busy while NetSuite is read; `finish()` delivers until nothing is due or in
    flight. As a context manager it waits for and records whatever is in flight when the block fails."""

    def __init__(self, *, pair: ConnectionPair, flow: str, client: JaggaerClient, only_ids: list[int] | None = None,
                 progress: Callable[[DeliveryReport], None] | None = None) -> None:
        self.pair = pair
        self.flow = str(flow)
        self.client = client
        self.only_ids = only_ids
        self.progress = progress
        self.report = DeliveryReport()
        self.limit = settings.SYNC_JAGGAER_IN_FLIGHT
        self.in_flight: list[_InFlight] = []
        self._pool: ThreadPoolExecutor | None = None
        self._requests_before = client.requests_made
        # Set once this thread can no longer record outcomes (its database is gone, the run failed): the
        # sending threads then make no further request, retries included, whose outcome nobody would record.
        self._abandoned = threading.Event()

    def __enter__(self) -> "Deliveries":
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, trace: object) -> None:
        try:
            if kind is not None:
                self._drain()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            self.report.jaggaer_requests = self.client.requests_made - self._requests_before

    def pump(self) -> None:
        """Records what came back and starts due batches while requests are free; never waits for JAGGAER."""
        self._collect(block=False)
        self._keep_claims()  # a pull between two pumps may take long (NetSuite's retries)
        self._start_due()

    def finish(self) -> DeliveryReport:
        while True:
            self._start_due()
            if not self.in_flight:
                break
            self._collect(block=True)
        self.report.jaggaer_requests = self.client.requests_made - self._requests_before
        return self.report

    def _start_due(self) -> None:
        while len(self.in_flight) < self.limit:
            records = claim(pair=self.pair, flow=self.flow, size=flow_named(self.flow).batch_size,
                            only_ids=self.only_ids)
            if not records:
                return
            batch = Batch(pair=self.pair, flow=self.flow, client=self.client, report=self.report)
            # Taken now: recording an outcome empties the record's claim_token in memory too, and releasing by
            # an empty token would rewrite every unclaimed record of the table (and deadlock with other workers).
            started = _InFlight(batch=batch, groups=[], token=records[0].claim_token, ids=[r.pk for r in records])
            self.in_flight.append(started)
            with self._released_when_failed(started):
                with self.client.calling_first(batch.keep_claim):
                    started.groups = batch.start(records)
                if self.limit == 1 or not started.groups:
                    self._complete(started, self._send_here(started))
                else:
                    self.client.load_token()
                    started.sending = self._threads().submit(_send_from_memory, batch, started.groups,
                                                             self._abandoned)

    def _collect(self, *, block: bool) -> None:
        """Records the batches whose requests came back, in the order they were started; with `block`, waits for
        at least the first (renewing the claims of those still out while it waits)."""
        while self.in_flight:
            first = self.in_flight[0]
            if first.sending is not None and not first.sending.done():
                if not block:
                    return
                wait([first.sending], timeout=WATCH_SECONDS)
                self._keep_claims()
                continue
            with self._released_when_failed(first):
                sent = first.sending.result() if first.sending is not None else []
                # What came back without a token it could use is sent again here, where a renewal can be saved.
                # After a failure nothing is sent again: those groups were not sent, and stay due.
                redo = [entry.group for entry in sent if entry.results is None and entry.error is None]
                sent = [entry for entry in sent if entry.group not in redo]
                if redo and not self._abandoned.is_set():
                    sent += self._send_here(first, redo)
                self._complete(first, sent)
            block = False

    def _keep_claims(self) -> None:
        """Renews the claims of the batches that are out, and proves that their outcomes can still be recorded."""
        try:
            for waiting in self.in_flight:
                waiting.batch.keep_claim()
            _database_answers()
        except Exception:
            self._abandoned.set()
            raise

    def _send_here(self, started: _InFlight, groups: list[list["Send"]] | None = None) -> list[Sent]:
        def before_each_request() -> None:
            started.batch.keep_claim()
            _database_answers()  # a retry after a long wait is not made if its outcome could not be recorded

        with self.client.calling_first(before_each_request):
            return started.batch.transmit(started.groups if groups is None else groups)

    def _complete(self, started: _InFlight, sent: list[Sent]) -> None:
        with self.client.calling_first(started.batch.keep_claim):
            started.batch.record(sent)
        self._release(started)
        extend_lease(pair=self.pair, flow=self.flow)
        if self.progress:
            self.progress(self.report)

    @contextmanager
    def _released_when_failed(self, started: _InFlight) -> Iterator[None]:
        try:
            yield
        except BaseException:
            self._release(started)
            raise

    def _release(self, started: _InFlight) -> None:
        """A batch cut short (JAGGAER's token endpoint down, a crash) must not keep its records claimed until the
        claim expires: what was not recorded is due again at once."""
        if started in self.in_flight:
            self.in_flight.remove(started)
        SyncRecord.objects.filter(pk__in=started.ids, claim_token=started.token).update(claim_token="",
                                                                                       claimed_until=None)

    def _drain(self) -> None:
        """After a failure: records what is in flight (its sends may have been applied) where the database still
        allows, and sends nothing more."""
        self._abandoned.set()
        while self.in_flight:
            first = self.in_flight[0]
            try:
                self._collect(block=True)
            except Exception:  # the first failure is the one raised
                logger.exception("A delivery batch of %s failed while a failed run waited for it", self.flow)
                if self.in_flight and self.in_flight[0] is first:
                    self.in_flight.pop(0)  # its claim runs out by itself

    def _threads(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.limit, thread_name_prefix=f"jaggaer-{self.flow}")
        return self._pool


class DeliveryAbandoned(Exception):
    """The thread that records this delivery's outcomes can no longer do so: make no further request."""


def _send_from_memory(batch: "Batch", groups: list[list["Send"]], abandoned: threading.Event) -> list[Sent]:
    def unless_abandoned() -> None:
        if abandoned.is_set():
            raise DeliveryAbandoned

    with from_memory_only(), batch.client.calling_first(unless_abandoned):
        return batch.transmit(groups)


def _database_answers() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


class Batch:
    """Records claimed together: decided, sent through the flow's writer, and their outcomes journaled."""

    def __init__(self, *, pair: ConnectionPair, flow: str, client: JaggaerClient, report: DeliveryReport) -> None:
        self.pair = pair
        self.flow = str(flow)
        self.writer = flow_named(flow)
        self.client = client
        self.report = report
        # Outcomes are written only to records this batch still holds: one whose claim another process took
        # over is that process's to send and to record.
        self.claim_token = ""
        self.claimed_ids: list[int] = []
        self.claim_renewed = timezone.now()
        # Built per batch: every record of a batch sees one consistent state of the mappings.
        self.decider = Decider(pair=pair, flow=flow)
        self.delivered: list[str] = []
        self.records: list[SyncRecord] = []

    def deliver(self, records: list[SyncRecord]) -> None:
        """Sends records claimed together by claim(), in this thread."""
        self.record(self.transmit(self.start(records)))

    def start(self, records: list[SyncRecord]) -> list[list[Send]]:
        """Decides each record (settling those that wait or need no send) and returns the JAGGAER requests to
        make, as groups of items that go in one request."""
        self.records = records
        self.claim_token = records[0].claim_token
        self.claimed_ids = [record.pk for record in records]
        self.claim_renewed = timezone.now()
        built = self.decider.build(records)
        delivered_dependencies = self.decider.delivered_dependencies(built.values())
        groups: dict[str, list[Send]] = defaultdict(list)
        for record in records:
            prepared = self._prepare(record, built[record.pk], delivered_dependencies)
            if prepared is not None:
                groups[self.writer.batch_of(prepared.item)].append(prepared)
        return list(groups.values())

    def transmit(self, groups: list[list[Send]]) -> list[Sent]:
        """Makes the requests; touches no database, so it may run in another thread."""
        return [sent for group in groups for sent in self._transmit(group)]

    def record(self, sent: list[Sent]) -> None:
        """Journals what the requests came back with, then releases and rechecks what waited."""
        for entry in sent:
            if entry.error is not None:
                for send in entry.group:
                    self._failed_send(send, entry.error, entry.started)
            elif entry.results is not None:
                self._record_results(entry.group, entry.results, entry.started)
        self._release_dependents()
        self._recheck_dependencies([record for record in self.records if record.state == State.WAITING_FOR_DEPENDENCY])
        self._recheck_mappings([record for record in self.records if record.state == State.WAITING_FOR_MAPPING])

    def keep_claim(self) -> None:
        """Called before every JAGGAER request of this thread and while requests are out: a slow batch (lookups,
        retries after 429 or 503) must not outlive its claim, or another process would send the same records
        meanwhile."""
        now = timezone.now()
        if not self.claim_token or (now - self.claim_renewed).total_seconds() < CLAIM_RENEW_SECONDS:
            return
        SyncRecord.objects.filter(pk__in=self.claimed_ids, claim_token=self.claim_token).update(
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        self.claim_renewed = now

    # Before sending ---------------------------------------------------------------------------

    def _prepare(self, record: SyncRecord, built: Built, delivered_dependencies: set) -> Send | None:
        decision = decide(record, built, delivered_dependencies)
        if isinstance(decision, Send) and record.outcome_unknown:
            started = time.monotonic()
            try:
                if not self._send_after_lookup(record, built, decision.digest):
                    return None
            except JaggaerError as error:
                self._failed_send(decision, error, started, action="lookup")
                return None
            decision = decide(record, built, delivered_dependencies, looked_up=True)
        if isinstance(decision, Send):
            return decision
        self._settle(record, decision.state, decision.reason, built=built, hold=decision)
        return None

    def _send_after_lookup(self, record: SyncRecord, built: Built, digest: str) -> bool:
        """Our last send may have been applied: looks it up. False when nothing is left to send."""
        found = self.writer.look_up(self.client, built)
        if found is None:
            return True  # it never arrived: send as planned
        if not self._adopt(record, built, found):
            return False
        record.outcome_unknown = False
        record.delivered_sha256 = record.payload_sha256
        if digest != record.payload_sha256:
            return True  # it arrived, and NetSuite has changed since: the changes go as an update
        self._settle(record, State.DELIVERED, "Found in JAGGAER: the send whose answer was lost had been applied",
                     built=built, delivered_at=timezone.now(), attempts=0)
        return False

    def _adopt(self, record: SyncRecord, built: Built, found: dict) -> bool | None:
        """Takes JAGGAER's copy as ours when it is ours. True: our send was applied; None: it is somebody
        else's object, and the record failed."""
        header = found.get("poHeader") or found.get("header") or found
        if str(header.get("externalId", "")) not in ("", record.netsuite_id):
            self._settle(record, State.FAILED, self.writer.duplicate_words(record, str(header.get("externalId"))),
                         built=built, hold=Hold(State.FAILED, "", kind=ErrorKind.REJECTED, code="DUPLICATE"))
            return None
        record.in_jaggaer = True
        if "revisionNumber" in header:
            record.jaggaer_revision = int(header["revisionNumber"])
        record.jaggaer_id = str(found.get("id") or header.get("id") or record.jaggaer_id)
        return True

    # Sending ----------------------------------------------------------------------------------

    def _transmit(self, group: list[Send]) -> list[Sent]:
        started = time.monotonic()
        try:
            results = self.writer.send(self.client, [entry.item for entry in group])
        except JaggaerError as error:
            if not error.retryable and len(group) > 1:
                # Nothing was applied: find the item JAGGAER cannot read.
                return [sent for entry in group for sent in self._transmit([entry])]
            return [Sent(group, time.monotonic() - started, error=error)]
        except (TokenNeedsRenewal, DeliveryAbandoned):  # stopped before a request, or answered 401: not applied
            return [Sent(group, time.monotonic() - started)]
        return [Sent(group, time.monotonic() - started, results=results)]

    def _record_results(self, group: list[Send], results: list[ItemResult], started: float) -> None:
        delivered = [(entry, result) for entry, result in zip(group, results, strict=True) if result.ok]
        with transaction.atomic():
            still_held = held(claim_token=self.claim_token, record_ids=[entry.record.pk for entry, _ in delivered])
            accepted = [(entry, result) for entry, result in delivered if entry.record.pk in still_held]
            write_deliveries([
                Delivery(record=entry.record, attempt=self._try(entry, started, result=result),
                         message=_delivered_words(result), digest=entry.digest, jaggaer_id=result.jaggaer_id,
                         revision=entry.item.revision)
                for entry, result in accepted])
            for entry, result in delivered:
                if entry.record.pk not in still_held:
                    write_lost_claim(record=entry.record, attempt=self._try(entry, started, result=result),
                                     reason=f"{_delivered_words(result)}, but another process took over this record "
                                            "meanwhile: its outcome is recorded by that process")
                    logger.warning("Record %s: delivered after its claim was lost; left to the process that holds it",
                                   entry.record.pk)
        self.report.counts[State.DELIVERED] += len(accepted)
        self.delivered.extend(entry.record.netsuite_id for entry, _ in accepted)
        for entry, result in zip(group, results, strict=True):
            if result.refused:
                self._result(entry, result, started)
            elif not result.ok:
                self._unconfirmed(entry, result, started)

    def _try(self, entry: Send, started: float, *, result: ItemResult | None = None, http_status: int | None = 200,
             action: str = "") -> Try:
        return Try(action=action or entry.item.action, started_at=timezone.now(),
                   duration_ms=int((time.monotonic() - started) * 1000), request=entry.item.body,
                   http_status=http_status, result_status=result.status if result else "",
                   result=_result_json(result) if result else None, mappings_used=tuple(entry.built.mappings_used))

    # Interpreting answers -----------------------------------------------------------------------

    def _result(self, entry: Send, result: ItemResult, started: float) -> None:
        try:
            self._refused(entry, result, started)
        except JaggaerError as error:  # a lookup the refusal called for failed: the record's fate stays open
            self._failed_send(entry, error, started)

    def _refused(self, entry: Send, result: ItemResult, started: float) -> None:
        record = entry.record
        codes = {error.code for error in result.errors}
        message = _errors_words(result) or "JAGGAER refused the item"
        common = {"entry": entry, "started": started, "result": result, "code": ",".join(sorted(codes))}
        if "DUPLICATE" in codes:
            found = self.writer.look_up(self.client, entry.built)
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
            found = self.writer.look_up(self.client, entry.built)
            if found is not None and self._adopt(record, entry.built, found) is None:
                # Another record's object under this number (a first send that goes as an upsert, as the XML
                # PO import's update does, meets it as a stale revision): _adopt failed the record.
                return
            self._attempted(State.PENDING, f"{message} (JAGGAER has revision {record.jaggaer_revision}): "
                            "sending the next revision", retry_now=True, **common)
        elif codes == {"UNKNOWN_CUSTOM_FIELD_VALUE"}:
            self._attempted(State.WAITING_FOR_MAPPING, message, kind=ErrorKind.MAPPING,
                            missing=_codes_behind_refused_values(entry.built, result), **common)
        elif codes and codes <= {"UNKNOWN_SUPPLIER", "UNKNOWN_PO", "UNKNOWN_CUSTOM_FIELD_VALUE"}:
            self._attempted(State.WAITING_FOR_DEPENDENCY, message, kind=ErrorKind.DEPENDENCY, **common)
        else:
            self._attempted(State.FAILED, message, kind=ErrorKind.REJECTED, **common)

    def _unconfirmed(self, entry: Send, result: ItemResult, started: float) -> None:
        """An item status that is neither a success nor the documented refusal: JAGGAER may or may not hold
        the item, so it is never counted as delivered, and a `new` is looked up before it is sent again."""
        entry.record.outcome_unknown = entry.record.outcome_unknown or entry.item.action == "new"
        said = f"JAGGAER answered status {result.status!r}" if result.status else "JAGGAER answered no status"
        errors = _errors_words(result)
        self._attempted(State.RETRYING, f"{said} for this item, neither a success nor a refusal"
                        f"{': ' + errors if errors else ''}; it is checked and sent again later",
                        kind=ErrorKind.REMOTE, entry=entry, started=started, result=result, code="UNCONFIRMED")

    def _failed_send(self, entry: Send, error: JaggaerError, started: float, *, action: str = "") -> None:
        if error.retryable:
            # A 500 or a lost answer may follow an applied write: look before sending again.
            # Only a lost `new` needs a lookup: resending an update or a cancel that was applied is
            # answered STALE_REVISION or Unchanged, which the next attempt handles.
            entry.record.outcome_unknown = entry.record.outcome_unknown or entry.item.action == "new"
            self._attempted(State.RETRYING, str(error), kind=ErrorKind.REMOTE, entry=entry, started=started,
                            code=error.code, http_status=error.status, retry_after=error.retry_after, action=action)
        else:
            self._attempted(State.FAILED, str(error), kind=ErrorKind.REJECTED, entry=entry, started=started,
                            code=error.code, http_status=error.status, action=action)

    # Recording --------------------------------------------------------------------------------

    def _attempted(self, to_state: str, message: str, *, entry: Send, started: float, code: str, kind: str = "",
                   result: ItemResult | None = None, http_status: int | None = 200, retry_now: bool = False,
                   retry_after: float | None = None, action: str = "",
                   missing: Iterable[MissingCode] = ()) -> None:
        record = entry.record
        attempts = record.attempts + 1
        if to_state in (State.RETRYING, State.PENDING) and attempts >= settings.SYNC_MAX_ATTEMPTS:
            to_state, message = State.FAILED, f"{message} (gave up after {attempts} attempts)"
        next_at = timezone.now() if retry_now else self._next_attempt(attempts, retry_after)
        fields = _with_carried(record, dict(
            attempts=attempts, payload=entry.item.body, payload_sha256=entry.digest, last_error_kind=kind,
            last_error_code=code, last_error_message=message,
            next_attempt_at=None if to_state == State.FAILED else next_at))
        if write_outcome(record=record, claim_token=self.claim_token, to_state=to_state, reason=message, code=code,
                         attempt=self._try(entry, started, result=result, http_status=http_status, action=action),
                         missing=missing, **fields):
            self.report.count(to_state)

    def _settle(self, record: SyncRecord, to_state: str, reason: str, *, built: Built, hold: Hold | None = None,
                **fields: object) -> None:
        """A decision made without sending to JAGGAER (waiting, skipped, bad data, found by a lookup), with
        its audit rows; a record waiting for a mapping waits for the codes `built` lacks."""
        hold = hold or Hold(to_state, reason)
        fields = _with_carried(record, fields)
        fields.setdefault("attempts", record.attempts + 1 if hold.retry else record.attempts)
        attempts = int(fields["attempts"])  # type: ignore[call-overload]
        action = "lookup" if hold.code == "DUPLICATE" or to_state == State.DELIVERED else "build"
        attempt = Try(action=action, started_at=timezone.now(), mappings_used=tuple(built.mappings_used))
        if write_outcome(
                record=record, claim_token=self.claim_token, attempt=attempt, to_state=to_state, reason=reason,
                code=hold.code, missing=built.missing if to_state == State.WAITING_FOR_MAPPING else (),
                blocked_by=hold.blocked_by, last_error_kind=hold.kind, last_error_code=hold.code,
                last_error_message=reason if hold.kind else "", resend=False,
                next_attempt_at=self._next_attempt(attempts, None) if hold.retry else None, **fields):
            self.report.count(to_state)

    @staticmethod
    def _next_attempt(attempts: int, retry_after: float | None) -> datetime:
        delay = backoff_delay(attempt=max(1, attempts), base=settings.SYNC_RETRY_BASE_SECONDS,
                              cap=settings.SYNC_RETRY_CAP_SECONDS)
        return timezone.now() + timedelta(seconds=max(delay, retry_after or 0))

    # After sending ----------------------------------------------------------------------------

    def _recheck_dependencies(self, waiting: list[SyncRecord]) -> None:
        """Another process may have delivered what these records wait for while this batch decided they
        wait, and released them before the decision was written: look again, after writing it."""
        if not waiting:
            return
        wanted: dict[str, list[str]] = defaultdict(list)
        for record in waiting:
            dependency_flow, dependency_id = blocker_of(record.blocked_by)
            wanted[dependency_flow].append(dependency_id)
        arrived = {
            blocker_key(dependency_flow, netsuite_id)
            for dependency_flow, ids in wanted.items()
            for netsuite_id in SyncRecord.objects.filter(pair=self.pair, flow=dependency_flow, netsuite_id__in=ids,
                                                         in_jaggaer=True).values_list("netsuite_id", flat=True)
        }
        if arrived:
            make_due(records=SyncRecord.objects.filter(pk__in=[r.pk for r in waiting if r.blocked_by in arrived],
                                                       state=State.WAITING_FOR_DEPENDENCY),
                     reason="What it waited for reached JAGGAER meanwhile")

    def _recheck_mappings(self, waiting: list[SyncRecord]) -> None:
        """A mapping saved, or a JAGGAER value stored, while this batch resolved with the state as it was
        released nothing (the records were not waiting yet): resolve their missing codes again now that they
        are, and make due those that one of them no longer holds back."""
        if not waiting:
            return
        resolver = CodingResolver(pair=self.pair, dimension_fields=self.decider.dimension_fields)
        today = timezone.localdate()
        blocked = MissingCoding.objects.filter(record__in=waiting).values_list("record_id", "kind", "netsuite_id")
        # Only codes this batch found missing: one JAGGAER refused was resolved here, and still would be.
        released = {record_id for record_id, kind, netsuite_id in blocked
                    if resolver.resolves(CodingKind(kind), netsuite_id, on=today)
                    and not self.decider.resolver.resolves(CodingKind(kind), netsuite_id, on=today)}
        if released:
            make_due(records=SyncRecord.objects.filter(pk__in=released, state=State.WAITING_FOR_MAPPING),
                     reason="A mapping or JAGGAER value it needs arrived meanwhile")

    def _release_dependents(self) -> None:
        """Records that waited for what this batch delivered go out in their own flow's next delivery."""
        if not self.delivered:
            return
        keys = [blocker_key(self.flow, netsuite_id) for netsuite_id in self.delivered]
        # Looked up by blocked_by alone, so that its index is used whatever the planner knows of the pair's rows.
        waiting = [pk for pk, pair_id, state in SyncRecord.objects.filter(blocked_by__in=keys).values_list(
            "pk", "pair_id", "state") if pair_id == self.pair.pk and state == State.WAITING_FOR_DEPENDENCY]
        if waiting:
            make_due(records=SyncRecord.objects.filter(pk__in=waiting, state=State.WAITING_FOR_DEPENDENCY),
                     reason="What it waited for reached JAGGAER")
