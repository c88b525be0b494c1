"""Vendors: NetSuite's `vendor` table with its subsidiaries -> JAGGAER suppliers, upserted by supplier number
(the vendor's internal id). A deleted vendor becomes an inactive supplier."""

import xml.etree.ElementTree as ET

from mappings.resolution import LineCoding
from sync.engine.journal import SourceItem
from sync.engine.paging import PullContext, Stream, id_list
from sync.engine.rest_records import RecordRead, RestReader, RestStream, fetch_records, list_ids, read_rest_deletions
from sync.flows.base import (
    RECORDS,
    Built,
    Coder,
    FlowDefinition,
    Item,
    currency,
    damaged,
    decimal_text,
    flag,
    record_id,
    text,
)
from sync.flows.deletions import read_deletions
from sync.flows.rest_rows import flag_text, plain, reference_id, suiteql_row
from sync.models import Flow
from sync.remote.errors import SourceDataError
from sync.remote.jaggaer_client import ItemResult, JaggaerClient
from sync.remote.jaggaer_xml import SUPPLIER_IMPORT, JaggaerXmlClient, add
from sync.remote.storable_text import storable_text

VENDOR_STREAM = Stream(
    name="records",
    select=(
        "v.id, v.entityid, v.companyname, v.legalname, v.email, v.phone, v.isinactive, v.taxidnum, v.externalid, "
        "v.currency, cur.symbol AS currencysymbol, v.terms, tm.name AS termname, "
        "tm.daysuntilnetdue AS termdays"
    ),
    tables="vendor v LEFT JOIN currency cur ON cur.id = v.currency LEFT JOIN term tm ON tm.id = v.terms",
    timestamp="v.lastmodifieddate",
    keys=("v.id",),
)


def vendor_subsidiaries_query(vendor_ids: list[str]) -> str:
    return (
        "SELECT r.entity, r.subsidiary FROM vendorsubsidiaryrelationship r "
        f"WHERE r.entity IN ({id_list(vendor_ids)}) ORDER BY r.entity, r.subsidiary"
    )


def vendor_source(row: dict, subsidiaries: list[str]) -> dict:
    return {
        "id": record_id(row, "vendor"), "entityid": text(row, "entityid"), "companyname": text(row, "companyname"),
        "legalname": text(row, "legalname"), "email": text(row, "email"), "phone": text(row, "phone"),
        "isinactive": flag(row, "isinactive"), "taxidnum": text(row, "taxidnum"),
        "externalid": text(row, "externalid"), "currency": text(row, "currencysymbol"),
        "currency_id": text(row, "currency"), "terms": text(row, "termname"), "termdays": text(row, "termdays"),
        "subsidiaries": [storable_text(str(subsidiary)) for subsidiary in subsidiaries],
    }


# The vendor record names only its primary subsidiary; the vendor-subsidiary relationship records list them all.
RELATIONSHIP_TYPE = "vendorSubsidiaryRelationship"


def rest_vendor_row(reader: RestReader, record: dict) -> dict:
    """A vendor record (spec section 4) as VENDOR_STREAM's row, its currency's symbol and terms read once per pull."""
    currency_id, term_id = reference_id(record, "currency"), reference_id(record, "terms")
    currency = reader.references.get(RecordRead("currency", currency_id)) if currency_id else {}
    term = reader.references.get(RecordRead("term", term_id)) if term_id else {}
    return suiteql_row(
        id=record["id"], entityid=plain(record, "entityId"), companyname=plain(record, "companyName"),
        legalname=plain(record, "legalName"), email=plain(record, "email"), phone=plain(record, "phone"),
        isinactive=flag_text(record, "isInactive"), taxidnum=plain(record, "taxIdNum"),
        externalid=plain(record, "externalId"), currency=currency_id, currencysymbol=plain(currency, "symbol"),
        terms=term_id, termname=plain(term, "name"), termdays=plain(term, "daysUntilNetDue"),
        cursor_ts=reader.last_modified(record),
    )


def rest_vendor_subsidiaries(reader: RestReader, vendor_ids: list[str]) -> dict[str, list[str]]:
    """Each vendor's subsidiaries, in id order as SuiteQL mode reads them: one list of the relationship records
    of a page of vendors, then each relationship."""
    if not vendor_ids:
        return {}
    ids = list_ids(reader.client, record_type=RELATIONSHIP_TYPE,
                   q=f"entity ANY_OF [{', '.join(sorted(vendor_ids, key=int))}]")
    links = fetch_records(reader.client, [RecordRead(RELATIONSHIP_TYPE, i, fields=("entity", "subsidiary"))
                                          for i in ids])
    subsidiaries: dict[str, list[str]] = {}
    for link in links:
        entity, subsidiary = (reference_id(link, "entity"), reference_id(link, "subsidiary")) if link else (None, None)
        if entity in vendor_ids and subsidiary:
            subsidiaries.setdefault(entity, []).append(subsidiary)
    return {entity: sorted(units, key=int) for entity, units in subsidiaries.items()}


def payment_terms(source: dict) -> dict:
    terms: dict = {"code": source["terms"]}
    if source["termdays"]:
        what = f"The days of the payment terms {source['terms']!r}:"
        days = decimal_text(source["termdays"], what)
        if not days.isdigit():
            raise SourceDataError(f"{what} {source['termdays']!r} is not a whole number of days")
        terms["daysAfter"] = int(days)
    return terms


class Vendors(FlowDefinition):
    flow = Flow.VENDORS
    nouns = ("vendor", "vendors")
    record_types = ("vendor",)
    dependency_name = "Supplier (NetSuite vendor id {})"
    shape = {
        **dict.fromkeys(("id", "entityid", "companyname", "legalname", "email", "phone", "taxidnum", "currency",
                         "terms", "termdays"), str),
        "isinactive": bool, "subsidiaries": list,
    }

    def streams(self) -> list[Stream]:
        return [VENDOR_STREAM]

    def read(self, context: PullContext) -> None:
        def handle(rows: list[dict]) -> None:
            subsidiaries: dict[str, list[str]] = {}
            for link in context.client.suiteql_rows(query=vendor_subsidiaries_query([row["id"] for row in rows])):
                subsidiaries.setdefault(link["entity"], []).append(link["subsidiary"])
            self._recorded(context, rows, subsidiaries)

        context.each_page(VENDOR_STREAM, handle)
        read_deletions(context, "vendor")

    def read_records(self, context: PullContext) -> None:
        reader = RestReader(context)

        def handle(records: list[dict]) -> None:
            reader.references.load([RecordRead(kind, ref_id) for record in records for kind, ref_id in (
                ("currency", reference_id(record, "currency")), ("term", reference_id(record, "terms"))) if ref_id])
            rows = [rest_vendor_row(reader, record) for record in records]
            self._recorded(context, rows, rest_vendor_subsidiaries(reader, [row["id"] for row in rows]))

        reader.each_page(RestStream(name=RECORDS, record_type="vendor"), handle)
        read_rest_deletions(context, "vendor")

    @staticmethod
    def _recorded(context: PullContext, rows: list[dict], subsidiaries: dict[str, list[str]]) -> None:
        context.recorded([
            SourceItem(netsuite_id=row["id"], source=vendor_source(row, subsidiaries.get(row["id"], [])),
                       document_number=row["id"], entity=row["id"],
                       label=row.get("companyname") or row.get("entityid", ""), last_modified=row["cursor_ts"])
            for row in rows
        ], len(rows))

    def netsuite_page(self, netsuite_id: str) -> str:
        return f"/app/common/entity/vendor.nl?id={netsuite_id}"

    def check(self, source: dict) -> None:
        super().check(source)
        if not all(isinstance(unit, str) for unit in source["subsidiaries"]):
            raise damaged("lists subsidiaries that are not ids")

    def build(self, source: dict, deleted: bool, coder: Coder, dimension_fields: dict[str, str]) -> Built:
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
            supplier["currencyList"] = [currency(source["currency"], f"Vendor {source['id']}")]
        if source["terms"]:
            supplier["paymentTerms"] = payment_terms(source)
        business_units = sorted({value for unit in units for value in unit.values()})
        if business_units:
            supplier["businessUnitList"] = business_units
        return Built(content=supplier)

    def send(self, client: JaggaerClient, items: list[Item]) -> list[ItemResult]:
        if isinstance(client, JaggaerXmlClient):
            # The XML import is an upsert by ERPNumber as well; it only says that each supplier was taken.
            return client.import_objects(SUPPLIER_IMPORT, [supplier_element(item.body) for item in items],
                                         [item.body["supplierNumber"] for item in items], ["Updated"] * len(items))
        return client.upsert_suppliers([item.body for item in items])


def supplier_element(supplier: dict) -> ET.Element:
    """A supplier (contract section 4) as the Supplier of a SupplierSyncMessage, its children in the order of
    JAGGAER's TSMSupplier DTD (docs/jaggaer-xml.md). The legal name and the payment terms have no element of
    their own in the public samples: they go as OtherNames and as custom elements (ours)."""
    element = ET.Element("Supplier")
    add(element, "ERPNumber", supplier["supplierNumber"])
    add(element, "ThirdPartyRefNumber", supplier["externalId"])
    add(element, "Name", supplier["name"])
    if supplier.get("legalName"):
        add(element, "OtherNames", supplier["legalName"])
    add(element, "Active", "true" if supplier["active"] else "false")
    if supplier.get("businessUnitList"):
        units = add(element, "BusinessUnitVendorNumberList")
        for unit in supplier["businessUnitList"]:
            add(units, "BusinessUnitVendorNumber", supplier["supplierNumber"], businessUnitInternalName=unit)
    if supplier.get("taxIdentificationNumber"):
        add(element, "TaxIdentificationNumber", supplier["taxIdentificationNumber"])
    if supplier.get("currencyList"):
        currencies = add(element, "SupportedCurrencyList")
        for code in supplier["currencyList"]:
            add(currencies, "IsoCurrencyCode", code)
    if supplier.get("email") or supplier.get("phone"):
        contact = add(add(element, "ContactList"), "Contact", type="main")
        if supplier.get("email"):
            add(contact, "Email", supplier["email"])
        if supplier.get("phone"):
            add(add(add(contact, "Phone"), "TelephoneNumber"), "Number", supplier["phone"])
    terms = supplier.get("paymentTerms")
    if terms:
        elements = add(element, "CustomElementList")
        for identifier, value in (("PaymentTerms", terms["code"]), ("PaymentTermsDays", terms.get("daysAfter"))):
            if value is not None:
                custom = add(elements, "CustomElement")
                add(custom, "CustomElementIdentifier", identifier)
                add(add(custom, "CustomElementValueList"), "CustomElementValue", value)
    return element
