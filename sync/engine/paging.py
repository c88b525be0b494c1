"""Keyed SuiteQL paging and the cursors that remember how far each stream of a flow was read.

Paging is by key, never by offset, so no result meets the 100,000-row offset ceiling: each request asks
for rows after (timestamp, keys...) in a unique order. Every run starts an overlap window before the
cursor, because NetSuite stamps lastmodifieddate when a save starts and the row may become visible
later; re-read records whose content did not change cost no JAGGAER call. A cursor moves only in the
transaction that records the rows it covers.

Every timestamp is read through TO_CHAR with seconds, in the account's time zone, because SuiteQL
renders and compares dates there and a date-only or minute-only value loses records."""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from credentials.models import ConnectionPair
from sync.engine.journal import SourceItem, record_deletions, record_sources
from sync.engine.locks import extend_lease
from sync.models import SyncCursor
from sync.remote.errors import SourceDataError, bad_answer
from sync.remote.netsuite_client import MAX_PAGE, NetSuiteClient

TIMESTAMP_FORMAT = "YYYY-MM-DD HH24:MI:SS"
EPOCH = "1900-01-01 00:00:00"
PY_TIMESTAMP = "%Y-%m-%d %H:%M:%S"


def stamp(column: str) -> str:
    return f"TO_CHAR({column}, '{TIMESTAMP_FORMAT}')"


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


def count_query(stream: Stream, *, until: bool) -> str:
    """How many rows of `stream` changed in [since, until): two or one `?` parameters."""
    to_ts = f"TO_TIMESTAMP(?, '{TIMESTAMP_FORMAT}')"
    window = f"{stream.timestamp} >= {to_ts}" + (f" AND {stream.timestamp} < {to_ts}" if until else "")
    return f"SELECT COUNT(*) AS n FROM {stream.tables} WHERE ({stream.where}) AND {window}"


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
        query, params = keyed_query(stream, position, until)
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


def keyed_query(stream: Stream, position: Position, until: str | None) -> tuple[str, list]:
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


@dataclass
class PullContext:
    """One pull of one flow: what a flow's reader reads pages through and records its items with."""

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
    # Called after each page is recorded (and, in a cursor run, committed): deliveries start while later pages
    # are still being read.
    page_done: Callable[[], None] | None = None
    # REST records mode (sync/engine/rest_records.py): referenced records read once per pull, and whether the
    # record a push re-read was answered "does not exist" (404 NONEXISTENT_ID).
    references: Any = None
    confirmed_absent: bool = False

    def each_page(self, stream: Stream, handle: Callable[[list[dict]], None]) -> None:
        """Calls `handle` with every page of `stream`; in a cursor run, the page is recorded and the
        cursor moved past it in one transaction."""
        if self.only_id is not None:
            if stream.name == self.only_stream:
                query, params = keyed_query(stream, Position.start(len(stream.keys)), None)
                query = query.replace(" ORDER BY ", f" AND {stream.keys[0]} = ? ORDER BY ", 1)
                rows = self.client.suiteql(query=query, params=[*params, int(self.only_id)], limit=1).get("items", [])
                handle(rows)
            return
        if self.window:
            after = Position.start(len(stream.keys), self.window.since)
            for rows, _ in keyed_pages(client=self.client, stream=stream, after=after, until=self.window.until):
                handle(rows)
                self._page_done()
            return
        cursors = Cursors(pair=self.pair, flow=self.flow)
        for rows, reached in keyed_pages(client=self.client, stream=stream, after=cursors.start(stream)):
            with transaction.atomic():
                handle(rows)
                cursors.advance(stream, reached)
            extend_lease(pair=self.pair, flow=self.flow)
            self._page_done()

    def _page_done(self) -> None:
        if self.page_done is not None:
            self.page_done()

    def first_read(self, *streams: Stream) -> bool:
        """A cursor run of streams none of which was read before: every row of them is read from the first."""
        if self.window is not None or self.only_id is not None:
            return False
        return not SyncCursor.objects.filter(pair=self.pair, flow=self.flow, stream__in=[s.name for s in streams]
                                             ).exclude(last_modified="").exists()

    def start_cursor(self, stream: Stream, timestamp: str) -> None:
        """Sets a stream's cursor without reading it, for a stream whose rows up to `timestamp` another stream
        of the run has covered."""
        with transaction.atomic():
            Cursors(pair=self.pair, flow=self.flow).advance(stream, Position.start(len(stream.keys), timestamp))

    def recorded(self, items: list[SourceItem], rows_read: int) -> None:
        self.report.read += rows_read
        self.report.changed += record_sources(pair=self.pair, flow=self.flow, items=items)
        if self.progress:
            self.progress(self.report)

    def deleted(self, netsuite_ids: list[str]) -> None:
        self.report.deleted += record_deletions(pair=self.pair, flow=self.flow, netsuite_ids=netsuite_ids)
