"""JAGGAER's XML imports (docs/jaggaer-xml.md): suppliers as a SupplierSyncMessage to TSMSupplierXMLImport,
purchase orders as a PurchaseOrderMessage to POXMLImport, with the connection's Identity and SharedSecret in
the message header. Everything else (invoices, custom-field values, reads by key) has no XML route and goes
through the J1P API this client inherits, with the connection's OAuth client.

What a flow puts inside a message (the Supplier and PurchaseOrder elements) is built by the flow
(sync/flows/vendors.py, purchase_orders.py); this module writes the envelope, sends it through the same
request gate and back-off as J1P, and reads the answer. Only an explicit success is a delivery: an answer
that is not well-formed, lacks its Status, names objects we did not send, or carries a status code we do
not know is a retryable fault, and the delivery looks the object up before it sends it again.

The SharedSecret is only ever in the body on the wire: the audit stores the flow's JSON form of each object,
and every text taken from an answer (which may echo the header) is redacted before it is kept or raised."""

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from credentials.errors import ConnectionFailed, Problem
from sync.remote.errors import JaggaerError, bad_answer
from sync.remote.jaggaer_client import ERROR_STATUS, ItemError, ItemResult, JaggaerClient

REDACTED = "[redacted]"
# Characters XML 1.0 cannot carry at all, escaped or not (NetSuite text may hold them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The counts JAGGAER writes into StatusText (seen: "Success (Counts:  Total documents attempted=1, Total
# documents completed=1. ...)").
_COUNTS = re.compile(r"Total documents attempted=(?P<attempted>\d+),\s*Total documents completed=(?P<completed>\d+)")
# What a per-object ErrorMessage says, mapped once to the error codes the delivery acts on (sync/engine/
# deliver.py): a value JAGGAER does not have waits for its mapping, an unknown supplier for the supplier, a
# stale revision or an existing number is looked up. Anything else is a refusal of the data.
_ERROR_CODES = (
    (re.compile(r"No custom field found for"), "UNKNOWN_CUSTOM_FIELD_VALUE"),
    (re.compile(r"\bNo supplier\b", re.IGNORECASE), "UNKNOWN_SUPPLIER"),
    (re.compile(r"\bis not greater than\b"), "STALE_REVISION"),
    (re.compile(r"\balready exists\b"), "DUPLICATE"),
    (re.compile(r"\bNo purchase order\b", re.IGNORECASE), "UNKNOWN_PO"),
)
VALIDATION = "VALIDATION"
# Status codes of a message (seen): 200 every document was read (each may still be listed with errors),
# 406 some were refused and are listed; a message JAGGAER could not parse answers 500 "Error while parsing
# the input / All documents failed" and applied nothing. Authentication failures answer 401 (ours).
SUCCESS_CODES = frozenset({"200", "406"})
NOTHING_APPLIED = "All documents failed"
REFUSED_CREDENTIALS = "401"


@dataclass(frozen=True)
class XmlImport:
    """One XML import route: the message it takes and how its answer names each object."""

    path: str
    root: str  # the message element, also of the answer
    version: str
    doctype: str  # the DTD the message names (seen in the public samples)
    request: str  # the element that holds the objects; "" when they sit under the root
    response: str  # the element of the answer that holds Status and the per-object errors
    errors: str  # one object's errors ...
    ref: str  # ... name it by this reference ...
    key: str  # ... holding its key


SUPPLIER_IMPORT = XmlImport(
    path="/apps/Router/TSMSupplierXMLImport", root="SupplierSyncMessage", version="1.0",
    doctype="https://usertest-messages.sciquest.com/app_docs/dtd/supplier/TSMSupplier.dtd",
    request="SupplierRequestMessage", response="SupplierResponseMessage", errors="SupplierErrors", ref="SupplierRef",
    key="ERPNumber",
)
PURCHASE_ORDER_IMPORT = XmlImport(
    path="/apps/Router/POXMLImport", root="PurchaseOrderMessage", version="2.0",
    doctype="http://daffy.sciquest.com/app_docs/dtd/po/PO.dtd",
    request="", response="PurchaseOrderResponseMessage", errors="PurchaseOrderErrors", ref="PORef", key="PONumber",
)


def xml_text(value: object) -> str:
    """A value as XML character data: ElementTree escapes &, < and > itself, but characters XML cannot carry
    would make the whole message unreadable, so they are dropped."""
    return _NOT_XML.sub("", str(value))


def add(parent: ET.Element, tag: str, value: object = None, /, **attributes: str) -> ET.Element:
    """Appends the child `tag` (with text when `value` is not None). Children are appended in the order the
    DTD requires: callers write them in that order."""
    child = ET.SubElement(parent, tag, {key: xml_text(item) for key, item in attributes.items()})
    if value is not None:
        child.text = xml_text(value)
    return child


class JaggaerXmlClient(JaggaerClient):
    """The J1P client, with suppliers and purchase orders sent as XML imports."""

    def __init__(self, *, identity: str, shared_secret: str, xml_session: requests.Session | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.identity = identity
        self._shared_secret = shared_secret
        # The XML routes authenticate by the header inside the message, not by a bearer token.
        self.xml_session = xml_session or requests.Session()

    def __repr__(self) -> str:
        return f"JaggaerXmlClient(base_url={self.base_url!r}, identity={self.identity!r})"

    def import_objects(self, route: XmlImport, objects: list[ET.Element], keys: list[str],
                       statuses: list[str]) -> list[ItemResult]:
        """Sends `objects` in one message; one result per object, in order. `statuses`: what each object's
        success is called (Updated, Cancelled), since the answer only says that it completed."""
        response = self._answered("POST", f"{self.base_url}{route.path}", label=route.path, session=self.xml_session,
                                  data=self.message(route, objects),
                                  headers={"Content-Type": "application/xml; charset=UTF-8",
                                           "Accept": "application/xml"})
        return self._results(route, response, keys, statuses)

    def check_credentials(self) -> str:
        """Sends a supplier message that holds no supplier: it writes nothing, and JAGGAER reads its header.
        Returns what was checked; raises ConnectionFailed when the identity or the secret is refused."""
        response = self._answered("POST", f"{self.base_url}{SUPPLIER_IMPORT.path}", label=SUPPLIER_IMPORT.path,
                                  session=self.xml_session, data=self.message(SUPPLIER_IMPORT, []),
                                  headers={"Content-Type": "application/xml; charset=UTF-8"})
        self._results(SUPPLIER_IMPORT, response, [], [])
        return (f"XML identity {self.identity!r} and its shared secret accepted by {SUPPLIER_IMPORT.path} "
                "(a message with no supplier, which writes nothing)")

    def message(self, route: XmlImport, objects: list[ET.Element]) -> bytes:
        root = ET.Element(route.root, version=route.version)
        header = add(root, "Header")
        # A new id per message: JAGGAER may keep ids it has seen, and a resend is a new message.
        add(header, "MessageId", uuid.uuid4().hex)
        add(header, "Timestamp", datetime.now(UTC).isoformat(timespec="milliseconds"))
        authentication = add(header, "Authentication")
        add(authentication, "Identity", self.identity)
        add(authentication, "SharedSecret", self._shared_secret)
        holder = add(root, route.request) if route.request else root
        holder.extend(objects)
        prologue = f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE {route.root} SYSTEM "{route.doctype}">\n'
        return prologue.encode() + ET.tostring(root, encoding="utf-8", xml_declaration=False)

    # Answers ------------------------------------------------------------------------------------

    def _redacted(self, text: str) -> str:
        text = " ".join(text.split())[:2000]
        return text.replace(self._shared_secret, REDACTED) if self._shared_secret else text

    def _results(self, route: XmlImport, response: requests.Response, keys: list[str],
                 statuses: list[str]) -> list[ItemResult]:
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError:
            raise bad_answer("JAGGAER", "an XML import answer that is not well-formed XML", response) from None
        answer = root.find(route.response) if root.tag == route.root else None
        status = answer.find("Status") if answer is not None else None
        code = (status.findtext("StatusCode") or "").strip() if status is not None else ""
        if answer is None or status is None or not code:
            raise bad_answer("JAGGAER", f"an XML import answer without {route.response}/Status/StatusCode", response)
        said = self._redacted(status.findtext("StatusText") or "")
        general = [self._redacted("".join(message.itertext())) for message in status.iterfind("Errors/ErrorMessage")]
        if code == REFUSED_CREDENTIALS:
            raise ConnectionFailed(Problem.REFUSED, f"JAGGAER refused the XML identity {self.identity!r} or its shared "
                                   f"secret ({said or 'status 401'})")
        if code not in SUCCESS_CODES:
            # Documented: a message JAGGAER could not read applied nothing, and sending it again will not help.
            # Any other status leaves unknown what was applied.
            words = "; ".join([said, *general]) or f"status {code}"
            raise JaggaerError(system="JAGGAER", retryable=NOTHING_APPLIED not in said, status=200,
                               code=f"XML_STATUS_{code}", message=words)
        refused = self._refusals(route, answer, set(keys), response)
        counts = _COUNTS.search(said)
        if counts and int(counts["attempted"]) != len(keys):
            raise bad_answer("JAGGAER", f"an XML import answer counting {counts['attempted']} documents for the "
                             f"{len(keys)} sent", response)
        refused_count = sum(1 for key in keys if key in refused)
        # Every object not listed completed only when JAGGAER says so: a 200 without counts, or counts that add up.
        completed = (code == "200" and counts is None) or (
            counts is not None and int(counts["completed"]) == len(keys) - refused_count)
        return [
            ItemResult(key=key, status=ERROR_STATUS, errors=refused[key]) if key in refused
            else ItemResult(key=key, status=success if completed else "")
            for key, success in zip(keys, statuses, strict=True)
        ]

    def _refusals(self, route: XmlImport, answer: ET.Element, keys: set[str],
                  response: requests.Response) -> dict[str, list[ItemError]]:
        refused: dict[str, list[ItemError]] = {}
        for listed in answer.iterfind(route.errors):
            key = (listed.findtext(f"{route.ref}/{route.key}") or "").strip()
            if key not in keys:
                # Errors of an object we did not send: the answer is not about this message.
                raise bad_answer("JAGGAER", f"an XML import answer with errors for {route.key}s not in the message",
                                 response)
            refused.setdefault(key, []).extend(
                ItemError(code=_error_code(text), message=text)
                for message in listed.iter("ErrorMessage") if (text := self._redacted("".join(message.itertext())))
            )
            if not refused[key]:
                refused[key].append(ItemError(code=VALIDATION, message=f"JAGGAER listed {route.key} {key} without a message"))
        return refused


def _error_code(message: str) -> str:
    return next((code for pattern, code in _ERROR_CODES if pattern.search(message)), VALIDATION)
