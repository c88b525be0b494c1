"""Resolving one NetSuite line's coding to JAGGAER custom-field values (jaggaer.md section 8): an explicit
mapping row valid on the day, else, when the pair's rule allows it, the identical JAGGAER value; otherwise
a precise list of what is missing, which the sync engine stores so the record waits."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.db.models import Max

from credentials.models import ConnectionPair
from mappings.models import CodingKind, CodingMapping, CodingRule
from mappings.references import ReferenceIndex, coding_rule_of


@dataclass(frozen=True)
class LineCoding:
    """The NetSuite internal ids on one line (or a header's main line); None where NetSuite leaves it empty."""

    account: str | None = None
    department: str | None = None
    classification: str | None = None
    location: str | None = None
    subsidiary: str | None = None

    @classmethod
    def of_one(cls, kind: str, netsuite_id: str) -> "LineCoding":
        return cls(**{_ATTRIBUTE_OF_KIND[CodingKind(kind)]: netsuite_id})

    def codes(self) -> list[tuple[CodingKind, str]]:
        given = [(kind, getattr(self, attribute)) for kind, attribute in _ATTRIBUTE_OF_KIND.items()]
        return [(kind, str(netsuite_id)) for kind, netsuite_id in given if netsuite_id not in (None, "")]


_ATTRIBUTE_OF_KIND = {
    CodingKind.GL_ACCOUNT: "account",
    CodingKind.DEPARTMENT: "department",
    CodingKind.CLASS: "classification",
    CodingKind.LOCATION: "location",
    CodingKind.SUBSIDIARY: "subsidiary",
}


@dataclass(frozen=True)
class ResolvedCode:
    kind: CodingKind
    netsuite_id: str
    field: str  # the JAGGAER custom field
    value: str  # the JAGGAER value's internalName
    mapping_id: int | None  # None when the same-number rule decided
    history_id: int | None  # the mapping's history row current when it was used


@dataclass(frozen=True)
class MissingCode:
    kind: CodingKind
    netsuite_id: str
    message: str


@dataclass(frozen=True)
class Resolution:
    resolved: tuple[ResolvedCode, ...]
    missing: tuple[MissingCode, ...]

    @property
    def complete(self) -> bool:
        return not self.missing

    def custom_field_values(self) -> dict[str, str]:
        """JAGGAER field name -> value internalName, for the document's customFieldValueSetList."""
        return {code.field: code.value for code in self.resolved}

    def mappings_used(self) -> list[tuple[int, int | None]]:
        """(mapping id, history id) of every explicit row used, for the record's audit trail."""
        return [(code.mapping_id, code.history_id) for code in self.resolved if code.mapping_id is not None]


class CodingResolver:
    """Resolves many lines of one pair: mappings, history ids and both reference lists are loaded once at
    construction (build one per batch, so a batch sees one consistent state of the mappings)."""

    def __init__(self, *, pair: ConnectionPair, dimension_fields: Mapping[str, str]) -> None:
        self.references = ReferenceIndex(pair=pair, dimension_fields=dimension_fields)
        self.rule = coding_rule_of(pair)
        rows = list(CodingMapping.objects.filter(pair=pair, status=CodingMapping.Status.CONFIRMED))
        self._mappings: dict[tuple[str, str], list[CodingMapping]] = {}
        for row in rows:
            self._mappings.setdefault((row.kind, row.netsuite_id), []).append(row)
        self._history_ids: dict[int, int] = dict(
            CodingMapping.history.filter(id__in=[row.pk for row in rows])
            .values("id")
            .annotate(latest=Max("history_id"))
            .values_list("id", "latest")
        )

    def resolve(self, coding: LineCoding, *, on: date) -> Resolution:
        resolved: list[ResolvedCode] = []
        missing: list[MissingCode] = []
        for kind, netsuite_id in coding.codes():
            outcome = self._resolve_code(kind, netsuite_id, on)
            (resolved if isinstance(outcome, ResolvedCode) else missing).append(outcome)
        return Resolution(resolved=tuple(resolved), missing=tuple(missing))

    def resolves(self, kind: CodingKind, netsuite_id: str, *, on: date) -> bool:
        return isinstance(self._resolve_code(kind, netsuite_id, on), ResolvedCode)

    def _resolve_code(self, kind: CodingKind, netsuite_id: str, on: date) -> ResolvedCode | MissingCode:
        field = self.references.fields[kind]
        mapping = next((row for row in self._mappings.get((kind, netsuite_id), []) if row.applies_on(on)), None)
        if mapping is not None:
            problem = self.references.jaggaer_problem(kind, mapping.jaggaer_value)
            if problem is not None:
                # Finance may map before JAGGAER has the value; JAGGAER would reject the document.
                return MissingCode(
                    kind=kind,
                    netsuite_id=netsuite_id,
                    message=f"{self.references.describe(kind, netsuite_id)} is mapped to JAGGAER {field} value "
                    f"'{mapping.jaggaer_value}', but {problem}",
                )
            return ResolvedCode(
                kind=kind,
                netsuite_id=netsuite_id,
                field=field,
                value=mapping.jaggaer_value,
                mapping_id=mapping.pk,
                history_id=self._history_ids.get(mapping.pk),
            )
        if self.rule == CodingRule.SAME_NUMBER:
            candidate = self.references.same_number_value(kind, netsuite_id)
            if candidate is not None and self.references.jaggaer_value_active(kind, candidate):
                return ResolvedCode(
                    kind=kind, netsuite_id=netsuite_id, field=field, value=candidate, mapping_id=None, history_id=None
                )
        return MissingCode(
            kind=kind,
            netsuite_id=netsuite_id,
            message=f"{self.references.describe(kind, netsuite_id)} has no JAGGAER {field} mapping",
        )


def resolve_coding(
    *, pair: ConnectionPair, coding: LineCoding, on: date, dimension_fields: Mapping[str, str]
) -> Resolution:
    """One line on its own; for a batch build a CodingResolver once and call its resolve()."""
    return CodingResolver(pair=pair, dimension_fields=dimension_fields).resolve(coding, on=on)
