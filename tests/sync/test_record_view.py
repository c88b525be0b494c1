"""A record in finance's words, read from records a real sync made against the sandboxes: a PO's date, amount,
currency, vendor and lines (GL account, cost center, amount), the line that stops it marked, and what a replay
would send said the same way."""

from datetime import date
from decimal import Decimal

import pytest

from mappings.models import CodingKind, CodingMapping
from sync.engine.decide import preview
from sync.engine.run import sync_pass
from sync.models import ErrorKind, SyncRecord
from sync.operations.record_view import LineView, payload_summary, record_view, summary_of, unchanged_since_failure
from tests.sync.helpers import coding_of
from tests.sync.test_deliver import PO_PATH

pytestmark = pytest.mark.django_db
State = SyncRecord.State
VENDOR = "Papeterie Lumière SARL"
EUR = 4  # the NetSuite sandbox's currency id for EUR
# The PO's second line is on GL 6100 Office Supplies (NetSuite account 8); the others are on accounts JAGGAER has.
LINES = (
    {"account": 9, "amount": 1250.00, "department": 2, "memo": "Design software licences"},
    {"account": 8, "amount": 310.25, "department": 3, "memo": "Printer paper"},
    {"account": 11, "amount": 99.25, "department": 6, "memo": "Audit fee"},
)
# The same lines as the record page shows them: number, description, GL account, cost center, amount.
LINES_SHOWN = [
    ("1", "Design software licences", "6200 Software Subscriptions", "Wholesale", "1,250.00 EUR"),
    ("2", "Printer paper", "6100 Office Supplies", "Operations", "310.25 EUR"),
    ("3", "Audit fee", "6400 Professional Services", "Finance", "99.25 EUR"),
]
TOTAL = Decimal("1659.50")
UNMAPPED = "GL account 6100 Office Supplies (NetSuite id 8) has no JAGGAER GLAccount mapping"


def raise_po_with_a_line_on_6100(*, pair, netsuite, flows: list[str]) -> SyncRecord:
    """A new vendor and its three-line PO in EUR, dated 30 Nov 2026, read from NetSuite and sent by a sync of
    `flows`. What JAGGAER makes of GL 6100 is set up by the caller."""
    vendor = netsuite.app.dataset.create_vendor(companyname=VENDOR, currency=EUR)
    po = netsuite.app.dataset.create_purchase_order(vendor_id=vendor, currency=EUR, trandate="2026-11-30",
                                                    lines=[dict(line) for line in LINES])
    sync_pass(pair=pair, flows=flows)
    return SyncRecord.objects.get(pair=pair, flow="purchase_orders", netsuite_id=po)


def po_waiting_for_6100(*, pair, netsuite, jaggaer, refused_by_jaggaer: bool = False) -> SyncRecord:
    """Everything delivered; then finance retires GL 6100 in JAGGAER and the PO above is raised. Once the
    connector has read JAGGAER's accounts again it holds the PO back itself; before that, JAGGAER refuses its
    6100 line (refused_by_jaggaer). Either way the PO waits for a mapping of NetSuite account 8."""
    sync_pass(pair=pair)
    jaggaer.app.set_custom_field_value(field="GLAccount", internal_name="6100", description="Office Supplies",
                                       active=False)
    flows = ["vendors", "purchase_orders"] if refused_by_jaggaer else ["gl_accounts", "vendors", "purchase_orders"]
    record = raise_po_with_a_line_on_6100(pair=pair, netsuite=netsuite, flows=flows)
    assert record.state == State.WAITING_FOR_MAPPING, record.last_error_message
    return record


def po_failed_on_6100(*, pair, netsuite, jaggaer) -> SyncRecord:
    """Everything delivered; then JAGGAER refuses the PO above as a whole because of its 6100 line (a posting
    rule of JAGGAER's own, which the sandbox plays as a refused batch): the PO fails and needs a person."""
    sync_pass(pair=pair)
    jaggaer.app.add_fault(kind="batch_failure", return_code=1, message="GL account 6100 is closed for posting",
                          path=PO_PATH)
    record = raise_po_with_a_line_on_6100(pair=pair, netsuite=netsuite, flows=["vendors", "purchase_orders"])
    jaggaer.app.clear_faults()
    assert record.state == State.FAILED, record.last_error_message
    return record


def po_failed_on_jaggaers_500s(*, pair, netsuite, jaggaer, settings) -> SyncRecord:
    """Everything delivered; then JAGGAER answers the PO above with a 500, and the first 500 fails a record."""
    settings.SYNC_MAX_ATTEMPTS = 1
    sync_pass(pair=pair)
    jaggaer.app.add_fault(kind="server_error", path=PO_PATH, method="POST")
    record = raise_po_with_a_line_on_6100(pair=pair, netsuite=netsuite, flows=["vendors", "purchase_orders"])
    jaggaer.app.clear_faults()
    assert (record.state, record.last_error_kind) == (State.FAILED, ErrorKind.REMOTE), record.last_error_message
    return record


def shown(lines: list[LineView]) -> list[tuple[str, str, str, str, str]]:
    return [(line.number, line.description, line.account, line.cost_center, line.amount_text) for line in lines]


def payload_now(record: SyncRecord) -> dict:
    """What a replay of the record would send now, through the current mappings (sends nothing)."""
    record.refresh_from_db()
    record.resend = True  # as a replay asks
    [item] = preview(pair=record.pair, flow=record.flow, records=[record])
    return item.payload


def test_a_waiting_po_reads_as_its_date_amount_vendor_and_lines_with_the_unmapped_line_marked(
        pair, netsuite, jaggaer):
    record = po_waiting_for_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer)

    view = record_view(record)

    assert (view.document_date, view.amount, view.currency, view.vendor, view.number) == (
        date(2026, 11, 30), TOTAL, "EUR", VENDOR, record.document_number)
    assert view.amount_text == "1,659.50 EUR"
    assert shown(view.lines) == LINES_SHOWN
    assert [(line.number, line.problem) for line in view.lines if line.offending] == [("2", UNMAPPED)]


def test_the_list_reads_the_same_header_facts_without_a_query(pair, netsuite, jaggaer, django_assert_num_queries):
    record = po_waiting_for_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer)

    with django_assert_num_queries(0):
        summary = summary_of(record)

    assert (summary.document_date, summary.amount_text, summary.vendor, summary.lines) == (
        date(2026, 11, 30), "1,659.50 EUR", VENDOR, [])


def test_a_line_jaggaer_refused_is_marked_by_its_line_number(pair, netsuite, jaggaer):
    # JAGGAER names the refused line by its position in what was sent (poLine[1]): that is line 2, not line 1.
    record = po_waiting_for_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer, refused_by_jaggaer=True)

    view = record_view(record)

    assert shown(view.lines) == LINES_SHOWN
    assert [(line.number, line.problem) for line in view.lines if line.offending] == [
        ("2", "JAGGAER: No custom field found for GLAccount value '6100'")]


def test_once_the_account_is_mapped_no_line_is_marked(pair, netsuite, jaggaer):
    record = po_waiting_for_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer)

    CodingMapping.objects.create(pair=pair, kind=CodingKind.GL_ACCOUNT, netsuite_id="8", jaggaer_value="6000")

    assert [line.number for line in record_view(record).lines if line.offending] == []


def test_what_a_replay_would_send_reads_in_jaggaers_accounts_and_cost_centers(pair, netsuite, jaggaer):
    record = po_waiting_for_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer)
    CodingMapping.objects.create(pair=pair, kind=CodingKind.GL_ACCOUNT, netsuite_id="8", jaggaer_value="6000")

    summary = payload_summary(record, payload_now(record))

    assert (summary.vendor, summary.amount_text, summary.number) == (VENDOR, "1,659.50 EUR", record.document_number)
    assert shown(summary.lines) == [
        ("1", "Design software licences", "6200 Operating Expenses : Software Subscriptions", "2 Sales : Wholesale",
         "1,250.00 EUR"),
        ("2", "Printer paper", "6000 Operating Expenses", "3 Operations", "310.25 EUR"),
        ("3", "Audit fee", "6400 Operating Expenses : Professional Services", "6 Administration : Finance",
         "99.25 EUR"),
    ]


def test_a_replay_is_unchanged_since_the_failure_until_the_mapping_behind_it_changes(pair, netsuite, jaggaer):
    record = po_failed_on_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer)
    assert unchanged_since_failure(record, payload_now(record))

    CodingMapping.objects.create(pair=pair, kind=CodingKind.GL_ACCOUNT, netsuite_id="8", jaggaer_value="6000")

    assert SyncRecord.objects.get(pk=record.pk).state == State.FAILED  # still failed: only what it would send moved
    assert not unchanged_since_failure(record, payload_now(record))


def test_a_po_that_failed_on_jaggaers_500s_may_pass_unchanged(pair, netsuite, jaggaer, settings):
    record = po_failed_on_jaggaers_500s(pair=pair, netsuite=netsuite, jaggaer=jaggaer, settings=settings)

    assert not unchanged_since_failure(record, payload_now(record))


def test_a_value_jaggaer_refuses_holds_the_po_for_the_netsuite_code_behind_it_and_mapping_that_code_releases_it(
        pair, netsuite, jaggaer):
    record = po_waiting_for_6100(pair=pair, netsuite=netsuite, jaggaer=jaggaer, refused_by_jaggaer=True)
    assert list(record.missing_codings.values_list("kind", "netsuite_id")) == [(CodingKind.GL_ACCOUNT, "8")]

    CodingMapping.objects.create(pair=pair, kind=CodingKind.GL_ACCOUNT, netsuite_id="8", jaggaer_value="6000")

    record.refresh_from_db()
    assert record.state == State.PENDING, record.last_error_message
    assert record.events.first().reason.startswith("Mapping saved")
    sync_pass(pair=pair, flows=["purchase_orders"])
    lines = jaggaer.app.purchase_orders[record.document_number]["poLineList"]["poLine"]
    assert [coding_of(line.get("customFieldValueSetList"))["GLAccount"] for line in lines if line["lineNumber"] == 2] \
        == ["6000"]
