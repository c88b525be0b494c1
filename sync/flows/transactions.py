"""What the two document flows share (purchase orders, vendor bills): NetSuite's `transaction` and
`transactionline` tables read as one source per document, the header and line checks, the coded lines, and
a JAGGAER writer of documents: new, update or cancel, looked up after a lost answer so that nothing is
created twice."""

import re
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

from mappings.resolution import LineCoding
from sync.engine.journal import SourceItem
from sync.engine.paging import PullContext, Stream, id_list, stamp
from sync.engine.rest_records import RecordRead, RestReader, RestStream, read_rest_deletions
from sync.flows.base import (
    RECORDS,
    Built,
    Coder,
    FlowDefinition,
    Item,
    check_fields,
    currency,
    day,
    decimal_text,
    flag,
    record_id,
    text,
)
from sync.flows.deletions import read_deletions
from sync.flows.rest_rows import (
    base_amount,
    flag_text,
    plain,
    reference,
    reference_id,
    referenced_type,
    sublist,
    suiteql_row,
)
from sync.models import SyncRecord
from sync.remote.errors import SourceDataError
from sync.remote.jaggaer_client import JaggaerClient
from sync.remote.netsuite_client import NetSuiteClient

# Line numbers as whole numbers from 1 (contract section 5; nine digits are plenty, and keep int() away from
# huge numbers).
_LINE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")

TRANSACTION_COLUMNS = (
    "t.id, t.tranid, TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate, TO_CHAR(t.duedate, 'YYYY-MM-DD') AS duedate, "
    "t.type, t.entity, BUILTIN.DF(t.entity) AS entityname, t.status, t.approvalstatus, t.currency, cur.symbol AS currencysymbol, t.exchangerate, "
    "t.foreigntotal, t.memo, t.terms, tm.name AS termname, tm.daysuntilnetdue AS termdays, t.externalid, "
    "ml.department AS maindepartment, ml.class AS mainclass, ml.location AS mainlocation, "
    "ml.subsidiary AS mainsubsidiary"
)
# The document's own coding is on its main line (spec section 3), read with the header: the line queries then
# read only the lines a JAGGAER document carries.
TRANSACTION_TABLES = (
    "transaction t LEFT JOIN currency cur ON cur.id = t.currency LEFT JOIN term tm ON tm.id = t.terms "
    "LEFT JOIN transactionline ml ON ml.transaction = t.id AND ml.mainline = 'T'"
)
# Every document of a day, rejected ones too (reconciliation): JAGGAER must hold those as cancelled or not at all.
DAY_QUERY = (
    "SELECT t.id, t.tranid, t.entity, t.foreigntotal, t.status, t.approvalstatus FROM transaction t "
    "WHERE t.type = ? AND TO_CHAR(t.trandate, 'YYYY-MM-DD') = ? ORDER BY t.id"
)
# When a first sync starts (the line stream's cursor), and whether a backfill window reaches back before every
# document; NetSuite leaves the column out when the table has no row.
_NEWEST_LINE_QUERY = (
    f"SELECT {stamp('MAX(tl.linelastmodifieddate)')} AS moment FROM transactionline tl "
    "JOIN transaction t ON t.id = tl.transaction WHERE t.type = ?"
)
_OLDEST_DOCUMENT_QUERY = f"SELECT {stamp('MIN(t.lastmodifieddate)')} AS moment FROM transaction t WHERE t.type = ?"
LINE_COLUMNS = (
    "id", "linesequencenumber", "item", "itemtype", "itemname", "itemdisplayname", "memo", "quantity", "rate",
    "netamount", "foreignamount", "expenseaccount", "department", "class", "location", "subsidiary",
    "createdfrom", "createdfromtranid",
)
_CODING_SHAPE = dict.fromkeys(("department", "class", "location", "subsidiary"), str)
_LINE_SHAPE = dict.fromkeys(("id", "linesequencenumber", "itemdisplayname", "memo", "quantity", "rate", "netamount",
                             "foreignamount", "expenseaccount", "department", "class", "location", "subsidiary",
                             "createdfrom", "createdfromtranid"), str)


def transaction_stream(transaction_type: str) -> Stream:
    return Stream(name="records", select=TRANSACTION_COLUMNS, tables=TRANSACTION_TABLES, timestamp="t.lastmodifieddate",
                  keys=("t.id",), where=f"t.type = '{transaction_type}'")


def line_change_stream(transaction_type: str) -> Stream:
    """Lines edited without the header's lastmodifieddate moving (spec section 3)."""
    return Stream(
        name="lines",
        select="tl.transaction AS transactionid",
        tables="transactionline tl JOIN transaction t ON t.id = tl.transaction",
        timestamp="tl.linelastmodifieddate",
        keys=("tl.transaction", "tl.id"),
        where=f"t.type = '{transaction_type}'",
    )


def transaction_lines_query(transaction_ids: Iterable[str]) -> str:
    """The item and expense lines of up to 1,000 transactions (SuiteQL's IN limit), with what a JAGGAER line
    needs, after a (transaction, line id) position given as three `?` parameters: paged by key, never by
    offset."""
    return (
        "SELECT tl.transaction, tl.id, tl.linesequencenumber, tl.item, tl.itemtype, "
        "i.itemid AS itemname, i.displayname AS itemdisplayname, tl.memo, tl.quantity, tl.rate, tl.netamount, "
        "tl.foreignamount, tl.expenseaccount, tl.department, tl.class, tl.location, tl.subsidiary, tl.isclosed, "
        "tl.createdfrom, po.tranid AS createdfromtranid, "
        f"{stamp('tl.linelastmodifieddate')} AS linemodified "
        "FROM transactionline tl LEFT JOIN item i ON i.id = tl.item "
        "LEFT JOIN transaction po ON po.id = tl.createdfrom "
        f"WHERE tl.transaction IN ({id_list(transaction_ids)}) "
        "AND NVL(tl.mainline, 'F') = 'F' AND NVL(tl.taxline, 'F') = 'F' "
        "AND (tl.transaction > ? OR (tl.transaction = ? AND tl.id > ?)) ORDER BY tl.transaction, tl.id"
    )


def transactions_by_id_query(transaction_ids: Iterable[str]) -> str:
    return (
        f"SELECT {TRANSACTION_COLUMNS}, {stamp('t.lastmodifieddate')} AS cursor_ts FROM {TRANSACTION_TABLES} "
        f"WHERE t.id IN ({id_list(transaction_ids)}) ORDER BY t.id"
    )


def transaction_source(header: dict, lines: list[dict]) -> dict:
    """A PO or vendor bill with its main line's coding (read with the header) and its item and expense
    lines, in line order."""
    body_lines = [{column: text(line, column) for column in LINE_COLUMNS} | {"isclosed": flag(line, "isclosed")}
                  for line in lines]
    return {
        "id": record_id(header, "transaction"), "tranid": text(header, "tranid"), "type": text(header, "type"),
        "trandate": text(header, "trandate"), "duedate": text(header, "duedate"), "entity": text(header, "entity"),
        "status": text(header, "status"), "approvalstatus": text(header, "approvalstatus"),
        "currency": text(header, "currencysymbol"), "currency_id": text(header, "currency"),
        "foreigntotal": text(header, "foreigntotal"), "memo": text(header, "memo"),
        "terms": text(header, "termname"), "termdays": text(header, "termdays"),
        "externalid": text(header, "externalid"),
        "coding": {
            "department": text(header, "maindepartment"), "class": text(header, "mainclass"),
            "location": text(header, "mainlocation"), "subsidiary": text(header, "mainsubsidiary"),
        },
        "lines": body_lines,
    }


def _lines_of(client: NetSuiteClient, transaction_ids: list[str]) -> Iterator[dict]:
    """Every line of these transactions, page after page by key: a page of transactions with many lines
    each must not meet the 100,000-row offset ceiling."""
    query = transaction_lines_query(transaction_ids)
    after = (0, 0)
    while True:
        page = client.suiteql(query=query, params=[after[0], after[0], after[1]])
        rows = page.get("items", [])
        yield from rows
        if not rows or not page.get("hasMore"):
            return
        after = (int(rows[-1]["transaction"]), int(rows[-1]["id"]))


def _references_of(record: dict) -> list[RecordRead]:
    """What a document's source needs beyond the record: its currency's symbol, its terms, each item's names and
    expense account, and the number of each PO a bill line was billed from."""
    reads = [RecordRead(kind, ref_id) for kind, ref_id in (("currency", reference_id(record, "currency")),
                                                          ("term", reference_id(record, "terms"))) if ref_id]
    for line in sublist(record, "item"):
        item = reference(line, "item")
        if item:
            reads.append(RecordRead(referenced_type(item, "item"), item["id"]))
    for line in [*sublist(record, "item"), *sublist(record, "expense")]:
        order = reference(line, "orderDoc")
        if order:
            reads.append(RecordRead(referenced_type(order, "orderDoc"), order["id"], fields=("tranId",)))
    return reads


def rest_transaction_rows(reader: RestReader, record: dict, transaction_type: str) -> tuple[dict, list[dict]]:
    """A purchaseOrder or vendorBill record (expanded) as the header row and line rows of SuiteQL mode. Item lines
    carry no account on REST (spec section 4): the GL account is the item's expense account, as SuiteQL's
    expenseaccount column says; a line's subsidiary is the document's."""
    refs = reader.references
    currency_id, term_id = reference_id(record, "currency"), reference_id(record, "terms")
    currency = refs.get(RecordRead("currency", currency_id)) if currency_id else {}
    term = refs.get(RecordRead("term", term_id)) if term_id else {}
    entity = reference(record, "entity") or {}
    header = suiteql_row(
        id=record["id"], tranid=plain(record, "tranId"), trandate=plain(record, "tranDate"),
        duedate=plain(record, "dueDate"), type=transaction_type, entity=entity.get("id"),
        entityname=entity.get("refName"), status=reference_id(record, "status"),
        approvalstatus=reference_id(record, "approvalStatus"), currency=currency_id,
        currencysymbol=plain(currency, "symbol"), foreigntotal=plain(record, "total"), memo=plain(record, "memo"),
        terms=term_id, termname=plain(term, "name"), termdays=plain(term, "daysUntilNetDue"),
        externalid=plain(record, "externalId"), maindepartment=reference_id(record, "department"),
        mainclass=reference_id(record, "class"), mainlocation=reference_id(record, "location"),
        mainsubsidiary=reference_id(record, "subsidiary"), cursor_ts=reader.last_modified(record),
    )
    lines = []
    for kind in ("item", "expense"):
        for line in sublist(record, kind):
            item_ref = reference(line, "item") if kind == "item" else None
            item = refs.get(RecordRead(referenced_type(item_ref, "item"), item_ref["id"])) if item_ref else {}
            order = reference(line, "orderDoc")
            po = refs.get(RecordRead(referenced_type(order, "orderDoc"), order["id"], fields=("tranId",))) \
                if order else {}
            amount = line.get("amount")
            lines.append(suiteql_row(
                transaction=record["id"], id=plain(line, "line"), linesequencenumber=plain(line, "line"),
                item=item_ref["id"] if item_ref else None, itemtype=reference_id(line, "itemType"),
                itemname=plain(item, "itemId"), itemdisplayname=plain(item, "displayName"),
                memo=plain(line, "description" if kind == "item" else "memo"), quantity=plain(line, "quantity"),
                rate=plain(line, "rate"), foreignamount=plain(line, "amount"),
                netamount=base_amount(amount, record.get("exchangeRate", 1), "amount") if amount is not None else None,
                expenseaccount=reference_id(item if item_ref else line, "expenseAccount" if item_ref else "account"),
                department=reference_id(line, "department"), **{"class": reference_id(line, "class")},
                location=reference_id(line, "location"), subsidiary=reference_id(record, "subsidiary"),
                isclosed=flag_text(line, "isClosed"), createdfrom=order["id"] if order else None,
                createdfromtranid=plain(po, "tranId"),
            ))
    lines.sort(key=lambda line: int(line.get("id") or 0))
    return header, lines


class DocumentFlow(FlowDefinition):
    """A flow of NetSuite transactions of one type."""

    transaction_type: str  # transaction.type: PurchOrd, VendBill
    rest_type: str  # the REST record type: purchaseOrder, vendorBill
    batch_size = 50  # JAGGAER's document batch limit
    shape = {
        **dict.fromkeys(("id", "tranid", "trandate", "duedate", "entity", "status", "approvalstatus", "currency",
                         "currency_id", "foreigntotal", "memo", "terms"), str),
        "coding": dict, "lines": list,
    }
    reconciled = True

    # NetSuite ------------------------------------------------------------------------------------------

    def streams(self) -> list[Stream]:
        return [transaction_stream(self.transaction_type)]

    def read(self, context: PullContext) -> None:
        def headers_changed(headers: list[dict]) -> None:
            context.recorded(self._items(context, headers), len(headers))

        def lines_changed(rows: list[dict]) -> None:
            # Lines edited without the header moving: read their transactions whole.
            ids = sorted({row["transactionid"] for row in rows
                          if context.lines_seen.get(row["transactionid"], "") < row["cursor_ts"]}, key=int)
            if ids:
                headers = context.client.suiteql_rows(query=transactions_by_id_query(ids))
                context.recorded(self._items(context, headers), 0)

        headers, lines = transaction_stream(self.transaction_type), line_change_stream(self.transaction_type)
        if context.first_read(headers, lines):
            # Every document is read whole, lines included: the line stream would only read them again. Its
            # cursor starts at the newest line edit NetSuite holds before the documents are read, so that later
            # edits are the next run's (its overlap window covers those within the same second), also when
            # this run stops half-way.
            newest = self._moment(context, _NEWEST_LINE_QUERY)
            if newest:
                context.start_cursor(lines, newest)
            context.each_page(headers, headers_changed)
        elif context.window and not context.window.until and context.window.since <= self._moment(
                context, _OLDEST_DOCUMENT_QUERY, default=context.window.since):
            # A window from before the oldest document reads every document whole: no line edit is left.
            context.each_page(headers, headers_changed)
        else:
            context.each_page(headers, headers_changed)
            context.each_page(lines, lines_changed)
        read_deletions(context, self.record_types[0])

    def read_records(self, context: PullContext) -> None:
        reader = RestReader(context)

        def handle(records: list[dict]) -> None:
            reader.references.load([read for record in records for read in _references_of(record)])
            items = []
            for record in records:
                header, lines = rest_transaction_rows(reader, record, self.transaction_type)
                items.append(SourceItem(netsuite_id=header["id"], source=transaction_source(header, lines),
                                        document_number=header.get("tranid", ""), entity=header.get("entity", ""),
                                        label=header.get("entityname", ""), last_modified=header["cursor_ts"]))
            context.recorded(items, len(records))

        reader.each_page(RestStream(name=RECORDS, record_type=self.rest_type, expand=True), handle)
        read_rest_deletions(context, self.rest_type)

    def _moment(self, context: PullContext, query: str, default: str = "") -> str:
        rows = context.client.suiteql(query=query, params=[self.transaction_type], limit=1).get("items") or [{}]
        return str(rows[0].get("moment") or default)

    @staticmethod
    def _items(context: PullContext, headers: list[dict]) -> list[SourceItem]:
        if not headers:
            return []
        lines: dict[str, list[dict]] = {}
        for line in _lines_of(context.client, [header["id"] for header in headers]):
            lines.setdefault(line["transaction"], []).append(line)
            seen = context.lines_seen.get(line["transaction"], "")
            context.lines_seen[line["transaction"]] = max(seen, line.get("linemodified", ""))
        return [
            SourceItem(netsuite_id=header["id"], source=transaction_source(header, lines.get(header["id"], [])),
                       document_number=header.get("tranid", ""), entity=header.get("entity", ""),
                       label=header.get("entityname", ""), last_modified=header["cursor_ts"])
            for header in headers
        ]

    # Building ------------------------------------------------------------------------------------------

    def check(self, source: dict) -> None:
        super().check(source)
        check_fields(source["coding"], _CODING_SHAPE, "coding ")
        for line in source["lines"]:
            check_fields(line, _LINE_SHAPE, "line ")

    # JAGGAER -------------------------------------------------------------------------------------------

    header_key: str  # the object's header: poHeader, header

    def item(self, record: SyncRecord, built: Built) -> Item:
        content = built.content or {}
        action = "cancel" if built.cancel else ("update" if record.in_jaggaer else "new")
        return Item({**content, self.header_key: {**content[self.header_key], "type": action}}, action)

    # Reconciliation --------------------------------------------------------------------------------------

    def open_in_netsuite(self, row: dict) -> bool:
        """Whether a row of DAY_QUERY is a document JAGGAER must hold open."""
        return True

    def jaggaer_documents_of(self, client: JaggaerClient, on: date, numbers: set[str]) -> list[tuple[str, dict]]:
        """JAGGAER's documents of the day, as (document number, header); `numbers`: NetSuite's, and those we
        sent for that day."""
        raise NotImplementedError


def check_header(source: dict, what: str) -> None:
    if not source["tranid"]:
        raise SourceDataError(f"The {what} has no document number (tranid)")
    if not source["trandate"]:
        raise SourceDataError(f"The {what} {source['tranid']} has no date (trandate)")
    day(source["trandate"], f"The date (trandate) of the {what} {source['tranid']}")
    if not source["currency"]:
        raise SourceDataError(f"The {what} {source['tranid']} has an unknown currency (id {source['currency_id']!r})")
    currency(source["currency"], f"The {what} {source['tranid']}")
    if not source["entity"]:
        raise SourceDataError(f"The {what} {source['tranid']} has no vendor")
    if not (source["entity"].isascii() and source["entity"].isdigit()):
        raise SourceDataError(f"The vendor of the {what} {source['tranid']} ({source['entity']!r}) is not a NetSuite "
                              "internal id")


def header_coding(source: dict) -> LineCoding:
    coding = source["coding"]
    return LineCoding(department=coding["department"] or None, classification=coding["class"] or None,
                      location=coding["location"] or None, subsidiary=coding["subsidiary"] or None)


def total(source: dict) -> dict:
    return {"currency": source["currency"], "value": decimal_text(source["foreigntotal"] or "0", "Total")}


def coded_lines(source: dict, coder: Coder, *, invoice: bool) -> list[dict]:
    lines = []
    numbers: set[str] = set()
    document_currency = source["currency"]
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
        out: dict = {"lineNumber": int(number), "quantity": quantity,
                     "unitPrice": {"currency": document_currency, "value": rate}}
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
