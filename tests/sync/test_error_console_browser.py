"""A finance user, in a real browser on a 1366 px laptop screen, finds two POs that failed on JAGGAER's 500 in
one group of the dashboard, replays the group, and reads the honest outcome once the worker has run it: one
delivered, one failed again. Debian's Chromium driven by Playwright, as in tests/mappings/test_browser.py."""

import pytest
from django.db import connections
from playwright.sync_api import Page

from credentials.permissions import grant_group_permissions
from sync.engine.run import sync_pass
from sync.models import SyncRecord
from sync.operations import group_replay
from tests.mappings.conftest import make_finance_user
from tests.sync.test_console_browser import log_in
from tests.sync.test_error_console import PO_PATH, SERVER_ERROR
from tests.sync.test_secrets import run_queued_tasks

State = SyncRecord.State
# Whether a table leaves the screen: its right edge against the viewport's, and the page's own overflow.
OVERFLOW = """(selector) => {
  const table = document.querySelector(selector);
  const main = document.querySelector('#content-main');
  return {right: Math.ceil(table.getBoundingClientRect().right), viewport: document.documentElement.clientWidth,
          mainScroll: main.scrollWidth, mainClient: main.clientWidth,
          pageScroll: document.documentElement.scrollWidth};
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_finance_replays_a_failed_group_and_reads_how_many_were_delivered_and_failed_again(
        live_server, page: Page, pair, netsuite, jaggaer, settings, monkeypatch) -> None:
    try:
        replay_a_failed_group(base_url=live_server.url, page=page, pair=pair, netsuite=netsuite, jaggaer=jaggaer,
                              settings=settings, monkeypatch=monkeypatch)
    finally:
        # Playwright's greenlets give the test body a database connection of its own, which pytest-django's
        # teardown does not see; left open, it stops the test database from being dropped.
        connections.close_all()


def assert_fits(page: Page, selector: str) -> None:
    found = page.evaluate(OVERFLOW, selector)
    assert found["right"] <= found["viewport"], (selector, found)
    assert found["mainScroll"] <= found["mainClient"], (selector, found)
    assert found["pageScroll"] <= found["viewport"], (selector, found)


def replay_a_failed_group(*, base_url: str, page: Page, pair, netsuite, jaggaer, settings, monkeypatch) -> None:
    settings.SYNC_MAX_ATTEMPTS = 1  # the first 500 fails a record: it needs a person
    sync_pass(pair=pair)
    failing = list(SyncRecord.objects.filter(flow="purchase_orders", state=State.DELIVERED).order_by("pk")[:2])
    for record in failing:
        netsuite.app.dataset.update_purchase_order(record.netsuite_id, memo="Sent while JAGGAER answers 500")
    jaggaer.app.add_fault(kind="server_error", path=PO_PATH, method="POST")
    sync_pass(pair=pair, flows=["purchase_orders"])
    jaggaer.app.clear_faults()
    assert {SyncRecord.objects.get(pk=record.pk).state for record in failing} == {State.FAILED}
    grant_group_permissions()  # the Finance group as migrations leave it (a transactional test empties tables)
    log_in(page, base_url, make_finance_user("fiona"))

    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{base_url}/console/dashboard/")
    group = page.locator("#error-groups tbody tr", has_text=SERVER_ERROR)
    assert "2 failed" in group.locator(".records").inner_text()
    assert group.locator(".flows").inner_text() == "Purchase orders (2)"
    # Both tables, the Failed and Retrying columns included, fit the screen beside the admin's sidebar.
    assert_fits(page, "#error-groups")
    assert_fits(page, "#flows")
    for column in ("Failed", "Retrying"):
        header = page.locator("#flows thead th", has_text=column).first.bounding_box()
        assert header["x"] + header["width"] <= 1366

    # The worker replays one record at a time here, and JAGGAER answers the first one 500 again.
    monkeypatch.setattr(group_replay, "STEP", 1)
    jaggaer.app.add_fault(kind="server_error", path=PO_PATH, method="POST", count=1)
    writes = len(jaggaer.app.received("purchase_order"))
    group.get_by_role("button", name="Replay all 2").click()
    page.locator(".messagelist .success").wait_for()
    assert "Waiting for the worker to replay 2 records" in page.inner_text("#replay-list")
    assert len(jaggaer.app.received("purchase_order")) == writes  # nothing sent by the web request

    run_queued_tasks()  # what the worker (`manage.py qcluster`) does with the queued task

    # The page follows the replay by itself and tells what happened.
    page.locator("#replay-list li", has_text="Replayed 2: 1 delivered, 1 failed again").wait_for()
    states = sorted(SyncRecord.objects.get(pk=record.pk).state for record in failing)
    assert states == [State.DELIVERED, State.FAILED]
    page.reload()
    assert "1 failed" in page.locator("#error-groups tbody tr", has_text=SERVER_ERROR).locator(".records").inner_text()
    assert_fits(page, "#error-groups")
