"""What every flow is made of, and the helpers flows share to read NetSuite rows and write JAGGAER values.

A flow (one module beside this one) says everything that is particular to it: the NetSuite streams it
reads and how a row becomes the `source` a SyncRecord keeps (plain JSON, the same whichever way it was
read), how a source becomes a JAGGAER object (JAGGAER contract, section 8), and how that object is written
to, looked up in and cancelled in JAGGAER. The engine (pull, decide, deliver, journal) calls these and
knows no flow by name."""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from mappings.models import CodingKind
from mappings.resolution import CodingResolver, LineCoding, MissingCode, Resolution, ResolvedCode
from sync.engine.paging import PullContext, Stream
from sync.models import Flow, SyncRecord
from sync.remote.errors import SourceDataError
from sync.remote.jaggaer_client import ItemResult, JaggaerClient
from sync.remote.storable_text import storable_text

if TYPE_CHECKING:
    from credentials.models import ConnectionPair

# JAGGAER's decimal strings have no exponent (contract section 2), so a NetSuite value such as 1E+999999999
# would be written out digit by digit; no amount, quantity or rate needs more digits either side of the point.
MAX_DECIMAL_DIGITS = 40
# The contract's shapes (sections 2 and 5): dates as YYYY-MM-DD, currencies as ISO codes.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
RECORDS = "records"  # the name of a flow's main stream, and the record type of a flow with one table


@dataclass
class Built:
    """A source built into its JAGGAER object, without the parts that depend on what JAGGAER already has (a
    PO's type and revision): its hash tells whether anything changed since the last delivery. It also says
    what stops the record from going out."""

    content: dict | None = None
    missing: list[MissingCode] = field(default_factory=list)
    depends_on: list[tuple[str, str]] = field(default_factory=list)  # (flow, NetSuite id) delivered first
    mappings_used: list[tuple[int, int | None]] = field(default_factory=list)
    # The NetSuite codes behind each JAGGAER value the object names: when JAGGAER refuses a value, the record
    # waits for those codes, and a mapping saved for one of them releases it.
    coded: list[ResolvedCode] = field(default_factory=list)
    problem: str = ""  # NetSuite data we cannot send: the record fails with this reason
    cancel: bool = False  # deleted or rejected in NetSuite: JAGGAER must void it


@dataclass(frozen=True)
class Item:
    """What goes to JAGGAER for one record: the object, how (`new`, `update`, `cancel`, `upsert`), and the
    revision it sets (POs)."""

    body: dict
    action: str
    revision: int | None = None


class Coder:
    """Resolves codings and remembers what was missing and which mapping rows were used."""

    def __init__(self, resolver: CodingResolver, on: date) -> None:
        self.resolver = resolver
        self.on = on
        self.missing: dict[tuple[str, str], MissingCode] = {}
        self.used: dict[int, int | None] = {}
        self.coded: dict[tuple[str, str], ResolvedCode] = {}

    def resolve(self, coding: LineCoding) -> Resolution:
        resolution = self.resolver.resolve(coding, on=self.on)
        for code in resolution.missing:
            self.missing.setdefault((code.kind, code.netsuite_id), code)
        for resolved in resolution.resolved:
            self.coded.setdefault((resolved.kind, resolved.netsuite_id), resolved)
        self.used.update(dict(resolution.mappings_used()))
        return resolution

    def value_set(self, coding: LineCoding) -> dict | None:
        values = self.resolve(coding).custom_field_values()
        if not values:
            return None
        return {"customFieldValueSet": [
            {"name": name, "customFieldValueList": {"customFieldValue": [{"internalName": value}]}}
            for name, value in sorted(values.items())
        ]}

    def finish(self, built: Built) -> Built:
        built.missing = list(self.missing.values())
        built.mappings_used = sorted(self.used.items())
        built.coded = list(self.coded.values())
        return built


class FlowDefinition:
    """One flow. Subclasses set the class attributes and implement read() and build(); a flow whose JAGGAER
    objects are documents (new/update/cancel, looked up after a lost answer) overrides the writer's methods."""

    flow: ClassVar[Flow]
    nouns: ClassVar[tuple[str, str]]  # one record and many, in the console's words ("PO", "POs")
    # NetSuite record types whose push events this flow handles (the SuiteScript's recordType).
    record_types: ClassVar[tuple[str, ...]] = ()
    batch_size: ClassVar[int] = 100
    # How a record of this flow that others wait for is named in their reason ("Supplier (NetSuite vendor id 7)").
    dependency_name: ClassVar[str] = ""
    # What build() reads from a source: a source stored by another version of the connector, or damaged,
    # fails its own record with a reason instead of stopping the batch with a KeyError.
    shape: ClassVar[dict[str, type]] = {}
    # Coding kinds whose JAGGAER values this flow writes: read back after each delivery (mapping forms).
    writes_values_of: ClassVar[tuple[CodingKind, ...]] = ()
    reconciled: ClassVar[bool] = False  # documents with totals, reconciled by day

    # NetSuite ------------------------------------------------------------------------------------------

    def streams(self) -> list[Stream]:
        """The streams whose rows are the flow's records (what a backfill window counts)."""
        raise NotImplementedError

    def read(self, context: PullContext) -> None:
        """Reads every stream of the flow through `context`, recording items and deletions."""
        raise NotImplementedError

    def read_records(self, context: PullContext) -> None:
        """read() through REST records (read mode rest_records, sync/engine/rest_records.py): the same sources,
        from typed records instead of SuiteQL rows."""
        raise NotImplementedError

    def record_key(self, netsuite_id: str, record_type: str) -> str:
        """A SyncRecord's netsuite_id for a record of this NetSuite record type."""
        return netsuite_id

    def stream_of(self, record_type: str) -> str:
        """The stream that re-reads one record of this record type (a push)."""
        return RECORDS

    def netsuite_page(self, netsuite_id: str) -> str:
        """The record's page in the NetSuite UI, below the account's host."""
        raise NotImplementedError

    # JAGGAER ---------------------------------------------------------------------------------------------

    def check(self, source: dict) -> None:
        check_fields(source, self.shape, "")

    def build(self, source: dict, deleted: bool, coder: Coder, dimension_fields: dict[str, str]) -> Built:
        raise NotImplementedError

    def item(self, record: SyncRecord, built: Built) -> Item:
        return Item(built.content or {}, "upsert")

    def batch_of(self, item: Item) -> str:
        """Items with the same answer go to JAGGAER in one request."""
        return ""

    def send(self, client: JaggaerClient, items: list[Item]) -> list[ItemResult]:
        raise NotImplementedError

    def look_up(self, client: JaggaerClient, built: Built) -> dict | None:
        """JAGGAER's copy of the object, where sending it again could duplicate it; None: not there, or an
        upsert that cannot be duplicated."""
        return None

    def duplicate_words(self, record: SyncRecord, other_id: str) -> str:
        """Why the record fails on a number another NetSuite record holds in JAGGAER, and what fixes it."""
        return f"{self.nouns[0]} {record.document_number or record.netsuite_id} already exists in JAGGAER " \
               f"(NetSuite id {other_id})."

    def after_delivery(self, *, pair: "ConnectionPair", client: JaggaerClient) -> None:
        """What a run does once the flow's records are delivered."""


# Reading NetSuite rows ------------------------------------------------------------------------------------


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


# Checking sources and writing JAGGAER values ----------------------------------------------------------------


def check_fields(data: object, shape: dict[str, type], at: str) -> None:
    if not isinstance(data, dict):
        raise damaged(f"holds a {type(data).__name__} where {at or 'it'} should be an object")
    for key, kind in shape.items():
        if not isinstance(data.get(key), kind):
            raise damaged(f"has no {at}{key} ({kind.__name__})")


def damaged(what: str) -> SourceDataError:
    return SourceDataError(f"The record's NetSuite data {what}: read the record from NetSuite again")


def decimal_text(value: str, what: str) -> str:
    """JAGGAER's decimal strings: digits, an optional point, no exponent (contract section 2)."""
    try:
        number = Decimal(value)
    except (ArithmeticError, TypeError, ValueError):
        raise SourceDataError(f"{what} {value!r} is not a number") from None
    if not number.is_finite():
        raise SourceDataError(f"{what} {value!r} is not a number")
    if not number:
        return "0"  # also for -0 and 0E-1000000
    _, digits, exponent = number.as_tuple()
    # Zeros at the end of the coefficient are not decimal places that count: 1.500 has one.
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if number.adjusted() >= MAX_DECIMAL_DIGITS or -(exponent + zeros) > MAX_DECIMAL_DIGITS:
        raise SourceDataError(f"{what} {value!r} is out of range (at most {MAX_DECIMAL_DIGITS} digits either "
                              "side of the point)")
    written = format(number, "f")
    return written.rstrip("0").rstrip(".") if "." in written else written


def day(value: str, what: str) -> str:
    if _DAY.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    raise SourceDataError(f"{what} {value!r} is not a date YYYY-MM-DD")


def currency(value: str, what: str) -> str:
    if not _CURRENCY.fullmatch(value):
        raise SourceDataError(f"{what} has the currency {value!r}, not an ISO code such as 'USD'")
    return value
