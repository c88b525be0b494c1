"""What the operator's console shows per flow of each pair: its last and next run, counts by state, backlog age
and throughput; and the links that lead from a record to its NetSuite page, its blocking record and the mapping
form. Records held back are grouped by cause in sync/operations/error_groups.py. Selectors only: nothing here
writes."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone

from credentials.models import ConnectionPair
from mappings.models import CodingMapping
from mappings.references import ReferenceIndex, dimension_fields_of
from sync.engine.deliver import DUE_STATES
from sync.flows import flow_named
from sync.models import Flow, FlowSchedule, SyncAttempt, SyncRecord, SyncRun, blocker_of

State = SyncRecord.State
THROUGHPUT_HOURS = 24
# The flows table's state columns: few enough to fit a laptop's screen, the ones that need a person first.
PANEL_COLUMNS: list[tuple[str, tuple[str, ...]]] = [
    ("Failed", (State.FAILED,)),
    ("Retrying", (State.RETRYING,)),
    ("Waiting", (State.WAITING_FOR_MAPPING, State.WAITING_FOR_DEPENDENCY)),
    ("Due", (State.PENDING,)),
    ("Delivered or unchanged", (State.DELIVERED, State.SKIPPED)),
    ("Resolved", (State.RESOLVED,)),
]



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


def confirmed_mappings(pair_id: int, codes: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
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
    confirmed = confirmed_mappings(record.pair_id, codes)
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
    def columns(self) -> list[tuple[str, str, int]]:
        """(label, states as the record list's filter takes them, count) of each column of the flows table, what
        needs a person first; every column shown so that a zero reads as a zero."""
        return [(label, ",".join(states), sum(self.counts.get(state, 0) for state in states))
                for label, states in PANEL_COLUMNS]


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
