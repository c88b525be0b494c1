"""Purchase orders: NetSuite transactions of type PurchOrd -> JAGGAER purchase orders, by PO number, each
write carrying the next revision. A PO rejected or deleted in NetSuite is cancelled in JAGGAER."""

import xml.etree.ElementTree as ET
from datetime import date

from mappings.resolution import LineCoding
from sync.flows.base import Built, Coder, Item
from sync.flows.transactions import DocumentFlow, check_header, coded_lines, header_coding, total
from sync.models import Flow, SyncRecord
from sync.remote.jaggaer_client import ItemResult, JaggaerClient
from sync.remote.jaggaer_xml import PURCHASE_ORDER_IMPORT, JaggaerXmlClient, add

# NetSuite PO statuses (transaction.status, one letter) that JAGGAER must see as cancelled; C is
# "Rejected by Supervisor". approvalstatus 3 is "Rejected".
REJECTED_PO_STATUSES = frozenset({"C"})
REJECTED_APPROVAL = "3"


# What a PO that the XML import took became; the answer itself only says that it completed.
XML_SUCCESS = {"new": "Created", "update": "Updated", "cancel": "Cancelled"}


def rejected(status: str | None, approval_status: str | None) -> bool:
    return status in REJECTED_PO_STATUSES or approval_status == REJECTED_APPROVAL


class PurchaseOrders(DocumentFlow):
    flow = Flow.PURCHASE_ORDERS
    nouns = ("PO", "POs")
    record_types = ("purchaseorder",)
    transaction_type = "PurchOrd"
    rest_type = "purchaseOrder"
    header_key = "poHeader"
    dependency_name = "Purchase order (NetSuite id {})"

    def netsuite_page(self, netsuite_id: str) -> str:
        return f"/app/accounting/transactions/purchord.nl?id={netsuite_id}"

    def build(self, source: dict, deleted: bool, coder: Coder, dimension_fields: dict[str, str]) -> Built:
        check_header(source, "purchase order")
        header: dict = {
            "poNumber": source["tranid"],
            "orderDate": source["trandate"],
            "currency": source["currency"],
            "supplier": {"supplierNumber": source["entity"]},
            "externalId": source["id"],
            "total": total(source),
        }
        coding = header_coding(source)
        if coding.subsidiary:
            unit = coder.resolve(LineCoding(subsidiary=coding.subsidiary)).custom_field_values()
            if unit:
                header["businessUnit"] = next(iter(unit.values()))
        if source["terms"]:
            header["paymentTerms"] = {"code": source["terms"]}
        if source["memo"]:
            header["notes"] = source["memo"]
        value_set = coder.value_set(coding)
        if value_set:
            header["customFieldValueSetList"] = value_set
        content = {"poHeader": header, "poLineList": {"poLine": coded_lines(source, coder, invoice=False)}}
        return Built(content=content, depends_on=[(Flow.VENDORS, source["entity"])],
                     cancel=deleted or rejected(source["status"], source["approvalstatus"]))

    def item(self, record: SyncRecord, built: Built) -> Item:
        item = super().item(record, built)
        revision = (record.jaggaer_revision or 0) + 1 if record.in_jaggaer else 0
        return Item({**item.body, "poHeader": {**item.body["poHeader"], "revisionNumber": revision}}, item.action, revision)

    def send(self, client: JaggaerClient, items: list[Item]) -> list[ItemResult]:
        if isinstance(client, JaggaerXmlClient):
            return client.import_objects(
                PURCHASE_ORDER_IMPORT, [purchase_order_element(item.body) for item in items],
                [item.body["poHeader"]["poNumber"] for item in items],
                [XML_SUCCESS[item.action] for item in items])
        return client.send_purchase_orders([item.body for item in items])

    def look_up(self, client: JaggaerClient, built: Built) -> dict | None:
        return client.get_purchase_order((built.content or {})["poHeader"]["poNumber"])

    def duplicate_words(self, record: SyncRecord, other_id: str) -> str:
        number = record.document_number or record.netsuite_id
        return (f"Purchase order {number} already exists in JAGGAER (NetSuite purchase order {other_id}). Change "
                "the PO number in NetSuite, then replay.")

    def open_in_netsuite(self, row: dict) -> bool:
        return not rejected(row.get("status"), row.get("approvalstatus"))

    def jaggaer_documents_of(self, client: JaggaerClient, on: date, numbers: set[str]) -> list[tuple[str, dict]]:
        # JAGGAER has no PO list: each PO is read by its number.
        found = ((number, client.get_purchase_order(number)) for number in sorted(numbers))
        return [(number, po["poHeader"]) for number, po in found if po is not None]


def purchase_order_element(purchase_order: dict) -> ET.Element:
    """A purchase order (contract section 5) as the PurchaseOrder of a PurchaseOrderMessage 2.0, children in the
    order of JAGGAER's PO DTD (docs/jaggaer-xml.md). The import knows `update` and `cancel` only, and an update
    of a PO JAGGAER does not hold creates it: a first delivery goes as an update at revision 0, which JAGGAER
    refuses as stale when the PO is already there (ours from a lost answer, or another's number), so the
    delivery looks it up instead of creating it twice."""
    header = purchase_order["poHeader"]
    element = ET.Element("PurchaseOrder")
    head = add(element, "POHeader", type="cancel" if header["type"] == "cancel" else "update")
    add(head, "RevisionNumber", header["revisionNumber"])
    add(head, "PONumber", header["poNumber"])
    add(head, "OrderDate", header["orderDate"])
    add(head, "Currency", header["currency"])
    add(add(head, "Supplier"), "SupplierNumber", header["supplier"]["supplierNumber"])
    if header.get("businessUnit"):
        add(head, "BusinessUnit", header["businessUnit"])
    if header.get("paymentTerms"):
        add(head, "PaymentTerms", header["paymentTerms"]["code"])
    if header.get("notes"):
        add(head, "Notes", header["notes"])
    add(head, "ExternalId", header["externalId"])
    _money(add(head, "Total"), header["total"])
    _custom_field_values(head, header.get("customFieldValueSetList"))
    for line in purchase_order["poLineList"]["poLine"]:
        po_line = add(element, "POLine", linenumber=str(line["lineNumber"]))
        if line.get("description"):
            add(add(po_line, "Item"), "Description", line["description"])
        add(po_line, "Quantity", line["quantity"])
        _money(add(add(po_line, "LineCharges"), "UnitPrice"), line["unitPrice"])
        _custom_field_values(po_line, line.get("customFieldValueSetList"))
    return element


def _money(parent: ET.Element, money: dict) -> None:
    add(parent, "Money", money["value"], currency=money["currency"])


def _custom_field_values(parent: ET.Element, value_sets: dict | None) -> None:
    """The coding: one CustomFieldValueSet per custom field, named as in the J1P body."""
    for value_set in (value_sets or {}).get("customFieldValueSet", []):
        holder = add(parent, "CustomFieldValueSet", name=value_set["name"])
        for value in value_set["customFieldValueList"]["customFieldValue"]:
            add(add(holder, "CustomFieldValue"), "Value", value["internalName"])
