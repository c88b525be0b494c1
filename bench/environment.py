"""What the benchmarks of issue 10 share: the two sandboxes in a process of their own with a latency profile, a
throwaway database for the connector, the connector configured against the sandboxes, and the CPU time and
peak memory of the calling process.

The sandboxes run in their own process (`manage.py run_sandbox` on free ports of 127.0.0.1) so that the
calling process's CPU time and memory are the contender's own."""

import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Profile:
    """How each API answers: seconds per request and requests in flight at once."""

    name: str
    netsuite_latency: float
    netsuite_limit: int
    jaggaer_latency: float
    jaggaer_limit: int

    def describe(self) -> str:
        return (f"NetSuite {self.netsuite_latency * 1000:.0f} ms per request, {self.netsuite_limit} in flight; "
                f"JAGGAER {self.jaggaer_latency * 1000:.0f} ms per request, {self.jaggaer_limit} in flight")


# Issue 10's conditions: a Standard NetSuite account's concurrency limit of 5 and a JAGGAER client's 4 in flight,
# with round trips of a real deployment; "zero" keeps the limits and leaves the connector's own overhead.
PROFILES = {
    "realistic": Profile("realistic", netsuite_latency=0.150, netsuite_limit=5, jaggaer_latency=0.100, jaggaer_limit=4),
    "zero": Profile("zero", netsuite_latency=0.0, netsuite_limit=5, jaggaer_latency=0.0, jaggaer_limit=4),
}
# JAGGAER's per-second rate (sandbox default 10) is lifted: issue 10's conditions bound it by requests in flight,
# and a bare script at 4 in flight and 100 ms already sends 40 requests a second.
JAGGAER_RATE = 1_000_000
BACKFILL_SINCE = "2000-01-01"  # before every record of the sandbox's data set (2025)


def add_profile_argument(parser: Any) -> None:
    parser.add_argument("--latency", choices=sorted(PROFILES), default="realistic",
                        help="realistic: " + PROFILES["realistic"].describe() + "; zero: no latency, same limits.")


def add_transfer_arguments(parser: Any) -> None:
    """The size of the sandbox's data set and the latency profile."""
    parser.add_argument("--pos", type=int, default=5000, help="purchase orders in the sandbox's data set")
    parser.add_argument("--vendors", type=int, default=200)
    add_profile_argument(parser)


def start_process(command: list[str], *, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A process of ours in its own process group, its output in `log`."""
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_process(process: subprocess.Popen) -> None:
    """Stops a process start_process() started, and whatever in its group it failed to stop (a cluster's workers)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def read_json_file(path: Path) -> Any:
    """The file's JSON once it has been written whole, else None."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def wait_until(condition: Callable[[], Any], *, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {seconds:g} s for {what}")
        time.sleep(0.1)
    return value


class Sandboxes:
    """`manage.py run_sandbox` in a process of its own, or (`attach`) the one another benchmark process started,
    known by the connection files it wrote."""

    def __init__(self, *, folder: Path, process: subprocess.Popen | None = None) -> None:
        self.folder = folder
        self.process = process
        if process is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "sandboxes.pid").write_text(str(process.pid))
        self.netsuite: dict = wait_until(lambda: self._file("netsuite.json"), seconds=1800, what="the NetSuite sandbox")
        self.jaggaer: dict = wait_until(lambda: self._file("jaggaer.json"), seconds=60, what="the JAGGAER sandbox")

    @classmethod
    def start(cls, *, profile: Profile, purchase_orders: int, vendors: int, workdir: Path) -> "Sandboxes":
        folder = workdir / "connections"
        command = [
            sys.executable, "manage.py", "run_sandbox", "--netsuite-port", "0", "--jaggaer-port", "0",
            "--purchase-orders", str(purchase_orders), "--vendors", str(vendors),
            "--netsuite-latency", str(profile.netsuite_latency), "--netsuite-concurrency", str(profile.netsuite_limit),
            "--jaggaer-latency", str(profile.jaggaer_latency), "--jaggaer-in-flight", str(profile.jaggaer_limit),
            "--jaggaer-rate", str(JAGGAER_RATE), "--write-connections", str(folder),
        ]
        return cls(folder=folder, process=start_process(command, log=workdir / "sandboxes.log"))

    @classmethod
    def attach(cls, folder: Path) -> "Sandboxes":
        return cls(folder=folder)

    def _file(self, name: str) -> dict | None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the sandboxes stopped (exit {self.process.returncode}); see {self.folder.parent}/sandboxes.log")
        return read_json_file(self.folder / name)

    @property
    def netsuite_url(self) -> str:
        return self.netsuite["base_url"]

    @property
    def jaggaer_url(self) -> str:
        return self.jaggaer["base_url"]

    def _control(self, method: str, url: str, path: str) -> Any:
        answer = requests.request(method, f"{url}/_sandbox/{path}", timeout=60)
        answer.raise_for_status()
        return answer.json()

    def stats(self) -> dict[str, dict]:
        """Requests and peak in flight of each side since reset_stats()."""
        return {"netsuite": self._control("GET", self.netsuite_url, "stats"),
                "jaggaer": self._control("GET", self.jaggaer_url, "stats")}

    def reset_stats(self) -> None:
        self._control("POST", self.netsuite_url, "stats/reset")
        self._control("POST", self.jaggaer_url, "stats/reset")

    def cpu_seconds(self) -> float:
        """CPU time of the sandboxes' process so far (Linux /proc): what serving the requests cost this machine."""
        pid = (self.folder / "sandboxes.pid").read_text()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime and stime

    def reset_jaggaer(self) -> None:
        """JAGGAER as new (no suppliers, values or orders), with the same latency and limits."""
        self._control("POST", self.jaggaer_url, "reset")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


@contextmanager
def workspace(prefix: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=f"ml-connector-{prefix}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Usage:
    """This process's own CPU time and peak resident memory so far."""

    cpu_seconds: float
    peak_rss_mib: float

    @classmethod
    def now(cls) -> "Usage":
        own = resource.getrusage(resource.RUSAGE_SELF)
        return cls(cpu_seconds=own.ru_utime + own.ru_stime, peak_rss_mib=own.ru_maxrss / 1024)


@dataclass
class Transfer:
    """One contender's purchase-order transfer: requests and peak in flight as the sandboxes counted them, CPU
    time and peak memory of the contender's own process."""

    purchase_orders: int = 0  # read from NetSuite
    created: int = 0  # accepted by JAGGAER
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mib: float = 0.0
    netsuite_requests: int = 0
    jaggaer_requests: int = 0
    netsuite_peak: int = 0
    jaggaer_peak: int = 0
    sandbox_cpu_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0

    def per_thousand(self, requests_made: int) -> float:
        return requests_made * 1000 / self.created if self.created else float("nan")

    def ms_per_po(self, seconds: float) -> float:
        return seconds * 1000 / self.created if self.created else float("nan")

    def api_bound(self, profile: Profile) -> float | None:
        """The POs per second the APIs' limits allow for these requests: each side can serve `limit` requests per
        latency; None without latency."""
        seconds = max(self.netsuite_requests * profile.netsuite_latency / profile.netsuite_limit,
                      self.jaggaer_requests * profile.jaggaer_latency / profile.jaggaer_limit)
        return self.created / seconds if seconds else None


@contextmanager
def measured(transfer: Transfer, sandboxes: Sandboxes) -> Iterator[Transfer]:
    """Times the block and counts what it cost: wall time, this process's CPU time and peak memory, the
    sandboxes' requests and peak in flight."""
    sandboxes.reset_stats()
    before, sandbox_before, started = Usage.now(), sandboxes.cpu_seconds(), time.monotonic()
    yield transfer
    transfer.seconds = time.monotonic() - started
    after = Usage.now()
    transfer.cpu_seconds, transfer.peak_rss_mib = after.cpu_seconds - before.cpu_seconds, after.peak_rss_mib
    transfer.sandbox_cpu_seconds = sandboxes.cpu_seconds() - sandbox_before
    stats = sandboxes.stats()
    transfer.netsuite_requests, transfer.netsuite_peak = stats["netsuite"]["requests"], stats["netsuite"]["peak_in_flight"]
    transfer.jaggaer_requests, transfer.jaggaer_peak = stats["jaggaer"]["requests"], stats["jaggaer"]["peak_in_flight"]


# The figures of a transfer: label, value (None: not applicable) and format.
FIGURES: list[tuple[str, Callable[[Transfer, Profile], float | None], str]] = [
    ("purchase orders read", lambda t, p: t.purchase_orders, ",.0f"),
    ("purchase orders accepted by JAGGAER", lambda t, p: t.created, ",.0f"),
    ("seconds", lambda t, p: t.seconds, ",.1f"),
    ("POs/s", lambda t, p: t.per_second, ",.1f"),
    ("NetSuite requests per 1,000 POs", lambda t, p: t.per_thousand(t.netsuite_requests), ",.1f"),
    ("JAGGAER requests per 1,000 POs", lambda t, p: t.per_thousand(t.jaggaer_requests), ",.1f"),
    ("peak requests in flight, NetSuite", lambda t, p: t.netsuite_peak, ",.0f"),
    ("peak requests in flight, JAGGAER", lambda t, p: t.jaggaer_peak, ",.0f"),
    ("CPU ms per PO (own process)", lambda t, p: t.ms_per_po(t.cpu_seconds), ",.2f"),
    ("CPU ms per PO (the sandboxes' process)", lambda t, p: t.ms_per_po(t.sandbox_cpu_seconds), ",.2f"),
    ("peak RSS MiB (own process)", lambda t, p: t.peak_rss_mib, ",.0f"),
    ("API bound POs/s (requests x latency / limit)", lambda t, p: t.api_bound(p), ",.0f"),
]


def figures(transfers: dict[str, Transfer], profile: Profile) -> list[str]:
    """The figures of each contender side by side, one row a figure; with two contenders, the second's over the
    first's in a last column."""
    names = list(transfers)
    compared = len(names) == 2
    width = max(len(label) for label, _, _ in FIGURES)
    columns = names + ([f"{names[1]} / {names[0]}"] if compared else [])
    lines = [f"{'':{width}}  " + "  ".join(f"{name:>17}" for name in columns)]
    for label, value_of, shape in FIGURES:
        values = [value_of(transfer, profile) for transfer in transfers.values()]
        cells = [format(value, shape) if value is not None else "none (no latency)" for value in values]
        if compared:
            first, second = values
            cells.append(f"{second / first:.2f}" if first and second is not None else "")
        lines.append((f"{label:{width}}  " + "  ".join(f"{cell:>17}" for cell in cells)).rstrip())
    return lines


def target_line(label: str, value: float, *, at_most: float | None = None, at_least: float | None = None) -> str:
    """`label: value (target: holds / MISSES by N%)`."""
    if at_most is not None:
        holds, target, miss = value <= at_most, f"<= {at_most:,.2f}", (value / at_most - 1) * 100
    elif at_least is not None:
        holds, target, miss = value >= at_least, f">= {at_least:,.2f}", (1 - value / at_least) * 100
    else:
        raise TypeError("a target is at_most or at_least")
    return f"{label}: {value:,.2f} (target {target}: {'holds' if holds else f'MISSES by {miss:,.0f}%'})"


@contextmanager
def connector_database(workdir: Path) -> Iterator[str]:
    """Points DATABASE_URL at a throwaway database: a SQLite file in `workdir`, or, when DATABASE_URL names a
    PostgreSQL server, a database of its own created on that server and dropped afterwards. Yields its kind."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/connector.db"
        yield "SQLite"
        return
    import psycopg

    name = f"ml_connector_bench_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlsplit(url)._replace(path=f"/{name}").geturl()
    try:
        yield "PostgreSQL"
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_django(workdir: Path) -> None:
    """Django on the database connector_database() chose, with its tables, and request-gate locks in `workdir`."""
    os.environ["SYNC_LOCK_DIR"] = str(workdir / "locks")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "connector_project.settings")
    # Measured as deployed, with DEBUG off: DEBUG keeps every query's text and quotes its parameters, which
    # costs CPU and memory no production worker spends. Processes started later (gunicorn, qcluster) inherit it.
    from cryptography.fernet import Fernet

    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", Fernet.generate_key().decode())
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def configure_pair(sandboxes: Sandboxes, *, webhook_secret: str | None = None) -> Any:
    """The connector's two connections to the sandboxes, paired and coded by the same-number rule (contract
    section 8), as an operator would set them up."""
    from credentials.configuration import configure_connection
    from credentials.models import ConnectionPair
    from mappings.models import CodingRule, PairCodingRule

    netsuite = dict(sandboxes.netsuite)
    if webhook_secret:
        netsuite["webhook_secret"] = webhook_secret
    configure_connection(data=netsuite)
    configure_connection(data=sandboxes.jaggaer)
    pair = ConnectionPair.objects.select_related("netsuite", "jaggaer").get()
    PairCodingRule.objects.update_or_create(pair=pair, defaults={"rule": CodingRule.SAME_NUMBER})
    return pair


def sync_what_orders_need() -> str:
    """GL accounts, classifications and vendors synced with `sync_now`, as before a backfill of orders; returns
    what the command printed."""
    from django.core.management import call_command

    out = StringIO()
    call_command("sync_now", flow=["gl_accounts", "classifications", "vendors"], stdout=out)
    return out.getvalue()
