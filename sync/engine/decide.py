"""What happens to a record, decided before anything is written or sent: its source is built into the
JAGGAER object through the current mappings, then it is sent, held (waiting for a mapping or a dependency,
or failed on bad data) or skipped (unchanged, or cancelled before it ever reached JAGGAER). Delivery and
its previews (replay, backfill --dry-run) decide through the same function; nothing here writes."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from credentials.models import ConnectionPair
from mappings.references import dimension_fields_of
from mappings.resolution import CodingResolver
from sync.engine.journal import content_hash
from sync.flows import flow_named
from sync.flows.base import Built, Coder, Item
from sync.models import ErrorKind, SyncRecord, blocker_key
from sync.remote.errors import SourceDataError

State = SyncRecord.State


def build(*, flow: str, source: dict, deleted: bool, resolver: CodingResolver, dimension_fields: dict[str, str],
          on: date) -> Built:
    """The record's JAGGAER object through the flow's builder; NetSuite data it cannot use is the `problem`."""
    definition = flow_named(flow)
    coder = Coder(resolver, on)
    try:
        definition.check(source)
        built = definition.build(source, deleted, coder, dimension_fields)
    except SourceDataError as exc:
        return Built(problem=str(exc))
    return coder.finish(built)


@dataclass
class Send:
    """Send the record: `item` is what goes to JAGGAER, `digest` the hash of its content."""

    record: SyncRecord
    built: Built
    digest: str
    item: Item


@dataclass
class Hold:
    """Do not send the record now: it goes to `state` for `reason`."""

    state: str
    reason: str
    kind: str = ""
    code: str = ""
    blocked_by: str = ""
    retry: bool = False  # due again after a back-off (waiting ones are also released when what they need appears)
    options: dict = field(default_factory=dict)


def decide(record: SyncRecord, built: Built, delivered_dependencies: set[tuple[str, str]], *,
           looked_up: bool = False) -> Send | Hold:
    """`looked_up`: JAGGAER was asked whether the last send (whose answer was lost) arrived, and the record
    carries what it said."""
    if built.problem:
        return Hold(State.FAILED, built.problem, kind=ErrorKind.SOURCE_DATA, code="SOURCE_DATA")
    if built.missing:
        return Hold(State.WAITING_FOR_MAPPING, "; ".join(code.message for code in built.missing),
                    kind=ErrorKind.MAPPING, code="UNMAPPED", retry=True)
    unmet = [dependency for dependency in built.depends_on if dependency not in delivered_dependencies]
    if unmet:
        dependency_flow, dependency_id = unmet[0]
        name = flow_named(dependency_flow).dependency_name.format(dependency_id)
        return Hold(State.WAITING_FOR_DEPENDENCY, f"{name} is not in JAGGAER yet", kind=ErrorKind.DEPENDENCY,
                    code="DEPENDENCY", blocked_by=blocker_key(dependency_flow, dependency_id), retry=True)
    digest = content_hash({"content": built.content, "cancel": built.cancel})
    never_sent = not record.in_jaggaer and not record.outcome_unknown
    if built.cancel and never_sent:
        return Hold(State.SKIPPED, "Deleted or rejected in NetSuite before it reached JAGGAER: nothing to cancel")
    if digest == record.delivered_sha256 and not record.resend and (looked_up or not record.outcome_unknown):
        return Hold(State.SKIPPED, "Unchanged since the last delivery: nothing sent")
    return Send(record, built, digest, flow_named(record.flow).item(record, built))


class Decider:
    """Builds and decides the records of one flow of a pair against one consistent state of the mappings."""

    def __init__(self, *, pair: ConnectionPair, flow: str) -> None:
        self.pair = pair
        self.flow = str(flow)
        self.dimension_fields = dimension_fields_of(pair.jaggaer)
        self.resolver = CodingResolver(pair=pair, dimension_fields=self.dimension_fields)

    def build(self, records: list[SyncRecord]) -> dict[int, Built]:
        today = timezone.localdate()
        return {record.pk: build(flow=self.flow, source=record.source, deleted=record.deleted_in_netsuite,
                                 resolver=self.resolver, dimension_fields=self.dimension_fields, on=today)
                for record in records}

    def delivered_dependencies(self, builds: Iterable[Built]) -> set[tuple[str, str]]:
        wanted: dict[str, set[str]] = defaultdict(set)
        for item in builds:
            for dependency_flow, netsuite_id in item.depends_on:
                wanted[dependency_flow].add(netsuite_id)
        delivered: set[tuple[str, str]] = set()
        for dependency_flow, ids in wanted.items():
            rows = SyncRecord.objects.filter(pair=self.pair, flow=dependency_flow, netsuite_id__in=ids, in_jaggaer=True)
            delivered.update((dependency_flow, netsuite_id) for netsuite_id in rows.values_list("netsuite_id", flat=True))
        return delivered


@dataclass
class Preview:
    record: SyncRecord
    action: str
    payload: dict | None
    outcome: str  # "send", or the state the record would stay in
    reason: str


def preview(*, pair: ConnectionPair, flow: str, records: list[SyncRecord]) -> list[Preview]:
    """What sending these records now would send (replay preview, backfill --dry-run); changes nothing."""
    decider = Decider(pair=pair, flow=flow)
    built = decider.build(records)
    delivered_dependencies = decider.delivered_dependencies(built.values())
    previews = []
    for record in records:
        decision = decide(record, built[record.pk], delivered_dependencies)
        if isinstance(decision, Send):
            note = " (JAGGAER is asked first whether an earlier send arrived)" if record.outcome_unknown else ""
            previews.append(Preview(record=record, action=decision.item.action, payload=decision.item.body,
                                    outcome="send", reason=f"Would send as {decision.item.action}{note}"))
        else:
            previews.append(Preview(record=record, action="", payload=None, outcome=decision.state,
                                    reason=decision.reason))
    return previews
