"""What the JAGGAER sandbox holds (custom fields, suppliers, purchase orders, invoices) and the rules
that decide each batch item's result (spec sections 3 to 6). Not thread-safe: the app holds its lock
around every call."""

import copy
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandbox.jaggaer.checks import (
    CURRENCY,
    CURRENCY_SHAPE,
    DUPLICATE,
    STALE_REVISION,
    UNKNOWN_PO,
    UNKNOWN_SUPPLIER,
    ItemCheck,
)

DEFAULT_CUSTOM_FIELDS = (
    ("GLAccount", "GL Account"),
    ("CostCenter", "Cost Center"),
    ("Class", "Class"),
    ("Location", "Location"),
    ("BusinessUnit", "Business Unit"),
)
DOCUMENT_TYPES = ("new", "update", "cancel")
OPEN = "Open"
CANCELLED = "Cancelled"


@dataclass
class Outcome:
    """One item's result as the batch answer shows it, plus what the inspection log records."""

    key: str
    status: str  # Created | Updated | Unchanged | Cancelled | Error
    id: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    type: str | None = None  # the item's new/update/cancel, for documents

    def result(self) -> dict[str, Any]:
        if self.status == "Error":
            return {"key": self.key, "status": "Error", "errorList": {"error": self.errors}}
        return {"key": self.key, "status": self.status, "id": self.id}


def _key_of(parent: Any, name: str) -> str:
    """The natural key to echo in a result, also when the item got it wrong."""
    value = parent.get(name) if isinstance(parent, dict) else None
    return "" if value is None else str(value)


def _failed(check: ItemCheck, key: str, kind: str | None) -> Outcome:
    return Outcome(key=key, status="Error", errors=check.errors, type=kind)


def _cancel(check: ItemCheck, stored: dict[str, Any] | None, *, part: str, key: str) -> Outcome:
    """Voids a stored document; cancelling a cancelled one changes nothing (spec section 5)."""
    if check.errors or stored is None:
        return _failed(check, key, "cancel")
    if stored[part]["status"] == CANCELLED:
        return Outcome(key=key, status="Unchanged", id=stored["id"], type="cancel")
    stored[part]["status"] = CANCELLED
    return Outcome(key=key, status="Cancelled", id=stored["id"], type="cancel")


class JaggaerData:
    def __init__(self) -> None:
        self.custom_fields: dict[str, dict[str, Any]] = {}
        self.suppliers: dict[str, dict[str, Any]] = {}
        self.purchase_orders: dict[str, dict[str, Any]] = {}
        self.invoices: dict[tuple[str, str], dict[str, Any]] = {}  # by (supplierNumber, supplierInvoiceNumber)
        self._invoice_keys_by_id: dict[str, tuple[str, str]] = {}
        self._last_id = 100000
        for name, label in DEFAULT_CUSTOM_FIELDS:
            self.add_custom_field(name=name, label=label)

    def _new_id(self) -> str:
        self._last_id += 1
        return str(self._last_id)

    # Custom fields (spec section 3)

    def add_custom_field(self, *, name: str, label: str) -> None:
        self.custom_fields.setdefault(name, {"name": name, "label": label, "values": {}})
        self.custom_fields[name]["label"] = label

    def upsert_custom_field_value(self, field_name: str, item: dict[str, Any]) -> Outcome:
        check = ItemCheck()
        internal_name = check.text(item, "internalName", required=True)
        check.text(item, "value")
        check.text(item, "description")
        check.boolean(item, "active")
        if check.errors:
            return _failed(check, _key_of(item, "internalName"), None)
        assert internal_name is not None
        values = self.custom_fields[field_name]["values"]
        wanted = {
            "internalName": internal_name,
            "value": item.get("value") or internal_name,
            "description": item.get("description") or "",
            "active": item.get("active", True),
        }
        stored = values.get(internal_name)
        if stored is None:
            values[internal_name] = {"id": self._new_id(), **wanted}
            return Outcome(key=internal_name, status="Created", id=values[internal_name]["id"])
        status = "Unchanged" if all(stored[k] == v for k, v in wanted.items()) else "Updated"
        stored.update(wanted)
        return Outcome(key=internal_name, status=status, id=stored["id"])

    # Suppliers (spec section 4)

    def upsert_supplier(self, item: dict[str, Any]) -> Outcome:
        check = ItemCheck()
        number = check.text(item, "supplierNumber", required=True)
        check.text(item, "name", required=True)
        for name in ("legalName", "doingBusinessAs", "email", "phone", "taxIdentificationNumber", "externalId"):
            check.text(item, name)
        check.boolean(item, "active")
        check.texts(item, "currencyList", pattern=CURRENCY, shape=CURRENCY_SHAPE)
        terms = check.obj(item, "paymentTerms")
        if terms is not None:
            check.text(terms, "code", at="paymentTerms.", required=True)
            check.integer(terms, "daysAfter", at="paymentTerms.")
        check.texts(item, "businessUnitList")
        for index, address in enumerate(check.objects(item, "addressList")):
            at = f"addressList[{index}]."
            check.choice(address, "type", ("remitto", "fulfillment", "physical"), at=at, required=True)
            for name in ("addressLine1", "addressLine2", "city", "state", "postalCode"):
                check.text(address, name, at=at)
            check.country(address, "isoCountryCode", at=at)
        if check.errors:
            return _failed(check, _key_of(item, "supplierNumber"), None)
        assert number is not None
        stored = self.suppliers.get(number)
        if stored is None:
            self.suppliers[number] = {"id": self._new_id(), "sent": copy.deepcopy(item)}
            return Outcome(key=number, status="Created", id=self.suppliers[number]["id"])
        status = "Unchanged" if stored["sent"] == item else "Updated"
        stored["sent"] = copy.deepcopy(item)
        return Outcome(key=number, status=status, id=stored["id"])

    def supplier_view(self, number: str) -> dict[str, Any]:
        stored = self.suppliers[number]
        return {**copy.deepcopy(stored["sent"]), "id": stored["id"]}

    # Purchase orders (spec section 5)

    def apply_purchase_order(self, item: dict[str, Any]) -> Outcome:
        check = ItemCheck()
        header = check.obj(item, "poHeader", required=True) or {}
        number = check.text(header, "poNumber", at="poHeader.", required=True)
        kind = check.choice(header, "type", DOCUMENT_TYPES, at="poHeader.", required=True)
        revision = check.integer(header, "revisionNumber", at="poHeader.", required=kind == "update")
        key = _key_of(header, "poNumber")
        stored = self.purchase_orders.get(number) if number else None
        if kind == "cancel":
            # A cancel names the PO only; its other content is not read.
            if number and stored is None:
                check.fail(UNKNOWN_PO, "poHeader.poNumber", f"No purchase order {number}")
            outcome = _cancel(check, stored, part="poHeader", key=key)
            if outcome.status == "Cancelled" and stored is not None and revision is not None:
                stored["poHeader"]["revisionNumber"] = max(stored["poHeader"]["revisionNumber"], revision)
            return outcome

        lines = self._check_purchase_order_content(check, header, item)
        if kind == "new" and stored is not None:
            check.fail(DUPLICATE, "poHeader.poNumber", f"Purchase order {number} already exists")
        if kind == "update" and number:
            if stored is None:
                check.fail(UNKNOWN_PO, "poHeader.poNumber", f"No purchase order {number} to update")
            elif stored["poHeader"]["status"] == CANCELLED:
                check.invalid("poHeader.type", f"Purchase order {number} is cancelled and cannot be updated")
            elif revision is not None and revision <= stored["poHeader"]["revisionNumber"]:
                check.fail(STALE_REVISION, "poHeader.revisionNumber",
                           f"revisionNumber {revision} is not greater than the stored "
                           f"{stored['poHeader']['revisionNumber']}")
        if check.errors:
            return _failed(check, key, kind)
        assert number is not None
        kept = {k: copy.deepcopy(v) for k, v in header.items() if k != "type"}
        kept.update(revisionNumber=revision or 0, status=OPEN)
        document = {
            "id": stored["id"] if stored else self._new_id(),
            "poHeader": kept,
            # A line with quantity 0 is a cancelled line (spec section 5).
            "poLineList": {"poLine": [
                {**copy.deepcopy(line), "status": CANCELLED if Decimal(line["quantity"]) == 0 else OPEN}
                for line in lines
            ]},
        }
        self.purchase_orders[number] = document
        return Outcome(key=key, status="Updated" if stored else "Created", id=document["id"], type=kind)

    def _check_purchase_order_content(self, check: ItemCheck, header: dict, item: dict) -> list[dict]:
        check.day(header, "orderDate", at="poHeader.", required=True)
        check.currency(header, "currency", at="poHeader.")
        self._check_supplier_reference(check, header, at="poHeader.")
        for name in ("businessUnit", "notes", "externalId"):
            check.text(header, name, at="poHeader.")
        terms = check.obj(header, "paymentTerms", at="poHeader.")
        if terms is not None:
            check.text(terms, "code", at="poHeader.paymentTerms.")
        check.money(header, "total", at="poHeader.")
        check.coding(header, at="poHeader.", custom_fields=self.custom_fields)
        holder = check.obj(item, "poLineList") or {}
        lines = check.objects(holder, "poLine", at="poLineList.")
        self._check_lines(check, lines, at="poLineList.poLine")
        for index, line in enumerate(lines):
            at = f"poLineList.poLine[{index}]."
            for name in ("catalogNumber", "unitOfMeasure"):
                check.text(line, name, at=at)
        return lines

    def _check_lines(self, check: ItemCheck, lines: list[dict], *, at: str) -> None:
        """What PO lines and invoice lines share: numbering, quantity, price and coding."""
        seen: set[int] = set()
        for index, line in enumerate(lines):
            line_at = f"{at}[{index}]."
            number = check.integer(line, "lineNumber", at=line_at, required=True, minimum=1)
            if number in seen:
                check.invalid(f"{line_at}lineNumber", f"lineNumber {number} appears twice")
            if number is not None:
                seen.add(number)
            check.text(line, "description", at=line_at)
            check.decimal(line, "quantity", at=line_at, required=True)
            check.money(line, "unitPrice", at=line_at, required=True)
            check.coding(line, at=line_at, custom_fields=self.custom_fields)

    def _check_supplier_reference(self, check: ItemCheck, header: dict, *, at: str) -> str | None:
        holder = check.obj(header, "supplier", at=at, required=True) or {}
        number = check.text(holder, "supplierNumber", at=f"{at}supplier.", required=True)
        if number is not None and number not in self.suppliers:
            check.fail(UNKNOWN_SUPPLIER, f"{at}supplier.supplierNumber", f"No supplier {number}")
        return number

    def _check_po_reference(self, check: ItemCheck, parent: dict, *, at: str) -> None:
        number = check.text(parent, "poNumber", at=at)
        if number is not None and number not in self.purchase_orders:
            check.fail(UNKNOWN_PO, f"{at}poNumber", f"No purchase order {number}")

    # Invoices (spec section 6)

    def apply_invoice(self, item: dict[str, Any]) -> Outcome:
        check = ItemCheck()
        header = check.obj(item, "header", required=True) or {}
        number = check.text(header, "supplierInvoiceNumber", at="header.", required=True)
        kind = check.choice(header, "type", DOCUMENT_TYPES, at="header.", required=True)
        supplier_number = self._check_supplier_reference(check, header, at="header.")
        key = _key_of(header, "supplierInvoiceNumber")
        natural_key = (supplier_number or "", number or "")
        stored = self.invoices.get(natural_key)
        if kind == "cancel":
            if number and supplier_number and stored is None:
                check.invalid("header.supplierInvoiceNumber", f"No invoice {number} of supplier {supplier_number}")
            return _cancel(check, stored, part="header", key=key)

        check.choice(header, "invoiceType", ("Invoice", "Credit memo"), at="header.")
        check.day(header, "invoiceDate", at="header.", required=True)
        for name in ("dueDate", "accountingDate"):
            check.day(header, name, at="header.")
        self._check_po_reference(check, header, at="header.")
        check.money(header, "total", at="header.", required=True)
        terms = check.obj(header, "terms", at="header.")
        if terms is not None:
            check.text(terms, "standardPaymentTermsCode", at="header.terms.")
        check.text(header, "externalId", at="header.")
        check.coding(header, at="header.", custom_fields=self.custom_fields)
        lines = check.objects(check.obj(item, "lineList") or {}, "invoiceLine", at="lineList.")
        self._check_lines(check, lines, at="lineList.invoiceLine")
        for index, line in enumerate(lines):
            at = f"lineList.invoiceLine[{index}]."
            self._check_po_reference(check, line, at=at)
            check.integer(line, "poLineNumber", at=at, minimum=1)

        if kind == "new" and stored is not None:
            check.fail(DUPLICATE, "header.supplierInvoiceNumber",
                       f"Invoice {number} of supplier {supplier_number} already exists")
        if kind == "update" and number and supplier_number:
            if stored is None:
                check.invalid("header.supplierInvoiceNumber", f"No invoice {number} of supplier {supplier_number}")
            elif stored["header"]["status"] == CANCELLED:
                check.invalid("header.type", f"Invoice {number} is cancelled and cannot be updated")
        if check.errors:
            return _failed(check, key, kind)
        kept = {k: copy.deepcopy(v) for k, v in header.items() if k != "type"}
        kept["status"] = OPEN
        document = {"id": stored["id"] if stored else self._new_id(), "header": kept,
                    "lineList": {"invoiceLine": copy.deepcopy(lines)}}
        if stored is not None and stored["header"] == kept and stored["lineList"] == document["lineList"]:
            return Outcome(key=key, status="Unchanged", id=stored["id"], type=kind)
        self.invoices[natural_key] = document
        self._invoice_keys_by_id[document["id"]] = natural_key
        return Outcome(key=key, status="Updated" if stored else "Created", id=document["id"], type=kind)

    def invoice_by_id(self, invoice_id: str) -> dict[str, Any] | None:
        natural_key = self._invoice_keys_by_id.get(invoice_id)
        return self.invoices[natural_key] if natural_key else None
