"""Schedules run by a real django-q2 cluster (`manage.py qcluster`, ORM broker, PostgreSQL) in another
process: a one-minute schedule runs, missed runs are caught up per each schedule's policy, and a worker
killed in the middle of a run does not leave its flow locked for longer than the lease."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import OrmQ, Schedule
from django_q.scheduler import scheduler

from sync.models import FlowLock, FlowSchedule, SyncRun
from sync.triggers.schedules import enqueue_run, install_periodic_tasks, run_scheduled_flow, save_schedule
from tests.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
Kind = FlowSchedule.Kind


def environment(*, lock_dir: Path, broker: str) -> dict[str, str]:
    """What a process of ours needs to work on this test's database."""
    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    return {**os.environ, "Q_BROKER": broker, "Q_WORKERS": "2", "SYNC_LOCK_DIR": str(lock_dir), "DATABASE_URL": url}


class Cluster:
    def __init__(self, *, log: Path, lock_dir: Path, broker: str = "orm") -> None:
        env = environment(lock_dir=lock_dir, broker=broker)
        self.log = log
        # Its own process group: the cluster's worker processes are stopped (or killed) with it.
        self.process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                                        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """As a crashed machine would: no clean-up of any kind."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()  # the cluster stops its own workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # a worker process the cluster failed to stop
        except ProcessLookupError:
            pass


@pytest.fixture
def cluster(pair, tmp_path, settings) -> Iterator[Cluster]:
    running = Cluster(log=tmp_path / "qcluster.log", lock_dir=settings.SYNC_LOCK_DIR)
    yield running
    running.stop()


def schedule(pair, flow: str, **fields: object) -> FlowSchedule:
    return save_schedule(schedule=FlowSchedule(pair=pair, flow=flow, **fields))


def finished_runs(flow: str) -> list[SyncRun]:
    return list(SyncRun.objects.filter(trigger="schedule", flow=flow, finished_at__isnull=False))


def test_the_cluster_runs_a_one_minute_schedule_and_catches_up_missed_runs_per_policy(pair, cluster):
    now = timezone.now()
    far_from_now = (now + timedelta(hours=12)).time().replace(second=0, microsecond=0)
    every_minute = schedule(pair, "gl_accounts", kind=Kind.INTERVAL, every_minutes=1)
    missed_once = schedule(pair, "classifications", kind=Kind.DAILY, at_time=far_from_now,
                           catch_up=FlowSchedule.CatchUp.ONCE)
    missed_skip = schedule(pair, "vendors", kind=Kind.DAILY, at_time=far_from_now,
                           catch_up=FlowSchedule.CatchUp.SKIP)
    # The worker was down: the minute slot just passed, the daily ones three days ago.
    FlowSchedule.objects.filter(pk=every_minute.pk).update(next_run_at=now - timedelta(seconds=1))
    FlowSchedule.objects.filter(pk__in=[missed_once.pk, missed_skip.pk]).update(
        next_run_at=missed_once.next_run_at - timedelta(days=3))
    install_periodic_tasks(schedule_model=Schedule)
    Schedule.objects.update(next_run=now + timedelta(hours=1))
    Schedule.objects.filter(func="sync.tasks.dispatch_due_schedules").update(next_run=now)

    scheduler(broker=get_broker())  # what the cluster's own scheduler does every 30 s, without the wait

    wait_for(lambda: finished_runs("gl_accounts") and finished_runs("classifications"), seconds=60,
             what=f"the scheduled runs (cluster log: {cluster.log.read_text()[-2000:]})")
    assert [run.succeeded for run in finished_runs("gl_accounts")] == [True]
    assert [run.succeeded for run in finished_runs("classifications")] == [True]
    assert finished_runs("vendors") == []
    for row in (every_minute, missed_once, missed_skip):
        row.refresh_from_db()
        assert row.next_run_at > now
    assert every_minute.next_run_at <= now + timedelta(minutes=2)
    assert missed_once.last_success_at is not None
    assert missed_skip.last_run_at is None and missed_skip.next_run_at == missed_once.next_run_at


def test_a_worker_killed_mid_run_blocks_its_flow_only_until_the_lease_expires(pair, netsuite, cluster):
    gl_accounts = schedule(pair, "gl_accounts", kind=Kind.INTERVAL, every_minutes=1)
    netsuite.app.faults.add_latency(seconds=30)  # the run hangs in its pull, holding the lease
    try:
        enqueue_run(schedule_id=gl_accounts.pk)
        wait_for(lambda: FlowLock.objects.filter(pair=pair, flow="gl_accounts").exclude(holder="").exists(),
                 seconds=30, what=f"the run to start (cluster log: {cluster.log.read_text()[-2000:]})")
        cluster.kill()
    finally:
        netsuite.app.faults.clear()
    dead = FlowLock.objects.get(pair=pair, flow="gl_accounts")
    assert dead.expires_at > datetime.now(UTC)

    [skipped] = run_scheduled_flow(schedule_id=gl_accounts.pk)
    assert skipped.succeeded is None and dead.holder in skipped.message

    with time_machine.travel(dead.expires_at + timedelta(seconds=1)):
        [ran] = run_scheduled_flow(schedule_id=gl_accounts.pk)
    assert ran.succeeded is True and ran.delivered > 0
    assert FlowLock.objects.get(pair=pair, flow="gl_accounts").holder == ""


def test_with_q_broker_set_to_redis_the_cluster_takes_its_tasks_from_redis(pair, tmp_path, settings, redis_url):
    every_minute = schedule(pair, "gl_accounts", kind=Kind.INTERVAL, every_minutes=1)
    FlowSchedule.objects.filter(pk=every_minute.pk).update(next_run_at=timezone.now() - timedelta(seconds=1))
    install_periodic_tasks(schedule_model=Schedule)
    Schedule.objects.update(next_run=timezone.now() + timedelta(hours=1))
    Schedule.objects.filter(func="sync.tasks.dispatch_due_schedules").update(next_run=timezone.now())
    running = Cluster(log=tmp_path / "qcluster.log", lock_dir=settings.SYNC_LOCK_DIR, broker=redis_url)
    try:
        # The scheduler of a process configured for Redis puts the dispatcher on Redis, not in the database.
        subprocess.run([sys.executable, "manage.py", "shell", "-c", "from django_q.scheduler import scheduler; "
                        "scheduler()"], cwd=ROOT, env=environment(lock_dir=settings.SYNC_LOCK_DIR, broker=redis_url),
                       check=True, timeout=60, capture_output=True)
        wait_for(lambda: finished_runs("gl_accounts"), seconds=60,
                 what=f"the scheduled run (cluster log: {running.log.read_text()[-2000:]})")
    finally:
        running.stop()
    assert [run.succeeded for run in finished_runs("gl_accounts")] == [True]
    assert not OrmQ.objects.exists()
