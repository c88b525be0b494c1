"""Reading NetSuite through REST records (read mode `rest_records`), for roles that may not run SuiteQL: the
record list (`GET /record/v1/{type}?q=`, ids only) by lastModifiedDate window, then each listed record
(`GET /record/v1/{type}/{id}`), several at once within the account's request gate. What a record means is the
flow's (sync/flows/); this module knows no flow.

- Windows are whole days in the account's time zone: the collection filter's documented date form is a date
  ("1/1/2019"), compared where the account keeps its dates (docs/netsuite-rest-records.md). A run lists from the
  day of its cursor minus the overlap window up to tomorrow, so a cursor keeps the same meaning in both modes.
- The list is read by offset, which stops at 100,000 rows: a window that holds more is halved until each part
  holds fewer, down to one day (a day with more is refused in words rather than read in part).
- The cursor moves to the newest lastModifiedDate read in a window, in the transaction that records the
  window's last page; a run stopped half-way reads the window again.
- Deletions: there is no deletedrecord table here. The complete id list of the type is compared with the
  records we hold, and each missing one is read: only NetSuite's explicit 404 NONEXISTENT_ID makes it deleted.
"""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connections, transaction

from credentials.tokens import TokenNeedsRenewal, from_memory_only
from sync.engine.locks import extend_lease
from sync.engine.paging import PY_TIMESTAMP, Cursors, Position, PullContext, Stream
from sync.models import SyncRecord
from sync.remote.errors import SourceDataError, bad_answer
from sync.remote.netsuite_client import MAX_PAGE, NetSuiteClient

# No more than 100,000 rows can be read by offset (spec section 3; the record list pages the same way).
OFFSET_CEILING = 100_000
# Internal ids are positive 32-bit numbers: the id ranges a complete listing is split into start from these.
_ID_SPAN = (1, 2**31)


@dataclass(frozen=True)
class RestStream:
    """One REST record type a flow reads. `name` is the cursor's stream: the SuiteQL stream's name, so that a
    connection switched from one mode to the other goes on from where it was."""

    name: str
    record_type: str  # the path of the record list and record, e.g. purchaseOrder
    expand: bool = False  # sublists (lines) read with the record

    @property
    def cursor_stream(self) -> Stream:
        return Stream(name=self.name, select="", tables=self.record_type, timestamp="lastModifiedDate", keys=("id",))


@dataclass(frozen=True)
class RecordRead:
    """One GET: a record type, an id, and whether to expand its sublists or read only some fields."""

    record_type: str
    record_id: str
    expand: bool = False
    fields: tuple[str, ...] = ()


def account_timestamp(value: object, zone: ZoneInfo) -> str:
    """A REST datetime (ISO-8601 UTC, spec section 4) as the cursor's text: YYYY-MM-DD HH:MM:SS in the
    account's time zone, the form SuiteQL mode keeps. A record without a readable one is a malformed answer, read
    again like a 5xx: the cursor cannot be placed after it."""
    moment = None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None:
        raise bad_answer("NetSuite", "a record without a lastModifiedDate in ISO-8601 with its time zone")
    return moment.astimezone(zone).strftime(PY_TIMESTAMP)


def day_text(day: date) -> str:
    """A date as the collection filter takes it (M/D/YYYY, Oracle's example "1/1/2019")."""
    return f"{day.month}/{day.day}/{day.year}"


def window_query(since: date, until: date) -> str:
    return f'lastModifiedDate ON_OR_AFTER "{day_text(since)}" AND lastModifiedDate BEFORE "{day_text(until)}"'


def fetch_records(client: NetSuiteClient, reads: list[RecordRead]) -> list[dict | None]:
    """Each read's record (None: NetSuite says it does not exist), up to the account's limit at once. The gate
    holds every request to the limit across workers and hosts; these threads only keep that many waiting. The
    threads send with the tokens already in memory; a read that would need a renewal is made here instead."""
    results: list[dict | None] = [None] * len(reads)
    workers = min(len(reads), client.gate.limit if client.gate else 1)
    if workers <= 1:
        return [_read_one(client, read) for read in reads]
    pending: Iterator[int] = iter(range(len(reads)))
    lock = threading.Lock()
    left_over: list[int] = []
    failures: list[BaseException] = []

    def work() -> None:
        try:
            with from_memory_only():
                while not failures:
                    with lock:
                        index = next(pending, None)
                    if index is None:
                        return
                    try:
                        results[index] = _read_one(client, reads[index])
                    except TokenNeedsRenewal:
                        left_over.append(index)
                        return
        except BaseException as exc:  # raised on the calling thread below
            failures.append(exc)
        finally:
            # The request gate's advisory locks open this thread's own database session: close it with the thread.
            connections.close_all()

    threads = [threading.Thread(target=work, name=f"netsuite-read-{n}") for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    for index in [*left_over, *pending]:
        results[index] = _read_one(client, reads[index])
    return results


def _read_one(client: NetSuiteClient, read: RecordRead) -> dict | None:
    return client.record(record_type=read.record_type, record_id=read.record_id, expand=read.expand,
                         fields=read.fields)


class References:
    """Records that sources refer to (an item's expense account, a currency's symbol, a term's days...), read
    once per pull and shared by its pages."""

    def __init__(self, client: NetSuiteClient) -> None:
        self.client = client
        self._known: dict[RecordRead, dict | None] = {}

    def load(self, reads: list[RecordRead]) -> None:
        missing = sorted({read for read in reads if read not in self._known},
                         key=lambda read: (read.record_type, int(read.record_id), read.fields))
        for read, record in zip(missing, fetch_records(self.client, missing), strict=True):
            self._known[read] = record

    def get(self, read: RecordRead) -> dict:
        """The record, or {} when NetSuite answers that it does not exist: as SuiteQL's LEFT JOIN finds no row, so
        that the record referring to it fails on its own ("an unknown currency") as it does in SuiteQL mode."""
        if read not in self._known:
            self.load([read])
        return self._known[read] or {}


class RestReader:
    """Reads a flow's REST streams through a pull's context: pages of records handed to the flow's `handle`,
    recorded with the cursor in one transaction, as paging.py does for SuiteQL."""

    def __init__(self, context: PullContext) -> None:
        self.context = context
        self.client = context.client
        self.zone = ZoneInfo(context.pair.netsuite.timezone)
        if context.references is None:
            context.references = References(context.client)
        self.references: References = context.references

    def last_modified(self, record: dict) -> str:
        return account_timestamp(record.get("lastModifiedDate"), self.zone)

    def each_page(self, stream: RestStream, handle: Callable[[list[dict]], None]) -> None:
        context = self.context
        if context.only_id is not None:
            if stream.name == context.only_stream:
                record = _read_one(self.client, RecordRead(stream.record_type, context.only_id, stream.expand))
                if record is None:
                    context.confirmed_absent = True  # NetSuite's own answer: the record does not exist
                else:
                    handle([record])
            return
        if context.window:
            since = datetime.strptime(context.window.since, PY_TIMESTAMP)
            until = datetime.strptime(context.window.until, PY_TIMESTAMP) if context.window.until else None
            last_day = (until - timedelta(microseconds=1)).date() + timedelta(days=1) if until else self._tomorrow()

            def inside(record: dict) -> bool:
                moment = datetime.strptime(self.last_modified(record), PY_TIMESTAMP)
                return since <= moment and (until is None or moment < until)

            for records, _ in self._windows(stream, since.date(), last_day):
                handle([record for record in records if inside(record)])
                context._page_done()
            return
        cursors = Cursors(pair=context.pair, flow=context.flow)
        first = datetime.strptime(cursors.start(stream.cursor_stream).timestamp, PY_TIMESTAMP).date()
        for records, reached in self._windows(stream, first, self._tomorrow()):
            with transaction.atomic():
                handle(records)
                if reached is not None:
                    cursors.advance(stream.cursor_stream, reached)
            extend_lease(pair=context.pair, flow=context.flow)
            context._page_done()

    def _tomorrow(self) -> date:
        return datetime.now(tz=UTC).astimezone(self.zone).date() + timedelta(days=1)

    def _windows(self, stream: RestStream, since: date, until: date
                 ) -> Iterator[tuple[list[dict], Position | None]]:
        """Pages of records changed in [since, until), each with the position the cursor may take once it is
        recorded: only on a window's last page (the list is in no time order)."""
        for first, last in self._day_windows(stream, since, until):
            newest: tuple[str, str] | None = None
            ids = self._listed(stream.record_type, window_query(first, last))
            pages = [ids[start:start + MAX_PAGE] for start in range(0, len(ids), MAX_PAGE)] or [[]]
            for number, page in enumerate(pages, start=1):
                found = fetch_records(self.client, [RecordRead(stream.record_type, i, stream.expand) for i in page])
                # A listed record that is gone by the time it is read was deleted meanwhile: the deletion check
                # finds it; it is nothing to record here.
                records = [record for record in found if record is not None]
                for record in records:
                    newest = max(newest or ("", ""), (self.last_modified(record), record["id"]))
                last_page = number == len(pages)
                yield records, (Position(newest[0], (newest[1],)) if last_page and newest else None)

    def _day_windows(self, stream: RestStream, since: date, until: date) -> Iterator[tuple[date, date]]:
        """[since, until) as windows of whole days each holding fewer records than the offset ceiling."""
        if since >= until:
            return
        total = self._total(stream.record_type, window_query(since, until))
        if total < OFFSET_CEILING:
            yield since, until
            return
        days = (until - since).days
        if days == 1:
            raise SourceDataError(
                f"NetSuite lists {total} {stream.record_type} records changed on {since.isoformat()}, more than "
                f"its record list can page through ({OFFSET_CEILING}): read that day with SuiteQL")
        middle = since + timedelta(days=days // 2)
        yield from self._day_windows(stream, since, middle)
        yield from self._day_windows(stream, middle, until)

    def _total(self, record_type: str, q: str) -> int:
        return self.client.record_ids(record_type=record_type, q=q, limit=1)["totalResults"]

    def _listed(self, record_type: str, q: str) -> list[str]:
        return list_ids(self.client, record_type=record_type, q=q)


def list_ids(client: NetSuiteClient, *, record_type: str, q: str) -> list[str]:
    """Every id the list holds for `q` (fewer than the offset ceiling), each once. Records that change while the
    list is read may move between its pages; a page whose total differs from the first's makes the whole list
    read again, so that none is skipped."""
    for _ in range(3):
        seen: dict[str, None] = {}
        offset, total = 0, None
        while True:
            page = client.record_ids(record_type=record_type, q=q, limit=MAX_PAGE, offset=offset)
            if total is None:
                total = page["totalResults"]
            elif page["totalResults"] != total:
                break
            seen.update(dict.fromkeys(item["id"] for item in page["items"]))
            if not page["hasMore"] or not page["items"]:
                return list(seen)
            offset += MAX_PAGE
            if offset >= OFFSET_CEILING:
                raise bad_answer("NetSuite", f"a {record_type} list longer than its totalResults said")
    raise bad_answer("NetSuite", f"a {record_type} list that kept changing while it was read")


def all_ids(client: NetSuiteClient, *, record_type: str, low: int = _ID_SPAN[0], high: int = _ID_SPAN[1]) -> set[str]:
    """Every id of the type, split into id ranges holding fewer than the offset ceiling each."""
    q = f"id GREATER_OR_EQUAL {low} AND id LESS {high}"
    total = client.record_ids(record_type=record_type, q=q, limit=1)["totalResults"]
    if total < OFFSET_CEILING or high - low <= 1:
        return set(list_ids(client, record_type=record_type, q=q)) if total else set()
    middle = (low + high) // 2
    return all_ids(client, record_type=record_type, low=low, high=middle) | all_ids(
        client, record_type=record_type, low=middle, high=high)


def read_rest_deletions(context: PullContext, record_type: str) -> None:
    """Records we hold that NetSuite no longer lists, each confirmed by NetSuite's explicit 404 before it counts
    as deleted. Costs the id list (one request per 1,000 records of the type, plus one per id range) and one
    read per candidate; an answer that is anything but that 404 (an error, an empty or garbled body) leaves the
    record as it is."""
    if context.only_id is not None:
        return
    held = set(SyncRecord.objects.filter(pair=context.pair, flow=context.flow, deleted_in_netsuite=False)
               .values_list("netsuite_id", flat=True))
    if not held:
        return
    candidates = sorted(held - all_ids(context.client, record_type=record_type), key=int)
    if not candidates:
        return
    answers = fetch_records(context.client, [RecordRead(record_type, i, fields=("id",)) for i in candidates])
    gone = [netsuite_id for netsuite_id, record in zip(candidates, answers, strict=True) if record is None]
    if gone:
        with transaction.atomic():
            context.deleted(gone)
