"""The coverage page's rows, and its second list: active NetSuite codes that have no mapping row at all yet.
The first list, codes that hold records back, needs the records: the sync app builds it
(sync/engine/blocking.py) and serves the page."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from credentials.models import ConnectionPair
from mappings.models import CodingMapping, NetSuiteReference

# The second list is a to-do list, not a report: past a few hundred rows finance uses the filters of the
# NetSuite codes list instead.
UNMAPPED_LIMIT = 300


@dataclass(frozen=True)
class CoverageRow:
    pair: ConnectionPair
    kind: str
    netsuite_id: str
    description: str
    blocked_records: int
    reason: str
    mapping_id: int | None  # the row to fix when one exists but cannot be used


def unmapped_codes(*, exclude: list[CoverageRow]) -> list[CoverageRow]:
    """Active NetSuite codes with no mapping row, proposed or confirmed, that block nothing yet (those in
    `exclude` are already listed as blocking)."""
    listed = {(row.pair.pk, row.kind, row.netsuite_id) for row in exclude}
    rows: list[CoverageRow] = []
    for pair in ConnectionPair.objects.select_related("netsuite", "jaggaer").order_by("pk"):
        mapped = CodingMapping.objects.filter(
            pair=pair, kind=OuterRef("reference_list__kind"), netsuite_id=OuterRef("netsuite_id")
        )
        codes = (
            NetSuiteReference.objects.filter(reference_list__connection=pair.netsuite, inactive=False)
            .exclude(Exists(mapped))
            .select_related("reference_list")
            .order_by("reference_list__kind", "number", "name")[: UNMAPPED_LIMIT + len(listed)]
        )
        for code in codes:
            if (pair.pk, code.reference_list.kind, code.netsuite_id) in listed:
                continue
            rows.append(
                CoverageRow(
                    pair=pair,
                    kind=code.reference_list.kind,
                    netsuite_id=code.netsuite_id,
                    description=str(code),
                    blocked_records=0,
                    reason="no mapping row",
                    mapping_id=None,
                )
            )
    return rows[:UNMAPPED_LIMIT]
