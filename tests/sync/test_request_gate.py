"""The NetSuite request gate that every worker host shares (SYNC_REQUEST_GATE): PostgreSQL advisory locks keep
an account's requests in flight within its limit across threads, processes and machines, and a holder that
dies frees its slot within seconds. The scale-out test runs three django-q2 clusters that share nothing but
PostgreSQL and a Redis broker, as three worker machines would."""

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from django.db import connection
from django_q.models import Task

from sync.flows import FLOWS_IN_ORDER
from sync.models import SyncRecord, SyncRun
from sync.remote.request_gate import SERVER_KEEPALIVES, AccountGate, AdvisoryLocks, LockFiles, SlotUnavailable, request_gate
from sync.triggers.schedules import ensure_schedules
from tests.processes import wait_for
from tests.sync.test_clients import run_in_threads
from tests.sync.test_worker import Cluster, environment

ROOT = Path(__file__).resolve().parents[2]
RUN_TASK = "sync.tasks.run_scheduled_flow"


class InFlight:
    """Counts the holders of a slot at once, as NetSuite's governor would."""

    def __init__(self) -> None:
        self.now = self.peak = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.now -= 1


def database_gate(account: str, *, limit: int = 1, wait_timeout: float = 0) -> AccountGate:
    return AccountGate(account=account, limit=limit, locks=AdvisoryLocks(), wait_timeout=wait_timeout)


def slot_free(gate: AccountGate) -> bool:
    try:
        with gate.slot():
            return True
    except SlotUnavailable:
        return False


def advisory_locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_threads_on_the_database_gate_never_hold_more_slots_than_the_limit_and_leave_no_lock_behind():
    in_flight = InFlight()

    def requests() -> int:
        gate = database_gate("threads", limit=2, wait_timeout=30)  # one per thread, as separate workers have
        try:
            for _ in range(15):
                with gate.slot(), in_flight:
                    time.sleep(0.002)  # a request takes time: the other threads must find both slots taken
        finally:
            connection.close()  # this thread's own connection, which held its locks
        return 15

    done = run_in_threads(8, requests)

    print(f"\nthreads: 8 x 15 requests, limit 2, peak in flight {in_flight.peak}")
    assert sum(done) == 8 * 15  # a thread that died would be missing here
    assert in_flight.peak == 2
    assert advisory_locks_held() == 0


@pytest.mark.django_db
def test_a_slot_is_unlocked_when_its_request_fails_and_a_thread_never_takes_its_own_slot_twice():
    gate = database_gate("failing")
    with pytest.raises(ConnectionError), gate.slot():
        raise ConnectionError("NetSuite hung up")
    assert slot_free(gate)

    # Advisory locks are re-entrant within a session: without the gate's own bookkeeping this would succeed.
    with gate.slot(), pytest.raises(SlotUnavailable), gate.slot():
        pass


@pytest.mark.django_db
def test_a_session_holding_a_slot_asks_the_server_to_notice_a_vanished_host_within_seconds():
    # A machine that loses power never closes its connection; the server's TCP keepalives find it gone.
    with database_gate("keepalives").slot(), connection.cursor() as cursor:
        shown = {}
        for name in SERVER_KEEPALIVES:
            cursor.execute(f"SHOW {name}")
            shown[name] = int(cursor.fetchone()[0])
    assert shown == SERVER_KEEPALIVES


@pytest.mark.django_db
def test_a_process_killed_while_holding_a_slot_frees_it_within_seconds(tmp_path):
    output = tmp_path / "holder.out"
    holder = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c",
         ("import time\nfrom sync.remote.request_gate import AccountGate, AdvisoryLocks\n"
          "with AccountGate(account='killed', limit=1, locks=AdvisoryLocks()).slot():\n"
          "    print('holding', flush=True)\n    time.sleep(60)")],
        cwd=ROOT, env=environment(lock_dir=tmp_path / "locks", broker="orm"), stdout=output.open("w"),
        stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "holding" in output.read_text(), seconds=30, what=f"the holder ({output.read_text()})")
        gate = database_gate("killed")
        assert not slot_free(gate)

        holder.kill()  # SIGKILL: no finally, no clean-up, as a crashed worker
        killed_at = time.monotonic()
        wait_for(lambda: slot_free(gate), seconds=5, what="the dead holder's slot")
    finally:
        holder.kill()
        holder.wait(timeout=10)
    print(f"\nslot free {time.monotonic() - killed_at:.2f} s after its holder was killed")


@pytest.mark.django_db
def test_auto_uses_the_database_on_postgresql_and_files_is_this_hosts_lock_directory(settings, tmp_path):
    assert isinstance(request_gate(account="a", limit=2).locks, AdvisoryLocks)
    settings.SYNC_REQUEST_GATE = "files"
    settings.SYNC_LOCK_DIR = tmp_path
    assert isinstance(request_gate(account="a", limit=2).locks, LockFiles)


def test_the_database_gate_is_refused_at_start_on_sqlite(tmp_path):
    env = {**environment(lock_dir=tmp_path, broker="orm"), "SYNC_REQUEST_GATE": "database",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'single.sqlite3'}"}
    started = subprocess.run([sys.executable, "manage.py", "check"], check=False, cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert started.returncode != 0
    assert "SYNC_REQUEST_GATE=database needs PostgreSQL" in started.stderr


# Scale-out: three worker machines --------------------------------------------------------------------------

class Host(Cluster):
    """A worker machine running `manage.py qcluster` in a working directory and lock directory of its own:
    it shares nothing with the others but PostgreSQL and the Redis broker."""

    def __init__(self, directory: Path, *, broker: str) -> None:
        directory.mkdir()
        # Small SuiteQL pages: many requests per run, so that the hosts' requests overlap.
        env = {**environment(lock_dir=directory / "locks", broker=broker), "SYNC_PAGE_SIZE": "10"}
        self.log = directory / "qcluster.log"
        self.process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "qcluster"], cwd=directory,
                                        env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def running(self) -> bool:
        return " running." in self.log.read_text()

    def runs_taken(self) -> int:
        return sum(1 for line in self.log.read_text().splitlines() if " processing " in line and RUN_TASK in line)


@pytest.fixture
def hosts(redis_url) -> Iterator[list[Host]]:
    """The hosts a test starts, stopped at its end (and before Redis, which they need to stop cleanly)."""
    started: list[Host] = []
    yield started
    for host in started:
        host.stop()  # one by one: a cluster sent a second SIGTERM while stopping hangs until killed


def enqueue_runs(schedule_ids: list[int], *, broker: str, tmp_path: Path) -> None:
    """What the web host's "Run now" does, from a process configured for the Redis broker."""
    subprocess.run([sys.executable, "manage.py", "shell", "-c",
                    f"from sync.triggers.schedules import enqueue_run\nfor pk in {schedule_ids!r}: enqueue_run(schedule_id=pk)"],
                   cwd=ROOT, env=environment(lock_dir=tmp_path / "web-locks", broker=broker), check=True, timeout=60,
                   capture_output=True)


def wait_for_runs(count: int, *, hosts: list[Host]) -> None:
    wait_for(lambda: Task.objects.filter(func=RUN_TASK).count() >= count, seconds=60,
             what=f"{count} runs (host logs: {[host.log.read_text()[-1500:] for host in hosts]})")


def overlapping_runs() -> list[tuple[SyncRun, SyncRun]]:
    """Pairs of runs of one flow that were pulling at the same time (skipped runs pull nothing)."""
    overlaps = []
    for flow in FLOWS_IN_ORDER:
        runs = SyncRun.objects.filter(trigger="schedule", flow=flow, succeeded__isnull=False).order_by("started_at")
        overlaps += [(earlier, later) for earlier, later in pairwise(runs) if later.started_at < earlier.finished_at]
    return overlaps


@pytest.mark.django_db(transaction=True)
def test_three_worker_hosts_sharing_postgresql_and_redis_keep_netsuites_limit_and_deliver_each_record_once(
        pair, netsuite, jaggaer, redis_url, hosts, tmp_path):
    limit = 2
    netsuite.app.governor.integration_limit = limit  # reported by governanceLimits; each host reads it itself
    netsuite.app.faults.add_latency(seconds=0.05)  # requests take time, so that the hosts' requests overlap
    netsuite.app.governor.reset_peak()
    schedule_ids = [schedule.pk for schedule in ensure_schedules(pair=pair, every_minutes=60)]
    started_at = time.monotonic()

    hosts.extend(Host(tmp_path / f"host{n}", broker=redis_url) for n in (1, 2))
    # Every flow three times over: runs of one flow compete for its lease, runs of all flows for NetSuite.
    enqueue_runs(schedule_ids * 3, broker=redis_url, tmp_path=tmp_path)
    wait_for(lambda: SyncRun.objects.filter(trigger="schedule").exists(), seconds=30,
             what=f"a first run (host1 log: {hosts[0].log.read_text()[-2000:]})")
    hosts.append(Host(tmp_path / "host3", broker=redis_url))  # a machine added mid-run
    wait_for(hosts[2].running, seconds=30, what=f"the third host (log: {hosts[2].log.read_text()[-2000:]})")
    enqueue_runs(schedule_ids * 2, broker=redis_url, tmp_path=tmp_path)
    wait_for_runs(len(schedule_ids) * 5, hosts=hosts)
    # The next round of the schedules: bills that waited for their purchase order go out.
    enqueue_runs(schedule_ids, broker=redis_url, tmp_path=tmp_path)
    wait_for_runs(len(schedule_ids) * 6, hosts=hosts)
    elapsed = time.monotonic() - started_at

    peak = netsuite.app.governor.peak_in_flight
    netsuite_requests = sum(1 for entry in netsuite.app.requests_log if "/auth/" not in entry.path)
    created = Counter((entry["path"], entry["key"]) for entry in jaggaer.app.received() if entry["status"] == "Created")
    written = Counter((entry["path"], entry["key"]) for entry in jaggaer.app.received())
    runs = SyncRun.objects.filter(trigger="schedule")
    states = Counter(SyncRecord.objects.values_list("state", flat=True))
    print(f"\nscale-out: {len(hosts)} hosts x 2 workers, runs taken per host {[host.runs_taken() for host in hosts]}; "
          f"NetSuite limit {limit}, peak in flight {peak}, {netsuite_requests} requests; records {dict(states)}, "
          f"{len(created)} created in JAGGAER, "
          f"{sum(count - 1 for count in written.values())} written twice; runs {runs.exclude(succeeded=None).count()} "
          f"pulled, {runs.filter(succeeded=None).count()} skipped as their flow was busy; {elapsed:.1f} s")

    assert Task.objects.filter(func=RUN_TASK, success=False).count() == 0
    assert peak <= limit
    assert peak == limit  # the hosts did compete for the slots: the gate, not luck, kept them within the limit
    assert [key for key, count in created.items() if count > 1] == []
    assert [key for key, count in written.items() if count > 1] == []
    assert set(states) == {SyncRecord.State.DELIVERED}, states
    assert states[SyncRecord.State.DELIVERED] == len(created) > 0
    assert overlapping_runs() == []
    assert all(host.runs_taken() > 0 for host in hosts)
