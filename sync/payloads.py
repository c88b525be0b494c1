"""How a NetSuite record becomes a JAGGAER object (JAGGAER contract, section 8).

`build` returns the object's content without the parts that depend on what JAGGAER already has (a PO's
type and revision): its hash tells whether anything changed since the last delivery. It also says what
stops the record from going out: codes without a JAGGAER value, records that must be delivered first,
or NetSuite data we cannot use."""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from mappings.models import CodingKind
from mappings.resolution import CodingResolver, LineCoding, MissingCode, Resolution
from mappings.validation import JAGGAER_INTERNAL_NAME
from sync.models import Flow
from sync.sources import SourceDataError

# NetSuite PO statuses (transaction.status, one letter) that JAGGAER must see as cancelled; C is
# "Rejected by Supervisor". approvalstatus 3 is "Rejected".
REJECTED_PO_STATUSES = frozenset({"C"})
REJECTED_APPROVAL = "3"
# JAGGAER's decimal strings have no exponent (contract section 2), so a NetSuite value such as 1E+999999999
# would be written out digit by digit; no amount, quantity or rate needs more digits either side of the point.
MAX_DECIMAL_DIGITS = 40
# The contract's shapes (sections 2 and 5): dates as YYYY-MM-DD, currencies as ISO codes, line numbers as
# whole numbers from 1 (nine digits are plenty, and keep int() away from huge numbers).
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_LINE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")


@dataclass
class Built:
    content: dict | None = None
    missing: list[MissingCode] = field(default_factory=list)
    depends_on: list[tuple[str, str]] = field(default_factory=list)  # (flow, NetSuite id) delivered first
    mappings_used: list[tuple[int, int | None]] = field(default_factory=list)
    problem: str = ""  # NetSuite data we cannot send: the record fails with this reason
    cancel: bool = False  # deleted or rejected in NetSuite: JAGGAER must void it


class _Coder:
    """Resolves codings and remembers what was missing and which mapping rows were used."""

    def __init__(self, resolver: CodingResolver, on: date) -> None:
        self.resolver = resolver
        self.on = on
        self.missing: dict[tuple[str, str], MissingCode] = {}
        self.used: dict[int, int | None] = {}

    def resolve(self, coding: LineCoding) -> Resolution:
        resolution = self.resolver.resolve(coding, on=self.on)
        for code in resolution.missing:
            self.missing.setdefault((code.kind, code.netsuite_id), code)
        self.used.update(dict(resolution.mappings_used()))
        return resolution

    def value_set(self, coding: LineCoding) -> dict | None:
        values = self.resolve(coding).custom_field_values()
        if not values:
            return None
        return {"customFieldValueSet": [
            {"name": name, "customFieldValueList": {"customFieldValue": [{"internalName": value}]}}
            for name, value in sorted(values.items())
        ]}

    def finish(self, built: Built) -> Built:
        built.missing = list(self.missing.values())
        built.mappings_used = sorted(self.used.items())
        return built


def build(*, flow: str, source: dict, deleted: bool, resolver: CodingResolver, dimension_fields: dict[str, str],
          on: date) -> Built:
    coder = _Coder(resolver, on)
    try:
        _check_shape(Flow(flow), source)
        built = _BUILDERS[Flow(flow)](source, deleted, coder, dimension_fields)
    except SourceDataError as exc:
        return Built(problem=str(exc))
    return coder.finish(built)


# What each builder reads from a source (sync/sources.py): a source stored by another version of the connector,
# or damaged, fails its own record with a reason instead of stopping the batch with a KeyError.
_TRANSACTION_SHAPE = {
    **dict.fromkeys(("id", "tranid", "trandate", "duedate", "entity", "status", "approvalstatus", "currency",
                     "currency_id", "foreigntotal", "memo", "terms"), str),
    "coding": dict, "lines": list,
}
_SHAPES: dict[Flow, dict[str, type]] = {
    Flow.GL_ACCOUNTS: {"id": str, "acctnumber": str, "fullname": str, "isinactive": bool},
    Flow.CLASSIFICATIONS: {"kind": str, "id": str, "fullname": str, "isinactive": bool},
    Flow.VENDORS: {
        **dict.fromkeys(("id", "entityid", "companyname", "legalname", "email", "phone", "taxidnum", "currency",
                         "terms", "termdays"), str),
        "isinactive": bool, "subsidiaries": list,
    },
    Flow.PURCHASE_ORDERS: _TRANSACTION_SHAPE,
    Flow.VENDOR_BILLS: _TRANSACTION_SHAPE,
}
_CODING_SHAPE = dict.fromkeys(("department", "class", "location", "subsidiary"), str)
_LINE_SHAPE = dict.fromkeys(("id", "linesequencenumber", "itemdisplayname", "memo", "quantity", "rate", "netamount",
                             "foreignamount", "expenseaccount", "department", "class", "location", "subsidiary",
                             "createdfrom", "createdfromtranid"), str)


def _check_shape(flow: Flow, source: dict) -> None:
    _check_fields(source, _SHAPES[flow], "")
    if flow == Flow.CLASSIFICATIONS and source["kind"] not in CodingKind.values:
        raise _damaged(f"names an unknown kind {source['kind']!r}")
    if flow == Flow.VENDORS and not all(isinstance(unit, str) for unit in source["subsidiaries"]):
        raise _damaged("lists subsidiaries that are not ids")
    if flow in (Flow.PURCHASE_ORDERS, Flow.VENDOR_BILLS):
        _check_fields(source["coding"], _CODING_SHAPE, "coding ")
        for line in source["lines"]:
            _check_fields(line, _LINE_SHAPE, "line ")


def _check_fields(data: object, shape: dict[str, type], at: str) -> None:
    if not isinstance(data, dict):
        raise _damaged(f"holds a {type(data).__name__} where {at or 'it'} should be an object")
    for key, kind in shape.items():
        if not isinstance(data.get(key), kind):
            raise _damaged(f"has no {at}{key} ({kind.__name__})")


def _damaged(what: str) -> SourceDataError:
    return SourceDataError(f"The record's NetSuite data {what}: read the record from NetSuite again")


def decimal_text(value: str, what: str) -> str:
    """JAGGAER's decimal strings: digits, an optional point, no exponent (contract section 2)."""
    try:
        number = Decimal(value)
    except (ArithmeticError, TypeError, ValueError):
        raise SourceDataError(f"{what} {value!r} is not a number") from None
    if not number.is_finite():
        raise SourceDataError(f"{what} {value!r} is not a number")
    if not number:
        return "0"  # also for -0 and 0E-1000000
    _, digits, exponent = number.as_tuple()
    # Zeros at the end of the coefficient are not decimal places that count: 1.500 has one.
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if number.adjusted() >= MAX_DECIMAL_DIGITS or -(exponent + zeros) > MAX_DECIMAL_DIGITS:
        raise SourceDataError(f"{what} {value!r} is out of range (at most {MAX_DECIMAL_DIGITS} digits either "
                              "side of the point)")
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _day(value: str, what: str) -> str:
    if _DAY.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    raise SourceDataError(f"{what} {value!r} is not a date YYYY-MM-DD")


def _currency(value: str, what: str) -> str:
    if not _CURRENCY.fullmatch(value):
        raise SourceDataError(f"{what} has the currency {value!r}, not an ISO code such as 'USD'")
    return value


def _reference_value(source: dict, deleted: bool, dimension_fields: dict[str, str], kind: str,
                     internal_name: str) -> Built:
    # The rule mappings are held to (mappings/validation.py): a value they could never name is no use.
    if not JAGGAER_INTERNAL_NAME.match(internal_name):
        raise SourceDataError(f"{CodingKind(kind).label} {internal_name!r} cannot be a JAGGAER value (an "
                              "internalName: not empty, no line breaks or surrounding spaces)")
    return Built(content={
        "field": dimension_fields[kind],
        "value": {
            "internalName": internal_name,
            "value": internal_name,
            "description": source["fullname"],
            "active": not (source["isinactive"] or deleted),
        },
    })


def _gl_account(source: dict, deleted: bool, coder: _Coder, fields: dict[str, str]) -> Built:
    return _reference_value(source, deleted, fields, CodingKind.GL_ACCOUNT, source["acctnumber"] or source["id"])


def _classification(source: dict, deleted: bool, coder: _Coder, fields: dict[str, str]) -> Built:
    return _reference_value(source, deleted, fields, source["kind"], source["id"])


def _supplier(source: dict, deleted: bool, coder: _Coder, fields: dict[str, str]) -> Built:
    name = source["companyname"] or source["entityid"]
    if not name:
        raise SourceDataError("The vendor has neither a company name nor an entity id")
    units = [coder.resolve(LineCoding(subsidiary=sub)).custom_field_values() for sub in source["subsidiaries"]]
    supplier: dict = {
        "supplierNumber": source["id"],
        "name": name,
        "active": not (source["isinactive"] or deleted),
        "externalId": source["id"],
    }
    optional = {
        "legalName": source["legalname"], "email": source["email"], "phone": source["phone"],
        "taxIdentificationNumber": source["taxidnum"],
    }
    supplier.update({key: value for key, value in optional.items() if value})
    if source["currency"]:
        supplier["currencyList"] = [_currency(source["currency"], f"Vendor {source['id']}")]
    if source["terms"]:
        supplier["paymentTerms"] = _terms(source)
    business_units = sorted({value for unit in units for value in unit.values()})
    if business_units:
        supplier["businessUnitList"] = business_units
    return Built(content=supplier)


def _terms(source: dict) -> dict:
    terms: dict = {"code": source["terms"]}
    if source["termdays"]:
        what = f"The days of the payment terms {source['terms']!r}:"
        days = decimal_text(source["termdays"], what)
        if not days.isdigit():
            raise SourceDataError(f"{what} {source['termdays']!r} is not a whole number of days")
        terms["daysAfter"] = int(days)
    return terms


def _header_common(source: dict, what: str) -> None:
    if not source["tranid"]:
        raise SourceDataError(f"The {what} has no document number (tranid)")
    if not source["trandate"]:
        raise SourceDataError(f"The {what} {source['tranid']} has no date (trandate)")
    _day(source["trandate"], f"The date (trandate) of the {what} {source['tranid']}")
    if not source["currency"]:
        raise SourceDataError(f"The {what} {source['tranid']} has an unknown currency (id {source['currency_id']!r})")
    _currency(source["currency"], f"The {what} {source['tranid']}")
    if not source["entity"]:
        raise SourceDataError(f"The {what} {source['tranid']} has no vendor")
    if not (source["entity"].isascii() and source["entity"].isdigit()):
        raise SourceDataError(f"The vendor of the {what} {source['tranid']} ({source['entity']!r}) is not a NetSuite "
                              "internal id")


def _header_coding(source: dict) -> LineCoding:
    coding = source["coding"]
    return LineCoding(department=coding["department"] or None, classification=coding["class"] or None,
                      location=coding["location"] or None, subsidiary=coding["subsidiary"] or None)


def _lines(source: dict, coder: _Coder, *, invoice: bool) -> list[dict]:
    lines = []
    numbers: set[str] = set()
    currency = source["currency"]
    for line in source["lines"]:
        number = line["linesequencenumber"] or line["id"]
        amount = line["foreignamount"] or line["netamount"]
        if not line["expenseaccount"]:
            if not (amount or line["quantity"]):
                continue  # a description or subtotal line: nothing to buy, nothing to code
            raise SourceDataError(f"Line {number} of {source['tranid']} has no GL account (expense account)")
        if not _LINE_NUMBER.fullmatch(number):
            raise SourceDataError(f"Line {number!r} of {source['tranid']} has no line number JAGGAER takes (a whole "
                                  "number from 1)")
        if number in numbers:
            raise SourceDataError(f"Line number {number} appears twice on {source['tranid']}")
        numbers.add(number)
        if line["quantity"]:
            quantity = decimal_text(line["quantity"], f"Line {number} quantity")
            rate = decimal_text(line["rate"] or _unit_price(amount, line["quantity"], number), f"Line {number} rate")
        else:
            # NetSuite leaves quantity and rate empty on expense lines: one unit at the line's amount.
            quantity, rate = "1", decimal_text(amount, f"Line {number} amount")
        coding = LineCoding(account=line["expenseaccount"], department=line["department"] or None,
                            classification=line["class"] or None, location=line["location"] or None,
                            subsidiary=line["subsidiary"] or None)
        out: dict = {"lineNumber": int(number), "quantity": quantity, "unitPrice": {"currency": currency, "value": rate}}
        description = line["memo"] or line["itemdisplayname"]
        if description:
            out["description"] = description
        if invoice and line["createdfromtranid"]:
            out["poNumber"] = line["createdfromtranid"]
        value_set = coder.value_set(coding)
        if value_set:
            out["customFieldValueSetList"] = value_set
        lines.append(out)
    return lines


def _unit_price(amount: str, quantity: str, number: str) -> str:
    try:
        return str(Decimal(amount) / Decimal(quantity))
    except (ArithmeticError, TypeError, ValueError):  # a zero quantity, text, or an overflow
        raise SourceDataError(f"Line {number} has no rate and its amount cannot be divided by its quantity") from None


def _purchase_order(source: dict, deleted: bool, coder: _Coder, fields: dict[str, str]) -> Built:
    _header_common(source, "purchase order")
    header: dict = {
        "poNumber": source["tranid"],
        "orderDate": source["trandate"],
        "currency": source["currency"],
        "supplier": {"supplierNumber": source["entity"]},
        "externalId": source["id"],
        "total": {"currency": source["currency"], "value": decimal_text(source["foreigntotal"] or "0", "Total")},
    }
    coding = _header_coding(source)
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
    content = {"poHeader": header, "poLineList": {"poLine": _lines(source, coder, invoice=False)}}
    rejected = source["status"] in REJECTED_PO_STATUSES or source["approvalstatus"] == REJECTED_APPROVAL
    return Built(content=content, depends_on=[(Flow.VENDORS, source["entity"])], cancel=deleted or rejected)


def _invoice(source: dict, deleted: bool, coder: _Coder, fields: dict[str, str]) -> Built:
    _header_common(source, "vendor bill")
    header: dict = {
        "supplierInvoiceNumber": source["tranid"],
        "invoiceType": "Invoice",
        "invoiceDate": source["trandate"],
        "supplier": {"supplierNumber": source["entity"]},
        "externalId": source["id"],
        "total": {"currency": source["currency"], "value": decimal_text(source["foreigntotal"] or "0", "Total")},
    }
    if source["duedate"]:
        header["dueDate"] = _day(source["duedate"], f"The due date of the vendor bill {source['tranid']}")
    po_numbers = sorted({line["createdfromtranid"] for line in source["lines"] if line["createdfromtranid"]})
    if po_numbers:
        header["poNumber"] = po_numbers[0]
    if source["terms"]:
        header["terms"] = {"standardPaymentTermsCode": source["terms"]}
    value_set = coder.value_set(_header_coding(source))
    if value_set:
        header["customFieldValueSetList"] = value_set
    content = {"header": header, "lineList": {"invoiceLine": _lines(source, coder, invoice=True)}}
    purchase_orders = sorted({line["createdfrom"] for line in source["lines"] if line["createdfrom"]})
    depends_on = [(Flow.VENDORS, source["entity"])] + [(Flow.PURCHASE_ORDERS, po) for po in purchase_orders]
    return Built(content=content, depends_on=depends_on, cancel=deleted)


_BUILDERS = {
    Flow.GL_ACCOUNTS: _gl_account,
    Flow.CLASSIFICATIONS: _classification,
    Flow.VENDORS: _supplier,
    Flow.PURCHASE_ORDERS: _purchase_order,
    Flow.VENDOR_BILLS: _invoice,
}
