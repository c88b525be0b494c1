"""Regenerates the screenshots of docs/console.md: the sync dashboard, a record page and the mapping coverage
page, as a Finance user sees them on a 1366 px laptop screen.

    .venv/bin/python scripts/console_screenshots.py [--out docs/console] [--timeout 300]

Needs .venv (scripts/bootstrap.sh) and Debian's Chromium (/usr/bin/chromium; scripts/test installs it). In a
throwaway folder: a SQLite database, the NetSuite and JAGGAER sandbox servers on free 127.0.0.1 ports (in this
process, as the tests start them), a real sync, then the same story the browser tests tell: finance retired GL
6100 in JAGGAER and three POs coded to it change (they wait for a mapping), while JAGGAER answers two other
changed POs with HTTP 500 (they fail). The connector's web server (`manage.py runserver`) then serves the console
on a free port, a Finance user logs in through the login form, and Playwright saves dashboard.png, record.png and
coverage.png into --out. Everything it started is stopped on the way out, also on an error or a timeout."""

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WIDTH, HEIGHT = 1366, 768  # the laptop screen the error console is held to (tests/sync/test_error_console_browser.py)
FINANCE_USERNAME = "fiona"
RETIRED_GL = {"field": "GLAccount", "internal_name": "6100", "description": "Office Supplies"}
RETIRED_GL_NETSUITE_ID = 8  # NetSuite's internal id of account 6100 in the sandbox's data set
PO_PATH = "/j1p/api/public/jp/v1/purchaseorders"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_django(workdir: Path) -> None:
    """Django on a new SQLite file in `workdir`, with its tables. The environment is set before Django reads it,
    and the web server started later inherits it: same database, same throwaway encryption key (nothing is
    generated into .local/)."""
    from cryptography.fernet import Fernet

    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "connector_project.settings",
        "DATABASE_URL": f"sqlite:///{workdir}/connector.sqlite3",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "SYNC_LOCK_DIR": str(workdir / "locks"),
        "DJANGO_ENV": "development",
        "DJANGO_DEBUG": "true",  # runserver serves the static files straight from the apps
    })
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


@contextmanager
def sandboxes() -> Iterator[tuple[Any, Any]]:
    """The two sandbox applications, served on free ports of 127.0.0.1 from this process: (netsuite, jaggaer),
    each with `.app` (its Python control API) and `.url`."""
    from sandbox.http import RunningServer
    from sandbox.jaggaer.app import JaggaerSandbox
    from sandbox.netsuite.app import NetSuiteSandbox
    from tests.conftest import LiveSandbox

    # JAGGAER's real rate limits would make a full sync wait out 1-second Retry-Afters (as in tests/sync/conftest.py).
    apps = NetSuiteSandbox(), JaggaerSandbox(rate_per_second=10_000, max_in_flight=16)
    servers = [LiveSandbox(app=app, server=RunningServer(app.wsgi_app())) for app in apps]
    try:
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.server.stop()


def configure_pair(*, netsuite: Any, jaggaer: Any, workdir: Path) -> Any:
    """The two connections as an operator configures them, then `setup_demo`: the pair coded by "explicit, then
    same number" and a schedule for every flow, so that the dashboard shows next runs."""
    from django.core.management import call_command

    from credentials.configuration import configure_connection
    from credentials.models import ConnectionPair

    configure_connection(data={
        "name": "acme-netsuite", "system": "netsuite", "account_id": netsuite.app.account_id, "base_url": netsuite.url,
        "auth": netsuite.app.demo_credentials()["oauth2_client_credentials"],
        "timezone": netsuite.app.dataset.account_timezone,
    })
    configure_connection(data={"name": "acme-jaggaer", "system": "jaggaer", "base_url": jaggaer.url,
                               "auth": jaggaer.app.demo_credentials()})
    call_command("setup_demo", admin_password_file=workdir / "admin_password", stdout=StringIO())
    return ConnectionPair.objects.select_related("netsuite", "jaggaer").get()


def purchase_order_ids(netsuite: Any, *, account: int | None = None) -> list[str]:
    """Open purchase orders in the sandbox's data set, those with a line on `account` when given."""
    query = ("SELECT DISTINCT t.id FROM transaction t JOIN transactionline tl ON tl.transaction = t.id "
             "WHERE t.type = 'PurchOrd' AND t.status <> 'C' AND t.approvalstatus <> '3'")
    params = []
    if account is not None:
        query, params = query + " AND tl.expenseaccount = ?", [account]
    page = netsuite.app.dataset.suiteql(query=query + " ORDER BY t.id", params=params, limit=1000, offset=0, self_url="x")
    return [row["id"] for row in page["items"]]


def sync_with_something_to_show(*, pair: Any, netsuite: Any, jaggaer: Any) -> int:
    """A full sync, then POs waiting for a mapping and POs failed; returns the id of a waiting PO's record."""
    from django.test import override_settings

    from sync.engine.run import sync_pass
    from sync.models import SyncRecord

    sync_pass(pair=pair, trigger="sync_now")
    jaggaer.app.set_custom_field_value(**RETIRED_GL, active=False)
    coded_to_retired = purchase_order_ids(netsuite, account=RETIRED_GL_NETSUITE_ID)
    recoded = coded_to_retired[:3]
    refused = [po for po in purchase_order_ids(netsuite) if po not in coded_to_retired][-2:]
    for po in recoded:
        netsuite.app.dataset.update_purchase_order(po, memo="Recoded after the GL clean-up")
    for po in refused:
        netsuite.app.dataset.update_purchase_order(po, memo="Sent while JAGGAER answers 500")
    jaggaer.app.add_fault(kind="server_error", path=PO_PATH, method="POST")
    with override_settings(SYNC_MAX_ATTEMPTS=1):  # the first 500 fails a record: it needs a person
        sync_pass(pair=pair, flows=["gl_accounts", "purchase_orders"], trigger="sync_now")
    jaggaer.app.clear_faults()

    states = dict(SyncRecord.objects.filter(flow="purchase_orders", netsuite_id__in=recoded + refused)
                  .values_list("netsuite_id", "state"))
    expected = {**dict.fromkeys(recoded, SyncRecord.State.WAITING_FOR_MAPPING),
                **dict.fromkeys(refused, SyncRecord.State.FAILED)}
    if states != expected:
        raise RuntimeError(f"the sync did not leave the records to show: {states}, expected {expected}")
    return SyncRecord.objects.get(flow="purchase_orders", netsuite_id=recoded[0]).pk


def make_finance_user() -> str:
    """A staff member of the Finance group, as migrations set it up; returns a new random password."""
    from django.contrib.auth.models import Group, User

    from credentials.permissions import FINANCE

    password = secrets.token_urlsafe(16)
    user = User.objects.create_user(FINANCE_USERNAME, password=password, is_staff=True, first_name="Fiona")
    user.groups.add(Group.objects.get(name=FINANCE))
    return password


@contextmanager
def web_server(workdir: Path) -> Iterator[str]:
    """`manage.py runserver` on a free port, in a process group of its own; yields its base URL."""
    from tests.processes import accepting, wait_for

    port = free_port()
    log = workdir / "runserver.log"
    with log.open("w") as output:
        server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                                  cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: accepting(port) or server.poll() is not None, seconds=60, what="the web server")
        if server.poll() is not None:
            raise RuntimeError(f"the web server stopped (exit {server.returncode}):\n{log.read_text()}")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process_group(server)


def stop_process_group(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def take_screenshots(*, base_url: str, password: str, record_id: int, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM_FLAGS

    pages = {
        "dashboard.png": "/console/dashboard/",
        "record.png": f"/admin/sync/syncrecord/{record_id}/change/",
        "coverage.png": "/admin/mappings/unmappedcode/",
    }
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=1)
            page.set_default_timeout(15_000)
            page.goto(f"{base_url}/admin/login/")
            page.fill("#id_username", FINANCE_USERNAME)
            page.fill("#id_password", password)
            page.click("input[type=submit]")
            page.locator("#user-tools").wait_for()
            for name, path in pages.items():
                answer = page.goto(f"{base_url}{path}")
                if answer is None or not answer.ok:
                    raise RuntimeError(f"{path} answered {answer.status if answer else 'nothing'}")
                page.screenshot(path=out / name, full_page=True)
        finally:
            browser.close()
    return [out / name for name in pages]


def on_signal(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def on_timeout(signum: int, frame: object) -> None:
    raise TimeoutError("the screenshots took longer than --timeout")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "console", help="folder the PNGs are written to")
    parser.add_argument("--timeout", type=int, default=300, help="seconds before everything is stopped")
    options = parser.parse_args()
    if not Path("/usr/bin/chromium").exists():
        parser.exit(1, "Debian's Chromium is missing: apt-get install -y chromium (scripts/test installs it).\n")
    out = options.out.resolve()
    # An exception raised in the main thread unwinds every `with` below: the web server, the browser and the
    # sandboxes are stopped and the throwaway folder removed, whatever went wrong.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_timeout)
    signal.alarm(options.timeout)
    with tempfile.TemporaryDirectory(prefix="ml-connector-screenshots-") as folder:
        workdir = Path(folder)
        start_django(workdir)
        with sandboxes() as (netsuite, jaggaer):
            from django.db import connections

            pair = configure_pair(netsuite=netsuite, jaggaer=jaggaer, workdir=workdir)
            record_id = sync_with_something_to_show(pair=pair, netsuite=netsuite, jaggaer=jaggaer)
            password = make_finance_user()
            connections.close_all()  # the web server has the SQLite file to itself from here
            with web_server(workdir) as base_url:
                written = take_screenshots(base_url=base_url, password=password, record_id=record_id, out=out)
    signal.alarm(0)
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
