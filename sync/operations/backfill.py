"""Reading a bounded historical window of a flow, with progress, and optionally only showing what would
happen: a dry run reads NetSuite as the backfill does and decides every record through the current mappings,
but records nothing, moves no cursor and sends nothing."""

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from credentials.models import ConnectionPair
from sync.engine.decide import Decider, Send, build, decide
from sync.engine.deliver import DUE_STATES
from sync.engine.journal import SourceItem, content_hash
from sync.engine.paging import PullContext, PullReport, Window, count_query
from sync.engine.run import Clients, FlowOutcome, Progress, sync_pass
from sync.flows import FLOWS_IN_ORDER, flow_named
from sync.models import SyncRecord

State = SyncRecord.State


@dataclass
class BackfillProgress:
    """Counts and rate for the progress bar."""

    flow: str
    total: int
    started: float = field(default_factory=time.monotonic)
    read: int = 0
    delivered: int = 0

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.read / elapsed if elapsed > 0 else 0.0


def window_of(since: date, until: date | None) -> Window:
    if until is not None and until <= since:
        raise ValueError(f"--until ({until}) must be after --since ({since})")
    return Window(since=f"{since} 00:00:00", until=f"{until} 00:00:00" if until else None)


def count_in_window(*, clients: Clients, flow: str, window: Window) -> int:
    params = [window.since] + ([window.until] if window.until else [])
    return sum(
        int(clients.netsuite.suiteql(query=count_query(stream, until=bool(window.until)), params=params,
                                     limit=1)["items"][0]["n"])
        for stream in flow_named(flow).streams()
    )


def backfill(*, pair: ConnectionPair, flow: str, window: Window, clients: Clients,
             on_progress: Callable[[BackfillProgress], None]) -> FlowOutcome:
    state = BackfillProgress(flow=flow, total=count_in_window(clients=clients, flow=flow, window=window))
    on_progress(state)

    def progress(update: Progress) -> None:
        if update.pulled:
            state.read = update.pulled.read
        if update.delivered:
            state.delivered = update.delivered.counts.get(SyncRecord.State.DELIVERED, 0)
        on_progress(state)

    return sync_pass(pair=pair, flows=[flow], trigger="backfill", window=window, clients=clients,
                     progress=progress)[0]


class _DryRun(Exception):
    """Raised to roll back what a flow's reading wrote beside its records (the reference lists)."""


@dataclass(frozen=True)
class DryRunRecord:
    """What a backfill would do with one record read: `outcome` is "send", "unchanged" (recorded before and
    unchanged in NetSuite: the backfill leaves it as it is) or the state it would wait or stay in."""

    flow: str
    netsuite_id: str
    document_number: str
    outcome: str
    reason: str
    payload: dict | None = None
    missing: tuple[str, ...] = ()  # what a record waiting for a mapping lacks, in finance's words


UNCHANGED = "unchanged"
_HELD_WORDS = {
    State.WAITING_FOR_DEPENDENCY: "would wait for a record of an earlier flow",
    State.FAILED: "would fail on their NetSuite data",
    State.SKIPPED: "would be skipped (unchanged since delivered, or deleted before they reached JAGGAER)",
    UNCHANGED: "were recorded before and are unchanged in NetSuite (left as they are)",
}


@dataclass
class DryRunReport:
    """One flow's dry run: every record read, the last reading of each counting."""

    flow: str
    read: int = 0
    netsuite_requests: int = 0
    records: dict[str, DryRunRecord] = field(default_factory=dict)

    def count(self, outcome: str) -> int:
        return sum(1 for record in self.records.values() if record.outcome == outcome)

    def sent(self) -> set[tuple[str, str]]:
        return {(self.flow, netsuite_id) for netsuite_id, record in self.records.items() if record.outcome == "send"}

    def missing_codes(self) -> Counter[str]:
        """Each missing code with the number of records it would hold back."""
        return Counter(message for record in self.records.values() for message in record.missing)

    def summary(self) -> list[str]:
        lines = [f"{self.flow}: read {self.read:,} from NetSuite in {self.netsuite_requests:,} requests",
                 f"{self.flow}: dry run, {self.count('send')} of {len(self.records)} record(s) would be sent; "
                 "nothing changed."]
        waiting = self.count(State.WAITING_FOR_MAPPING)
        if waiting:
            lines.append(f"{self.flow}: {waiting} would wait for a mapping:")
            lines += [f"  {message}: {count} record(s)" for message, count in sorted(self.missing_codes().items())]
        lines += [f"{self.flow}: {self.count(outcome)} {words}" for outcome, words in _HELD_WORDS.items()
                  if self.count(outcome)]
        return lines


class _ReadOnlyPull(PullContext):
    """A window pull whose pages go to a dry run instead of the journal: no record, event or cursor is written
    (a window pull moves no cursor anyway)."""

    def __init__(self, *, preview: "_FlowPreview", **context: Any) -> None:
        super().__init__(**context)
        self.preview = preview

    def recorded(self, items: list[SourceItem], rows_read: int) -> None:
        self.report.read += rows_read
        self.preview.changed(items)
        if self.progress:
            self.progress(self.report)

    def deleted(self, netsuite_ids: list[str]) -> None:
        self.report.deleted += len(netsuite_ids)
        self.preview.deleted(netsuite_ids)


class _FlowPreview:
    """Decides the records of one flow as they are read, through the mappings as they are now, as delivery
    would; `sent_earlier` are the records earlier flows of the same dry run would deliver first."""

    def __init__(self, *, pair: ConnectionPair, flow: str, sent_earlier: set[tuple[str, str]],
                 on_record: Callable[[DryRunRecord], None]) -> None:
        self.pair = pair
        self.flow = flow
        self.decider = Decider(pair=pair, flow=flow)
        self.today = timezone.localdate()
        self.sent_earlier = sent_earlier
        self.on_record = on_record
        self.report = DryRunReport(flow=flow)

    def changed(self, items: list[SourceItem]) -> None:
        stored = self._stored([item.netsuite_id for item in items])
        due: list[SyncRecord] = []
        for item in items:
            record = stored.get(item.netsuite_id)
            # Recording leaves a record whose NetSuite content did not change as it is: delivery takes it only
            # if it is due anyway.
            if record is not None and record.source_sha256 == content_hash(item.source) and \
                    not record.deleted_in_netsuite and record.state not in DUE_STATES:
                self._note(record, UNCHANGED, f"Unchanged in NetSuite; stays {record.get_state_display().lower()}")
                continue
            record = record or SyncRecord(pair=self.pair, flow=self.flow, netsuite_id=item.netsuite_id)
            record.source, record.document_number, record.deleted_in_netsuite = item.source, item.document_number, False
            due.append(record)
        self._decide(due)

    def deleted(self, netsuite_ids: list[str]) -> None:
        """Only records already recorded are cancelled: one never read has nothing in JAGGAER."""
        records = [record for record in self._stored(netsuite_ids).values() if not record.deleted_in_netsuite]
        for record in records:
            record.deleted_in_netsuite = True
        self._decide(records)

    def _stored(self, netsuite_ids: list[str]) -> dict[str, SyncRecord]:
        return {record.netsuite_id: record for record in SyncRecord.objects.filter(
            pair=self.pair, flow=self.flow, netsuite_id__in=netsuite_ids).defer("payload")}

    def _decide(self, records: list[SyncRecord]) -> None:
        builds = [build(flow=self.flow, source=record.source, deleted=record.deleted_in_netsuite,
                        resolver=self.decider.resolver, dimension_fields=self.decider.dimension_fields, on=self.today)
                  for record in records]
        delivered = self.decider.delivered_dependencies(builds) | self.sent_earlier
        for record, built in zip(records, builds, strict=True):
            decision = decide(record, built, delivered)
            if isinstance(decision, Send):
                self._note(record, "send", f"Would send as {decision.item.action}", payload=decision.item.body)
            else:
                missing = tuple(code.message for code in built.missing) if \
                    decision.state == State.WAITING_FOR_MAPPING else ()
                self._note(record, decision.state, decision.reason, missing=missing)

    def _note(self, record: SyncRecord, outcome: str, reason: str, payload: dict | None = None,
              missing: tuple[str, ...] = ()) -> None:
        noted = DryRunRecord(flow=self.flow, netsuite_id=record.netsuite_id, document_number=record.document_number,
                             outcome=outcome, reason=reason, payload=payload, missing=missing)
        self.report.records[record.netsuite_id] = noted
        self.on_record(noted)


def dry_run(*, pair: ConnectionPair, flows: Iterable[str], window: Window, clients: Clients,
            on_record: Callable[[DryRunRecord], None],
            on_progress: Callable[[BackfillProgress], None]) -> list[DryRunReport]:
    """What a backfill of the window would do, flow by flow in dependency order: NetSuite is read as the
    backfill reads it and every record is decided through the current mappings, but nothing is recorded, no
    cursor moves and nothing goes to JAGGAER. A record an earlier flow would send counts as delivered for the
    records that depend on it."""
    reports: list[DryRunReport] = []
    sent: set[tuple[str, str]] = set()
    chosen = set(flows)
    for flow in [f for f in FLOWS_IN_ORDER if f in chosen]:
        preview = _FlowPreview(pair=pair, flow=flow, sent_earlier=set(sent), on_record=on_record)
        state = BackfillProgress(flow=flow, total=count_in_window(clients=clients, flow=flow, window=window))
        on_progress(state)

        def progress(report: PullReport, state: BackfillProgress = state) -> None:
            state.read = report.read
            on_progress(state)

        context = _ReadOnlyPull(preview=preview, pair=pair, flow=flow, client=clients.netsuite, window=window,
                                progress=progress)
        before = clients.netsuite.requests_made
        try:
            with transaction.atomic():
                flow_named(flow).read(context)
                raise _DryRun
        except _DryRun:
            pass
        preview.report.read = context.report.read
        preview.report.netsuite_requests = clients.netsuite.requests_made - before
        reports.append(preview.report)
        sent |= preview.report.sent()
    return reports
