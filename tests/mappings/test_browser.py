"""A finance user, in a real browser, maps an account that holds a vendor bill back and sees the change in
the mapping's history, and fixes a proposed mapping from the coverage page and is told which records it
released. Debian's Chromium, driven by Playwright; nothing is downloaded."""


import pytest
from django.db import connections
from playwright.sync_api import Locator, Page

from mappings.models import CodingMapping
from sync.models import MissingCoding, SyncRecord
from tests.mappings.conftest import load_gl_accounts, load_jaggaer_values, make_finance_user, make_pair

PASSWORD = "ledger-2026-pass"

@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_finance_maps_an_unmapped_account_from_the_coverage_page_and_sees_it_in_history(live_server, page: Page) -> None:
    try:
        map_an_unmapped_account_and_check_its_history(base_url=live_server.url, page=page)
    finally:
        # Playwright's greenlets give the test body a database connection of its own, which pytest-django's
        # teardown does not see; left open, it stops the test database from being dropped.
        connections.close_all()


def coverage_row_as_finance(page: Page, base_url: str) -> Locator:
    """Logs in as a new Finance user and opens the coverage page at GL account 6100's row."""
    make_finance_user("fiona", PASSWORD)
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", "fiona")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.get_by_role("link", name="Coverage: unmapped codes").click()
    return page.locator("#blocking-codes tbody tr", has_text="GL account 6100 Office Supplies (NetSuite id 123)")


def map_an_unmapped_account_and_check_its_history(*, base_url: str, page: Page) -> None:
    pair = make_pair("browser")
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"), ("124", "6200", "Travel"))
    load_jaggaer_values(pair, "gl_account", "6100", "6200")
    bill = SyncRecord.objects.create(
        pair=pair, flow="vendor_bills", netsuite_id="9001", state=SyncRecord.State.WAITING_FOR_MAPPING
    )
    MissingCoding.objects.create(record=bill, kind="gl_account", netsuite_id="123")
    row = coverage_row_as_finance(page, base_url)
    assert row.locator(".blocked-records").inner_text() == "1"
    row.get_by_role("link", name="Map it").click()

    assert page.input_value("#id_netsuite_id") == "123"
    assert page.input_value("#id_kind") == "gl_account"
    page.fill("#id_jaggaer_value", "6100")
    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()
    assert "Released 1 held record (1 bill)." in page.inner_text(".messagelist")

    mapping = CodingMapping.objects.get(pair=pair, kind="gl_account", netsuite_id="123")
    assert mapping.jaggaer_value == "6100"
    assert SyncRecord.objects.get(pk=bill.pk).state == SyncRecord.State.PENDING

    page.goto(f"{base_url}/admin/mappings/codingmapping/{mapping.pk}/change/")
    page.get_by_role("link", name="History").click()
    entries = page.locator("#change-history tbody tr")
    entries.first.wait_for()
    assert entries.count() == 1
    entry = entries.first.inner_text()
    assert "Created" in entry and "fiona" in entry and "6100" in entry

    page.goto(f"{base_url}/admin/mappings/unmappedcode/")
    assert "No record is waiting for a mapping." in page.inner_text("#content-main")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_finance_fixes_a_proposed_mapping_from_the_coverage_page_and_is_told_what_it_released(
        live_server, page: Page) -> None:
    try:
        fix_a_proposed_mapping(base_url=live_server.url, page=page)
    finally:
        connections.close_all()


def fix_a_proposed_mapping(*, base_url: str, page: Page) -> None:
    pair = make_pair("browser")
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"))
    load_jaggaer_values(pair, "gl_account", "6000", "6100")
    # The GL flow proposed 6100; finance knows the account books to 6000 in JAGGAER.
    proposal = CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100",
                                            status=CodingMapping.Status.PROPOSED)
    held = []
    for netsuite_id, flow in (("9001", "vendor_bills"), ("9002", "purchase_orders"), ("9003", "purchase_orders")):
        record = SyncRecord.objects.create(pair=pair, flow=flow, netsuite_id=netsuite_id,
                                           state=SyncRecord.State.WAITING_FOR_MAPPING)
        MissingCoding.objects.create(record=record, kind="gl_account", netsuite_id="123")
        held.append(record.pk)
    row = coverage_row_as_finance(page, base_url)
    assert row.locator(".blocked-records").inner_text() == "3"
    row.get_by_role("link", name="Fix the mapping").click()

    assert page.input_value("#id_jaggaer_value") == "6100"
    page.fill("#id_jaggaer_value", "6000")
    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()

    assert "Released 3 held records (2 POs, 1 bill)." in page.inner_text(".messagelist")
    proposal.refresh_from_db()
    assert (proposal.jaggaer_value, proposal.status) == ("6000", CodingMapping.Status.CONFIRMED)
    assert set(SyncRecord.objects.filter(pk__in=held).values_list("state", flat=True)) == {SyncRecord.State.PENDING}
    page.goto(f"{base_url}/admin/mappings/unmappedcode/")
    assert "No record is waiting for a mapping." in page.inner_text("#content-main")
