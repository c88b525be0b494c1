"""Sending chosen records again now, through the current mappings. A replayed PO goes as an update
with the next revision (or is looked up first when its last send was lost), so a replay never
duplicates anything in JAGGAER."""

from django.db.models import QuerySet

from credentials.models import ConnectionPair
from sync.engine.deliver import DeliveryReport, deliver_due
from sync.engine.journal import mark_for_replay
from sync.engine.run import Clients
from sync.flows import FLOWS_IN_ORDER
from sync.models import SyncRecord


def not_delivered(record_ids: list[int]) -> list[SyncRecord]:
    """Of these replayed records, those that did not reach JAGGAER (failed ones first), each with its reason
    in last_error_message: what a replay must say instead of a plain "done"."""
    reached = (SyncRecord.State.DELIVERED, SyncRecord.State.SKIPPED)
    records = SyncRecord.objects.filter(pk__in=record_ids).exclude(state__in=reached)
    return sorted(records, key=lambda record: (record.state != SyncRecord.State.FAILED, record.pk))


def replay(*, records: QuerySet[SyncRecord], actor: str) -> dict[str, DeliveryReport]:
    """Replays now, in this process; returns a delivery report per flow."""
    chosen = mark_for_replay(records=records, actor=actor)
    reports: dict[str, DeliveryReport] = {}
    pairs = {pair.pk: pair for pair in ConnectionPair.objects.filter(
        pk__in={pair_id for pair_id, _ in chosen}).select_related("netsuite", "jaggaer")}
    for pair_id, pair in pairs.items():
        clients = Clients.for_pair(pair)
        for flow in FLOWS_IN_ORDER:
            ids = chosen.get((pair_id, flow))
            if ids:
                reports[flow] = deliver_due(pair=pair, flow=flow, client=clients.jaggaer, only_ids=ids)
    return reports
