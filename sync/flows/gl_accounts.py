"""GL accounts: NetSuite's `account` table -> values of JAGGAER's GL account custom field, by account number.
After delivery it proposes identity mappings (code -> the value with its number) for finance to confirm."""

from typing import TYPE_CHECKING

from mappings.identity import propose_identity_mappings
from mappings.models import CodingKind
from mappings.references import store_netsuite_reference
from sync.engine.journal import SourceItem
from sync.engine.paging import PullContext, Stream
from sync.engine.rest_records import RestReader, RestStream
from sync.flows.base import RECORDS, Built, Coder, flag, record_id, text
from sync.flows.reference import ReferenceFlow, reference_value
from sync.flows.rest_rows import flag_text, plain, reference_id, suiteql_row
from sync.models import Flow, SyncRecord
from sync.remote.jaggaer_client import JaggaerClient

if TYPE_CHECKING:
    from credentials.models import ConnectionPair

ACCOUNT_STREAM = Stream(
    name="records",
    select="a.id, a.acctnumber, a.fullname, a.accttype, a.isinactive, a.parent, a.description",
    tables="account a",
    timestamp="a.lastmodifieddate",
    keys=("a.id",),
)


def account_source(row: dict) -> dict:
    return {
        "id": record_id(row, "GL account"), "acctnumber": text(row, "acctnumber"), "fullname": text(row, "fullname"),
        "accttype": text(row, "accttype"), "isinactive": flag(row, "isinactive"), "parent": text(row, "parent"),
    }


def rest_account_row(reader: RestReader, record: dict) -> dict:
    """An account record (spec section 4) as ACCOUNT_STREAM's row."""
    return suiteql_row(id=record["id"], acctnumber=plain(record, "acctNumber"), fullname=plain(record, "fullName"),
               accttype=reference_id(record, "acctType"), isinactive=flag_text(record, "isInactive"),
               parent=reference_id(record, "parent"), description=plain(record, "description"),
               cursor_ts=reader.last_modified(record))


class GlAccounts(ReferenceFlow):
    flow = Flow.GL_ACCOUNTS
    nouns = ("GL account", "GL accounts")
    record_types = ("account",)
    shape = {"id": str, "acctnumber": str, "fullname": str, "isinactive": bool}
    writes_values_of = (CodingKind.GL_ACCOUNT,)

    def streams(self) -> list[Stream]:
        return [ACCOUNT_STREAM]

    def read(self, context: PullContext) -> None:
        context.each_page(ACCOUNT_STREAM, lambda rows: self._recorded(context, rows))

    def read_records(self, context: PullContext) -> None:
        reader = RestReader(context)
        reader.each_page(RestStream(name=RECORDS, record_type="account"),
                         lambda records: self._recorded(context, [rest_account_row(reader, r) for r in records]))

    @staticmethod
    def _recorded(context: PullContext, rows: list[dict]) -> None:
        store_netsuite_reference(connection=context.pair.netsuite, kind=CodingKind.GL_ACCOUNT, rows=rows)
        context.recorded([
            SourceItem(netsuite_id=row["id"], source=account_source(row), document_number=row.get("acctnumber", ""),
                       label=row.get("fullname", ""), last_modified=row["cursor_ts"])
            for row in rows
        ], len(rows))

    def netsuite_page(self, netsuite_id: str) -> str:
        return f"/app/accounting/account/account.nl?id={netsuite_id}"

    def build(self, source: dict, deleted: bool, coder: Coder, dimension_fields: dict[str, str]) -> Built:
        return reference_value(source, deleted, dimension_fields, CodingKind.GL_ACCOUNT,
                               source["acctnumber"] or source["id"])

    def after_delivery(self, *, pair: "ConnectionPair", client: JaggaerClient) -> None:
        super().after_delivery(pair=pair, client=client)
        delivered = SyncRecord.objects.filter(pair=pair, flow=self.flow).exclude(delivered_sha256="")
        propose_identity_mappings(pair=pair, kind=CodingKind.GL_ACCOUNT, values={
            record.netsuite_id: record.payload["value"]["internalName"]
            for record in delivered.only("netsuite_id", "payload") if record.payload
        })
