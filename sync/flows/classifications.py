"""Classifications: NetSuite's subsidiary, department, classification and location tables -> values of the
JAGGAER custom field of each coding kind, by internal id. The four tables number their rows independently,
so a record's key is the kind and the id ("department:4")."""

from collections.abc import Callable
from dataclasses import dataclass

from mappings.models import CodingKind
from mappings.references import store_netsuite_reference
from sync.engine.journal import SourceItem
from sync.engine.paging import PullContext, Stream
from sync.engine.rest_records import RestReader, RestStream
from sync.flows.base import Built, Coder, damaged, flag, record_id, text
from sync.flows.reference import ReferenceFlow, reference_value
from sync.flows.rest_rows import flag_text, plain, reference_id, suiteql_row
from sync.models import Flow


@dataclass(frozen=True)
class ReferenceTable:
    """A classification table, the coding kind it feeds, and its page in the NetSuite UI."""

    table: str
    kind: CodingKind
    page: str

    @property
    def stream(self) -> Stream:
        return Stream(name=self.table, select="c.id, c.name, c.fullname, c.parent, c.isinactive",
                      tables=f"{self.table} c", timestamp="c.lastmodifieddate", keys=("c.id",))


CLASSIFICATION_TABLES = (
    ReferenceTable("subsidiary", CodingKind.SUBSIDIARY, "/app/common/otherlists/subsidiarytype.nl?id={}"),
    ReferenceTable("department", CodingKind.DEPARTMENT, "/app/common/otherlists/departmenttype.nl?id={}"),
    ReferenceTable("classification", CodingKind.CLASS, "/app/common/otherlists/classtype.nl?id={}"),
    ReferenceTable("location", CodingKind.LOCATION, "/app/common/otherlists/locationtype.nl?id={}"),
)
_BY_TABLE = {table.table: table for table in CLASSIFICATION_TABLES}
_BY_KIND = {str(table.kind): table for table in CLASSIFICATION_TABLES}


def classification_source(row: dict, kind: CodingKind) -> dict:
    return {
        "kind": str(kind), "id": record_id(row, CodingKind(kind).label), "name": text(row, "name"),
        "fullname": text(row, "fullname") or text(row, "name"), "isinactive": flag(row, "isinactive"),
        "parent": text(row, "parent"),
    }


def rest_classification_row(reader: RestReader, record: dict) -> dict:
    """A subsidiary, department, classification or location record as its SuiteQL stream's row."""
    return suiteql_row(id=record["id"], name=plain(record, "name"), fullname=plain(record, "fullName"),
               parent=reference_id(record, "parent"), isinactive=flag_text(record, "isInactive"),
               cursor_ts=reader.last_modified(record))


class Classifications(ReferenceFlow):
    flow = Flow.CLASSIFICATIONS
    nouns = ("classification", "classifications")
    record_types = tuple(_BY_TABLE)
    shape = {"kind": str, "id": str, "fullname": str, "isinactive": bool}
    writes_values_of = tuple(table.kind for table in CLASSIFICATION_TABLES)

    def streams(self) -> list[Stream]:
        return [table.stream for table in CLASSIFICATION_TABLES]

    def read(self, context: PullContext) -> None:
        for table in CLASSIFICATION_TABLES:
            context.each_page(table.stream, self._handler(context, table))

    def read_records(self, context: PullContext) -> None:
        reader = RestReader(context)
        for table in CLASSIFICATION_TABLES:
            handle = self._handler(context, table)
            reader.each_page(RestStream(name=table.table, record_type=table.table),
                             lambda records, handle=handle: handle([rest_classification_row(reader, r) for r in records]))

    def _handler(self, context: PullContext, table: ReferenceTable) -> Callable[[list[dict]], None]:
        def handle(rows: list[dict]) -> None:
            store_netsuite_reference(connection=context.pair.netsuite, kind=table.kind, rows=rows)
            context.recorded([
                SourceItem(netsuite_id=self.record_key(row["id"], table.table),
                           source=classification_source(row, table.kind),
                           document_number=row["id"], label=row.get("fullname") or row.get("name", ""),
                           last_modified=row["cursor_ts"])
                for row in rows
            ], len(rows))
        return handle

    def record_key(self, netsuite_id: str, record_type: str) -> str:
        return f"{_BY_TABLE[record_type].kind}:{netsuite_id}"

    def stream_of(self, record_type: str) -> str:
        return record_type

    def netsuite_page(self, netsuite_id: str) -> str:
        kind, _, number = netsuite_id.partition(":")
        return _BY_KIND[kind].page.format(number)

    def check(self, source: dict) -> None:
        super().check(source)
        if source["kind"] not in CodingKind.values:
            raise damaged(f"names an unknown kind {source['kind']!r}")

    def build(self, source: dict, deleted: bool, coder: Coder, dimension_fields: dict[str, str]) -> Built:
        return reference_value(source, deleted, dimension_fields, source["kind"], source["id"])
