"""The coverage page's data: NetSuite codes that hold records back, with how many each blocks, and active
NetSuite codes that have no mapping row at all yet."""

from dataclasses import dataclass

from django.apps import apps
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from credentials.models import ConnectionPair
from mappings.models import CodingMapping, NetSuiteReference
from mappings.references import dimension_fields_of
from mappings.resolution import CodingResolver, LineCoding

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


def blocking_codes() -> list[CoverageRow]:
    """Codes named by records waiting for a mapping, most-blocking first."""
    sync_record = apps.get_model("sync", "SyncRecord")
    missing_coding = apps.get_model("sync", "MissingCoding")
    counts = (
        missing_coding.objects.filter(record__state=sync_record.State.WAITING_FOR_MAPPING)
        .values_list("record__pair", "kind", "netsuite_id")
        .annotate(blocked=Count("record", distinct=True))
        .order_by("-blocked", "kind", "netsuite_id")
    )
    by_pair: dict[int, list[tuple[str, str, int]]] = {}
    for pair_id, kind, netsuite_id, blocked in counts:
        by_pair.setdefault(pair_id, []).append((kind, netsuite_id, blocked))
    rows: list[CoverageRow] = []
    today = timezone.localdate()
    for pair in ConnectionPair.objects.filter(pk__in=by_pair).select_related("netsuite", "jaggaer"):
        resolver = CodingResolver(pair=pair, dimension_fields=dimension_fields_of(pair.jaggaer))
        mapping_ids = {
            (kind, netsuite_id): pk
            for kind, netsuite_id, pk in CodingMapping.objects.filter(pair=pair).values_list("kind", "netsuite_id", "id")
        }
        for kind, netsuite_id, blocked in by_pair[pair.pk]:
            resolution = resolver.resolve(LineCoding.of_one(kind, netsuite_id), on=today)
            reason = (
                resolution.missing[0].message
                if resolution.missing
                else "resolvable now: the records are retried on the next sync"
            )
            rows.append(
                CoverageRow(
                    pair=pair,
                    kind=kind,
                    netsuite_id=netsuite_id,
                    description=resolver.references.describe(kind, netsuite_id),
                    blocked_records=blocked,
                    reason=reason,
                    mapping_id=mapping_ids.get((kind, netsuite_id)),
                )
            )
    rows.sort(key=lambda row: (-row.blocked_records, row.kind, row.netsuite_id))
    return rows


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
