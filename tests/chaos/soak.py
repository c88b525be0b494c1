"""The chaos soak's world and its timeline: the two sandboxes with faults on real HTTP, a web host receiving
NetSuite's pushes, worker hosts on Redis and PostgreSQL, and the breakages of the plan at their moments, while
records are changed, pushed and polled."""

import logging
import random
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.utils import timezone
from django_q.models import Schedule

from credentials.models import ConnectionPair
from mappings.models import CodingRule, PairCodingRule
from sandbox.http import RunningServer
from sandbox.jaggaer.app import JaggaerSandbox
from sandbox.netsuite.app import NetSuiteSandbox
from sandbox.netsuite.dataset import NetSuiteDataset
from sync.models import FlowSchedule, SyncRecord, SyncRun, WebhookEvent
from sync.triggers.schedules import ensure_schedules, install_periodic_tasks
from tests.chaos.oracle import explain_unfinished, unfinished_records
from tests.chaos.plan import SoakPlan
from tests.chaos.services import RedisServer, TaskQueue, WebHost, WorkerHost, restart_postgres
from tests.chaos.traffic import NetSuiteChanges, Pusher
from tests.conftest import LiveSandbox
from tests.credentials.conftest import make_jaggaer, make_netsuite
from tests.processes import wait_for

WEBHOOK_SECRET = "whsec-acme-0a1b2c3d4e5f"  # tests.credentials.conftest.netsuite_json's
WORKER_HOSTS = 2
NETSUITE_LIMIT = 2  # the integration's share of the account's concurrency limit, as NetSuite reports it
TICK_SECONDS = 0.2
POLL_EVERY_SECONDS = 8.0  # what the scheduler and the retry sweeper do every minute in production, faster
# Pushes at about the rate the workers process them on a 2-core machine beside everything else; beyond it,
# the queue only grows.
CHANGES_PER_SECOND = 1.5
SEEDED_SAVES_PER_SECOND = 1.5
# The faults go on until this share of the planned records is delivered, so that most of them meet faults.
DELIVERED_UNDER_FAULTS = 0.9
WORKER_SETTINGS = {
    # Small pages: more NetSuite requests per pull, so that more of them meet a fault.
    "SYNC_PAGE_SIZE": "250",
    # Record retries after seconds instead of minutes: the soak lasts minutes.
    "SYNC_RETRY_BASE_SECONDS": "1", "SYNC_RETRY_CAP_SECONDS": "8",
    # tests/chaos/worker.py: what a killed worker held (leases, claims, push events) is free again within the soak.
    "CHAOS_RECOVERY_SECONDS": "30",
}


def add_faults(*, netsuite: NetSuiteSandbox, jaggaer: JaggaerSandbox, seed: int) -> None:
    """NetSuite: 429 on 5% of API requests (half of them as the 400 CONCURRENCY_LIMIT_EXCEEDED variant), 500
    on 3%. JAGGAER: 429 with Retry-After on 5%, 500 on 3%, a write applied and its answer dropped on 2%."""
    netsuite.faults.seed(seed)
    netsuite.faults.add_rate_limit_storm(probability=0.025, status=429)
    netsuite.faults.add_rate_limit_storm(probability=0.025, status=400)
    netsuite.faults.add_server_errors(probability=0.03)
    jaggaer.seed_faults(seed + 1)
    jaggaer.add_fault(kind="rate_limit", probability=0.05, retry_after=1)
    jaggaer.add_fault(kind="server_error", probability=0.03)
    jaggaer.add_fault(kind="drop_after_write", probability=0.02)


class Soak:
    """Everything the soak started, stopped (in reverse order) when the block ends, whatever happened."""

    def __init__(self, plan: SoakPlan, directory: Path, *, postgres_restart: list[str]) -> None:
        self.plan = plan
        self.directory = directory
        self.postgres_restart = postgres_restart
        self.rng = random.Random(f"{plan.seed}:soak")
        self.kills = 0
        self.restarts: Counter[str] = Counter()
        self.timeline: list[str] = []
        # When a worker could not record what it had just sent: the moment of each kill, and PostgreSQL's restart.
        self.blackouts: list[tuple[datetime, datetime]] = []
        self.chaos_requests: dict[str, int] = {}  # API requests during the chaos, per system: the faults' base
        self.delivered_in_chaos = 0  # records delivered by the time the faults stopped
        self._stack = ExitStack()
        self._started = time.monotonic()

    def __enter__(self) -> "Soak":
        self._stack.__enter__()
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.__exit__(*exc)

    def _serve(self, app: Any) -> LiveSandbox:
        server = RunningServer(app.wsgi_app())
        self._stack.callback(server.stop)
        return LiveSandbox(app=app, server=server)

    def _start(self) -> None:
        plan = self.plan
        # django-q2 logs a line for every task put on the queue, which would bury the soak's report.
        queue_log = logging.getLogger("django-q")
        self._stack.callback(queue_log.setLevel, queue_log.level)
        queue_log.setLevel(logging.WARNING)
        dataset = NetSuiteDataset(seed=plan.seed, vendors=plan.vendors, purchase_orders=plan.purchase_orders)
        self.netsuite = self._serve(NetSuiteSandbox(dataset=dataset))
        self.netsuite.app.governor.integration_limit = NETSUITE_LIMIT
        self.jaggaer = self._serve(JaggaerSandbox())
        # JAGGAER's own rate limit would only add waits: its 429s come from the faults.
        self.jaggaer.app.configure(rate_per_second=10_000, max_in_flight=16)
        make_netsuite(self.netsuite)
        make_jaggaer(self.jaggaer)
        self.pair = ConnectionPair.objects.select_related("netsuite", "jaggaer").get()
        PairCodingRule.objects.create(pair=self.pair, rule=CodingRule.SAME_NUMBER)
        self.schedules = ensure_schedules(pair=self.pair, every_minutes=60)
        install_periodic_tasks(schedule_model=Schedule)  # the workers' own scheduler runs the periodic tasks too

        self.redis = RedisServer(self._directory("redis"))
        self._stack.callback(self.redis.stop)
        self.web = WebHost(self._directory("web"), broker=self.redis.url)
        self._stack.callback(self.web.stop)
        self.hosts = [self._worker_host(n) for n in range(1, WORKER_HOSTS + 1)]
        self._stack.callback(self._stop_hosts)
        wait_for(lambda: all(" running." in host.log.read_text() for host in self.hosts), seconds=60,
                 what=f"the worker hosts (logs in {self.directory})")
        self.queue = TaskQueue(self.redis.url)
        self.changes = NetSuiteChanges(self.netsuite.app, random.Random(f"{plan.seed}:changes"))
        self.pusher = Pusher(netsuite=self.netsuite.app, secret=WEBHOOK_SECRET, rng=random.Random(f"{plan.seed}:pushes"),
                             url=f"{self.web.url}/webhooks/netsuite/{self.pair.netsuite.name}/")
        self._stack.callback(self.pusher.stop, seconds=10)

    def _directory(self, name: str) -> Path:
        path = self.directory / name
        path.mkdir(exist_ok=True)
        return path

    def _worker_host(self, number: int) -> WorkerHost:
        return WorkerHost(self.directory / f"host{number}", broker=self.redis.url, settings=WORKER_SETTINGS)

    def _stop_hosts(self) -> None:
        for host in self.hosts:
            host.stop()  # one by one: a cluster sent a second SIGTERM while stopping hangs until killed

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def _note(self, what: str) -> None:
        # The wall-clock time too: JAGGAER's inspection log and the workers' logs say when in those terms.
        clock = datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
        self.timeline.append(f"{self.elapsed():6.1f} s ({clock} UTC) {what}")

    # The chaos ----------------------------------------------------------------------------------------------

    def run_chaos(self) -> None:
        """Changes, pushes and polls with the plan's faults, and its breakages at their moments, for
        plan.chaos_seconds, then until most records are delivered (plan.longest_chaos_seconds at most)."""
        add_faults(netsuite=self.netsuite.app, jaggaer=self.jaggaer.app, seed=self.plan.seed)
        self.netsuite.app.governor.reset_peak()
        started = time.monotonic()
        moments = list(self.plan.moments)
        next_poll = 0.0
        changes_due = saves_due = 0.0
        mostly_delivered = False
        while (now := time.monotonic() - started) < self.plan.chaos_seconds or (
                now < self.plan.longest_chaos_seconds and not mostly_delivered):
            while moments and moments[0].at <= now:
                self._break(moments.pop(0).action)
            if now >= next_poll:
                self.poll()
                next_poll = now + POLL_EVERY_SECONDS
                mostly_delivered = self._delivered() >= DELIVERED_UNDER_FAULTS * self.plan.records
            changes_due += CHANGES_PER_SECOND * TICK_SECONDS
            saves_due += SEEDED_SAVES_PER_SECOND * TICK_SECONDS
            for _ in range(int(changes_due)):
                for push in self.changes.make_one():
                    self.pusher.push(push)
            for _ in range(int(saves_due)):
                self.pusher.push(self.changes.seeded_save())
            changes_due -= int(changes_due)
            saves_due -= int(saves_due)
            time.sleep(TICK_SECONDS)
        self.chaos_requests = {"NetSuite": self.netsuite.app.faults.requests_seen,
                               "JAGGAER": self.jaggaer.app.counts()["requests"]}
        self.delivered_in_chaos = self._delivered()

    def _delivered(self) -> int:
        return SyncRecord.objects.filter(pair=self.pair, state=SyncRecord.State.DELIVERED).count()

    def _break(self, action: str) -> None:
        started = datetime.now(UTC)
        if action == "kill":
            index = self.rng.randrange(len(self.hosts))
            self.hosts[index].kill()
            self.blackouts.append((started, datetime.now(UTC)))
            self.kills += 1
            self.hosts[index] = self._worker_host(index + 1)
            self._note(f"host{index + 1} killed (SIGKILL to every process of its cluster) and started again")
        elif action == "restart_postgres":
            seconds = restart_postgres(self.postgres_restart)
            self.blackouts.append((started, datetime.now(UTC)))
            self.restarts["postgres"] += 1
            self._note(f"PostgreSQL restarted ({seconds:.1f} s)")
        elif action == "restart_redis":
            self.redis.restart()
            self.restarts["redis"] += 1
            self._note("Redis restarted (its queue lost)")
        elif action == "revoke_netsuite_tokens":
            self.netsuite.app.revoke_tokens()
            self._note("NetSuite revoked every access token")
        elif action == "jaggaer_maintenance":
            self.jaggaer.app.add_fault(kind="maintenance", for_seconds=self.plan.maintenance_seconds, retry_after=5)
            self._note(f"JAGGAER in maintenance (503) for {self.plan.maintenance_seconds:g} s")
        else:
            raise ValueError(f"unknown breakage {action!r}")

    def poll(self) -> None:
        """A run of every flow's schedule, the retry sweeper and the push retries, put on the workers' queue."""
        for schedule in self.schedules:
            self.queue.put("sync.tasks.run_scheduled_flow", schedule.pk)
        self.queue.put("sync.tasks.sweep_due_deliveries")
        self.queue.put("sync.tasks.process_due_push_events")

    # The end ------------------------------------------------------------------------------------------------

    def drain(self) -> float:
        """Stops the faults and the traffic, then polls until every flow has been pulled whole since, every
        record is delivered or skipped and every push event processed (or given up); returns the seconds it
        took. Fails after plan.drain_seconds."""
        self.netsuite.app.faults.clear()
        self.jaggaer.app.clear_faults()
        self.pusher.stop(seconds=60)
        self._note(f"faults and changes stopped; {self.queue.size()} tasks queued")
        quiet_since = timezone.now()
        started = time.monotonic()
        while not self._settled(quiet_since):
            if time.monotonic() - started > self.plan.drain_seconds:
                raise AssertionError(
                    f"not settled {self.plan.drain_seconds:g} s after the faults stopped: records "
                    f"{unfinished_records(self.pair)}, flows pulled since {self._flows_pulled_since(quiet_since)}, "
                    f"push events to process {self._push_events_left()}; seed {self.plan.seed}; worker logs in "
                    f"{self.directory}\n{explain_unfinished(self.pair)}")
            self.poll()
            time.sleep(POLL_EVERY_SECONDS / 2)
        self._stop_hosts()
        self._note("settled; worker hosts stopped")
        return time.monotonic() - started

    def _flows_pulled_since(self, moment: Any) -> list[str]:
        return sorted(set(SyncRun.objects.filter(pair=self.pair, trigger="schedule", succeeded=True,
                                                 started_at__gte=moment).values_list("flow", flat=True)))

    def _push_events_left(self) -> int:
        """Accepted events not processed yet, and failed ones with a retry to come."""
        events = WebhookEvent.objects.filter(connection=self.pair.netsuite)
        return (events.filter(status=WebhookEvent.Status.ACCEPTED).count()
                + events.filter(status=WebhookEvent.Status.FAILED, next_attempt_at__isnull=False).count())

    def _settled(self, quiet_since: Any) -> bool:
        flows = {schedule.flow for schedule in FlowSchedule.objects.filter(pair=self.pair)}
        return (set(self._flows_pulled_since(quiet_since)) == flows and not unfinished_records(self.pair)
                and not self._push_events_left())
