"""An integration admin, in a real browser, finds a stuck PO on the dashboard under the mapping it lacks,
maps it, and sees the PO delivered with nothing else to do; then previews a replay. Debian's Chromium driven
by Playwright, as in tests/mappings/test_browser.py; nothing is downloaded."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client
from playwright.sync_api import Page

from sync.models import SyncRecord
from sync.triggers.schedules import sweep_due_deliveries
from tests.sync.test_console import po_waiting_for_gl_mapping


def log_in(page: Page, base_url: str, user: User) -> None:
    """A session made on the server and handed to the browser: the login form has its own browser test."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_stuck_po_is_released_from_the_dashboard_and_a_replay_is_previewed(
        live_server, page: Page, pair, netsuite, jaggaer) -> None:  # noqa: F811
    try:
        release_a_stuck_po_and_preview_a_replay(base_url=live_server.url, page=page, pair=pair, netsuite=netsuite,
                                                jaggaer=jaggaer)
    finally:
        # Playwright's greenlets give the test body a database connection of its own, which pytest-django's
        # teardown does not see; left open, it stops the test database from being dropped.
        connections.close_all()


def release_a_stuck_po_and_preview_a_replay(*, base_url: str, page: Page, pair, netsuite, jaggaer) -> None:
    record = po_waiting_for_gl_mapping(pair=pair, netsuite=netsuite, jaggaer=jaggaer)
    log_in(page, base_url, User.objects.create_superuser("ingrid"))
    page.goto(f"{base_url}/admin/")
    page.get_by_role("link", name="Sync dashboard").click()

    group = page.locator("#error-groups tbody tr", has_text="GL account 6100 Office Supplies (NetSuite id 8) unmapped")
    assert group.locator(".flows").inner_text() == "Purchase orders (1)"
    group.get_by_role("link", name="Map it").click()

    prefilled = {name: page.input_value(f"#id_{name}") for name in ("pair", "kind", "netsuite_id")}
    assert prefilled == {"pair": str(pair.pk), "kind": "gl_account", "netsuite_id": "8"}
    page.fill("#id_jaggaer_value", "6000")
    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()

    # Saving the mapping released the PO (due now); the retry sweeper the worker runs every minute delivers
    # it. Run here in the test thread, it stands for that worker: nobody pressed anything else.
    assert SyncRecord.objects.get(pk=record.pk).state == SyncRecord.State.PENDING
    sweep_due_deliveries()
    assert SyncRecord.objects.get(pk=record.pk).state == SyncRecord.State.DELIVERED
    assert jaggaer.app.purchase_orders[record.document_number]["poHeader"]["notes"] == "Recoded after the GL clean-up"

    page.goto(f"{base_url}/console/dashboard/")
    assert "Nothing is waiting: no record has failed" in page.inner_text("#content-main")

    writes = len(jaggaer.app.received("purchase_order"))
    page.goto(f"{base_url}/admin/sync/syncrecord/?q={record.document_number}&flow__exact=purchase_orders")
    page.locator(f"input[name=_selected_action][value='{record.pk}']").check()
    page.select_option("select[name=action]", "replay_selected")
    page.click("button[name=index]")

    preview = page.locator("#replay-preview tbody tr", has_text=record.document_number)
    assert "Would send as update" in preview.locator(".outcome").inner_text()
    preview.locator(".payload-details summary").click()  # the JSON is folded away under the business summary
    payload = preview.locator(".payload").inner_text()
    assert f'"poNumber": "{record.document_number}"' in payload and '"GLAccount"' in payload
    assert len(jaggaer.app.received("purchase_order")) == writes

    page.click("input[name=confirm_replay]")
    page.locator(".messagelist .success").wait_for()
    assert len(jaggaer.app.received("purchase_order")) == writes + 1
