"""Deployment as a server runs it: the health endpoint that load balancers probe (database, broker, worker
heartbeat), and scripts/serve, gunicorn with WhiteNoise in production mode."""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import time_machine
from django.test import Client
from django_q.conf import Conf
from django_q.tasks import async_task

# The worker tests' helpers: a real `manage.py qcluster` and redis-server, each in its own process.
from tests.processes import accepting, wait_for
from tests.sync.test_worker import Cluster, environment

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound and released at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def health_from_another_process(tmp_path: Path, **env: str) -> tuple[int, dict[str, Any]]:
    """GET /health/ in a fresh process started with `env` on top of this test's database: the broker, like
    every setting, is read once at start."""
    fetch = ("from django.test import Client; answer = Client().get('/health/', HTTP_HOST='localhost'); "
             "print(answer.status_code, answer.content.decode())")
    result = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", fetch], cwd=ROOT,
                            env={**environment(lock_dir=tmp_path / "locks", broker="orm"), **env},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    return int(status), json.loads(body)


def test_with_no_worker_the_health_is_degraded_yet_200_and_strict_makes_it_503(client: Client) -> None:
    answer = client.get("/health/")
    strict = client.get("/health/?strict=1")

    assert answer.status_code == 200
    assert answer.json() == {"status": "degraded", "checks": {
        "database": {"status": "ok"},
        "broker": {"status": "ok", "kind": "orm", "queued": 0},
        "worker": {"status": "silent", "clusters": 0, "last_seen_seconds": None, "source": None},
    }}
    assert strict.status_code == 503 and strict.json()["status"] == "degraded"
    assert "no-cache" in answer["Cache-Control"]


def test_a_task_a_worker_finished_within_two_minutes_counts_as_its_heartbeat(client: Client) -> None:
    # With the ORM broker the cluster's own heartbeat stays in its process; the tasks it finishes do not.
    async_task("math.sqrt", 4, sync=True)

    fresh = client.get("/health/")
    with time_machine.travel(timedelta(minutes=3)):
        stale = client.get("/health/?strict=1")

    assert fresh.status_code == 200 and fresh.json()["status"] == "ok"
    assert fresh.json()["checks"]["worker"]["source"] == "finished task"
    assert stale.status_code == 503
    assert stale.json()["checks"]["worker"]["status"] == "silent"
    assert stale.json()["checks"]["worker"]["last_seen_seconds"] >= 180


def test_the_health_needs_no_login_and_is_not_redirected_to_https(client: Client, settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/health/").status_code == 200
    assert client.head("/health/").status_code == 200
    assert client.get("/admin/login/").status_code == 301
    assert client.post("/health/").status_code == 405


@pytest.mark.parametrize(("failing", "variable", "url", "error"), [
    ("broker", "Q_BROKER", "redis://127.0.0.1:{port}/0", "ConnectionError"),
    ("database", "DATABASE_URL", "postgres://postgres@127.0.0.1:{port}/ml_connector", "OperationalError"),
])
def test_a_database_or_broker_that_does_not_answer_is_503_naming_only_the_check_and_exception_type(
        tmp_path: Path, failing: str, variable: str, url: str, error: str) -> None:
    closed_port = free_port()

    status, answer = health_from_another_process(tmp_path, **{variable: url.format(port=closed_port)})

    assert status == 503
    assert answer["status"] == "down"
    assert answer["checks"][failing] == {"status": "down", "error": error}
    # The driver's message (host, port, "Connection refused") stays in the server log.
    shown = json.dumps(answer)
    assert str(closed_port) not in shown and "refused" not in shown.lower()


def test_a_cluster_running_on_redis_is_seen_through_its_heartbeat(
        tmp_path: Path, settings: Any, redis_url: str) -> None:  # noqa: F811
    cluster = Cluster(log=tmp_path / "qcluster.log", lock_dir=settings.SYNC_LOCK_DIR, broker=redis_url)
    try:
        wait_for(lambda: redis.from_url(redis_url).keys(f"{Conf.Q_STAT}:*"), seconds=30,
                 what=f"the cluster's heartbeat (cluster log: {cluster.log.read_text()[-2000:]})")
        status, answer = health_from_another_process(tmp_path, Q_BROKER=redis_url)
    finally:
        cluster.stop()

    assert status == 200 and answer["status"] == "ok"
    assert answer["checks"]["broker"] == {"status": "ok", "kind": "redis", "queued": 0}
    worker = answer["checks"]["worker"]
    assert worker["source"] == "cluster heartbeat" and worker["clusters"] == 1 and worker["last_seen_seconds"] < 10


@pytest.fixture
def served(tmp_path: Path, settings: Any) -> Iterator[str]:
    """scripts/serve in production mode on a free port, on this test's database; its base URL."""
    port = free_port()
    env = {
        **environment(lock_dir=tmp_path / "locks", broker="orm"),
        # The test command's allowance for Playwright, which a server must not have (check --deploy refuses it).
        "DJANGO_ALLOW_ASYNC_UNSAFE": "",
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        # The key this test process wrote the database's encryption canary with: the deploy check reads it.
        "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEY),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "STATIC_ROOT": str(tmp_path / "static"),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }
    log = tmp_path / "serve.log"
    # Its own process group: gunicorn's workers are stopped with it.
    server = subprocess.Popen([str(ROOT / "scripts" / "serve")], cwd=ROOT, env=env, stdout=log.open("w"),
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: accepting(port) or server.poll() is not None, seconds=120,
                 what=f"scripts/serve (log: {log.read_text()[-2000:]})")
        assert server.poll() is None, log.read_text()[-4000:]
        yield f"http://127.0.0.1:{port}"
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)  # gunicorn stops its workers and waits for their requests
            server.wait(timeout=30)
        except ProcessLookupError:
            pass  # it had stopped by itself (its log is in the failure above)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def test_scripts_serve_runs_gunicorn_serving_health_admin_and_compressed_static_files(served: str) -> None:
    over_https = {"X-Forwarded-Proto": "https"}  # what the TLS proxy in front adds

    health = requests.get(f"{served}/health/", timeout=10, allow_redirects=False)
    plain_login = requests.get(f"{served}/admin/login/", timeout=10, allow_redirects=False)
    login = requests.get(f"{served}/admin/login/", headers=over_https, timeout=10, allow_redirects=False)
    stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login.text)
    hashed = requests.get(f"{served}{stylesheet.group(1)}", headers=over_https, timeout=10) if stylesheet else None
    unhashed = requests.get(f"{served}/static/admin/css/base.css", headers=over_https, timeout=10)

    assert health.status_code == 200, health.text
    assert health.json()["checks"]["database"] == {"status": "ok"} and health.json()["status"] != "down"
    assert plain_login.status_code == 301 and plain_login.headers["Location"].startswith("https://")
    assert login.status_code == 200 and "csrfmiddlewaretoken" in login.text
    assert "max-age=31536000" in login.headers["Strict-Transport-Security"]
    assert hashed is not None, "the login page links no content-hashed stylesheet"
    assert hashed.status_code == 200 and hashed.headers["Content-Type"].startswith("text/css")
    assert hashed.headers.get("Content-Encoding") == "gzip" and "immutable" in hashed.headers["Cache-Control"]
    assert unhashed.status_code == 200 and "immutable" not in unhashed.headers["Cache-Control"]
