"""The rules a mapping row must meet, wherever it comes from (the admin form, a CSV line): one checker so
the form and the import cannot disagree."""

import re
from collections.abc import Iterable

from mappings.models import CodingKind, CodingMapping
from mappings.references import ReferenceIndex

NETSUITE_INTERNAL_ID = re.compile(r"^[0-9]{1,18}$")
JAGGAER_VALUE_MAX_LENGTH = CodingMapping._meta.get_field("jaggaer_value").max_length
JAGGAER_INTERNAL_NAME = re.compile(rf"^(?=\S)[^\x00-\x1f\x7f]{{1,{JAGGAER_VALUE_MAX_LENGTH}}}(?<=\S)\Z")


def _day(value: object) -> str:
    return "any day" if value is None else str(value)


def describe_dates(row: CodingMapping) -> str:
    if row.valid_from is None and row.valid_to is None:
        return "with no dates"
    return f"valid from {_day(row.valid_from)} to {_day(row.valid_to)}"


class MappingRowChecker:
    """Checks rows of one pair against its reference lists (loaded once)."""

    def __init__(self, *, references: ReferenceIndex) -> None:
        self.references = references

    def problems(self, row: CodingMapping) -> list[tuple[str, str]]:
        """(field, message) for every way the row is wrong on its own; empty when it may be saved."""
        found: list[tuple[str, str]] = []
        if row.kind not in CodingKind.values:
            found.append(("kind", f"unknown kind '{row.kind}' (one of {', '.join(CodingKind.values)})"))
        if not NETSUITE_INTERNAL_ID.match(row.netsuite_id or ""):
            found.append(("netsuite_id", f"'{row.netsuite_id}' is not a NetSuite internal id (digits only)"))
        elif (
            row.kind in CodingKind.values
            and self.references.netsuite_list_loaded(row.kind)
            and self.references.netsuite_code(row.kind, row.netsuite_id) is None
        ):
            refreshed = self.references.netsuite_refreshed[row.kind]
            found.append(
                (
                    "netsuite_id",
                    f"NetSuite has no {CodingKind(row.kind).label} with internal id {row.netsuite_id} "
                    f"(list refreshed {refreshed:%Y-%m-%d %H:%M} UTC)",
                )
            )
        value = row.jaggaer_value or ""
        if not value.strip():
            found.append(("jaggaer_value", "the JAGGAER value is empty"))
        elif not JAGGAER_INTERNAL_NAME.match(value):
            found.append(
                (
                    "jaggaer_value",
                    f"'{value}' is not a JAGGAER internalName (at most {JAGGAER_VALUE_MAX_LENGTH} characters, no "
                    "line breaks or surrounding spaces)",
                )
            )
        if row.valid_from and row.valid_to and row.valid_to < row.valid_from:
            found.append(("valid_to", f"valid to {row.valid_to} is before valid from {row.valid_from}"))
        return found

    @staticmethod
    def overlap_problem(row: CodingMapping, others: Iterable[CodingMapping]) -> str | None:
        """The message for the first row of the same key whose dates overlap this one's, if any."""
        for other in others:
            if other.pk is not None and other.pk == row.pk:
                continue
            if (other.kind, other.netsuite_id) == (row.kind, row.netsuite_id) and row.overlaps(other):
                return (
                    f"{row.get_kind_display()} {row.netsuite_id} is already mapped to '{other.jaggaer_value}' "
                    f"{describe_dates(other)}: the dates overlap"
                )
        return None

    def warning(self, row: CodingMapping) -> str | None:
        if row.kind not in CodingKind.values:
            return None
        return self.references.jaggaer_warning(row.kind, row.jaggaer_value)
