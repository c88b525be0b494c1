"""Reconciliation: for one flow and day, what NetSuite holds (read now through SuiteQL) against what JAGGAER
holds (read back through its API), as counts and totals, and every difference record by record.

Day means the document date (a PO's trandate, a bill's trandate = JAGGAER's orderDate / invoiceDate). Only
documents carry totals, so purchase_orders and vendor_bills are reconciled; reference flows are upserts
whose state the record list already shows."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import cast

from credentials.models import ConnectionPair
from sync.engine.run import Clients
from sync.flows import FLOWS, flow_named
from sync.flows.transactions import DAY_QUERY, DocumentFlow
from sync.models import SyncRecord

RECONCILED_FLOWS = tuple(str(definition.flow) for definition in FLOWS if definition.reconciled)
CANCELLED = "Cancelled"


class ReconcileError(ValueError):
    """A flow or day that cannot be reconciled; the message says why."""


@dataclass(frozen=True)
class Difference:
    document: str  # PO number or bill number (tranId)
    netsuite_id: str
    problem: str
    record_id: int | None = None  # our SyncRecord, for a link to its timeline


@dataclass
class Reconciliation:
    pair: ConnectionPair
    flow: str
    day: date
    netsuite_count: int = 0
    netsuite_total: Decimal = Decimal(0)
    jaggaer_count: int = 0
    jaggaer_total: Decimal = Decimal(0)
    differences: list[Difference] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not self.differences and self.netsuite_count == self.jaggaer_count \
            and self.netsuite_total == self.jaggaer_total


@dataclass(frozen=True)
class _Document:
    """One side's view of a document, reduced to what is compared."""

    key: str
    netsuite_id: str
    total: Decimal
    open: bool


def _amount(value: object) -> Decimal:
    try:
        return Decimal(str(value or "0"))
    except InvalidOperation:
        return Decimal(0)


def reconcile(*, pair: ConnectionPair, flow: str, day: date, clients: Clients | None = None) -> Reconciliation:
    if flow not in RECONCILED_FLOWS:
        raise ReconcileError(f"Only {' and '.join(RECONCILED_FLOWS)} can be reconciled by day, not {flow!r}.")
    definition = cast(DocumentFlow, flow_named(flow))
    clients = clients or Clients.for_pair(pair)
    rows = clients.netsuite.suiteql_rows(query=DAY_QUERY, params=[definition.transaction_type, day.isoformat()])
    netsuite = {row["id"]: _netsuite_document(definition, row) for row in rows}
    records = {
        record.netsuite_id: record
        for record in SyncRecord.objects.filter(pair=pair, flow=flow).filter(
            netsuite_id__in=list(netsuite)) .only("pk", "netsuite_id", "document_number")
    }
    # Documents we sent for that day that NetSuite no longer returns (deleted there): JAGGAER must not keep
    # them open.
    for record in SyncRecord.objects.filter(pair=pair, flow=flow, source__trandate=day.isoformat()).exclude(
            netsuite_id__in=list(netsuite)).only("pk", "netsuite_id", "document_number", "netsuite_entity"):
        records[record.netsuite_id] = record
    # Documents by the NetSuite id they carry (externalId); JAGGAER is asked for NetSuite's numbers and ours.
    numbers = {doc.key for doc in netsuite.values()} | {r.document_number for r in records.values() if r.document_number}
    jaggaer = {}
    for number, header in definition.jaggaer_documents_of(clients.jaggaer, day, numbers):
        document = _Document(key=number, netsuite_id=str(header.get("externalId", "")),
                             total=_amount((header.get("total") or {}).get("value")),
                             open=header.get("status") != CANCELLED)
        jaggaer[document.netsuite_id] = document

    result = Reconciliation(pair=pair, flow=flow, day=day)
    for document in netsuite.values():
        if document.open:
            result.netsuite_count += 1
            result.netsuite_total += document.total
    for document in jaggaer.values():
        if document.open:
            result.jaggaer_count += 1
            result.jaggaer_total += document.total
    for key in sorted(set(netsuite) | set(jaggaer) | set(records), key=_numeric_first):
        problem = _problem(netsuite.get(key), jaggaer.get(key))
        if problem:
            mine = records.get(key)
            ours = netsuite.get(key) or jaggaer.get(key)
            result.differences.append(Difference(
                document=ours.key if ours else (mine.document_number if mine else ""), netsuite_id=key,
                problem=problem, record_id=mine.pk if mine else None,
            ))
    return result


def _numeric_first(netsuite_id: str) -> tuple[int, str]:
    return (int(netsuite_id), "") if netsuite_id.isdigit() else (0, netsuite_id)


def _netsuite_document(definition: DocumentFlow, row: dict) -> _Document:
    return _Document(key=row.get("tranid", ""), netsuite_id=row["id"], total=_amount(row.get("foreigntotal")),
                     open=definition.open_in_netsuite(row))


def _problem(netsuite: _Document | None, jaggaer: _Document | None) -> str:
    if netsuite is None:
        if jaggaer is not None and jaggaer.open:
            return "In JAGGAER but not in NetSuite (deleted there?): still open in JAGGAER"
        return ""
    if not netsuite.open:
        return "Rejected in NetSuite but open in JAGGAER" if jaggaer is not None and jaggaer.open else ""
    if jaggaer is None:
        return "Missing in JAGGAER"
    if not jaggaer.open:
        return "Cancelled in JAGGAER but open in NetSuite"
    if netsuite.total != jaggaer.total:
        return f"Total differs: NetSuite {netsuite.total}, JAGGAER {jaggaer.total}"
    return ""
