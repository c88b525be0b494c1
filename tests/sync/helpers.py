"""Reading the NetSuite sandbox's data set directly: the oracle the sync tests compare JAGGAER with."""

from typing import Any


def netsuite_rows(netsuite: Any, query: str, params: list | None = None) -> list[dict]:
    rows: list[dict] = []
    offset = 0
    while True:
        page = netsuite.app.dataset.suiteql(query=query, params=params, limit=1000, offset=offset, self_url="x")
        rows.extend(page["items"])
        if not page["hasMore"]:
            return rows
        offset += 1000


def coding_of(value_sets: dict | None) -> dict[str, str]:
    """{"GLAccount": "6100", ...} from a document's customFieldValueSetList."""
    return {
        value_set["name"]: value_set["customFieldValueList"]["customFieldValue"][0]["internalName"]
        for value_set in (value_sets or {}).get("customFieldValueSet", [])
    }


def jaggaer_writes(jaggaer: Any) -> int:
    return len(jaggaer.app.received())


def use_xml_transport(pair: Any, jaggaer: Any) -> None:
    """Switches the pair's JAGGAER connection to the XML imports with the sandbox's demo Identity and
    SharedSecret (the OAuth client stays: invoices and custom-field values have no XML route)."""
    from credentials.models import JaggaerTransport

    credentials = jaggaer.app.demo_xml_credentials()
    pair.jaggaer.transport = JaggaerTransport.XML
    pair.jaggaer.xml_identity = credentials["identity"]
    pair.jaggaer.xml_shared_secret = credentials["shared_secret"]
    pair.jaggaer.save()


# Where each transport writes suppliers and POs: faults aimed at a write follow the pair's transport.
WRITE_PATHS = {
    ("j1p", "supplier"): "/j1p/api/public/js/v1/suppliers",
    ("j1p", "purchase_order"): "/j1p/api/public/jp/v1/purchaseorders",
    ("xml", "supplier"): "/apps/Router/TSMSupplierXMLImport",
    ("xml", "purchase_order"): "/apps/Router/POXMLImport",
}


def write_path(transport: str, kind: str) -> str:
    """The path a fault aims at to hit the writes of `kind` (supplier, purchase_order) over `transport`."""
    return WRITE_PATHS[(transport, kind)]
