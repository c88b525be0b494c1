"""JAGGAER's XML imports as the sandbox serves them (docs/jaggaer-xml.md): a SupplierSyncMessage or a
PurchaseOrderMessage is checked against the element order of JAGGAER's DTDs, its header's Identity and
SharedSecret are checked, and each Supplier or PurchaseOrder is read into the object the J1P routes take,
so that both transports land in the same stores. Answers carry Status{StatusCode, StatusText} with the
counts and failure texts of the public samples, and the errors of each refused object."""

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.http import Response

SUPPLIER_PATH = "/apps/Router/TSMSupplierXMLImport"
PURCHASE_ORDER_PATH = "/apps/Router/POXMLImport"

# Content models, after the DTDs: each element's children in order, with "?" (optional), "*" (any number),
# "+" (one or more) or "" (exactly one). An element that is not a key here holds text only.
_HEADER = {
    "Header": [("MessageId", ""), ("RelatedMessageId", "?"), ("Timestamp", ""), ("Authentication", "?")],
    "Authentication": [("Identity", ""), ("SharedSecret", "")],
}
# TSMSupplier.dtd's Supplier, in full (cu-kfs Supplier.java propOrder); only some are read.
_SUPPLIER_CHILDREN = [(name, "?") for name in (
    "ERPNumber", "OldERPNumber", "SupplierSQId", "SQIntegrationNumber", "ThirdPartyRefNumber", "JASupplierId", "Name",
    "DoingBusinessAs", "OtherNames", "CountryOfOrigin", "ParentSupplier", "Active", "BusinessUnitVendorNumberList",
    "WebSiteURL", "DUNS", "LegalStructure", "TaxIdentificationType", "TaxIdentificationNumber",
    "VatIdentificationNumber", "ExemptFromBackupWithholding", "NumberOfEmployees", "YearEstablished",
    "AnnualSalesList", "ServiceAreaList", "RegistrationProfileType", "RegistrationProfileStatus",
    "SupplierTaxRepresentativeId", "SupplierRegCourt", "SupplierRegSeat", "SupplierRegNumber", "SupplierCapital",
    "SupplierShareholders", "VATExempt", "CommodityCodeList", "Brands", "ShoppingCommodityCode", "AustinTetra", "SIC",
    "NaicsCodes", "SupportedCurrencyList", "EnabledCurrencyList", "SupplierKeywords", "AddressList",
    "PrimaryAddressList", "ContactList", "PrimaryContactList", "ClassificationList", "DiversityClassificationList",
    "LocationList", "RestrictFulfillmentLocationsByBusinessUnit", "CustomElementList", "AccountsPayableList",
    "TaxInformationList", "InsuranceInformationList", "EnablePaymentProvisioning")]
SUPPLIER_MODEL = {
    **_HEADER,
    "SupplierSyncMessage": [("Header", ""), ("SupplierRequestMessage", "")],
    "SupplierRequestMessage": [("Supplier", "*")],
    "Supplier": _SUPPLIER_CHILDREN,
    "BusinessUnitVendorNumberList": [("BusinessUnitVendorNumber", "*")],
    "SupportedCurrencyList": [("IsoCurrencyCode", "*")],
    "ContactList": [("Contact", "*")],
    "Contact": [(name, "?") for name in ("ERPNumber", "OldERPNumber", "SQIntegrationNumber", "ThirdPartyRefNumber",
                                         "Name", "Active", "FirstName", "LastName", "Title", "Email", "Phone",
                                         "MobilePhone", "TollFreePhone", "Fax", "Notes")],
    "Phone": [("TelephoneNumber", "")],
    "TelephoneNumber": [("CountryCode", "?"), ("AreaCode", "?"), ("Number", "?"), ("Extension", "?")],
    "CustomElementList": [("CustomElement", "*")],
    "CustomElement": [("CustomElementIdentifier", ""), ("CustomElementValueList", "?")],
    "CustomElementValueList": [("CustomElementValue", "*")],
}
PURCHASE_ORDER_MODEL = {
    **_HEADER,
    "PurchaseOrderMessage": [("Header", ""), ("PurchaseOrder", "*")],
    "PurchaseOrder": [("POHeader", ""), ("POLine", "*")],
    "POHeader": [("RevisionNumber", ""), ("PONumber", ""), ("OrderDate", "?"), ("Currency", "?"), ("Supplier", ""),
                 ("BusinessUnit", "?"), ("PaymentTerms", "?"), ("Notes", "?"), ("ExternalId", "?"), ("Total", "?"),
                 ("CustomFieldValueSet", "*")],
    "Supplier": [("SupplierNumber", "")],
    "Total": [("Money", "")],
    "POLine": [("Item", "?"), ("Quantity", ""), ("LineCharges", ""), ("CustomFieldValueSet", "*")],
    "Item": [("CatalogNumber", "?"), ("Description", "?")],
    "LineCharges": [("UnitPrice", "")],
    "UnitPrice": [("Money", "")],
    "CustomFieldValueSet": [("CustomFieldValue", "*")],
    "CustomFieldValue": [("Value", "")],
}


@dataclass(frozen=True)
class XmlRoute:
    root: str
    version: str
    model: dict[str, list[tuple[str, str]]]
    objects: str  # the path of the objects below the root
    response: str
    errors: str
    ref: str
    key: str
    kind: str  # the kind of the received() log, as for J1P
    read: Callable[[ET.Element], dict[str, Any]]


class MessageRefused(Exception):
    """The message cannot be read: nothing in it is applied."""


def check_order(element: ET.Element, model: dict[str, list[tuple[str, str]]]) -> None:
    """Raises MessageRefused with the text of JAGGAER's parser when `element` or a descendant breaks its
    content model."""
    expected = model.get(element.tag)
    children = list(element)
    if expected is None:
        if children:
            raise MessageRefused(f'XML Error : Element type "{children[0].tag}" must be declared.')
        return
    position = 0
    for name, occurs in expected:
        count = 0
        while position < len(children) and children[position].tag == name:
            position += 1
            count += 1
        if count > 1 and occurs not in ("*", "+") or count == 0 and occurs in ("", "+"):
            position = -1
            break
    if position != len(children):
        wanted = ",".join(name + occurs for name, occurs in expected)
        raise MessageRefused(f'XML Error : The content of element type "{element.tag}" must match "({wanted})".')
    for child in children:
        check_order(child, model)


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    return None if found is None else (found.text or "").strip()


def _money(element: ET.Element | None) -> dict[str, Any]:
    money = element.find("Money") if element is not None else None
    return {} if money is None else {"currency": money.get("currency", ""), "value": (money.text or "").strip()}


def _value_sets(element: ET.Element) -> dict[str, Any] | None:
    sets = [{"name": value_set.get("name", ""), "customFieldValueList": {"customFieldValue": [
        {"internalName": (value.findtext("Value") or "").strip()} for value in value_set.iterfind("CustomFieldValue")]}}
        for value_set in element.iterfind("CustomFieldValueSet")]
    return {"customFieldValueSet": sets} if sets else None


def _optional(target: dict[str, Any], **values: Any) -> None:
    target.update({key: value for key, value in values.items() if value not in (None, "", [], {})})


def read_supplier(element: ET.Element) -> dict[str, Any]:
    """A Supplier element as the J1P supplier object (contract section 4)."""
    supplier: dict[str, Any] = {"supplierNumber": _text(element, "ERPNumber") or "", "name": _text(element, "Name") or "",
                                "active": (_text(element, "Active") or "true").lower() in ("true", "t", "active")}
    custom = {(_text(found, "CustomElementIdentifier") or ""): _text(found, "CustomElementValueList/CustomElementValue")
              for found in element.iterfind("CustomElementList/CustomElement")}
    terms: dict[str, Any] = {}
    if custom.get("PaymentTerms"):
        terms["code"] = custom["PaymentTerms"]
        days = custom.get("PaymentTermsDays")
        if days:
            terms["daysAfter"] = int(days) if days.isdigit() else days
    _optional(supplier, externalId=_text(element, "ThirdPartyRefNumber"), legalName=_text(element, "OtherNames"),
              doingBusinessAs=_text(element, "DoingBusinessAs"),
              taxIdentificationNumber=_text(element, "TaxIdentificationNumber"),
              email=_text(element, "ContactList/Contact/Email"),
              phone=_text(element, "ContactList/Contact/Phone/TelephoneNumber/Number"),
              currencyList=[(code.text or "").strip() for code in element.iterfind("SupportedCurrencyList/IsoCurrencyCode")],
              businessUnitList=[unit.get("businessUnitInternalName", "") for unit in
                                element.iterfind("BusinessUnitVendorNumberList/BusinessUnitVendorNumber")],
              paymentTerms=terms)
    return supplier


def read_purchase_order(element: ET.Element) -> dict[str, Any]:
    """A PurchaseOrder element as the J1P purchase order (contract section 5). The import knows update and
    cancel; an update of a PO not held yet creates it (the caller turns it into `new`)."""
    head = element.find("POHeader")
    assert head is not None  # check_order requires it
    revision = _text(head, "RevisionNumber") or ""
    header: dict[str, Any] = {
        "poNumber": _text(head, "PONumber") or "", "type": head.get("type", ""),
        "revisionNumber": int(revision) if revision.isdigit() else revision,
        "supplier": {"supplierNumber": _text(head, "Supplier/SupplierNumber") or ""},
    }
    _optional(header, orderDate=_text(head, "OrderDate"), currency=_text(head, "Currency"),
              businessUnit=_text(head, "BusinessUnit"), notes=_text(head, "Notes"), externalId=_text(head, "ExternalId"),
              total=_money(head.find("Total")), customFieldValueSetList=_value_sets(head))
    if _text(head, "PaymentTerms"):
        header["paymentTerms"] = {"code": _text(head, "PaymentTerms")}
    lines = []
    for line in element.iterfind("POLine"):
        number = line.get("linenumber", "")
        read: dict[str, Any] = {"lineNumber": int(number) if number.isdigit() else number,
                                "quantity": _text(line, "Quantity") or "",
                                "unitPrice": _money(line.find("LineCharges/UnitPrice"))}
        _optional(read, description=_text(line, "Item/Description"), customFieldValueSetList=_value_sets(line))
        lines.append(read)
    return {"poHeader": header, "poLineList": {"poLine": lines}}


SUPPLIER_ROUTE = XmlRoute(root="SupplierSyncMessage", version="1.0", model=SUPPLIER_MODEL,
                          objects="SupplierRequestMessage/Supplier", response="SupplierResponseMessage",
                          errors="SupplierErrors", ref="SupplierRef", key="ERPNumber", kind="supplier",
                          read=read_supplier)
PURCHASE_ORDER_ROUTE = XmlRoute(root="PurchaseOrderMessage", version="2.0", model=PURCHASE_ORDER_MODEL,
                                objects="PurchaseOrder", response="PurchaseOrderResponseMessage",
                                errors="PurchaseOrderErrors", ref="PORef", key="PONumber", kind="purchase_order",
                                read=read_purchase_order)
ROUTES = {SUPPLIER_PATH: SUPPLIER_ROUTE, PURCHASE_ORDER_PATH: PURCHASE_ORDER_ROUTE}


def parse_message(route: XmlRoute, body: bytes) -> tuple[ET.Element, list[ET.Element]]:
    """The message and its objects; MessageRefused when it is not well-formed or breaks the DTD."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise MessageRefused(f"XML Error : {error}") from None
    if root.tag != route.root:
        raise MessageRefused(f'XML Error : Document root element "{root.tag}", must match DOCTYPE root "{route.root}".')
    if root.get("version") != route.version:
        raise MessageRefused(f'XML Error : Attribute "version" of "{route.root}" must be "{route.version}".')
    check_order(root, route.model)
    return root, root.findall(route.objects)


def counts(attempted: int, completed: int) -> str:
    return f"(Counts:  Total documents attempted={attempted}, Total documents completed={completed}.  " \
           f"Documents successful without warnings={completed})"


def answer(route: XmlRoute, *, code: int, text: str, general: list[str] | None = None,
           refused: list[tuple[str, list[str]]] | None = None, message_id: str = "") -> Response:
    """The answer of an import: HTTP 200 whatever the status, as JAGGAER does."""
    root = ET.Element(route.root, version=route.version)
    header = ET.SubElement(root, "Header")
    ET.SubElement(header, "MessageId").text = message_id
    ET.SubElement(header, "Timestamp").text = datetime.now(UTC).isoformat(timespec="milliseconds")
    holder = ET.SubElement(root, route.response)
    status = ET.SubElement(holder, "Status")
    ET.SubElement(status, "StatusCode").text = str(code)
    ET.SubElement(status, "StatusText").text = text
    if general:
        errors = ET.SubElement(status, "Errors")
        for words in general or []:
            ET.SubElement(errors, "ErrorMessage", type="Error").text = words
    for key, messages in refused or []:
        listed = ET.SubElement(holder, route.errors)
        ET.SubElement(ET.SubElement(listed, route.ref), route.key).text = key
        for words in messages:
            ET.SubElement(listed, "ErrorMessage", type="Error").text = words
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")
    return Response(status=200, body=body, headers={"Content-Type": "application/xml; charset=UTF-8"})


def unreadable(route: XmlRoute, *, attempted: int, errors: list[str]) -> Response:
    """JAGGAER's answer to a message it could not parse (seen): status 500, nothing applied."""
    return answer(route, code=500, general=errors,
                  text=f"Error while parsing the input / All documents failed. {counts(attempted, 0)}")


def with_status(response: Response, status: str | None) -> Response:
    """The answer with its StatusCode replaced by `status` (None: removed), the import itself carried out: the
    `status` mode of a broken_answer fault on an XML route."""
    if not isinstance(response.body, bytes):
        return response  # already streaming: nothing left to change
    root = ET.fromstring(response.body)
    holder = root.find("*/Status")
    code = holder.find("StatusCode") if holder is not None else None
    if holder is None or code is None:
        return response
    if status is None:
        holder.remove(code)
    else:
        code.text = status
    return Response(status=response.status, body=ET.tostring(root, encoding="utf-8"), headers=dict(response.headers))
