"""Identity mappings (NetSuite code -> the JAGGAER value with the same number): proposed by the flows that
create those values, confirmed by finance, or made in bulk by finance from the admin."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from credentials.models import ConnectionPair
from mappings.models import CodingKind, CodingMapping, CodingRule
from mappings.references import ReferenceIndex, coding_rule_of, dimension_fields_of


@transaction.atomic
def propose_identity_mappings(*, pair: ConnectionPair, kind: CodingKind | str, values: Mapping[str, str]) -> int:
    """Called by the gl_accounts and classifications flows after pushing values: `values` maps each NetSuite
    internal id to the internalName pushed for it. A code that has any row already (confirmed or proposed)
    gets no proposal, nor does one whose value the pair's same-number rule already picks: such a proposal
    would change nothing and only clutter the list. Proposals are not used by resolution until finance
    confirms them. Returns how many were proposed."""
    kind = CodingKind(kind)
    if coding_rule_of(pair) == CodingRule.SAME_NUMBER:
        index = ReferenceIndex(pair=pair, dimension_fields=dimension_fields_of(pair.jaggaer), netsuite_ids=list(values))
        values = {code: value for code, value in values.items() if index.same_number_value(kind, code) != value}
    # Two sync processes may finish the same flow at once: the second waits here and then sees the first's rows.
    ConnectionPair.objects.select_for_update().get(pk=pair.pk)
    taken = set(
        CodingMapping.objects.filter(pair=pair, kind=kind, netsuite_id__in=list(values)).values_list(
            "netsuite_id", flat=True
        )
    )
    proposals = [
        CodingMapping(
            pair=pair, kind=kind, netsuite_id=netsuite_id, jaggaer_value=value, status=CodingMapping.Status.PROPOSED
        )
        for netsuite_id, value in values.items()
        if netsuite_id not in taken
    ]
    bulk_create_with_history(proposals, CodingMapping)
    return len(proposals)


@transaction.atomic
def confirm_proposals(*, mappings: Iterable[CodingMapping], acting_user: AbstractBaseUser | None) -> int:
    """Confirms proposed rows one by one, so each gets a history entry naming who confirmed it and releases
    the records waiting for it."""
    confirmed = 0
    for mapping in mappings:
        if mapping.status != CodingMapping.Status.PROPOSED:
            continue
        mapping.status = CodingMapping.Status.CONFIRMED
        mapping._history_user = acting_user
        mapping.save(update_fields=["status"])
        confirmed += 1
    return confirmed


@dataclass
class SameNumberOutcome:
    mapped: int = 0
    already_mapped: int = 0
    no_identical_value: int = 0


@transaction.atomic
def map_by_same_number(
    *, pair: ConnectionPair, codes: Iterable[tuple[str, str]], acting_user: AbstractBaseUser | None
) -> SameNumberOutcome:
    """Creates a confirmed row for each (kind, NetSuite id) with no confirmed row yet whose identical JAGGAER
    value (see ReferenceIndex.same_number_value) exists and is active as of the last refresh; it replaces a
    proposal of that code."""
    references = ReferenceIndex(pair=pair, dimension_fields=dimension_fields_of(pair.jaggaer))
    codes = list(codes)
    taken = set(
        CodingMapping.objects.filter(pair=pair, status=CodingMapping.Status.CONFIRMED).values_list("kind", "netsuite_id")
    )
    outcome = SameNumberOutcome()
    for kind, netsuite_id in codes:
        value = references.same_number_value(kind, netsuite_id)
        if (kind, netsuite_id) in taken:
            outcome.already_mapped += 1
        elif value is None or not references.jaggaer_value_active(kind, value):
            outcome.no_identical_value += 1
        else:
            mapping = CodingMapping(
                pair=pair, kind=kind, netsuite_id=netsuite_id, jaggaer_value=value, created_by=acting_user
            )
            mapping._history_user = acting_user
            mapping.save()
            taken.add((kind, netsuite_id))
            outcome.mapped += 1
    return outcome
