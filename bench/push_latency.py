"""Time from a NetSuite push to the purchase order accepted by JAGGAER, with a real worker running (issue 10:
p95 under 2 s).

    .venv/bin/python bench/push_latency.py [--events 200] [--interval 0.5] [--latency realistic|zero]

The sandboxes run in a process of their own with the latency profile (realistic by default: NetSuite 150 ms and
5 in flight, JAGGAER 100 ms and 4 in flight). The connector: a throwaway SQLite file (or PostgreSQL, as in
bench/backfill.py), its connections with a webhook secret, GL accounts, classifications and vendors synced;
then its web server (gunicorn, which receives the pushes) and a django-q2 cluster (`manage.py qcluster`, ORM
broker unless Q_BROKER names Redis, Q_WORKERS workers, 2 by default), each a process of its own. After one
warm-up event, `--events` purchase orders not yet in JAGGAER are pushed, one every `--interval` seconds, through
the NetSuite sandbox's push control (as the customer's SuiteScript would post them), and each one's latency is
the time from sending its push to the moment the JAGGAER sandbox accepted the order (its `received` entry).
Prints figures; asserts nothing."""

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.environment import (  # noqa: E402
    PROFILES,
    Sandboxes,
    add_profile_argument,
    configure_pair,
    connector_database,
    start_django,
    start_process,
    stop_process,
    sync_what_orders_need,
    target_line,
    wait_until,
    workspace,
)

P95_SECONDS = 2.0
SETTLE_SECONDS = 120  # how long after the last push an order may still arrive before it counts as lost


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/health/", timeout=5).ok
    except requests.RequestException:
        return False


def accepted_at(sandboxes: Sandboxes) -> dict[str, float]:
    """When JAGGAER first accepted each purchase order, by number (its sandbox clock is this machine's)."""
    received = requests.get(f"{sandboxes.jaggaer_url}/_sandbox/received", params={"kind": "purchase_order"},
                            timeout=60).json()
    first: dict[str, float] = {}
    for entry in received:
        if entry["status"] in ("Created", "Updated", "Unchanged"):
            first.setdefault(entry["key"], datetime.fromisoformat(entry["at"]).timestamp())
    return first


def push(sandboxes: Sandboxes, *, webhook: str, secret: str, netsuite_id: str) -> None:
    answer = requests.post(f"{sandboxes.netsuite_url}/_sandbox/push", timeout=60, json={
        "url": webhook, "secret": secret, "record_type": "purchaseorder", "record_id": netsuite_id,
        "event_type": "create"})
    answer.raise_for_status()
    if answer.json().get("status") != 202:
        raise RuntimeError(f"the webhook answered {answer.json()} to the push of {netsuite_id}")


def purchase_orders(pair: object, count: int) -> list[tuple[str, str]]:
    """(internal id, number) of the first `count` purchase orders, read as the connector reads NetSuite."""
    from sync.remote.clients import netsuite_client

    page = netsuite_client(pair.netsuite).suiteql(  # type: ignore[attr-defined]
        query="SELECT t.id, t.tranid FROM transaction t WHERE t.type = 'PurchOrd' ORDER BY t.id", limit=count)
    return [(row["id"], row["tranid"]) for row in page["items"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between two pushes")
    add_profile_argument(parser)
    options = parser.parse_args()
    if not 1 <= options.events <= 999:
        parser.error("--events must be between 1 and 999 (one SuiteQL page, plus the warm-up)")
    profile = PROFILES[options.latency]
    secret = secrets.token_hex(32)
    with workspace("push") as workdir, connector_database(workdir) as database:
        sandboxes = Sandboxes.start(profile=profile, purchase_orders=options.events + 100, vendors=50, workdir=workdir)
        servers: list[subprocess.Popen] = []
        try:
            start_django(workdir)
            pair = configure_pair(sandboxes, webhook_secret=secret)
            sync_what_orders_need()
            orders = purchase_orders(pair, options.events + 1)
            env = {**os.environ, "WEB_CONCURRENCY": "2"}
            port = free_port()
            servers.append(start_process([sys.executable, "-m", "gunicorn", "connector_project.wsgi", "--bind",
                                          f"127.0.0.1:{port}"], log=workdir / "gunicorn.log", env=env))
            servers.append(start_process([sys.executable, "manage.py", "qcluster"], log=workdir / "qcluster.log",
                                         env=env))
            wait_until(lambda: healthy(f"http://127.0.0.1:{port}"), seconds=60, what="the connector's web server")
            webhook = f"http://127.0.0.1:{port}/webhooks/netsuite/{pair.netsuite.name}/"
            (warm_id, warm_number), measured = orders[0], orders[1:]
            push(sandboxes, webhook=webhook, secret=secret, netsuite_id=warm_id)
            wait_until(lambda: warm_number in accepted_at(sandboxes), seconds=120, what="the warm-up order in JAGGAER")

            sent: dict[str, float] = {}
            started = time.monotonic()
            for n, (netsuite_id, number) in enumerate(measured):
                time.sleep(max(0.0, started + n * options.interval - time.monotonic()))
                sent[number] = time.time()
                push(sandboxes, webhook=webhook, secret=secret, netsuite_id=netsuite_id)
            deadline = time.monotonic() + SETTLE_SECONDS
            while not set(sent) <= set(arrived := accepted_at(sandboxes)) and time.monotonic() < deadline:
                time.sleep(1)
        finally:
            for server in reversed(servers):
                stop_process(server)
            sandboxes.stop()
    latencies = sorted(arrived[number] - at for number, at in sent.items() if number in arrived)
    lost = len(sent) - len(latencies)
    print(f"{profile.describe()}; connector on {database}, gunicorn 2 workers, qcluster "
          f"{os.environ.get('Q_WORKERS', '2')} workers, broker {os.environ.get('Q_BROKER', 'orm')}")
    print(f"{len(sent)} pushes, one every {options.interval:g} s; {len(latencies)} orders accepted by JAGGAER, "
          f"{lost} not within {SETTLE_SECONDS} s of the last push")
    if len(latencies) >= 2:
        cuts = statistics.quantiles(latencies, n=100, method="inclusive")
        print(f"push to accepted: p50 {statistics.median(latencies):.2f} s, p95 {cuts[94]:.2f} s, "
              f"max {latencies[-1]:.2f} s")
        print(target_line("p95, seconds", cuts[94], at_most=P95_SECONDS))


if __name__ == "__main__":
    main()
