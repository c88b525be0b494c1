"""What the operator's console shows: per flow of each pair its last and next run, counts by state, backlog
age and throughput; records held back grouped by what would release them; and the links that lead from a
record to its NetSuite page, its blocking record and the mapping form. Selectors only: nothing here writes."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone

from credentials.models import ConnectionPair
from mappings.models import CodingMapping
from mappings.references import ReferenceIndex, dimension_fields_of
from sync.engine.blocking import codes_blocking_records
from sync.engine.deliver import DUE_STATES
from sync.flows import FLOWS_IN_ORDER, flow_named
from sync.models import Flow, FlowSchedule, SyncAttempt, SyncRecord, SyncRun, blocker_of

State = SyncRecord.State
THROUGHPUT_HOURS = 24



def netsuite_url(record: SyncRecord) -> str:
    """The record's page in the NetSuite UI, built from the connection's account (also for a connection that
    points at a sandbox server: the link names the account the data claims to come from)."""
    host = f"https://{record.pair.netsuite.host_label}.app.netsuite.com"
    return host + flow_named(record.flow).netsuite_page(record.netsuite_id)


def mapping_link(*, pair_id: int, kind: str, netsuite_id: str, confirmed_id: int | None) -> tuple[str, str]:
    """(text, url) of the link that fixes an unmapped code: the confirmed mapping row when one exists but cannot
    be used, else the add form prefilled like the coverage page's "Map it" (saving it releases the records)."""
    if confirmed_id is not None:
        return "Fix the mapping", reverse("admin:mappings_codingmapping_change", args=[confirmed_id])
    query = urlencode({"pair": pair_id, "kind": kind, "netsuite_id": netsuite_id})
    return "Map it", f"{reverse('admin:mappings_codingmapping_add')}?{query}"


def _confirmed_mappings(pair_id: int, codes: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    if not codes:
        return {}
    rows = CodingMapping.objects.filter(
        pair_id=pair_id, status=CodingMapping.Status.CONFIRMED, netsuite_id__in={netsuite_id for _, netsuite_id in codes}
    ).values_list("kind", "netsuite_id", "pk")
    return {(kind, netsuite_id): pk for kind, netsuite_id, pk in rows if (kind, netsuite_id) in codes}


@dataclass(frozen=True)
class MissingCodeLink:
    description: str
    link_text: str
    link_url: str


def missing_codes_of(record: SyncRecord) -> list[MissingCodeLink]:
    """The NetSuite codes a record waits for, described, each with the link that maps it."""
    codes = set(record.missing_codings.values_list("kind", "netsuite_id"))
    references = ReferenceIndex(pair=record.pair, dimension_fields=dimension_fields_of(record.pair.jaggaer),
                                netsuite_ids={netsuite_id for _, netsuite_id in codes})
    confirmed = _confirmed_mappings(record.pair_id, codes)
    found = []
    for kind, netsuite_id in sorted(codes):
        text, url = mapping_link(pair_id=record.pair_id, kind=kind, netsuite_id=netsuite_id,
                                 confirmed_id=confirmed.get((kind, netsuite_id)))
        found.append(MissingCodeLink(description=references.describe(kind, netsuite_id), link_text=text, link_url=url))
    return found


def blocking_record(record: SyncRecord) -> SyncRecord | None:
    """The record this one waits for, when the connector has read it."""
    flow, netsuite_id = blocker_of(record.blocked_by)
    if not netsuite_id:
        return None
    return SyncRecord.objects.filter(pair_id=record.pair_id, flow=flow, netsuite_id=netsuite_id).defer(
        "source", "payload").first()


@dataclass
class FlowPanel:
    pair: ConnectionPair
    flow: str
    label: str
    counts: dict[str, int]
    last_run: SyncRun | None
    next_run_at: datetime | None
    oldest_due_at: datetime | None
    delivered_last_day: int

    @property
    def backlog_age(self) -> timedelta | None:
        return timezone.now() - self.oldest_due_at if self.oldest_due_at else None

    @property
    def per_hour(self) -> float:
        return round(self.delivered_last_day / THROUGHPUT_HOURS, 1)

    @property
    def states(self) -> list[tuple[str, str, int]]:
        """(state, label, count) in lifecycle order, every state shown so that a zero reads as a zero."""
        return [(value, label, self.counts.get(value, 0)) for value, label in State.choices]


def flow_panels(*, now: datetime | None = None) -> list[FlowPanel]:
    """One panel per flow of each pair, in dependency order. A handful of grouped queries in all, whatever
    the number of records (every one of them is answered from an index or one pass over the table)."""
    now = now or timezone.now()
    counts: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
    for row in SyncRecord.objects.values("pair", "flow", "state").annotate(n=Count("id")).order_by():
        counts[(row["pair"], row["flow"])][row["state"]] = row["n"]
    oldest_due = {
        (row["pair"], row["flow"]): row["oldest"]
        for row in SyncRecord.objects.filter(state__in=DUE_STATES, next_attempt_at__lte=now)
        .values("pair", "flow").annotate(oldest=Min("next_attempt_at")).order_by()
    }
    delivered = {
        (row["record__pair"], row["record__flow"]): row["n"]
        for row in SyncAttempt.objects.filter(state_after=State.DELIVERED,
                                              started_at__gte=now - timedelta(hours=THROUGHPUT_HOURS))
        .values("record__pair", "record__flow").annotate(n=Count("id")).order_by()
    }
    next_runs = {(s.pair_id, s.flow): s.next_run_at for s in FlowSchedule.objects.filter(enabled=True)}
    panels = []
    for pair in ConnectionPair.objects.select_related("netsuite", "jaggaer").order_by("pk"):
        for flow, label in Flow.choices:
            key = (pair.pk, flow)
            panels.append(FlowPanel(
                pair=pair, flow=flow, label=label, counts=counts.get(key, {}),
                last_run=SyncRun.objects.filter(pair=pair, flow=flow).order_by("-started_at").first(),
                next_run_at=next_runs.get(key), oldest_due_at=oldest_due.get(key),
                delivered_last_day=delivered.get(key, 0),
            ))
    return panels


@dataclass
class StuckGroup:
    """Records of one flow held back by one cause, and the one link that releases them all."""

    pair: ConnectionPair
    flow: str
    cause: str
    records: int
    link_text: str
    link_url: str
    list_url: str = field(default="")

    @property
    def summary(self) -> str:
        singular, plural = flow_named(self.flow).nouns
        return f"{self.cause}: {self.records} {singular if self.records == 1 else plural}"


def stuck_groups() -> list[StuckGroup]:
    """Waiting records grouped by cause, largest group first: each unmapped code ("GL account 6100 ...
    unmapped: 37 POs", linked to the mapping form) and each record others wait for."""
    groups = _unmapped_groups() + _dependency_groups()
    groups.sort(key=lambda group: (-group.records, group.cause))
    return groups


def _unmapped_groups() -> list[StuckGroup]:
    by_pair: dict[int, list[tuple[str, str, str, int]]] = defaultdict(list)
    for code in codes_blocking_records():
        by_pair[code.pair_id].append((code.flow, code.kind, code.netsuite_id, code.records))
    changelist = reverse("admin:sync_syncrecord_changelist")
    groups = []
    for pair in ConnectionPair.objects.filter(pk__in=by_pair).select_related("netsuite", "jaggaer"):
        codes = {(kind, netsuite_id) for _, kind, netsuite_id, _ in by_pair[pair.pk]}
        references = ReferenceIndex(pair=pair, dimension_fields=dimension_fields_of(pair.jaggaer),
                                    netsuite_ids={netsuite_id for _, netsuite_id in codes})
        confirmed = _confirmed_mappings(pair.pk, codes)
        for flow, kind, netsuite_id, n in by_pair[pair.pk]:
            text, url = mapping_link(pair_id=pair.pk, kind=kind, netsuite_id=netsuite_id,
                                     confirmed_id=confirmed.get((kind, netsuite_id)))
            query = urlencode({"flow__exact": flow, "missing": f"{kind}:{netsuite_id}"})
            groups.append(StuckGroup(pair=pair, flow=flow, cause=f"{references.describe(kind, netsuite_id)} unmapped",
                                     records=n, link_text=text, link_url=url, list_url=f"{changelist}?{query}"))
    return groups


def _dependency_groups() -> list[StuckGroup]:
    rows = (
        SyncRecord.objects.filter(state=State.WAITING_FOR_DEPENDENCY).exclude(blocked_by="")
        .values_list("pair", "flow", "blocked_by").annotate(n=Count("id")).order_by()
    )
    pairs = {pair.pk: pair for pair in ConnectionPair.objects.select_related("netsuite", "jaggaer")}
    changelist = reverse("admin:sync_syncrecord_changelist")
    groups = []
    for pair_id, flow, blocked_by, n in rows:
        dep_flow, dep_id = blocker_of(blocked_by)
        blocker = SyncRecord.objects.filter(pair_id=pair_id, flow=dep_flow, netsuite_id=dep_id).only(
            "pk", "flow", "document_number", "netsuite_id", "label", "state").first()
        noun = flow_named(dep_flow).nouns[0] if dep_flow in FLOWS_IN_ORDER else dep_flow
        if blocker is None:
            cause = f"{noun} (NetSuite id {dep_id}) not read from NetSuite yet"
            url, text = f"{changelist}?{urlencode({'q': dep_id})}", "Look for it"
        else:
            cause = f"{noun} {blocker.label or blocker.document_number} {blocker.get_state_display().lower()}"
            url, text = reverse("admin:sync_syncrecord_change", args=[blocker.pk]), "Open it"
        groups.append(StuckGroup(pair=pairs[pair_id], flow=flow, cause=f"Waiting for {cause}", records=n,
                                 link_text=text, link_url=url,
                                 list_url=f"{changelist}?{urlencode({'blocked_by': blocked_by})}"))
    return groups
