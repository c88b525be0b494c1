"""A finance user, in a real browser on a 1366 px laptop screen, opens a PO waiting for a mapping from the record
list and reads it in business terms: vendor, date, amount, and its lines with the one on the unmapped GL account
standing out; nothing runs off the side of the screen. Debian's Chromium driven by Playwright, as in
tests/sync/test_console_browser.py; nothing is downloaded."""

import pytest
from django.db import connections
from playwright.sync_api import Page

from credentials.permissions import grant_group_permissions
from tests.mappings.conftest import make_finance_user
from tests.sync.test_console_browser import log_in
from tests.sync.test_error_console_browser import assert_fits
from tests.sync.test_record_view import LINES_SHOWN, UNMAPPED, VENDOR, po_waiting_for_6100

# How a table row looks: what makes a line stand out, as the browser paints it.
LOOK = "(row) => { const style = getComputedStyle(row); return [style.backgroundColor, style.fontWeight]; }"
# On how many screen lines a cell's text is laid out.
SCREEN_LINES = """(cell) => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  return new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size;
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_finance_opens_a_waiting_po_from_the_list_and_sees_the_unmapped_line_highlighted(
        live_server, page: Page, pair, netsuite, jaggaer) -> None:
    try:
        open_a_waiting_po(base_url=live_server.url, page=page, pair=pair, netsuite=netsuite, jaggaer=jaggaer)
    finally:
        # Playwright's greenlets give the test body a database connection of its own, which pytest-django's
        # teardown does not see; left open, it stops the test database from being dropped.
        connections.close_all()


def open_a_waiting_po(*, base_url: str, page: Page, pair, netsuite, jaggaer) -> None:
    record = po_waiting_for_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer)
    grant_group_permissions()  # the Finance group as migrations leave it (a transactional test empties tables)
    log_in(page, base_url, make_finance_user("fiona"))
    page.set_viewport_size({"width": 1366, "height": 768})

    page.goto(f"{base_url}/admin/sync/syncrecord/")
    page.locator("#changelist-filter").get_by_role("link", name="Waiting for a mapping").click()
    row = page.locator("#result_list tbody tr", has_text=record.document_number)
    assert [row.locator(f".field-{name}").inner_text() for name in ("document_date", "amount", "vendor")] == [
        "30 Nov 2026", "1,659.50 EUR", VENDOR]
    row.get_by_role("link", name=record.document_number).click()

    page.locator(".field-lines").wait_for()
    assert [page.locator(f".field-{name} .readonly").inner_text() for name in ("vendor", "document_date", "amount")] == [
        VENDOR, "30 Nov 2026", "1,659.50 EUR"]
    lines = page.locator("table.document-lines tbody tr")
    assert [tuple(cell.strip() for cell in lines.nth(n).locator("td").all_inner_texts()[:5])
            for n in range(lines.count())] == LINES_SHOWN
    assert lines.nth(1).locator(".problem").inner_text() == UNMAPPED
    looks = [lines.nth(n).evaluate(LOOK) for n in range(lines.count())]
    assert looks[0] == looks[2] and looks[1] != looks[0], looks  # only the 6100 line stands out
    assert looks[1][1] == "700", looks  # and in bold, for a screen that shows colours faintly
    amounts = page.locator("table.document-lines tbody td.amount")
    assert [amounts.nth(n).evaluate(SCREEN_LINES) for n in range(amounts.count())] == [1, 1, 1]  # "EUR" not wrapped off

    # The page, the lines table and the attempts with it, fit the screen beside the admin's sidebar.
    assert_fits(page, "table.document-lines")
    assert_fits(page, "#sync_attempts-group table")
