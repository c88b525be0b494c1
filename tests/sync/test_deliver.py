"""Delivery: waits and releases, exactly-once under timeouts, and JAGGAER's business errors."""

import pytest
from django.utils import timezone

from credentials.jaggaer_auth import jaggaer_session
from credentials.models import AccessToken
from mappings.models import CodingKind, CodingMapping
from sync.engine.deliver import Batch, DeliveryReport, claim
from sync.engine.pull import pull
from sync.engine.run import Clients, sync_pass
from sync.models import SyncAttempt, SyncRecord
from sync.remote.clients import netsuite_client
from sync.remote.jaggaer_client import JaggaerClient
from tests.sync.helpers import netsuite_rows, write_path

pytestmark = pytest.mark.django_db
State = SyncRecord.State
PO_PATH = "/j1p/api/public/jp/v1/purchaseorders"
REFERENCE_FLOWS = ["gl_accounts", "classifications", "vendors"]


def po_using_account(netsuite, account_id: str) -> dict:
    return netsuite_rows(netsuite, (
        "SELECT DISTINCT t.id, t.tranid FROM transaction t JOIN transactionline tl ON tl.transaction = t.id "
        "WHERE t.type = 'PurchOrd' AND t.status <> 'C' AND t.approvalstatus <> '3' AND tl.expenseaccount = ? "
        "ORDER BY t.id"), [int(account_id)])[0]


def test_a_timeout_after_jaggaer_applied_the_write_creates_no_duplicate(pair, netsuite, jaggaer, settings):
    settings.SYNC_RETRY_BASE_SECONDS = 0  # due again at once, so this pass retries it
    sync_pass(pair=pair, flows=REFERENCE_FLOWS)
    jaggaer.app.add_fault(kind="timeout_after_write", count=1, seconds=6, path=PO_PATH, method="POST")
    clients = Clients(netsuite=netsuite_client(pair.netsuite),
                      jaggaer=JaggaerClient(session=jaggaer_session(connection=pair.jaggaer),
                                            base_url=pair.jaggaer.base_url, timeout=3))

    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)

    po_writes = [entry for entry in jaggaer.app.received("purchase_order")]
    keys = [entry["key"] for entry in po_writes]
    assert len(keys) == len(set(keys)), "a purchase order was sent twice"
    assert not [entry for entry in po_writes if "DUPLICATE" in str(entry)]
    assert SyncRecord.objects.filter(flow="purchase_orders").exclude(state=State.DELIVERED).count() == 0
    first_batch = SyncAttempt.objects.filter(record__flow="purchase_orders", state_after=State.RETRYING)
    assert first_batch.exists()
    assert all(a.record.sync_attempts.filter(state_after=State.DELIVERED).exists() for a in first_batch)


@pytest.mark.parametrize("jaggaer_transport", ["j1p", "xml"])
def test_a_business_error_in_an_http_200_is_not_a_delivery(pair, netsuite, jaggaer, jaggaer_transport):
    sync_pass(pair=pair, flows=REFERENCE_FLOWS)
    jaggaer.app.add_fault(kind="batch_failure", return_code=1, message="Import rejected by JAGGAER",
                          path=write_path(jaggaer_transport, "purchase_order"), method="POST")

    sync_pass(pair=pair, flows=["purchase_orders"])

    assert jaggaer.app.purchase_orders == {}
    records = SyncRecord.objects.filter(flow="purchase_orders")
    assert not records.filter(state=State.DELIVERED).exists()
    failed = records.filter(state=State.FAILED).first()
    assert "Import rejected by JAGGAER" in failed.last_error_message
    assert failed.sync_attempts.first().http_status == 200


def test_a_purchase_order_waits_for_its_supplier_then_goes_out_by_itself(pair, netsuite, jaggaer):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "purchase_orders"])
    waiting = SyncRecord.objects.filter(flow="purchase_orders", state=State.WAITING_FOR_DEPENDENCY)
    assert waiting.count() == SyncRecord.objects.filter(flow="purchase_orders").count() > 0
    example = waiting.first()
    assert example.last_error_message == f"Supplier (NetSuite vendor id {example.netsuite_entity}) is not in JAGGAER yet"

    sync_pass(pair=pair)

    assert not SyncRecord.objects.exclude(state=State.DELIVERED).exists()
    assert jaggaer.app.purchase_orders[example.document_number]["poHeader"]["supplier"] == {
        "supplierNumber": example.netsuite_entity}


def test_a_purchase_order_rejected_in_netsuite_is_cancelled_in_jaggaer(pair, netsuite, jaggaer):
    sync_pass(pair=pair)
    po = po_using_account(netsuite, "8")
    netsuite.app.dataset.update_purchase_order(po["id"], status="C", approvalstatus=3)

    sync_pass(pair=pair)

    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["status"] == "Cancelled"


def test_a_netsuite_change_that_alters_nothing_jaggaer_receives_is_skipped_without_a_call(pair, netsuite, jaggaer):
    sync_pass(pair=pair)
    po = po_using_account(netsuite, "8")
    writes = len(jaggaer.app.received())
    netsuite.app.dataset.update_purchase_order(po["id"], duedate="2030-01-31")  # not part of a JAGGAER PO

    sync_pass(pair=pair)

    record = SyncRecord.objects.get(flow="purchase_orders", netsuite_id=po["id"])
    assert record.state == State.SKIPPED
    assert record.last_error_message == "" and record.events.first().reason.startswith("Unchanged since")
    assert len(jaggaer.app.received()) == writes


def test_a_duplicate_answer_for_our_own_purchase_order_counts_as_delivered(pair, netsuite, jaggaer):
    sync_pass(pair=pair)
    record = SyncRecord.objects.filter(flow="purchase_orders", state=State.DELIVERED).first()
    # As if the answer to our first send had been lost with the process that sent it.
    SyncRecord.objects.filter(pk=record.pk).update(state=State.PENDING, jaggaer_revision=None, jaggaer_id="",
                                                   delivered_sha256="", in_jaggaer=False,
                                                   next_attempt_at=timezone.now())

    sync_pass(pair=pair, flows=["purchase_orders"])

    record.refresh_from_db()
    assert record.state == State.DELIVERED and record.jaggaer_revision == 1
    # What JAGGAER held is unknown, so the current content followed as an update.
    assert [r["status"] for r in jaggaer.app.received("purchase_order") if r["key"] == record.document_number] == [
        "Created", "Error", "Updated"]


@pytest.mark.parametrize("jaggaer_transport", ["j1p", "xml"])
def test_retries_that_never_succeed_end_in_failed_with_the_reason(pair, netsuite, jaggaer, settings, jaggaer_transport):
    settings.SYNC_RETRY_BASE_SECONDS = 0
    settings.SYNC_MAX_ATTEMPTS = 3
    sync_pass(pair=pair, flows=REFERENCE_FLOWS)
    jaggaer.app.add_fault(kind="server_error", path=write_path(jaggaer_transport, "purchase_order"), method="POST")

    sync_pass(pair=pair, flows=["purchase_orders"])

    record = SyncRecord.objects.filter(flow="purchase_orders").first()
    assert record.state == State.FAILED
    assert record.last_error_message.endswith("(gave up after 3 attempts)")
    assert record.sync_attempts.count() == 3


def test_when_jaggaer_refuses_our_credentials_the_run_stops_and_its_records_stay_due(pair, netsuite, jaggaer):
    sync_pass(pair=pair, flows=["gl_accounts"])
    SyncRecord.objects.update(state=State.PENDING, delivered_sha256="", next_attempt_at=timezone.now())
    pair.jaggaer.client_secret = "not-the-secret"
    pair.jaggaer.save()
    AccessToken.objects.all().delete()  # no cached token to hide the refusal

    with pytest.raises(Exception, match="client id or client secret"):
        sync_pass(pair=pair, flows=["gl_accounts"])

    assert not SyncRecord.objects.exclude(claim_token="").exists()
    assert SyncRecord.objects.filter(state=State.PENDING).count() == SyncRecord.objects.count()


def test_an_update_refused_with_a_500_is_sent_again_not_taken_for_delivered(pair, netsuite, jaggaer, settings):
    settings.SYNC_RETRY_BASE_SECONDS = 0
    sync_pass(pair=pair)
    po = po_using_account(netsuite, "8")
    netsuite.app.dataset.update_purchase_order(po["id"], memo="Sent after a server fault")
    jaggaer.app.add_fault(kind="server_error", count=1, path=PO_PATH, method="POST")

    sync_pass(pair=pair, flows=["purchase_orders"])

    sent = jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]
    assert (sent.get("notes"), sent["revisionNumber"]) == ("Sent after a server fault", 1)


def test_a_netsuite_change_stored_while_the_record_was_being_sent_is_not_lost(pair, netsuite, jaggaer):
    sync_pass(pair=pair)
    po = po_using_account(netsuite, "8")
    netsuite.app.dataset.update_purchase_order(po["id"], memo="First edit")
    clients = Clients.for_pair(pair)
    pull(pair=pair, flow="purchase_orders", client=clients.netsuite)
    [in_flight] = claim(pair=pair, flow="purchase_orders", size=50)
    # Another process records a newer edit while this one is sending the first.
    netsuite.app.dataset.update_purchase_order(po["id"], memo="Second edit")
    pull(pair=pair, flow="purchase_orders", client=clients.netsuite)

    Batch(pair=pair, flow="purchase_orders", client=clients.jaggaer, report=DeliveryReport()).deliver([in_flight])

    record = SyncRecord.objects.get(pk=in_flight.pk)
    assert record.state == State.PENDING
    sync_pass(pair=pair, flows=["purchase_orders"])
    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["notes"] == "Second edit"


def test_an_applied_update_whose_answer_was_lost_ends_as_one_more_revision(pair, netsuite, jaggaer, settings):
    settings.SYNC_RETRY_BASE_SECONDS = 0
    sync_pass(pair=pair)
    po = po_using_account(netsuite, "8")
    netsuite.app.dataset.update_purchase_order(po["id"], memo="Update whose answer was lost")
    jaggaer.app.add_fault(kind="timeout_after_write", count=1, seconds=6, path=PO_PATH, method="POST")
    clients = Clients(netsuite=netsuite_client(pair.netsuite),
                      jaggaer=JaggaerClient(session=jaggaer_session(connection=pair.jaggaer),
                                            base_url=pair.jaggaer.base_url, timeout=3))

    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)

    record = SyncRecord.objects.get(flow="purchase_orders", netsuite_id=po["id"])
    sent = jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]
    assert record.state == State.DELIVERED and sent["notes"] == "Update whose answer was lost"
    # The resend of revision 1 was refused as stale; the next revision carried the same content.
    statuses = [r["status"] for r in jaggaer.app.received("purchase_order") if r["key"] == po["tranid"]]
    assert statuses == ["Created", "Updated", "Error", "Updated"]
    assert sent["revisionNumber"] == record.jaggaer_revision == 2


def batch_that_finds_6100_retired(pair, netsuite, jaggaer) -> tuple[dict, Batch]:
    """A changed PO coded to account 8 (6100 in JAGGAER), pulled, and a batch that loaded the mappings and
    JAGGAER's values while 6100 was inactive: it will decide that the PO waits."""
    sync_pass(pair=pair)
    jaggaer.app.set_custom_field_value(field="GLAccount", internal_name="6100", active=False)
    sync_pass(pair=pair, flows=["gl_accounts"])  # JAGGAER's values read back: 6100 inactive
    po = po_using_account(netsuite, "8")
    netsuite.app.dataset.update_purchase_order(po["id"], memo="Changed while 6100 is retired")
    clients = Clients.for_pair(pair)
    pull(pair=pair, flow="purchase_orders", client=clients.netsuite)
    return po, Batch(pair=pair, flow="purchase_orders", client=clients.jaggaer, report=DeliveryReport())


def test_a_mapping_saved_while_its_record_was_being_resolved_still_releases_it(pair, netsuite, jaggaer):
    po, batch = batch_that_finds_6100_retired(pair, netsuite, jaggaer)
    # Finance saves the mapping after the batch loaded the mappings, before it records that the PO waits.
    CodingMapping.objects.create(pair=pair, kind=CodingKind.GL_ACCOUNT, netsuite_id="8", jaggaer_value="6000")

    batch.deliver(claim(pair=pair, flow="purchase_orders", size=50))

    record = SyncRecord.objects.get(flow="purchase_orders", netsuite_id=po["id"])
    assert record.state == State.PENDING and record.next_attempt_at <= timezone.now()
    assert record.events.first().reason == "A mapping or JAGGAER value it needs arrived meanwhile"


def test_a_jaggaer_value_stored_while_its_record_was_being_resolved_still_releases_it(pair, netsuite, jaggaer):
    po, batch = batch_that_finds_6100_retired(pair, netsuite, jaggaer)
    # Another worker's GL account run reads 6100 back active after the batch loaded JAGGAER's values, before it
    # records that the PO waits: that run's release found nothing waiting yet.
    jaggaer.app.set_custom_field_value(field="GLAccount", internal_name="6100", active=True)
    sync_pass(pair=pair, flows=["gl_accounts"])

    batch.deliver(claim(pair=pair, flow="purchase_orders", size=50))

    record = SyncRecord.objects.get(flow="purchase_orders", netsuite_id=po["id"])
    assert record.state == State.PENDING and record.next_attempt_at <= timezone.now()
    assert record.events.first().reason == "A mapping or JAGGAER value it needs arrived meanwhile"


def test_an_invoice_number_another_bill_holds_in_jaggaer_fails_naming_the_bill_and_the_fix(
        pair, netsuite, jaggaer):
    sync_pass(pair=pair)
    first = netsuite_rows(netsuite, "SELECT t.id, t.tranid, t.entity, BUILTIN.DF(t.entity) AS vendor FROM transaction t "
                                    "WHERE t.type = 'VendBill' ORDER BY t.id")[0]
    po = netsuite_rows(netsuite, "SELECT id FROM transaction WHERE type = 'PurchOrd' AND entity = ? AND status = 'B' "
                                 "ORDER BY id", [int(first["entity"])])[0]
    # The same vendor's second bill is keyed in NetSuite with the first one's number.
    second = netsuite.app.dataset.create_vendor_bill(po_id=po["id"], tranid=first["tranid"])

    sync_pass(pair=pair, flows=["vendor_bills"])

    record = SyncRecord.objects.get(flow="vendor_bills", netsuite_id=second)
    assert record.state == State.FAILED and record.last_error_code == "DUPLICATE"
    assert record.last_error_message == (
        f"Invoice {first['tranid']} from {first['vendor']} already exists in JAGGAER (NetSuite bill {first['id']}). "
        "Change the bill number in NetSuite, then replay.")
    invoice = jaggaer.app.invoices[(first["entity"], first["tranid"])]["header"]
    assert invoice["externalId"] == first["id"]
