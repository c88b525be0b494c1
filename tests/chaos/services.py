"""The processes around the connector in the chaos soak, each of which the soak can break: Redis (the broker),
the web host that receives NetSuite's pushes, worker hosts running qcluster, and the PostgreSQL server that
scripts/test started. All listen on 127.0.0.1 only; every process started here is stopped by its owner's
stop(), which the soak calls in a finally."""

import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis
from django.db import connections
from django_q.brokers.redis_broker import Redis
from django_q.tasks import async_task

from tests.processes import accepting, wait_for
from tests.sync.test_worker import Cluster, environment

ROOT = Path(__file__).resolve().parents[2]
# Set by scripts/test: the pg_ctl command line of the server it started, up to the action.
PG_CTL_VARIABLE = "ML_TEST_PG_CTL"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen, *, seconds: float = 15) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class RedisServer:
    """A redis-server without persistence on a port of its own, which keeps its port across restarts (so that
    every client's URL stays valid) and loses its queue on restart, as an unpersisted Redis does."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        log = (self.directory / "redis.log").open("a")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)], stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: accepting(self.port), seconds=10, what="redis-server")

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)


class TaskQueue:
    """Puts tasks on the workers' Redis queue from this process, whose own django-q2 broker is the database:
    what django-q2's scheduler and the web host's "Run now" do on a Redis deployment."""

    def __init__(self, url: str) -> None:
        self.broker = Redis()
        self.broker.connection = redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.refused = 0  # tasks lost because Redis was down, as a scheduler's would be

    def put(self, func: str, *args: object) -> None:
        try:
            async_task(func, *args, broker=self.broker)
        except redis.RedisError:
            self.refused += 1

    def size(self) -> int:
        try:
            return int(self.broker.queue_size())
        except redis.RedisError:
            return -1


def worker_environment(*, directory: Path, broker: str, extra: dict[str, str]) -> dict[str, str]:
    return {**environment(lock_dir=directory / "locks", broker=broker), **extra}


class WebHost:
    """gunicorn serving the connector (the NetSuite webhook among it), as the web machine of a deployment
    with several worker machines: accepted pushes go to the workers through Redis."""

    def __init__(self, directory: Path, *, broker: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / "web.log"
        env = {**worker_environment(directory=directory, broker=broker, extra={}),
               "BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": "2"}
        self.process = subprocess.Popen([sys.executable, "-m", "gunicorn", "connector_project.wsgi"], cwd=ROOT, env=env,
                                        stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        wait_for(lambda: accepting(self.port) or self.process.poll() is not None, seconds=60,
                 what=f"gunicorn (log: {self.log})")
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped at start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        _stop(self.process)


class WorkerHost(Cluster):
    """A worker machine: qcluster (tests/chaos/worker.py) in a directory and lock directory of its own,
    sharing nothing with the others but PostgreSQL and Redis. kill() is a crash: SIGKILL to every process."""

    def __init__(self, directory: Path, *, broker: str, settings: dict[str, str]) -> None:
        directory.mkdir(exist_ok=True)
        self.log = directory / "qcluster.log"
        env = worker_environment(directory=directory, broker=broker, extra=settings)
        with self.log.open("a") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "tests.chaos.worker"], cwd=ROOT, env=env,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def postgres_restart_command() -> list[str] | None:
    """pg_ctl restart of the server scripts/test started; None when the tests run without scripts/test."""
    command = os.environ.get(PG_CTL_VARIABLE, "").strip()
    return [*shlex.split(command), "-w", "-m", "fast", "restart"] if command else None


def restart_postgres(command: list[str]) -> float:
    """Restarts the server (every session ends), then lets this process's connections reconnect; returns the
    seconds it took. Fast mode: a clean shutdown, so that no committed transaction is lost (the test server runs
    with synchronous_commit off, with which a crash would lose the last ones: not what a soak of the
    connector should count against it)."""
    started = time.monotonic()
    subprocess.run(command, check=True, timeout=120, capture_output=True)
    connections.close_all()
    return time.monotonic() - started
