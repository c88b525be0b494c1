"""What the soak found, gathered once it settled, and the report it prints: its "Chaos soak:" line is what
bench/RESULTS.md quotes."""

from collections import Counter
from dataclasses import dataclass

from sandbox.jaggaer.app import JaggaerSandbox
from sync.models import SyncRecord, WebhookEvent
from tests.chaos.oracle import (
    Comparison,
    Unaudited,
    compare,
    created_twice,
    deliveries_without_attempt,
    unaudited_writes,
    unfinished_records,
)
from tests.chaos.soak import NETSUITE_LIMIT, Soak


@dataclass
class Findings:
    records: int
    comparison: Comparison
    created_twice: list[tuple[str, str]]
    unaudited: Unaudited
    unfinished: dict[str, int]
    deliveries_without_attempt: int
    push_events: Counter[str]
    deleted_records: Counter[str]  # records deleted in NetSuite, by state
    peak_in_flight: int

    @property
    def pushes_lost(self) -> int:
        """Push events taken and never processed: in a set-up without polling, the changes they announced."""
        return self.push_events[WebhookEvent.Status.ACCEPTED] + self.push_events[WebhookEvent.Status.FAILED]

    @property
    def lost(self) -> int:
        return len(self.comparison.lost) + sum(self.unfinished.values()) + self.pushes_lost

    @property
    def duplicated(self) -> int:
        return len(self.created_twice) + len(self.comparison.unexpected)


def gather(soak: Soak, *, expected: JaggaerSandbox) -> Findings:
    pair = soak.pair
    records = SyncRecord.objects.filter(pair=pair)
    return Findings(
        records=records.count(),
        comparison=compare(actual=soak.jaggaer.app, expected=expected, deleted=soak.changes.deleted),
        created_twice=created_twice(soak.jaggaer.app),
        unaudited=unaudited_writes(app=soak.jaggaer.app, pair=pair, blackouts=soak.blackouts),
        unfinished=unfinished_records(pair),
        deliveries_without_attempt=deliveries_without_attempt(pair),
        push_events=Counter(WebhookEvent.objects.filter(connection=pair.netsuite).values_list("status", flat=True)),
        deleted_records=Counter(records.filter(deleted_in_netsuite=True).values_list("state", flat=True)),
        peak_in_flight=soak.netsuite.app.governor.peak_in_flight,
    )


def _counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(counter.items())) or "none"


def report(soak: Soak, found: Findings, *, drained: float) -> str:
    """The timeline of breakages, the "Chaos soak:" line, and a line of details."""
    jaggaer = soak.jaggaer.app
    netsuite_faults = {**soak.netsuite.app.faults.injected, "token_revocation": 1}
    unaudited = found.unaudited
    summary = (
        f"Chaos soak: {found.records} records ({soak.delivered_in_chaos} delivered while the faults went on), "
        f"{sum(soak.changes.made.values())} changes during the run, {sum(soak.pusher.counts.answers.values())} "
        f"pushes taken; faults injected: NetSuite {_counts(netsuite_faults)} in {soak.chaos_requests['NetSuite']} "
        f"requests; JAGGAER {_counts(jaggaer.faults_injected())} in {soak.chaos_requests['JAGGAER']} requests; "
        f"kills {soak.kills}, restarts PostgreSQL {soak.restarts['postgres']}, Redis {soak.restarts['redis']}; "
        f"peak NetSuite in flight {found.peak_in_flight} (limit {NETSUITE_LIMIT}); lost {found.lost}, duplicated "
        f"{found.duplicated}, fields differing {len(found.comparison.different)}, writes without attempt "
        f"{len(unaudited.unexplained)} (and {len(unaudited.cut_off)} sent just before their worker was killed or lost "
        f"PostgreSQL); drained in {drained:.0f} s, {soak.elapsed():.0f} s in all (seed {soak.plan.seed})")
    details = (
        f"  changes {_counts(soak.changes.made)}; push events {_counts(found.push_events)}, pushes given up "
        f"{soak.pusher.counts.given_up}; {found.comparison.checked} objects compared, {found.comparison.cancelled} "
        f"deleted POs cancelled (records deleted in NetSuite: {_counts(found.deleted_records)}); JAGGAER requests "
        f"{jaggaer.counts()['requests']}, writes {len(jaggaer.received())}; tasks refused by Redis {soak.queue.refused}")
    return "\n".join([*soak.timeline, summary, details])
