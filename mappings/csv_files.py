"""Mapping rows as CSV (operations.md "Mapping CSV"): header `kind,netsuite_id,jaggaer_value`, other
columns ignored on import except our optional `valid_from`/`valid_to` (YYYY-MM-DD, both inclusive) and
`netsuite_number`/`netsuite_name`. Import is all-or-nothing: every bad line is reported with its number and
nothing is written.

Files are also read in finance's words (mappings/finance_terms.py): `kind` may be a label ("GL account"),
and the code may be named by its account number or name, in `netsuite_id` or in `netsuite_number` /
`netsuite_name`; a code that names no code or several is a problem of its line. A line without a JAGGAER
value and without dates maps nothing and is left out: the template lists unmapped codes that way.

A file's rows for a (kind, netsuite_id) replace that code's rows (matched by `valid_from`, so an unchanged
row keeps its history); codes absent from the file keep their rows unless `replace` is given. Only
confirmed rows are exported: proposals are not mappings until finance confirms them. Exports and the
template carry each code's number and name beside its internal id, and import back unchanged."""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TextIO

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from credentials.models import ConnectionPair
from mappings.finance_terms import CodeSearch, NetSuiteCodeFinder, kind_named
from mappings.models import CodingKind, CodingMapping, NetSuiteReference
from mappings.references import ReferenceIndex, dimension_fields_of
from mappings.validation import MappingRowChecker, describe_dates

REQUIRED_COLUMNS = ["kind", "netsuite_id", "jaggaer_value"]
EXPORT_COLUMNS = ["kind", "netsuite_id", "netsuite_number", "netsuite_name", "jaggaer_value", "valid_from", "valid_to"]
NOT_TEXT = "holds characters that are not text (NUL or an unpaired surrogate); is the file UTF-8 text?"


class MappingImportError(Exception):
    """The file was rejected; `problems` are "line N: ..." messages, in file order."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class ImportOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    left_blank: int = 0

    def __str__(self) -> str:
        counts = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, {self.deleted} deleted"
        if self.left_blank:
            counts += f"; {self.left_blank} lines without a JAGGAER value left out"
        return counts


def export_mappings_csv(*, pair: ConnectionPair, out: TextIO) -> int:
    """Writes the pair's confirmed rows; returns how many."""
    rows = list(CodingMapping.objects.filter(pair=pair, status=CodingMapping.Status.CONFIRMED))
    _write(pair=pair, out=out, lines=[(row.kind, row.netsuite_id, row) for row in rows])
    return len(rows)


def export_mapping_template(*, pair: ConnectionPair, out: TextIO) -> int:
    """Writes every active NetSuite code the connector knows for the pair (its GL accounts and
    classifications, as last read), with its confirmed rows, or one line with an empty JAGGAER value when it
    has none, in the export's columns: filled in and imported, it maps the codes filled in and changes
    nothing else. Codes with confirmed rows are always listed, so that an import with `replace` keeps them.
    Returns how many codes are listed."""
    mapped: dict[tuple[str, str], list[CodingMapping]] = {}
    for row in CodingMapping.objects.filter(pair=pair, status=CodingMapping.Status.CONFIRMED):
        mapped.setdefault((row.kind, row.netsuite_id), []).append(row)
    known = NetSuiteReference.objects.filter(reference_list__connection_id=pair.netsuite_id).values_list(
        "reference_list__kind", "netsuite_id", "number", "name", "inactive"
    )
    order: dict[tuple[str, str], tuple] = {
        (kind, netsuite_id): (number, name.casefold()) for kind, netsuite_id, number, name, inactive in known
        if not inactive or (kind, netsuite_id) in mapped
    }
    kinds = list(CodingKind.values)
    codes = sorted(
        order.keys() | mapped.keys(),
        key=lambda code: (kinds.index(code[0]) if code[0] in kinds else len(kinds), code not in order,
                          order.get(code, ("", "")), len(code[1]), code[1]),
    )
    lines = [(kind, netsuite_id, row) for kind, netsuite_id in codes for row in mapped.get((kind, netsuite_id), [None])]
    _write(pair=pair, out=out, lines=lines)
    return len(codes)


def _write(*, pair: ConnectionPair, out: TextIO, lines: list[tuple[str, str, CodingMapping | None]]) -> None:
    """One CSV line per (kind, NetSuite id, row), with the code's number and name; an empty value without a row."""
    references = ReferenceIndex(
        pair=pair,
        dimension_fields=dimension_fields_of(pair.jaggaer),
        netsuite_ids={netsuite_id for _, netsuite_id, _ in lines},
        jaggaer_values=(),
    )
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for kind, netsuite_id, row in lines:
        code = references.netsuite_code(kind, netsuite_id)
        writer.writerow(
            [
                kind,
                netsuite_id,
                code.number if code else "",
                code.name if code else "",
                row.jaggaer_value if row else "",
                row.valid_from.isoformat() if row and row.valid_from else "",
                row.valid_to.isoformat() if row and row.valid_to else "",
            ]
        )


def _parse_day(text: str, column: str, problems: list[str], line: int) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"line {line}: {column} '{text}' is not a date (YYYY-MM-DD)")
        return None


def _read_rows(*, pair: ConnectionPair, source: TextIO) -> tuple[list[tuple[int, CodingMapping]], int]:
    """Parses and checks every line; raises MappingImportError listing every problem. Returns the rows and
    how many lines were left blank."""
    reader = csv.DictReader(source)
    try:
        header = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise MappingImportError([f"line {max(reader.line_num, 1)}: the header is not readable CSV ({exc})"]) from None
    if not all(_is_text(name) for name in header):
        raise MappingImportError([f"line 1: the header {NOT_TEXT}"])
    missing_columns = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing_columns:
        found = ", ".join(header) or "nothing"
        raise MappingImportError([f"line 1: the header must name {', '.join(REQUIRED_COLUMNS)} (found: {found})"])
    reader.fieldnames = header
    references = ReferenceIndex(pair=pair, dimension_fields=dimension_fields_of(pair.jaggaer))
    reading = _LineReader(pair=pair, references=references)
    try:
        reading.check(reader)
    except csv.Error as exc:
        # The csv module stops at the first line it cannot parse (a field over its size limit, a stray carriage
        # return): what came before is checked, the rest cannot be.
        reading.problems.append(f"line {reader.line_num}: not readable CSV ({exc}); nothing after it was checked")
    if reading.problems:
        raise MappingImportError(reading.problems)
    return reading.rows, reading.left_blank


class _LineReader:
    """Checks a file's lines one by one, naming each code in finance's words as the internal id it is."""

    def __init__(self, *, pair: ConnectionPair, references: ReferenceIndex) -> None:
        self.pair = pair
        self.checker = MappingRowChecker(references=references)
        self.finder = NetSuiteCodeFinder(pair=pair, references=references)
        self.problems: list[str] = []
        self.rows: list[tuple[int, CodingMapping]] = []
        self.left_blank = 0

    def check(self, reader: csv.DictReader) -> None:
        for cells in reader:
            line = reader.line_num
            if None in cells:
                self.problems.append(f"line {line}: more cells than the header has columns")
                continue
            if not all(_is_text(value) for value in cells.values() if value):
                self.problems.append(f"line {line}: {NOT_TEXT}")
                continue
            cell = {column: (value or "").strip() for column, value in cells.items()}
            if not (cell["jaggaer_value"] or cell.get("valid_from") or cell.get("valid_to")):
                self.left_blank += 1
                continue
            self._check_line(line, cell)

    def _check_line(self, line: int, cell: dict[str, str]) -> None:
        known_problems = len(self.problems)
        kind = kind_named(cell["kind"]) or cell["kind"]
        netsuite_id = cell["netsuite_id"]
        if kind in CodingKind.values:
            found = self.finder.find(kind, CodeSearch(netsuite_id=netsuite_id, number=cell.get("netsuite_number", ""),
                                                      name=cell.get("netsuite_name", "")))
            if found.problem:
                self.problems.append(f"line {line}: {found.problem}")
                netsuite_id = ""
            else:
                netsuite_id = found.netsuite_id
        row = CodingMapping(
            pair=self.pair,
            kind=kind,
            netsuite_id=netsuite_id,
            jaggaer_value=cell["jaggaer_value"],
            valid_from=_parse_day(cell.get("valid_from", ""), "valid_from", self.problems, line),
            valid_to=_parse_day(cell.get("valid_to", ""), "valid_to", self.problems, line),
        )
        # A code the finder could not name has its problem already; the checker would only add a second one.
        row_problems = [(field, message) for field, message in self.checker.problems(row)
                        if field != "netsuite_id" or netsuite_id]
        self.problems.extend(f"line {line}: {message}" for _, message in row_problems)
        if len(self.problems) == known_problems:
            self.problems.extend(f"line {line}: {message}" for message in _clashes(row, self.rows))
        self.rows.append((line, row))


def _is_text(value: str) -> bool:
    """False for what a binary or wrongly decoded file holds and no column can store (PostgreSQL refuses NUL;
    an unpaired surrogate is not UTF-8): such a line is refused as a whole, without quoting it back."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clashes(row: CodingMapping, earlier: Iterable[tuple[int, CodingMapping]]) -> list[str]:
    clashes = []
    for line, other in earlier:
        if (other.kind, other.netsuite_id) != (row.kind, row.netsuite_id) or not row.overlaps(other):
            continue
        if (other.valid_from, other.valid_to) == (row.valid_from, row.valid_to):
            clashes.append(f"duplicate of line {line} ({row.kind} {row.netsuite_id} {describe_dates(row)})")
        else:
            clashes.append(
                f"the dates of {row.kind} {row.netsuite_id} ({describe_dates(row)}) overlap line {line} "
                f"({describe_dates(other)})"
            )
    return clashes


def _attribute(mapping: CodingMapping, *, acting_user: AbstractBaseUser | None, change_reason: str | None) -> None:
    """What django-simple-history records on the row this save or delete writes."""
    mapping._history_user = acting_user
    mapping._change_reason = change_reason


@transaction.atomic
def import_mappings_csv(
    *,
    pair: ConnectionPair,
    source: TextIO,
    replace: bool = False,
    acting_user: AbstractBaseUser | None = None,
    change_reason: str | None = None,
) -> ImportOutcome:
    """`acting_user` and `change_reason` go on every history row the import writes."""
    rows, left_blank = _read_rows(pair=pair, source=source)
    by_code: dict[tuple[str, str], list[CodingMapping]] = {}
    for _, row in rows:
        by_code.setdefault((row.kind, row.netsuite_id), []).append(row)
    existing: dict[tuple[str, str], list[CodingMapping]] = {}
    for stored in CodingMapping.objects.filter(pair=pair).select_for_update():
        existing.setdefault((stored.kind, stored.netsuite_id), []).append(stored)

    outcome = ImportOutcome(left_blank=left_blank)
    for code, stored_rows in existing.items():
        if code in by_code or replace:
            wanted_starts = {row.valid_from for row in by_code.get(code, [])}
            for stored in stored_rows:
                if stored.valid_from not in wanted_starts:
                    _attribute(stored, acting_user=acting_user, change_reason=change_reason)
                    stored.delete()
                    outcome.deleted += 1
    for code, new_rows in by_code.items():
        # A flow's proposal may share its start with a confirmed row of the code: the file's row updates the
        # confirmed one (confirming the proposal too would break the one-confirmed-row-per-start constraint).
        stored_rows = sorted(existing.get(code, []), key=lambda stored: stored.status == CodingMapping.Status.CONFIRMED)
        stored_by_start = {stored.valid_from: stored for stored in stored_rows}
        for row in new_rows:
            stored = stored_by_start.get(row.valid_from)
            if stored is None:
                row.created_by = acting_user
                _attribute(row, acting_user=acting_user, change_reason=change_reason)
                row.save()
                outcome.created += 1
            elif (stored.jaggaer_value, stored.valid_to, stored.status) == (
                row.jaggaer_value,
                row.valid_to,
                CodingMapping.Status.CONFIRMED,
            ):
                outcome.unchanged += 1
            else:
                stored.jaggaer_value, stored.valid_to = row.jaggaer_value, row.valid_to
                stored.status = CodingMapping.Status.CONFIRMED
                _attribute(stored, acting_user=acting_user, change_reason=change_reason)
                stored.save()
                outcome.updated += 1
    return outcome
