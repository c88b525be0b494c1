"""What each flow reads from NetSuite (SuiteQL over the tables of spec section 3), and the normalised
`source` a SyncRecord keeps: plain JSON, the same whichever way (poll, push, backfill) it was read.

Every timestamp is read through TO_CHAR with seconds, in the account's time zone, because SuiteQL
renders and compares dates there and a date-only or minute-only value loses records."""

from collections.abc import Iterable
from dataclasses import dataclass

from mappings.models import CodingKind
from sync.models import Flow
from sync.storable_text import storable_text

TIMESTAMP_FORMAT = "YYYY-MM-DD HH24:MI:SS"


def stamp(column: str) -> str:
    return f"TO_CHAR({column}, '{TIMESTAMP_FORMAT}')"


class SourceDataError(ValueError):
    """NetSuite sent something we cannot turn into a JAGGAER object; the message says what, for people."""


@dataclass(frozen=True)
class Stream:
    """One keyed SuiteQL stream of a flow: rows changed after a cursor, in a unique order.

    `keys` are the columns after the timestamp that make the order unique."""

    name: str
    select: str
    tables: str
    timestamp: str
    keys: tuple[str, ...]
    where: str = "1 = 1"


@dataclass(frozen=True)
class ReferenceTable:
    """A classification table and the coding kind it feeds (flow `classifications`)."""

    table: str
    kind: CodingKind


CLASSIFICATION_TABLES = (
    ReferenceTable("subsidiary", CodingKind.SUBSIDIARY),
    ReferenceTable("department", CodingKind.DEPARTMENT),
    ReferenceTable("classification", CodingKind.CLASS),
    ReferenceTable("location", CodingKind.LOCATION),
)

ACCOUNT_STREAM = Stream(
    name="records",
    select="a.id, a.acctnumber, a.fullname, a.accttype, a.isinactive, a.parent, a.description",
    tables="account a",
    timestamp="a.lastmodifieddate",
    keys=("a.id",),
)


def classification_stream(table: ReferenceTable) -> Stream:
    return Stream(
        name=table.table,
        select="c.id, c.name, c.fullname, c.parent, c.isinactive",
        tables=f"{table.table} c",
        timestamp="c.lastmodifieddate",
        keys=("c.id",),
    )


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

TRANSACTION_TYPES = {Flow.PURCHASE_ORDERS: "PurchOrd", Flow.VENDOR_BILLS: "VendBill"}
DELETED_RECORD_TYPES = {
    Flow.PURCHASE_ORDERS: "purchaseorder", Flow.VENDOR_BILLS: "vendorbill", Flow.VENDORS: "vendor",
}
# NetSuite's record type of each flow's records (classifications: the table's name).
NETSUITE_RECORD_TYPES = {**DELETED_RECORD_TYPES, Flow.GL_ACCOUNTS: "account"}
# Whether NetSuite lists one record as deleted: the only evidence a deletion is acted on.
DELETED_RECORD_QUERY = "SELECT d.recordid FROM deletedrecord d WHERE d.recordtype = ? AND d.recordid = ?"

TRANSACTION_COLUMNS = (
    "t.id, t.tranid, TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate, TO_CHAR(t.duedate, 'YYYY-MM-DD') AS duedate, "
    "t.type, t.entity, BUILTIN.DF(t.entity) AS entityname, t.status, t.approvalstatus, t.currency, cur.symbol AS currencysymbol, t.exchangerate, "
    "t.foreigntotal, t.memo, t.terms, tm.name AS termname, tm.daysuntilnetdue AS termdays, t.externalid"
)
TRANSACTION_TABLES = (
    "transaction t LEFT JOIN currency cur ON cur.id = t.currency LEFT JOIN term tm ON tm.id = t.terms"
)


def transaction_stream(flow: str) -> Stream:
    return Stream(
        name="records",
        select=TRANSACTION_COLUMNS,
        tables=TRANSACTION_TABLES,
        timestamp="t.lastmodifieddate",
        keys=("t.id",),
        where=f"t.type = '{TRANSACTION_TYPES[flow]}'",
    )


def line_change_stream(flow: str) -> Stream:
    """Lines edited without the header's lastmodifieddate moving (spec section 3)."""
    return Stream(
        name="lines",
        select="tl.transaction AS transactionid",
        tables="transactionline tl JOIN transaction t ON t.id = tl.transaction",
        timestamp="tl.linelastmodifieddate",
        keys=("tl.transaction", "tl.id"),
        where=f"t.type = '{TRANSACTION_TYPES[flow]}'",
    )


def deletion_stream(flow: str) -> Stream:
    return Stream(
        name="deletions",
        select="d.recordid",
        tables="deletedrecord d",
        timestamp="d.deleteddate",
        keys=("d.recordid",),
        where=f"d.recordtype = '{DELETED_RECORD_TYPES[flow]}'",
    )


def transaction_lines_query(transaction_ids: Iterable[str]) -> str:
    """The lines of up to 1,000 transactions (SuiteQL's IN limit), with what a JAGGAER line needs, after a
    (transaction, line id) position given as three `?` parameters: paged by key, never by offset."""
    return (
        "SELECT tl.transaction, tl.id, tl.linesequencenumber, tl.mainline, tl.taxline, tl.item, tl.itemtype, "
        "i.itemid AS itemname, i.displayname AS itemdisplayname, tl.memo, tl.quantity, tl.rate, tl.netamount, "
        "tl.foreignamount, tl.expenseaccount, tl.department, tl.class, tl.location, tl.subsidiary, tl.isclosed, "
        "tl.createdfrom, po.tranid AS createdfromtranid, "
        f"{stamp('tl.linelastmodifieddate')} AS linemodified "
        "FROM transactionline tl LEFT JOIN item i ON i.id = tl.item "
        "LEFT JOIN transaction po ON po.id = tl.createdfrom "
        f"WHERE tl.transaction IN ({id_list(transaction_ids)}) "
        "AND (tl.transaction > ? OR (tl.transaction = ? AND tl.id > ?)) ORDER BY tl.transaction, tl.id"
    )


def transactions_by_id_query(transaction_ids: Iterable[str]) -> str:
    return (
        f"SELECT {TRANSACTION_COLUMNS}, {stamp('t.lastmodifieddate')} AS cursor_ts FROM {TRANSACTION_TABLES} "
        f"WHERE t.id IN ({id_list(transaction_ids)}) ORDER BY t.id"
    )


def vendor_subsidiaries_query(vendor_ids: Iterable[str]) -> str:
    return (
        "SELECT r.entity, r.subsidiary FROM vendorsubsidiaryrelationship r "
        f"WHERE r.entity IN ({id_list(vendor_ids)}) ORDER BY r.entity, r.subsidiary"
    )


def id_list(ids: Iterable[str]) -> str:
    """Internal ids are digits; anything else never reaches a query."""
    checked = []
    for value in ids:
        text = str(value)
        if not text.isdigit():
            raise SourceDataError(f"NetSuite internal id {text!r} is not a number")
        checked.append(text)
    if not checked:
        raise ValueError("an IN list needs at least one id")
    return ", ".join(checked)


# Normalisation ------------------------------------------------------------------------------

def flag(row: dict, column: str) -> bool:
    return row.get(column) == "T"


def text(row: dict, column: str) -> str:
    """A column as the text a source keeps ("" when NetSuite left it out). NetSuite renders every value as a
    string (spec section 3); a number is taken as its digits, anything else is refused."""
    value = row.get(column)
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise SourceDataError(f"NetSuite sent {column!r} as {type(value).__name__}, not as text")
    return storable_text(value)


def record_id(row: dict, what: str) -> str:
    """The row's internal id: it keys the record, so a row without a usable one is refused."""
    value = text(row, "id")
    if not (value.isascii() and value.isdigit()):
        raise SourceDataError(f"NetSuite sent a {what} row whose id {value!r} is not an internal id")
    return value


def account_source(row: dict) -> dict:
    return {
        "id": record_id(row, "GL account"), "acctnumber": text(row, "acctnumber"), "fullname": text(row, "fullname"),
        "accttype": text(row, "accttype"), "isinactive": flag(row, "isinactive"), "parent": text(row, "parent"),
    }


def classification_source(row: dict, kind: CodingKind) -> dict:
    return {
        "kind": str(kind), "id": record_id(row, CodingKind(kind).label), "name": text(row, "name"),
        "fullname": text(row, "fullname") or text(row, "name"), "isinactive": flag(row, "isinactive"),
        "parent": text(row, "parent"),
    }


def vendor_source(row: dict, subsidiaries: list[str]) -> dict:
    return {
        "id": record_id(row, "vendor"), "entityid": text(row, "entityid"), "companyname": text(row, "companyname"),
        "legalname": text(row, "legalname"), "email": text(row, "email"), "phone": text(row, "phone"),
        "isinactive": flag(row, "isinactive"), "taxidnum": text(row, "taxidnum"),
        "externalid": text(row, "externalid"), "currency": text(row, "currencysymbol"),
        "currency_id": text(row, "currency"), "terms": text(row, "termname"), "termdays": text(row, "termdays"),
        "subsidiaries": [storable_text(str(subsidiary)) for subsidiary in subsidiaries],
    }


LINE_COLUMNS = (
    "id", "linesequencenumber", "item", "itemtype", "itemname", "itemdisplayname", "memo", "quantity", "rate",
    "netamount", "foreignamount", "expenseaccount", "department", "class", "location", "subsidiary",
    "createdfrom", "createdfromtranid",
)


def transaction_source(header: dict, lines: list[dict]) -> dict:
    """A PO or vendor bill with its main line's coding and its non-tax lines, in line order."""
    main = next((line for line in lines if flag(line, "mainline")), {})
    body_lines = [
        {column: text(line, column) for column in LINE_COLUMNS} | {"isclosed": flag(line, "isclosed")}
        for line in lines
        if not flag(line, "mainline") and not flag(line, "taxline")
    ]
    return {
        "id": record_id(header, "transaction"), "tranid": text(header, "tranid"), "type": text(header, "type"),
        "trandate": text(header, "trandate"), "duedate": text(header, "duedate"), "entity": text(header, "entity"),
        "status": text(header, "status"), "approvalstatus": text(header, "approvalstatus"),
        "currency": text(header, "currencysymbol"), "currency_id": text(header, "currency"),
        "foreigntotal": text(header, "foreigntotal"), "memo": text(header, "memo"),
        "terms": text(header, "termname"), "termdays": text(header, "termdays"),
        "externalid": text(header, "externalid"),
        "coding": {
            "department": text(main, "department"), "class": text(main, "class"),
            "location": text(main, "location"), "subsidiary": text(main, "subsidiary"),
        },
        "lines": body_lines,
    }


def record_streams(flow: str) -> list[Stream]:
    """The streams whose rows are the flow's records (what a backfill window counts)."""
    if flow == Flow.GL_ACCOUNTS:
        return [ACCOUNT_STREAM]
    if flow == Flow.CLASSIFICATIONS:
        return [classification_stream(table) for table in CLASSIFICATION_TABLES]
    if flow == Flow.VENDORS:
        return [VENDOR_STREAM]
    return [transaction_stream(flow)]


def count_query(stream: Stream, *, until: bool) -> str:
    """How many rows of `stream` changed in [since, until): two or one `?` parameters."""
    to_ts = f"TO_TIMESTAMP(?, '{TIMESTAMP_FORMAT}')"
    window = f"{stream.timestamp} >= {to_ts}" + (f" AND {stream.timestamp} < {to_ts}" if until else "")
    return f"SELECT COUNT(*) AS n FROM {stream.tables} WHERE ({stream.where}) AND {window}"
