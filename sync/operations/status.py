"""Counts per flow and state, cursors and last runs: what `sync_status` prints and the dashboard shows."""

from django.db.models import Count

from credentials.models import ConnectionPair
from sync.flows import FLOWS_IN_ORDER
from sync.models import SyncCursor, SyncRecord, SyncRun


def sync_status(*, pair: ConnectionPair | None = None) -> dict:
    records = SyncRecord.objects.all()
    runs = SyncRun.objects.all()
    cursors = SyncCursor.objects.all()
    if pair is not None:
        records, runs, cursors = records.filter(pair=pair), runs.filter(pair=pair), cursors.filter(pair=pair)
    # Every state of every flow, zeros included: scripts read flows[flow][state] without guarding.
    flows = {flow: {state: 0 for state in SyncRecord.State.values} for flow in FLOWS_IN_ORDER}
    for row in records.values("flow", "state").annotate(n=Count("id")).order_by():
        flows[row["flow"]][row["state"]] = row["n"]
    last_runs = {}
    for flow in FLOWS_IN_ORDER:
        run = runs.filter(flow=flow).order_by("-started_at").first()
        if run:
            last_runs[flow] = {
                "started_at": run.started_at.isoformat(), "succeeded": run.succeeded, "read": run.records_read,
                "delivered": run.delivered, "netsuite_requests": run.netsuite_requests, "message": run.message,
            }
    return {
        "flows": flows,
        "cursors": {f"{c.flow}/{c.stream}": {"last_modified": c.last_modified, "last_id": c.last_id}
                    for c in cursors.order_by("flow", "stream")},
        "last_runs": last_runs,
    }
