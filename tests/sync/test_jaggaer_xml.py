"""The XML transport end to end: suppliers as SupplierSyncMessage, purchase orders as PurchaseOrderMessage,
with the same records, mappings, audit and exactly-once rules as J1P, against the JAGGAER sandbox."""

import logging

import pytest

from credentials.jaggaer_auth import jaggaer_session
from sync.engine.run import Clients, sync_pass
from sync.models import SyncAttempt, SyncCursor, SyncRecord
from sync.remote.clients import jaggaer_client, netsuite_client
from sync.remote.jaggaer_xml import JaggaerXmlClient
from tests.sync.helpers import use_xml_transport
from tests.sync.test_deliver import REFERENCE_FLOWS, po_using_account

pytestmark = pytest.mark.django_db
State = SyncRecord.State
XML_PO_PATH = "/apps/Router/POXMLImport"
XML_SUPPLIER_PATH = "/apps/Router/TSMSupplierXMLImport"


def landed(jaggaer) -> tuple[dict, dict]:
    """What JAGGAER holds, without the ids it assigns."""
    suppliers = {number: {k: v for k, v in supplier.items() if k != "id"}
                 for number, supplier in jaggaer.app.suppliers.items()}
    orders = {number: {"poHeader": po["poHeader"], "poLineList": po["poLineList"]}
              for number, po in jaggaer.app.purchase_orders.items()}
    return suppliers, orders


def test_a_full_sync_over_xml_lands_the_same_suppliers_and_purchase_orders_as_j1p(pair, netsuite, jaggaer):
    sync_pass(pair=pair)
    through_j1p = landed(jaggaer)
    assert through_j1p[0] and through_j1p[1]
    jaggaer.app.reset()
    jaggaer.app.configure(rate_per_second=10_000, max_in_flight=16)
    # A first sync again, on the same NetSuite data, now over XML.
    SyncRecord.objects.all().delete()
    SyncCursor.objects.all().delete()
    use_xml_transport(pair, jaggaer)

    sync_pass(pair=pair)

    assert landed(jaggaer) == through_j1p
    received = jaggaer.app.received()
    assert {entry["path"] for entry in received if entry["kind"] in ("supplier", "purchase_order")} == {
        XML_PO_PATH, XML_SUPPLIER_PATH}
    # No XML route for custom-field values: they keep going through J1P.
    assert {entry["path"].split("/")[1] for entry in received if entry["kind"] == "custom_field_value"} == {"j1p"}
    assert not SyncRecord.objects.exclude(state__in=[State.DELIVERED, State.SKIPPED]).filter(
        flow__in=["vendors", "purchase_orders"]).exists()


def test_a_value_jaggaer_refuses_in_the_xml_answer_holds_the_po_for_its_netsuite_code(pair, netsuite, jaggaer):
    use_xml_transport(pair, jaggaer)
    sync_pass(pair=pair, flows=REFERENCE_FLOWS)
    po = po_using_account(netsuite, "8")
    # Deactivated after the connector read the values: only JAGGAER's answer can tell.
    jaggaer.app.set_custom_field_value(field="GLAccount", internal_name="6100", active=False)
    clients = Clients(netsuite=netsuite_client(pair.netsuite), jaggaer=jaggaer_client(pair.jaggaer))
    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)

    record = SyncRecord.objects.get(flow="purchase_orders", netsuite_id=po["id"])
    assert record.state == State.WAITING_FOR_MAPPING and record.last_error_code == "UNKNOWN_CUSTOM_FIELD_VALUE"
    assert "No custom field found for GLAccount value '6100'" in record.last_error_message
    assert ("gl_account", "8") in set(record.missing_codings.values_list("kind", "netsuite_id"))
    assert po["tranid"] not in jaggaer.app.purchase_orders


def test_a_timeout_after_the_xml_import_applied_the_write_creates_no_duplicate(pair, netsuite, jaggaer, settings):
    settings.SYNC_RETRY_BASE_SECONDS = 0  # due again at once, so this pass retries it
    use_xml_transport(pair, jaggaer)
    sync_pass(pair=pair, flows=REFERENCE_FLOWS)
    jaggaer.app.add_fault(kind="timeout_after_write", count=1, seconds=6, path=XML_PO_PATH, method="POST")
    credentials = jaggaer.app.demo_xml_credentials()
    client = JaggaerXmlClient(session=jaggaer_session(connection=pair.jaggaer), base_url=pair.jaggaer.base_url,
                              identity=credentials["identity"], shared_secret=credentials["shared_secret"], timeout=3)
    clients = Clients(netsuite=netsuite_client(pair.netsuite), jaggaer=client)

    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)
    assert jaggaer.app.faults_injected() == {"timeout_after_write": 1}
    sync_pass(pair=pair, flows=["purchase_orders"], clients=clients)

    po_writes = jaggaer.app.received("purchase_order")
    created = [entry["key"] for entry in po_writes if entry["status"] == "Created"]
    assert len(created) == len(set(created)), "a purchase order was created twice"
    records = SyncRecord.objects.filter(flow="purchase_orders")
    assert not records.exclude(state__in=[State.DELIVERED, State.SKIPPED]).exists()
    # The POs whose answer was lost were looked up in JAGGAER (J1P, by number) and found, not sent again.
    assert SyncAttempt.objects.filter(record__flow="purchase_orders", action="lookup",
                                      state_after=State.DELIVERED).exists()
    assert len(jaggaer.app.purchase_orders) == records.filter(state=State.DELIVERED).count()


@pytest.mark.parametrize("kind", ["rate_limit", "maintenance"])
def test_xml_imports_wait_out_429_and_503_like_j1p_and_then_deliver(pair, netsuite, jaggaer, kind):
    use_xml_transport(pair, jaggaer)
    sync_pass(pair=pair, flows=["gl_accounts", "classifications"])
    jaggaer.app.add_fault(kind=kind, count=2, retry_after=7, path=XML_SUPPLIER_PATH, method="POST")
    waited: list[float] = []
    credentials = jaggaer.app.demo_xml_credentials()
    client = JaggaerXmlClient(session=jaggaer_session(connection=pair.jaggaer), base_url=pair.jaggaer.base_url,
                              identity=credentials["identity"], shared_secret=credentials["shared_secret"],
                              sleep=waited.append)

    sync_pass(pair=pair, flows=["vendors"], clients=Clients(netsuite=netsuite_client(pair.netsuite), jaggaer=client))

    assert waited == [7, 7]
    assert set(SyncRecord.objects.filter(flow="vendors").values_list("state", flat=True)) == {State.DELIVERED}


def test_a_po_number_another_netsuite_po_holds_in_jaggaer_fails_as_a_duplicate_and_is_not_overwritten(
        pair, netsuite, jaggaer):
    sync_pass(pair=pair, flows=REFERENCE_FLOWS)
    po = po_using_account(netsuite, "8")
    supplier = next(iter(jaggaer.app.suppliers))
    theirs = {"poHeader": {"poNumber": po["tranid"], "type": "new", "revisionNumber": 0, "orderDate": "2025-06-06",
                           "currency": "USD", "supplier": {"supplierNumber": supplier}, "externalId": "999999",
                           "total": {"currency": "USD", "value": "10"}},
              "poLineList": {"poLine": [{"lineNumber": 1, "quantity": "1", "unitPrice": {"currency": "USD", "value": "10"}}]}}
    assert [result.status for result in jaggaer_client(pair.jaggaer).send_purchase_orders([theirs])] == ["Created"]
    use_xml_transport(pair, jaggaer)

    sync_pass(pair=pair, flows=["purchase_orders"])

    record = SyncRecord.objects.get(flow="purchase_orders", netsuite_id=po["id"])
    assert record.state == State.FAILED and record.last_error_code == "DUPLICATE"
    assert f"Purchase order {po['tranid']} already exists in JAGGAER (NetSuite purchase order 999999)" in \
        record.last_error_message
    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["externalId"] == "999999"


def test_a_business_failure_in_the_xml_status_is_not_a_delivery(pair, netsuite, jaggaer):
    use_xml_transport(pair, jaggaer)
    jaggaer.app.add_fault(kind="batch_failure", path=XML_SUPPLIER_PATH, method="POST",
                          message="Supplier import is switched off for this organization")

    sync_pass(pair=pair, flows=REFERENCE_FLOWS)

    vendors = SyncRecord.objects.filter(flow="vendors")
    assert vendors.exists()
    assert not vendors.filter(state=State.DELIVERED).exists()
    assert set(vendors.values_list("last_error_code", flat=True)) == {"XML_STATUS_500"}
    assert "switched off" in vendors.first().last_error_message
    assert not jaggaer.app.suppliers


@pytest.mark.parametrize("mode", ["html", "truncated", "empty"])
def test_a_broken_xml_answer_is_a_retryable_fault_never_a_delivery(pair, netsuite, jaggaer, mode):
    use_xml_transport(pair, jaggaer)
    jaggaer.app.add_fault(kind="broken_answer", mode=mode, path=XML_SUPPLIER_PATH, method="POST")

    sync_pass(pair=pair, flows=REFERENCE_FLOWS)

    vendors = SyncRecord.objects.filter(flow="vendors")
    assert vendors.exists() and set(vendors.values_list("state", flat=True)) == {State.RETRYING}


@pytest.mark.parametrize(("status", "code"), [("202", "XML_STATUS_202"), (None, "BAD_ANSWER")])
def test_an_unknown_or_missing_xml_status_code_is_never_a_delivery_and_the_resend_delivers(
        pair, netsuite, jaggaer, settings, status, code):
    settings.SYNC_RETRY_BASE_SECONDS = 0
    use_xml_transport(pair, jaggaer)
    sync_pass(pair=pair, flows=["gl_accounts", "classifications"])
    # JAGGAER took the suppliers but answered with a status we do not know.
    jaggaer.app.add_fault(kind="broken_answer", mode="status", status=status, count=1, path=XML_SUPPLIER_PATH,
                          method="POST")
    client = jaggaer_client(pair.jaggaer)
    clients = Clients(netsuite=netsuite_client(pair.netsuite), jaggaer=client)

    sync_pass(pair=pair, flows=["vendors"], clients=clients)

    attempts = SyncAttempt.objects.filter(record__flow="vendors")
    assert attempts.filter(error_code=code, state_after=State.RETRYING).exists()
    assert not attempts.filter(error_code=code, state_after=State.DELIVERED).exists()
    sync_pass(pair=pair, flows=["vendors"], clients=clients)
    assert set(SyncRecord.objects.filter(flow="vendors").values_list("state", flat=True)) == {State.DELIVERED}


def test_the_shared_secret_reaches_no_attempt_log_record_or_admin_page(pair, netsuite, jaggaer, caplog, client,
                                                                       django_user_model):
    use_xml_transport(pair, jaggaer)
    secret = jaggaer.app.demo_xml_credentials()["shared_secret"]
    jaggaer.app.add_fault(kind="batch_failure", count=1, path=XML_PO_PATH, method="POST",
                          message=f"Echoing the header: {secret}")
    caplog.set_level(logging.DEBUG)

    sync_pass(pair=pair)

    assert SyncAttempt.objects.exists()
    for attempt in SyncAttempt.objects.all():
        assert secret not in f"{attempt.request} {attempt.result} {attempt.message}"
    assert secret not in str(list(SyncRecord.objects.values_list("last_error_message", "payload")))
    assert secret not in caplog.text
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-the-test")
    client.force_login(admin)
    page = client.get(f"/admin/credentials/jaggaerconnection/{pair.jaggaer.pk}/change/")
    assert page.status_code == 200 and secret not in page.content.decode()
    assert "XML identity" in page.content.decode()
