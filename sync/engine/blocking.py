"""The one query for "which NetSuite codes hold records back, and how many": the dashboard groups it by flow,
the mapping coverage page by code. Selectors only: nothing here writes."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone

from credentials.models import ConnectionPair
from mappings.coverage import CoverageRow
from mappings.models import CodingMapping
from mappings.references import dimension_fields_of
from mappings.resolution import CodingResolver, LineCoding
from sync.models import MissingCoding, SyncRecord


@dataclass(frozen=True)
class BlockingCode:
    pair_id: int
    flow: str
    kind: str
    netsuite_id: str
    records: int  # of this flow waiting for a mapping of the code


def codes_blocking_records() -> list[BlockingCode]:
    """Per pair, flow and NetSuite code, how many records wait for a mapping of it."""
    rows = (
        MissingCoding.objects.filter(record__state=SyncRecord.State.WAITING_FOR_MAPPING)
        .values_list("record__pair", "record__flow", "kind", "netsuite_id")
        .annotate(n=Count("record", distinct=True)).order_by()
    )
    return [BlockingCode(pair_id, flow, kind, netsuite_id, n) for pair_id, flow, kind, netsuite_id, n in rows]


def coverage_of_blocking_codes() -> list[CoverageRow]:
    """The coverage page's first list: codes named by waiting records, most-blocking first, each with why it
    cannot be coded now and the mapping row to fix when one exists."""
    by_pair: dict[int, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for code in codes_blocking_records():
        # A record belongs to one flow: the flows' counts add up to the code's distinct records.
        by_pair[code.pair_id][(code.kind, code.netsuite_id)] += code.records
    rows: list[CoverageRow] = []
    today = timezone.localdate()
    for pair in ConnectionPair.objects.filter(pk__in=by_pair).select_related("netsuite", "jaggaer"):
        resolver = CodingResolver(pair=pair, dimension_fields=dimension_fields_of(pair.jaggaer))
        mapping_ids = {
            (kind, netsuite_id): pk
            for kind, netsuite_id, pk in CodingMapping.objects.filter(pair=pair).values_list("kind", "netsuite_id", "id")
        }
        for (kind, netsuite_id), blocked in by_pair[pair.pk].items():
            resolution = resolver.resolve(LineCoding.of_one(kind, netsuite_id), on=today)
            reason = (resolution.missing[0].message if resolution.missing
                      else "resolvable now: the records are retried on the next sync")
            rows.append(CoverageRow(pair=pair, kind=kind, netsuite_id=netsuite_id,
                                    description=resolver.references.describe(kind, netsuite_id),
                                    blocked_records=blocked, reason=reason,
                                    mapping_id=mapping_ids.get((kind, netsuite_id))))
    rows.sort(key=lambda row: (-row.blocked_records, row.kind, row.netsuite_id))
    return rows
