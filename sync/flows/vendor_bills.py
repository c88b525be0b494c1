"""Vendor bills: NetSuite transactions of type VendBill -> JAGGAER invoices, keyed by supplier and invoice
number, referencing the NetSuite PO each line was billed from (which must reach JAGGAER first)."""

from datetime import date

from sync.flows.base import Built, Coder, Item, day
from sync.flows.transactions import DocumentFlow, check_header, coded_lines, header_coding, total
from sync.models import Flow, SyncRecord
from sync.remote.jaggaer_client import ItemResult, JaggaerClient


class VendorBills(DocumentFlow):
    flow = Flow.VENDOR_BILLS
    nouns = ("bill", "bills")
    record_types = ("vendorbill",)
    transaction_type = "VendBill"
    rest_type = "vendorBill"
    header_key = "header"

    def netsuite_page(self, netsuite_id: str) -> str:
        return f"/app/accounting/transactions/vendbill.nl?id={netsuite_id}"

    def build(self, source: dict, deleted: bool, coder: Coder, dimension_fields: dict[str, str]) -> Built:
        check_header(source, "vendor bill")
        header: dict = {
            "supplierInvoiceNumber": source["tranid"],
            "invoiceType": "Invoice",
            "invoiceDate": source["trandate"],
            "supplier": {"supplierNumber": source["entity"]},
            "externalId": source["id"],
            "total": total(source),
        }
        if source["duedate"]:
            header["dueDate"] = day(source["duedate"], f"The due date of the vendor bill {source['tranid']}")
        po_numbers = sorted({line["createdfromtranid"] for line in source["lines"] if line["createdfromtranid"]})
        if po_numbers:
            header["poNumber"] = po_numbers[0]
        if source["terms"]:
            header["terms"] = {"standardPaymentTermsCode": source["terms"]}
        value_set = coder.value_set(header_coding(source))
        if value_set:
            header["customFieldValueSetList"] = value_set
        content = {"header": header, "lineList": {"invoiceLine": coded_lines(source, coder, invoice=True)}}
        purchase_orders = sorted({line["createdfrom"] for line in source["lines"] if line["createdfrom"]})
        depends_on = [(Flow.VENDORS, source["entity"])] + [(Flow.PURCHASE_ORDERS, po) for po in purchase_orders]
        return Built(content=content, depends_on=depends_on, cancel=deleted)

    def send(self, client: JaggaerClient, items: list[Item]) -> list[ItemResult]:
        return client.send_invoices([item.body for item in items])

    def look_up(self, client: JaggaerClient, built: Built) -> dict | None:
        header = (built.content or {})["header"]
        return client.find_invoice(supplier_number=header["supplier"]["supplierNumber"],
                                   supplier_invoice_number=header["supplierInvoiceNumber"])

    def duplicate_words(self, record: SyncRecord, other_id: str) -> str:
        # An invoice also names a PO, which is not what clashes: say which bill holds the number.
        number = record.document_number or record.netsuite_id
        vendor = f" from {record.label}" if record.label else ""
        return (f"Invoice {number}{vendor} already exists in JAGGAER (NetSuite bill {other_id}). Change the "
                "bill number in NetSuite, then replay.")

    def jaggaer_documents_of(self, client: JaggaerClient, on: date, numbers: set[str]) -> list[tuple[str, dict]]:
        return [(str(invoice["header"].get("supplierInvoiceNumber", "")), invoice["header"])
                for invoice in client.invoices_dated(on.isoformat())]
