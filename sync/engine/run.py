"""One pass of the connector over a pair: for each flow in dependency order, pull what changed in
NetSuite, then deliver everything that is due. Commands, tasks and webhooks all come through here."""

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.utils import timezone

from credentials.errors import ConnectionFailed
from credentials.models import ConnectionPair
from sync.engine.deliver import Deliveries, DeliveryReport, deliver_due
from sync.engine.locks import FlowBusy, flow_lease
from sync.engine.paging import PullReport, Window
from sync.engine.pull import pull
from sync.flows import FLOWS, FLOWS_IN_ORDER, flow_named
from sync.models import SyncRecord, SyncRun
from sync.remote.clients import jaggaer_client, netsuite_client
from sync.remote.errors import failure_words
from sync.remote.jaggaer_client import JaggaerClient
from sync.remote.netsuite_client import NetSuiteClient

logger = logging.getLogger(__name__)


@dataclass
class FlowOutcome:
    flow: str
    pulled: PullReport | None
    delivered: DeliveryReport
    run: SyncRun
    note: str = ""


@dataclass
class Clients:
    netsuite: NetSuiteClient
    jaggaer: JaggaerClient

    @classmethod
    def for_pair(cls, pair: ConnectionPair) -> "Clients":
        return cls(netsuite=netsuite_client(pair.netsuite), jaggaer=jaggaer_client(pair.jaggaer))


@dataclass
class Progress:
    """What a long pass reports as it goes (the backfill's progress bar)."""

    flow: str
    pulled: PullReport | None = None
    delivered: DeliveryReport | None = None


def sync_pass(*, pair: ConnectionPair, flows: Iterable[str] | None = None, trigger: str = "sync_now",
              window: Window | None = None, clients: Clients | None = None,
              progress: Callable[[Progress], None] | None = None) -> list[FlowOutcome]:
    """Pulls and delivers each flow. A flow whose pull another process is running is only delivered. A flow
    that fails (its run records why) does not keep the later flows from running: their records may not
    depend on it, and those that do wait for it. The first failure is raised once every flow has run, except
    a refused login, which no other flow could get past either."""
    clients = clients or Clients.for_pair(pair)
    chosen = set(flows or FLOWS_IN_ORDER)
    outcomes = []
    first_failure: Exception | None = None
    for flow in [f for f in FLOWS_IN_ORDER if f in chosen]:
        try:
            outcomes.append(_run_flow(pair=pair, flow=flow, trigger=trigger, window=window, clients=clients,
                                      progress=progress))
        except ConnectionFailed:
            raise
        except Exception as exc:
            logger.warning("Flow %s of %s failed: %s", flow, pair, failure_words(exc))
            first_failure = first_failure or exc
    if first_failure is not None:
        raise first_failure
    return outcomes


@contextmanager
def recorded_run(*, pair: ConnectionPair, flow: str, trigger: str) -> Iterator[SyncRun]:
    """The SyncRun of one flow's run, saved when the block ends: succeeded with what the block filled in, or
    failed with the reason in words."""
    run = SyncRun.objects.create(pair=pair, flow=flow, trigger=trigger, started_at=timezone.now())
    try:
        yield run
    except Exception as exc:
        run.succeeded, run.message = False, failure_words(exc)
        raise
    else:
        run.succeeded = True
    finally:
        run.finished_at = timezone.now()
        run.save()


def _run_flow(*, pair: ConnectionPair, flow: str, trigger: str, window: Window | None, clients: Clients,
              progress: Callable[[Progress], None] | None) -> FlowOutcome:
    jaggaer_before = clients.jaggaer.requests_made
    pulled: PullReport | None = None
    note = ""
    with (recorded_run(pair=pair, flow=flow, trigger=trigger) as run,
          Deliveries(pair=pair, flow=flow, client=clients.jaggaer,
                     progress=(lambda r: progress(Progress(flow=flow, delivered=r))) if progress else None) as deliveries):
        try:
            with flow_lease(pair=pair, flow=flow):
                # Each recorded page starts its deliveries: JAGGAER works while NetSuite is still being read.
                pulled = pull(pair=pair, flow=flow, client=clients.netsuite, window=window, page_done=deliveries.pump,
                              progress=(lambda r: progress(Progress(flow=flow, pulled=r))) if progress else None)
        except FlowBusy as busy:
            note = f"{busy}; delivering only"
        delivered = deliveries.finish()
        flow_named(flow).after_delivery(pair=pair, client=clients.jaggaer)
        run.records_read = pulled.read if pulled else 0
        run.records_changed = pulled.changed if pulled else 0
        run.delivered = delivered.counts.get(SyncRecord.State.DELIVERED, 0)
        run.netsuite_requests = pulled.netsuite_requests if pulled else 0
        run.jaggaer_requests = clients.jaggaer.requests_made - jaggaer_before
        run.message = note
    return FlowOutcome(flow=flow, pulled=pulled, delivered=delivered, run=run, note=note)


def deliver_flow(*, pair: ConnectionPair, flow: str, clients: Clients, trigger: str) -> SyncRun:
    """Delivers the flow's due records without pulling (the retry sweeper), as a run of its own."""
    with recorded_run(pair=pair, flow=flow, trigger=trigger) as run:
        report = deliver_due(pair=pair, flow=flow, client=clients.jaggaer)
        run.delivered = report.counts.get(SyncRecord.State.DELIVERED, 0)
        run.jaggaer_requests = report.jaggaer_requests
    return run


# The flows that write the values mappings choose from.
REFERENCE_FLOWS = [str(definition.flow) for definition in FLOWS if definition.writes_values_of]


def refresh_reference_lists(*, pair: ConnectionPair, clients: Clients | None = None) -> list[FlowOutcome]:
    """Reads NetSuite's GL accounts and classifications whole (not only what changed since the cursors),
    delivers what changed and reads JAGGAER's values back: the mapping forms' choices are then current."""
    return sync_pass(pair=pair, flows=REFERENCE_FLOWS, trigger="refresh", window=Window(since="1900-01-01 00:00:00"),
                     clients=clients)
