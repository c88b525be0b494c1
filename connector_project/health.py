"""Whether this deployment can do its work, for load balancers and monitoring (GET /health/): the database
answers, the django-q2 broker answers, and a django-q2 cluster (the worker, `manage.py qcluster`) has shown
signs of life recently.

The answer names what failed and the exception's type, never its text: the endpoint needs no login, and
driver messages carry host names, ports and user names. The server log gets the text."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django_q.brokers import Broker, get_broker
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.conf import Conf
from django_q.models import Task
from django_q.status import Stat

logger = logging.getLogger(__name__)

# A living cluster writes its heartbeat twice a second, and its scheduler starts our one-minute periodic tasks
# (sync/triggers/schedules.py) up to 90 seconds apart; silence longer than this means no worker is running.
WORKER_SILENCE = timedelta(seconds=120)
# django-q2 opens Redis without timeouts: an unreachable host would hold a web worker until gunicorn kills it.
REDIS_TIMEOUT_SECONDS = 3.0

OK, DEGRADED, DOWN = "ok", "degraded", "down"


@dataclass(frozen=True)
class Health:
    """One answer of every check, each a dict with at least `status` ("ok", "down" or, for the worker,
    "silent" when no heartbeat came within WORKER_SILENCE)."""

    database: dict[str, Any]
    broker: dict[str, Any]
    worker: dict[str, Any]

    @property
    def status(self) -> str:
        if DOWN in (self.database["status"], self.broker["status"]):
            return DOWN
        return OK if self.worker["status"] == OK else DEGRADED

    def http_status(self, *, strict: bool) -> int:
        """503 when nothing can work; with `strict`, also when no worker runs (records would wait)."""
        if self.status == DOWN or (strict and self.status == DEGRADED):
            return 503
        return 200

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status,
                "checks": {"database": self.database, "broker": self.broker, "worker": self.worker}}


def check_health(*, now: datetime | None = None) -> Health:
    """Runs every check; a check that raises is reported as down, the others still run."""
    now = now or timezone.now()
    return Health(database=_guarded("database", _check_database),
                  broker=_guarded("broker", lambda: _check_broker(_broker())),
                  worker=_guarded("worker", lambda: _check_worker(_broker(), now=now)))


def _guarded(name: str, check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return check()
    except Exception as exc:  # whatever the driver raises, the load balancer gets an answer
        logger.warning("Health check %s failed: %s: %s", name, type(exc).__name__, exc)
        return {"status": DOWN, "error": type(exc).__name__}


def _broker() -> Broker:
    broker = get_broker()
    if isinstance(broker, RedisBroker):
        # Options written in the URL (…?socket_timeout=10) still win over these defaults.
        broker.connection = redis.from_url(Conf.REDIS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                           socket_timeout=REDIS_TIMEOUT_SECONDS)
    return broker


def _check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": OK}


def _check_broker(broker: Broker) -> dict[str, Any]:
    # The ORM broker's ping() answers True without asking anything; counting the queue reads it for real.
    broker.ping()
    kind = "redis" if isinstance(broker, RedisBroker) else "orm"
    return {"status": OK, "kind": kind, "queued": broker.queue_size()}


def _check_worker(broker: Broker, *, now: datetime) -> dict[str, Any]:
    """The newest sign of life of any cluster: its heartbeat (what `manage.py qinfo` lists), else the newest
    finished task. The ORM broker keeps heartbeats in each process's own cache, so the web never sees a
    worker's there; the periodic tasks every minute then stand in for it."""
    clusters = Stat.get_all(broker=broker)
    if clusters:
        newest, source = max(stat.timestamp for stat in clusters), "cluster heartbeat"
    else:
        newest, source = Task.objects.aggregate(newest=Max("stopped"))["newest"], "finished task"
    if newest is None:
        return {"status": "silent", "clusters": 0, "last_seen_seconds": None, "source": None}
    # Another host's clock may run a little ahead of ours.
    age = max((now - newest).total_seconds(), 0.0)
    return {"status": OK if age <= WORKER_SILENCE.total_seconds() else "silent", "clusters": len(clusters),
            "last_seen_seconds": round(age, 1), "source": source}
