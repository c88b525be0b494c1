"""The sandbox's XML imports (docs/jaggaer-xml.md) over real HTTP: element order as the DTDs require, the
header's Identity and SharedSecret, the answers' Status and per-object errors, and the same stores as J1P."""

import xml.etree.ElementTree as ET

import pytest
import requests

from sandbox.jaggaer.xml_imports import PURCHASE_ORDER_PATH, SUPPLIER_PATH

HEADER = ("<Header><MessageId>m-1</MessageId><Timestamp>2025-06-06T10:00:00.000+00:00</Timestamp>"
          "<Authentication><Identity>{identity}</Identity><SharedSecret>{secret}</SharedSecret></Authentication>"
          "</Header>")
SUPPLIER = ("<Supplier><ERPNumber>{number}</ERPNumber><ThirdPartyRefNumber>{number}</ThirdPartyRefNumber>"
            "<Name>{name}</Name><Active>true</Active><SupportedCurrencyList><IsoCurrencyCode>USD</IsoCurrencyCode>"
            "</SupportedCurrencyList></Supplier>")
PURCHASE_ORDER = (
    '<PurchaseOrder><POHeader type="{type}"><RevisionNumber>{revision}</RevisionNumber><PONumber>{number}</PONumber>'
    "<OrderDate>2025-06-06</OrderDate><Currency>USD</Currency><Supplier><SupplierNumber>{supplier}</SupplierNumber>"
    '</Supplier><ExternalId>9{number}</ExternalId><Total><Money currency="USD">1250.50</Money></Total>'
    '<CustomFieldValueSet name="GLAccount"><CustomFieldValue><Value>{account}</Value></CustomFieldValue>'
    '</CustomFieldValueSet></POHeader><POLine linenumber="1"><Item><Description>Paper &amp; toner</Description></Item>'
    '<Quantity>10</Quantity><LineCharges><UnitPrice><Money currency="USD">125.05</Money></UnitPrice></LineCharges>'
    "</POLine></PurchaseOrder>")


def post(jaggaer, path: str, root: str, version: str, body: str, *, wrapper: str = "", **credentials: str) -> ET.Element:
    known = jaggaer.app.demo_xml_credentials()
    header = HEADER.format(identity=credentials.get("identity", known["identity"]),
                           secret=credentials.get("secret", known["shared_secret"]))
    inner = f"<{wrapper}>{body}</{wrapper}>" if wrapper else body
    message = f'<?xml version="1.0" encoding="UTF-8"?><{root} version="{version}">{header}{inner}</{root}>'
    response = requests.post(f"{jaggaer.url}{path}", data=message.encode(), timeout=5,
                             headers={"Content-Type": "application/xml"})
    assert response.status_code == 200, response.text
    answer = ET.fromstring(response.content)
    assert answer.tag == root
    return answer


@pytest.fixture(autouse=True)
def gl_account_6100(jaggaer) -> None:
    jaggaer.app.set_custom_field_value(field="GLAccount", internal_name="6100", description="Office Supplies")


def suppliers(jaggaer, body: str, **credentials: str) -> ET.Element:
    return post(jaggaer, SUPPLIER_PATH, "SupplierSyncMessage", "1.0", body, wrapper="SupplierRequestMessage",
                **credentials)


def purchase_orders(jaggaer, body: str) -> ET.Element:
    return post(jaggaer, PURCHASE_ORDER_PATH, "PurchaseOrderMessage", "2.0", body)


def status(answer: ET.Element) -> tuple[str, str]:
    found = answer.find("*/Status")
    assert found is not None
    return found.findtext("StatusCode", ""), found.findtext("StatusText", "")


def test_a_supplier_message_lands_in_the_store_the_j1p_routes_use(jaggaer):
    answer = suppliers(jaggaer, SUPPLIER.format(number="77", name="Acme &amp; Sons <Ltd>".replace("<", "&lt;")
                                                .replace(">", "&gt;")))

    assert status(answer) == ("200", "Success (Counts:  Total documents attempted=1, Total documents completed=1.  "
                                     "Documents successful without warnings=1)")
    stored = jaggaer.app.suppliers["77"]
    assert stored["name"] == "Acme & Sons <Ltd>" and stored["currencyList"] == ["USD"] and stored["active"] is True
    assert [(entry["kind"], entry["path"], entry["status"]) for entry in jaggaer.app.received()] == [
        ("supplier", SUPPLIER_PATH, "Created")]


def test_elements_out_of_dtd_order_are_refused_with_the_parsers_words_and_nothing_is_applied(jaggaer):
    swapped = "<Supplier><Name>Acme</Name><ERPNumber>77</ERPNumber></Supplier>"

    answer = suppliers(jaggaer, swapped)

    code, text = status(answer)
    assert code == "500" and text.startswith("Error while parsing the input / All documents failed.")
    errors = [message.text for message in answer.iterfind("*/Status/Errors/ErrorMessage")]
    assert errors and errors[0].startswith('XML Error : The content of element type "Supplier" must match "(ERPNumber?')
    assert not jaggaer.app.suppliers and not jaggaer.app.received()


def test_an_undeclared_element_is_refused(jaggaer):
    answer = suppliers(jaggaer, "<Supplier><ERPNumber>77<foo/></ERPNumber></Supplier>")

    assert status(answer)[0] == "500"
    assert answer.findtext("*/Status/Errors/ErrorMessage") == 'XML Error : Element type "foo" must be declared.'


@pytest.mark.parametrize("credentials", [{"secret": "wrong"}, {"identity": "someone-else"}])
def test_a_wrong_identity_or_shared_secret_is_refused_and_writes_nothing(jaggaer, credentials):
    answer = suppliers(jaggaer, SUPPLIER.format(number="77", name="Acme"), **credentials)

    assert status(answer)[0] == "401"
    assert not jaggaer.app.suppliers
    jaggaer.app.register_xml_identity(identity="tenant-7", shared_secret="s3cret")
    assert status(suppliers(jaggaer, "", identity="tenant-7", secret="s3cret"))[0] == "200"


def test_a_po_update_creates_then_updates_and_a_stale_revision_is_listed_as_the_pos_error(jaggaer):
    suppliers(jaggaer, SUPPLIER.format(number="77", name="Acme"))

    first = purchase_orders(jaggaer, PURCHASE_ORDER.format(type="update", revision=0, number="PO1", supplier="77",
                                                            account="6100"))
    again = purchase_orders(jaggaer, PURCHASE_ORDER.format(type="update", revision=0, number="PO1", supplier="77",
                                                            account="6100"))

    assert status(first)[0] == "200"
    stored = jaggaer.app.purchase_orders["PO1"]
    assert stored["poHeader"]["externalId"] == "9PO1" and stored["poLineList"]["poLine"][0]["description"] == "Paper & toner"
    assert status(again)[0] == "406"
    listed = again.find("PurchaseOrderResponseMessage/PurchaseOrderErrors")
    assert listed.findtext("PORef/PONumber") == "PO1"
    assert "is not greater than" in listed.findtext("ErrorMessage")
    assert [entry["type"] for entry in jaggaer.app.received("purchase_order")] == ["new", "update"]


def test_per_po_errors_name_the_unknown_supplier_and_custom_field_value(jaggaer):
    answer = purchase_orders(jaggaer, PURCHASE_ORDER.format(type="update", revision=0, number="PO2", supplier="404",
                                                             account="9999"))

    code, text = status(answer)
    assert code == "406" and "Total documents attempted=1, Total documents completed=0" in text
    messages = [message.text for message in answer.iterfind("*/PurchaseOrderErrors/ErrorMessage")]
    assert "No supplier 404" in messages
    assert "No custom field found for GLAccount value '9999'" in messages
    assert "PO2" not in jaggaer.app.purchase_orders


def test_a_cancel_voids_the_po(jaggaer):
    suppliers(jaggaer, SUPPLIER.format(number="77", name="Acme"))
    purchase_orders(jaggaer, PURCHASE_ORDER.format(type="update", revision=0, number="PO3", supplier="77",
                                                   account="6100"))

    answer = purchase_orders(jaggaer, PURCHASE_ORDER.format(type="cancel", revision=1, number="PO3", supplier="77",
                                                             account="6100"))

    assert status(answer)[0] == "200"
    assert jaggaer.app.purchase_orders["PO3"]["poHeader"]["status"] == "Cancelled"


def test_faults_apply_to_the_xml_routes_by_path(jaggaer):
    jaggaer.app.add_fault(kind="server_error", count=1, path=SUPPLIER_PATH)
    message = (f'<SupplierSyncMessage version="1.0">{HEADER.format(identity="x", secret="y")}'
               "<SupplierRequestMessage/></SupplierSyncMessage>")

    response = requests.post(f"{jaggaer.url}{SUPPLIER_PATH}", data=message, timeout=5)

    assert response.status_code == 500
