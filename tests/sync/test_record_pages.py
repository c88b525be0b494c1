"""Sync records in finance's words: the list and page show date, amount, vendor and lines, times labelled in the
reader's zone, audit tables with headings; the list finds documents by GL account number and by amount; the
replay preview says what will happen and warns when a replay would send what JAGGAER refused last time; a
connection page tests itself with one button; "View site" leads somewhere."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.test.html import Element, parse_html
from django.urls import reverse

from credentials.models import JaggaerConnection, NetSuiteConnection
from mappings.models import CodingKind, CodingMapping
from sync.engine.run import sync_pass
from sync.models import SyncRecord
from tests.mappings.conftest import make_finance_user
from tests.sync.test_record_view import (
    LINES_SHOWN,
    UNMAPPED,
    VENDOR,
    po_failed_on_6100,
    po_failed_on_jaggaers_500s,
    po_waiting_for_6100,
)

pytestmark = pytest.mark.django_db
State = SyncRecord.State
CHANGELIST = "admin:sync_syncrecord_changelist"
DOCUMENT_FLOWS = ("purchase_orders", "vendor_bills")
# Every sync of the time-zone tests runs at this moment (the clock ticks on from it for a few seconds).
SYNCED_AT = datetime(2026, 7, 14, 12, 34, 10, 500_000, tzinfo=UTC)


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


# Reading pages as a reader does ------------------------------------------------------------------------


def classes(element: Element) -> list[str]:
    return (dict(element.attributes).get("class") or "").split()


def find(node: Element, tag: str, css_class: str = "") -> Iterator[Element]:
    """The elements of a tag (and class) under node, in page order."""
    for child in node.children:
        if isinstance(child, str):
            continue
        if child.name == tag and (not css_class or css_class in classes(child)):
            yield child
        yield from find(child, tag, css_class)


def text(node: Element | str) -> str:
    if isinstance(node, str):
        return node
    if node.name in ("script", "style", "pre", "svg"):  # code, and JSON folded away, are not what one reads
        return " "
    return " ".join(text(child) for child in node.children).strip()


def cells(row: Element) -> list[str]:
    return [re.sub(r"\s+", " ", text(cell)) for cell in find(row, "td")]


def read(answer) -> Element:
    assert answer.status_code == 200, answer.status_code
    return parse_html(answer.content.decode())


def record_page(client, record: SyncRecord) -> Element:
    return read(client.get(reverse("admin:sync_syncrecord_change", args=[record.pk])))


def field_value(page: Element, name: str) -> str:
    """The value of a field of the record page (its `field-<name>` row), as read."""
    [row] = find(page, "div", f"field-{name}")
    [value] = find(row, "div", "readonly")
    return re.sub(r"\s+", " ", text(value))


def labels(page: Element) -> list[str]:
    return [text(label) for label in find(page, "label")]


def audit_table(page: Element, prefix: str) -> tuple[list[str], list[list[str]]]:
    """The headings and rows of an audit table of the record page (attempts, state changes)."""
    [group] = [div for div in find(page, "div") if dict(div.attributes).get("id") == f"{prefix}-group"]
    [table] = find(group, "table")
    return [text(th) for th in find(table, "th")], [cells(row) for row in find(table, "tr", "form-row")]


def listed(answer) -> set[int]:
    """Every record the list's search and filters select (beyond the page shown too)."""
    return set(answer.context["cl"].queryset.values_list("pk", flat=True))


def messages_shown(page: Element) -> list[tuple[str, str]]:
    return [(" ".join(classes(item)), text(item)) for box in find(page, "ul", "messagelist") for item in find(box, "li")]


# The record page ---------------------------------------------------------------------------------------


def test_record_page_shows_business_facts_lines_and_labelled_times(pair, netsuite, jaggaer, finance_client):
    record = failed_po(pair, jaggaer)
    finance_client.cookies["tz"] = "Europe/Paris"

    listing = finance_client.get(reverse(CHANGELIST), {"flow__exact": "purchase_orders"}).content.decode()
    html = finance_client.get(reverse("admin:sync_syncrecord_change", args=[record.pk])).content.decode()

    assert record.label in listing and record.source["currency"] in listing
    assert "document-lines" in html and "GL account" in html and "Cost center" in html
    assert re.search(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d CES?T", html)  # CEST in summer
    assert "SyncAttempt object" not in html and "What was done" in html and "Failed" in html
    assert "Waiting for a mapping" in listing  # the state filter in the users' words


def test_a_waiting_po_shows_its_vendor_date_amount_and_lines_with_only_the_unmapped_line_highlighted(
        pair, netsuite, jaggaer, finance_client):
    record = po_waiting_for_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer)

    page = record_page(finance_client, record)

    assert [field_value(page, name) for name in ("vendor", "document_date", "amount")] == [
        VENDOR, "30 Nov 2026", "1,659.50 EUR"]
    [table] = find(page, "table", "document-lines")
    assert [text(th) for th in find(table, "th")] == [
        "Line", "Description", "GL account", "Cost center", "Amount", "Problem"]
    rows = list(find(table, "tr", "document-line"))
    assert [tuple(cells(row)[:5]) for row in rows] == LINES_SHOWN
    assert [cells(row)[0] for row in rows if "offending-line" in classes(row)] == ["2"]
    assert [cells(row)[5] for row in rows] == ["", UNMAPPED, ""]
    # The row stands out on the screen itself, not only by its class (the browser test sees its colour).
    assert [bool(dict(row.attributes).get("style")) for row in rows] == [False, True, False]


def test_record_page_times_are_in_the_readers_zone_to_the_minute_and_labelled(pair, netsuite, jaggaer, finance_client):
    with time_machine.travel(SYNCED_AT):
        record = po_waiting_for_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer, refused_by_jaggaer=True)

    for zone, expected in (("Europe/Paris", "14 Jul 2026, 14:34 CEST"), ("America/New_York", "14 Jul 2026, 08:34 EDT")):
        finance_client.cookies["tz"] = zone
        page = record_page(finance_client, record)
        _, attempts = audit_table(page, "sync_attempts")
        _, events = audit_table(page, "events")
        assert {row[0] for row in attempts + events} == {expected}
        assert field_value(page, "changed_in_netsuite") == expected  # NetSuite's own time, in its account's zone
        listing = read(finance_client.get(reverse(CHANGELIST), {"q": record.document_number}))
        [row] = [row for row in find(listing, "tr") if record.document_number in text(row)]
        assert cells(row)[-1] == expected  # "last changed"
        # Every time of day anywhere on either page is to the minute and says its zone.
        label = expected.rsplit(" ", 1)[1]
        for shown_page in (page, listing):
            times = re.findall(r"\d{1,2}:\d\d(?::\d\d)?(?:\.\d+)?(?: ?[A-Z]{3,5}\b| ?[+-]\d\d:?\d\d)?", text(shown_page))
            assert times and all(re.fullmatch(rf"\d\d:\d\d {label}", time) for time in times), times


def test_audit_tables_have_headings_and_say_what_happened_in_the_users_words(pair, netsuite, jaggaer, finance_client):
    record = po_waiting_for_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer, refused_by_jaggaer=True)

    page = record_page(finance_client, record)

    headings, attempts = audit_table(page, "sync_attempts")
    assert headings == ["When", "What was done", "Outcome", "Message", "What was sent", "What came back"]
    assert [row[1:3] + row[4:] for row in attempts] == [
        ["Create in JAGGAER", "Waiting for a mapping", "show what was sent", "HTTP 200 Error"]]
    headings, events = audit_table(page, "events")
    assert headings == ["When", "From", "To", "Reason", "Who asked"]
    assert [(row[1], row[2], row[4]) for row in events] == [
        ("Due to be sent", "Waiting for a mapping", "The connector"), ("—", "Due to be sent", "The connector")]
    shown = text(page)
    assert not re.search(r"\bobject \(\d+\)", shown)
    # No internal name (waiting_for_mapping, purchase_orders, ...) where a person reads.
    assert not re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", shown)


def test_record_page_labels_jaggaer_and_netsuite_as_elsewhere_and_shows_no_icon_that_reads_as_an_error(
        pair, netsuite, jaggaer, admin_client):
    record = po_waiting_for_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer)

    page = record_page(admin_client, record)

    assert {"JAGGAER id:", "JAGGAER revision:", "Last changed in NetSuite:", "Deleted in NetSuite:"} <= set(labels(page))
    assert [label for label in labels(page) if "Jaggaer" in label or "Netsuite" in label] == []
    # A PO that only waits for a mapping has no doubtful send to mention, and no yes/no icon on it reads as an error.
    assert list(find(page, "div", "field-last_send")) == []
    assert [img for img in find(page, "img") if "icon-no" in dict(img.attributes).get("src", "")] == []
    assert field_value(page, "deleted_in_netsuite_words") == "No"
    # Never sent, so nothing in JAGGAER yet: said as a dash, not as Python's "None".
    assert [field_value(page, name) for name in ("jaggaer_key", "accepted_revision", "delivered")] == ["—"] * 3


def test_record_page_says_in_words_that_jaggaer_may_have_applied_the_last_send(
        pair, netsuite, jaggaer, settings, admin_client):
    record = po_failed_on_jaggaers_500s(pair=pair, netsuite=netsuite, jaggaer=jaggaer, settings=settings)
    assert record.outcome_unknown  # a `new` answered 500: JAGGAER may hold it

    page = record_page(admin_client, record)

    assert field_value(page, "last_send") == (
        "Unknown whether JAGGAER applied the last send: it is looked up in JAGGAER before it is sent again.")


# Searching the list ------------------------------------------------------------------------------------


def test_searching_a_gl_account_number_finds_exactly_the_documents_with_a_line_on_that_account(
        pair, netsuite, jaggaer, finance_client):
    record = po_waiting_for_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer)
    documents = SyncRecord.objects.filter(flow__in=DOCUMENT_FLOWS)
    # NetSuite's lines name the account by its internal id: 6100 Office Supplies is account 8.
    on_6100 = {document.pk for document in documents
               if any(line.get("expenseaccount") == "8" for line in document.source.get("lines", []))}
    assert record.pk in on_6100 and documents.exclude(pk__in=on_6100).exists()

    answer = finance_client.get(reverse(CHANGELIST), {"q": "6100"})

    found = listed(answer)
    assert set(documents.filter(pk__in=found).values_list("pk", flat=True)) == on_6100
    # Besides documents, only the GL account itself, by its number.
    assert [str(other) for other in SyncRecord.objects.filter(pk__in=found).exclude(flow__in=DOCUMENT_FLOWS)] == [
        "GL accounts 6100"]
    assert f">{record.document_number}</a>" in answer.content.decode()


def test_searching_an_amount_finds_the_document_of_that_total_however_it_is_typed(
        pair, netsuite, jaggaer, finance_client):
    record = po_waiting_for_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer)

    for typed in ("1659.50", "1659.5", "1,659.50", " 1659.50 "):
        answer = finance_client.get(reverse(CHANGELIST), {"q": typed})
        assert listed(answer) == {record.pk}, typed
        assert f">{record.document_number}</a>" in answer.content.decode()
    for other in ("1659.49", "310.25"):  # another total; one line's amount is not the document's
        assert listed(finance_client.get(reverse(CHANGELIST), {"q": other})) == set(), other


# The replay preview ------------------------------------------------------------------------------------


def replay_preview(client, record: SyncRecord) -> Element:
    return read(client.post(reverse(CHANGELIST), {"action": "replay_selected", "_selected_action": [record.pk]}))


def test_replay_preview_warns_when_unchanged_and_folds_the_json(pair, netsuite, jaggaer, finance_client):
    record = failed_po(pair, jaggaer)

    preview = finance_client.post(reverse(CHANGELIST), {"action": "replay_selected",
                                                        "_selected_action": [record.pk]}).content.decode()

    assert "Unchanged since the last failure: it will fail the same way." in preview
    assert re.search(r"<details class=\"payload-details\">.*&quot;poNumber&quot;", preview, re.S)
    assert f"Vendor <strong class=\"vendor\">{record.label}</strong>" in preview


def test_replay_preview_warning_goes_once_the_mapping_behind_the_failure_is_fixed(
        pair, netsuite, jaggaer, finance_client):
    record = po_failed_on_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer)

    before = replay_preview(finance_client, record)

    assert [text(warning) for warning in find(before, "p", "unchanged-warning")] == [
        "Unchanged since the last failure: it will fail the same way."]

    # Finance maps NetSuite account 8 to the JAGGAER account that replaces 6100; the PO is still failed.
    CodingMapping.objects.create(pair=pair, kind=CodingKind.GL_ACCOUNT, netsuite_id="8", jaggaer_value="6000")
    assert SyncRecord.objects.get(pk=record.pk).state == State.FAILED

    after = replay_preview(finance_client, record)

    assert list(find(after, "p", "unchanged-warning")) == []
    [table] = find(after, "table", "document-lines")
    assert [cells(row)[2] for row in find(table, "tr", "document-line")] == [
        "6200 Operating Expenses : Software Subscriptions", "6000 Operating Expenses",
        "6400 Operating Expenses : Professional Services"]


# Connections and the site link -------------------------------------------------------------------------


def test_the_test_connection_button_checks_jaggaer_and_the_page_shows_the_outcome_never_the_secret(
        pair, jaggaer, admin_client):
    connection = JaggaerConnection.objects.get()
    good_secret, bad_secret = connection.client_secret, "wrong-secret-4f9b"
    page_url = reverse("admin:credentials_jaggaerconnection_change", args=[connection.pk])
    test_url = reverse("admin:credentials_jaggaerconnection_test", args=[connection.pk])
    [button] = [form for form in find(read(admin_client.get(page_url)), "form", "test-connection")]
    assert dict(button.attributes)["action"] == test_url and "Test connection" in text(button)

    def press_test() -> tuple[Element, str]:
        tokens = jaggaer.app.counts()["token_requests"]
        answer = admin_client.post(test_url, follow=True)
        assert answer.redirect_chain == [(page_url, 302)]
        assert jaggaer.app.counts()["token_requests"] == tokens + 1  # it asked JAGGAER, not a cache
        html = answer.content.decode()
        assert good_secret not in html and bad_secret not in html
        return read(answer), html

    page, _ = press_test()
    assert messages_shown(page) == [("success", "acme-jaggaer: works. Checked: obtained an access token "
                                                "(client credentials); listed the custom fields.")]
    assert field_value(page, "last_test_result").startswith("obtained an access token")

    connection.client_secret = bad_secret
    connection.save()
    page, _ = press_test()
    [(level, message)] = messages_shown(page)
    assert level == "error" and message.startswith("acme-jaggaer: bad client id or secret. JAGGAER refused")
    assert field_value(page, "last_test_result").startswith("JAGGAER refused the client id or client secret")


def test_the_test_connection_button_reports_on_the_netsuite_connection_page(pair, netsuite, jaggaer, admin_client):
    connection = NetSuiteConnection.objects.get()

    page = read(admin_client.post(reverse("admin:credentials_netsuiteconnection_test", args=[connection.pk]),
                                  follow=True))

    [(level, message)] = messages_shown(page)
    assert level == "success" and message.startswith(f"{connection.name}: works. Checked: ")


@pytest.mark.parametrize("who", ["finance", "superuser"])
def test_view_site_leads_to_a_page_that_answers(who, client, django_user_model):
    user = make_finance_user() if who == "finance" else django_user_model.objects.create_superuser("ingrid")
    client.force_login(user)

    [link] = [a for a in find(read(client.get(reverse("admin:index"))), "a") if text(a) == "View site"]

    assert client.get(dict(link.attributes)["href"]).status_code == 200
