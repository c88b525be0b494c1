"""GL accounts: NetSuite's `account` table -> values of JAGGAER's GL account custom field, by account number.
After delivery it proposes identity mappings (code -> the value with its number) for finance to confirm."""

from typing import TYPE_CHECKING

from mappings.identity import propose_identity_mappings
from mappings.models import CodingKind
from mappings.references import store_netsuite_reference
from sync.engine.journal import SourceItem
from sync.engine.paging import PullContext, Stream
from sync.flows.base import Built, Coder, flag, record_id, text
from sync.flows.reference import ReferenceFlow, reference_value
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


class GlAccounts(ReferenceFlow):
    flow = Flow.GL_ACCOUNTS
    nouns = ("GL account", "GL accounts")
    record_types = ("account",)
    shape = {"id": str, "acctnumber": str, "fullname": str, "isinactive": bool}
    writes_values_of = (CodingKind.GL_ACCOUNT,)

    def streams(self) -> list[Stream]:
        return [ACCOUNT_STREAM]

    def read(self, context: PullContext) -> None:
        def handle(rows: list[dict]) -> None:
            store_netsuite_reference(connection=context.pair.netsuite, kind=CodingKind.GL_ACCOUNT, rows=rows)
            context.recorded([
                SourceItem(netsuite_id=row["id"], source=account_source(row), document_number=row.get("acctnumber", ""),
                           label=row.get("fullname", ""), last_modified=row["cursor_ts"])
                for row in rows
            ], len(rows))

        context.each_page(ACCOUNT_STREAM, handle)

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
