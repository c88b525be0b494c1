"""Reading what changed in NetSuite since each flow's cursor, in bulk, and recording it.

Paging is by key, never by offset, so no result meets the 100,000-row offset ceiling: each request asks
for rows after (timestamp, keys...) in a unique order. Every run starts an overlap window before the
cursor, because NetSuite stamps lastmodifieddate when a save starts and the row may become visible
later; re-read records whose content did not change cost no JAGGAER call. A cursor moves only in the
transaction that records the rows it covers."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from credentials.models import ConnectionPair
from mappings.models import CodingKind
from mappings.references import store_netsuite_reference
from sync.errors import NetSuiteError, bad_answer
from sync.locks import extend_lease
from sync.models import Flow, SyncCursor
from sync.netsuite_client import MAX_PAGE, NetSuiteClient
from sync.records import SourceItem, record_deletions, record_sources
from sync.sources import (
    ACCOUNT_STREAM,
    CLASSIFICATION_TABLES,
    DELETED_RECORD_QUERY,
    NETSUITE_RECORD_TYPES,
    TIMESTAMP_FORMAT,
    VENDOR_STREAM,
    ReferenceTable,
    Stream,
    account_source,
    classification_source,
    classification_stream,
    deletion_stream,
    line_change_stream,
    stamp,
    transaction_lines_query,
    transaction_source,
    transaction_stream,
    transactions_by_id_query,
    vendor_source,
    vendor_subsidiaries_query,
)

EPOCH = "1900-01-01 00:00:00"
PY_TIMESTAMP = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Position:
    """A place in a keyed stream: rows strictly after it come next."""

    timestamp: str
    keys: tuple[str, ...]

    @classmethod
    def start(cls, width: int, timestamp: str = EPOCH) -> "Position":
        return cls(timestamp, ("0",) * width)


@dataclass
class PullReport:
    read: int = 0
    changed: int = 0
    deleted: int = 0
    netsuite_requests: int = 0


@dataclass(frozen=True)
class Window:
    """A bounded pull (backfill): rows modified in [since, until), account time zone; cursors untouched."""

    since: str
    until: str | None = None


def keyed_pages(*, client: NetSuiteClient, stream: Stream, after: Position,
                until: str | None = None) -> Iterator[tuple[list[dict], Position]]:
    """Pages of rows after `after`, each with the position its last row reaches."""
    page_size = min(MAX_PAGE, max(1, settings.SYNC_PAGE_SIZE))
    position = after
    while True:
        query, params = _keyed_query(stream, position, until)
        page = client.suiteql(query=query, params=params, limit=page_size, offset=0)
        rows = page.get("items", [])
        if not rows:
            return
        last = rows[-1]
        try:
            reached = Position(last["cursor_ts"], tuple(str(last[f"cursor_k{i}"]) for i in range(len(stream.keys))))
        except KeyError:
            raise bad_answer("NetSuite", f"rows of {stream.tables} without the cursor columns the query selected") from None
        if reached == position:
            raise RuntimeError(f"NetSuite paging did not advance past {position} on {stream.tables}")
        yield rows, reached
        if not page.get("hasMore"):
            return
        position = reached


def _keyed_query(stream: Stream, position: Position, until: str | None) -> tuple[str, list]:
    ts = stream.timestamp
    to_ts = f"TO_TIMESTAMP(?, '{TIMESTAMP_FORMAT}')"
    # (ts, k0, k1, ...) > (p_ts, p0, p1, ...) spelled out: SuiteQL has no row-value comparison.
    clauses, params = [f"{ts} > {to_ts}"], [position.timestamp]
    for index, key in enumerate(stream.keys):
        equal_prefix = " AND ".join([f"{ts} = {to_ts}"] + [f"{k} = ?" for k in stream.keys[:index]])
        clauses.append(f"({equal_prefix} AND {key} > ?)")
        params += [position.timestamp, *[int(v) for v in position.keys[:index]], int(position.keys[index])]
    where = f"({stream.where}) AND ({' OR '.join(clauses)})"
    if until:
        where += f" AND {ts} < {to_ts}"
        params.append(until)
    key_columns = ", ".join(f"{key} AS cursor_k{i}" for i, key in enumerate(stream.keys))
    order = ", ".join([ts, *stream.keys])
    query = (f"SELECT {stream.select}, {stamp(ts)} AS cursor_ts, {key_columns} "
             f"FROM {stream.tables} WHERE {where} ORDER BY {order}")
    return query, params


class Cursors:
    """The stored cursors of one flow of one pair, by stream."""

    def __init__(self, *, pair: ConnectionPair, flow: str) -> None:
        self.pair = pair
        self.flow = flow

    def start(self, stream: Stream) -> Position:
        """Where the next run starts: the cursor moved back by the overlap window."""
        row = SyncCursor.objects.filter(pair=self.pair, flow=self.flow, stream=stream.name).first()
        if row is None or not row.last_modified:
            return Position.start(len(stream.keys))
        moment = datetime.strptime(row.last_modified, PY_TIMESTAMP) - timedelta(seconds=settings.SYNC_OVERLAP_SECONDS)
        return Position.start(len(stream.keys), moment.strftime(PY_TIMESTAMP))

    def advance(self, stream: Stream, position: Position) -> None:
        """Called inside the transaction that recorded the rows up to `position`."""
        row, _ = SyncCursor.objects.select_for_update().get_or_create(pair=self.pair, flow=self.flow, stream=stream.name)
        if not row.last_modified or row.last_modified <= position.timestamp:
            row.last_modified = position.timestamp
            row.last_id = ":".join(position.keys)
            row.save()


def pull(*, pair: ConnectionPair, flow: str, client: NetSuiteClient, window: Window | None = None,
         progress: Callable[[PullReport], None] | None = None) -> PullReport:
    """Reads what changed in `flow` since its cursors (or within `window`) and records it."""
    return _pull(_Context(pair=pair, flow=flow, client=client, window=window, progress=progress))


def pull_one(*, pair: ConnectionPair, flow: str, client: NetSuiteClient, netsuite_id: str,
             table: str = "records") -> PullReport:
    """Re-reads one record (for classifications, of `table`) through the same path as a poll, so that a push
    and a poll of the same change record it once. A record that comes back empty is deleted only when
    NetSuite's deletedrecord says so: anything else (a save not visible yet, an answer that lost its rows)
    is a retryable fault, because treating it as a deletion would cancel a live PO in JAGGAER."""
    report = _pull(_Context(pair=pair, flow=flow, client=client, window=None, progress=None, only_id=netsuite_id,
                            only_stream=table))
    if report.read == 0:
        record_type = table if flow == Flow.CLASSIFICATIONS else NETSUITE_RECORD_TYPES[Flow(flow)]
        if not client.suiteql(query=DELETED_RECORD_QUERY, params=[record_type, int(netsuite_id)], limit=1)["items"]:
            raise NetSuiteError(system="NetSuite", retryable=True, code="NOT_FOUND_NOT_DELETED",
                                message=f"NetSuite returned no {record_type} {netsuite_id} and lists no deletion of "
                                        "it: not treated as deleted; it is read again later")
        report.deleted = record_deletions(
            pair=pair, flow=flow, netsuite_ids=[record_key(flow=flow, netsuite_id=netsuite_id, table=table)])
    return report


def record_key(*, flow: str, netsuite_id: str, table: str = "records") -> str:
    """A SyncRecord's netsuite_id: the internal id, prefixed by the coding kind for classifications, whose
    four tables number their rows independently."""
    if flow != Flow.CLASSIFICATIONS:
        return netsuite_id
    kind = next(t.kind for t in CLASSIFICATION_TABLES if t.table == table)
    return f"{kind}:{netsuite_id}"


def _pull(context: "_Context") -> PullReport:
    before = context.client.requests_made
    _PULLERS[Flow(context.flow)](context)
    context.report.netsuite_requests = context.client.requests_made - before
    return context.report


@dataclass
class _Context:
    pair: ConnectionPair
    flow: str
    client: NetSuiteClient
    window: Window | None
    progress: Callable[[PullReport], None] | None
    report: PullReport = field(default_factory=PullReport)
    # Re-reading one record (a push): only the stream named `only_stream` is read, for this id.
    only_id: str | None = None
    only_stream: str = "records"
    # Transaction id -> the newest line timestamp read with it in this run: the line stream need not
    # read a transaction again for line edits it has already seen.
    lines_seen: dict[str, str] = field(default_factory=dict)

    def each_page(self, stream: Stream, handle: Callable[[list[dict]], None]) -> None:
        """Calls `handle` with every page of `stream`; in a cursor run, the page is recorded and the
        cursor moved past it in one transaction."""
        if self.only_id is not None:
            if stream.name == self.only_stream:
                query, params = _keyed_query(stream, Position.start(len(stream.keys)), None)
                query = query.replace(" ORDER BY ", f" AND {stream.keys[0]} = ? ORDER BY ", 1)
                rows = self.client.suiteql(query=query, params=[*params, int(self.only_id)], limit=1).get("items", [])
                handle(rows)
            return
        if self.window:
            after = Position.start(len(stream.keys), self.window.since)
            for rows, _ in keyed_pages(client=self.client, stream=stream, after=after, until=self.window.until):
                handle(rows)
            return
        cursors = Cursors(pair=self.pair, flow=self.flow)
        for rows, reached in keyed_pages(client=self.client, stream=stream, after=cursors.start(stream)):
            with transaction.atomic():
                handle(rows)
                cursors.advance(stream, reached)
            extend_lease(pair=self.pair, flow=self.flow)

    def recorded(self, items: list[SourceItem], rows_read: int) -> None:
        self.report.read += rows_read
        self.report.changed += record_sources(pair=self.pair, flow=self.flow, items=items)
        if self.progress:
            self.progress(self.report)


def _pull_gl_accounts(ctx: _Context) -> None:
    def handle(rows: list[dict]) -> None:
        store_netsuite_reference(connection=ctx.pair.netsuite, kind=CodingKind.GL_ACCOUNT, rows=rows)
        ctx.recorded([
            SourceItem(netsuite_id=row["id"], source=account_source(row), document_number=row.get("acctnumber", ""),
                       label=row.get("fullname", ""), last_modified=row["cursor_ts"])
            for row in rows
        ], len(rows))

    ctx.each_page(ACCOUNT_STREAM, handle)


def _pull_classifications(ctx: _Context) -> None:
    def handler(table: ReferenceTable) -> Callable[[list[dict]], None]:
        def handle(rows: list[dict]) -> None:
            store_netsuite_reference(connection=ctx.pair.netsuite, kind=table.kind, rows=rows)
            ctx.recorded([
                SourceItem(netsuite_id=record_key(flow=ctx.flow, netsuite_id=row["id"], table=table.table),
                           source=classification_source(row, table.kind),
                           document_number=row["id"], label=row.get("fullname") or row.get("name", ""),
                           last_modified=row["cursor_ts"])
                for row in rows
            ], len(rows))
        return handle

    for table in CLASSIFICATION_TABLES:
        ctx.each_page(classification_stream(table), handler(table))


def _pull_vendors(ctx: _Context) -> None:
    def handle(rows: list[dict]) -> None:
        subsidiaries: dict[str, list[str]] = {}
        for link in ctx.client.suiteql_rows(query=vendor_subsidiaries_query(row["id"] for row in rows)):
            subsidiaries.setdefault(link["entity"], []).append(link["subsidiary"])
        ctx.recorded([
            SourceItem(netsuite_id=row["id"], source=vendor_source(row, subsidiaries.get(row["id"], [])),
                       document_number=row["id"], entity=row["id"],
                       label=row.get("companyname") or row.get("entityid", ""), last_modified=row["cursor_ts"])
            for row in rows
        ], len(rows))

    ctx.each_page(VENDOR_STREAM, handle)
    _pull_deletions(ctx)


def _pull_transactions(ctx: _Context) -> None:
    def headers_changed(headers: list[dict]) -> None:
        ctx.recorded(_transaction_items(ctx, headers), len(headers))

    def lines_changed(rows: list[dict]) -> None:
        # Lines edited without the header moving: read their transactions whole.
        ids = sorted({row["transactionid"] for row in rows
                      if ctx.lines_seen.get(row["transactionid"], "") < row["cursor_ts"]}, key=int)
        if ids:
            ctx.recorded(_transaction_items(ctx, ctx.client.suiteql_rows(query=transactions_by_id_query(ids))), 0)

    ctx.each_page(transaction_stream(ctx.flow), headers_changed)
    ctx.each_page(line_change_stream(ctx.flow), lines_changed)
    _pull_deletions(ctx)


def _transaction_items(ctx: _Context, headers: list[dict]) -> list[SourceItem]:
    if not headers:
        return []
    lines: dict[str, list[dict]] = {}
    for line in _lines_of(ctx.client, [header["id"] for header in headers]):
        lines.setdefault(line["transaction"], []).append(line)
        seen = ctx.lines_seen.get(line["transaction"], "")
        ctx.lines_seen[line["transaction"]] = max(seen, line.get("linemodified", ""))
    return [
        SourceItem(netsuite_id=header["id"], source=transaction_source(header, lines.get(header["id"], [])),
                   document_number=header.get("tranid", ""), entity=header.get("entity", ""),
                   label=header.get("entityname", ""), last_modified=header["cursor_ts"])
        for header in headers
    ]


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


def _pull_deletions(ctx: _Context) -> None:
    def handle(rows: list[dict]) -> None:
        ctx.report.deleted += record_deletions(pair=ctx.pair, flow=ctx.flow,
                                               netsuite_ids=[row["recordid"] for row in rows])

    ctx.each_page(deletion_stream(ctx.flow), handle)


_PULLERS: dict[Flow, Callable[[_Context], None]] = {
    Flow.GL_ACCOUNTS: _pull_gl_accounts,
    Flow.CLASSIFICATIONS: _pull_classifications,
    Flow.VENDORS: _pull_vendors,
    Flow.PURCHASE_ORDERS: _pull_transactions,
    Flow.VENDOR_BILLS: _pull_transactions,
}
