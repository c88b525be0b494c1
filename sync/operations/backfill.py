"""Reading a bounded historical window of a flow, with progress, and optionally only showing what would
be sent (a dry run records nothing: everything it wrote is rolled back)."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction

from credentials.models import ConnectionPair
from sync.engine.decide import Preview, preview
from sync.engine.deliver import DUE_STATES
from sync.engine.paging import Window, count_query
from sync.engine.pull import pull
from sync.engine.run import Clients, FlowOutcome, Progress, sync_pass
from sync.flows import flow_named
from sync.models import SyncRecord


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
    """Raised to roll back everything a dry run wrote."""


def dry_run(*, pair: ConnectionPair, flow: str, window: Window, clients: Clients) -> list[Preview]:
    """What a backfill of the window would send now, leaving the database as it was and JAGGAER untouched."""
    previews: list[Preview] = []
    try:
        with transaction.atomic():
            pull(pair=pair, flow=flow, client=clients.netsuite, window=window)
            due = list(SyncRecord.objects.filter(pair=pair, flow=flow, state__in=DUE_STATES).order_by("id"))
            previews = preview(pair=pair, flow=flow, records=due)
            raise _DryRun
    except _DryRun:
        pass
    return previews
