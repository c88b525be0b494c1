"""Sync records in finance's words: the list and page show date, amount, vendor and lines, times labelled in the
reader's zone, audit tables with headings; the replay preview says what will happen and warns when a replay
would send what JAGGAER refused last time; a connection page tests itself with one button."""

import re

import pytest
from django.urls import reverse

from credentials.models import NetSuiteConnection
from sync.engine.run import sync_pass
from sync.models import SyncRecord
from tests.mappings.conftest import make_finance_user

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:sync_syncrecord_changelist"


@pytest.fixture
def finance_client(client):
    client.force_login(make_finance_user())
    return client


def failed_po(pair, jaggaer) -> SyncRecord:
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"])
    jaggaer.app.add_fault(kind="batch_failure", return_code=1, message="Import rejected",
                          path="/j1p/api/public/jp/v1/purchaseorders")
    sync_pass(pair=pair, flows=["purchase_orders"])
    return SyncRecord.objects.filter(flow="purchase_orders", state=SyncRecord.State.FAILED).first()


def test_record_page_shows_business_facts_lines_and_labelled_times(pair, netsuite, jaggaer, finance_client):
    record = failed_po(pair, jaggaer)
    finance_client.cookies["tz"] = "Europe/Paris"

    listing = finance_client.get(reverse(CHANGELIST), {"flow__exact": "purchase_orders"}).content.decode()
    html = finance_client.get(reverse("admin:sync_syncrecord_change", args=[record.pk])).content.decode()

    assert record.label in listing and record.source["currency"] in listing
    assert "document-lines" in html and "GL account" in html and "Cost center" in html
    assert re.search(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d CET", html)
    assert "SyncAttempt object" not in html and "What was done" in html and "Failed" in html
    assert "Waiting for a mapping" in listing  # the state filter in the users' words


def test_replay_preview_warns_when_unchanged_and_folds_the_json(pair, netsuite, jaggaer, finance_client):
    record = failed_po(pair, jaggaer)

    preview = finance_client.post(reverse(CHANGELIST), {"action": "replay_selected",
                                                        "_selected_action": [record.pk]}).content.decode()

    assert "Unchanged since the last failure: it will fail the same way." in preview
    assert re.search(r"<details class=\"payload-details\">.*&quot;poNumber&quot;", preview, re.S)
    assert f"Vendor <strong class=\"vendor\">{record.label}</strong>" in preview


def test_the_test_connection_button_reports_on_the_connection_page(pair, netsuite, jaggaer, admin_client):
    connection = NetSuiteConnection.objects.get()
    page = admin_client.get(reverse("admin:credentials_netsuiteconnection_change", args=[connection.pk]))
    assert "Test connection" in page.content.decode()

    answer = admin_client.post(reverse("admin:credentials_netsuiteconnection_test", args=[connection.pk]), follow=True)

    shown = [(message.level_tag, message.message) for message in answer.context["messages"]]
    assert shown and shown[0][1].startswith(f"{connection.name}: "), shown
    assert "Checked" in shown[0][1] or "checked" in shown[0][1]
    assert admin_client.get("/admin/").content.decode().count(reverse("sync:dashboard")) >= 1
