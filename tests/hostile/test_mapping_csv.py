"""Whatever text a mapping CSV holds, the import either writes it whole or refuses it with MappingImportError,
every problem on a numbered line, and writes nothing at all (neither mapping rows nor their history)."""

import csv
import io
import re
from datetime import date

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from credentials.models import ConnectionPair
from mappings.csv_files import MappingImportError, import_mappings_csv
from mappings.models import CodingMapping
from tests.hostile.strategies import (
    HOSTILE,
    ODD_CHARACTERS,
    mostly,
    netsuite_text,
    rolled_back,
)
from tests.mappings.conftest import load_gl_accounts, make_pair

HEADER = "kind,netsuite_id,jaggaer_value,valid_from,valid_to"
PROBLEM = re.compile(r"line [0-9]+: \S")


@pytest.fixture
def pair(db: None) -> ConnectionPair:
    """GL accounts 10 and 11 known (others refused); department codes unchecked (list never read); stored rows
    to be replaced, kept or deleted, and a flow's proposal beside a confirmed row of the same code."""
    pair = make_pair("hostile-csv")
    load_gl_accounts(pair, ("10", "6100", "Office Supplies"), ("11", "6200", "Travel"))
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="10", jaggaer_value="6100")
    CodingMapping.objects.create(pair=pair, kind="department", netsuite_id="5", jaggaer_value="CC5",
                                 valid_from=date(2025, 1, 1), valid_to=date(2025, 12, 31))
    CodingMapping.objects.create(pair=pair, kind="department", netsuite_id="5", jaggaer_value="CC5-new",
                                 valid_from=date(2026, 1, 1))
    CodingMapping.objects.create(pair=pair, kind="department", netsuite_id="6", jaggaer_value="CC6")
    CodingMapping.objects.create(pair=pair, kind="department", netsuite_id="6", jaggaer_value="CC6?",
                                 status=CodingMapping.Status.PROPOSED)
    return pair


def cell() -> st.SearchStrategy[str]:
    return st.one_of(netsuite_text(), st.text(ODD_CHARACTERS, max_size=5))


def row_cells() -> st.SearchStrategy[list[str]]:
    """Mostly plausible rows (known and unknown codes, valid and reversed dates), else anything at all."""
    day = mostly(st.one_of(st.just(""), st.dates(date(2024, 1, 1), date(2027, 12, 31)).map(date.isoformat)), cell())
    plausible = st.tuples(
        mostly(st.sampled_from(["gl_account", "department"]), cell()),
        mostly(st.sampled_from(["10", "11", "12", "5", "6", "7"]), cell()),
        mostly(st.sampled_from(["6100", "6200", "CC5", "CC-7"]), cell()),
        day, day,
    ).map(list)
    return mostly(plausible, st.lists(cell(), max_size=7))


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    header = draw(mostly(st.just(HEADER), st.one_of(
        st.just("kind,netsuite_id,jaggaer_value"), st.just(" kind , netsuite_id , jaggaer_value , note"),
        st.just("kind,netsuite_id"), st.just("\ufeff" + HEADER), cell())))
    rows = draw(st.lists(row_cells(), max_size=4))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    if draw(st.booleans()):
        out = io.StringIO()
        csv.writer(out, lineterminator=newline).writerows(rows)  # quoted where a cell needs it
        body = out.getvalue()
    else:
        body = "".join(",".join(cells) + newline for cells in rows)  # as a careless export writes it
    return header + newline + body


def snapshot(pair: ConnectionPair) -> tuple[list[tuple], int]:
    rows = sorted(CodingMapping.objects.filter(pair=pair).values_list(
        "kind", "netsuite_id", "jaggaer_value", "valid_from", "valid_to", "status"), key=repr)
    return rows, CodingMapping.history.count()


@settings(HOSTILE, max_examples=120)
@given(text=mostly(csv_texts(), st.text(max_size=200)), replace=st.booleans(),
       translated=st.booleans())
@example(text=HEADER + "\ndepartment,6,CC6-final,,\n", replace=False, translated=False)
@example(text=HEADER + "\ngl_account,10," + "x" * 140_000 + ",,\n", replace=False, translated=False)
@example(text=HEADER + "\ngl_account,10,61\r00,,\n", replace=False, translated=True)
@example(text=HEADER + "\ngl_account,10,61\ud80000,,\n", replace=False, translated=False)
@example(text=HEADER + "\nkind\x00,10,6100,,\n", replace=False, translated=False)
def test_any_text_is_imported_whole_or_refused_with_line_numbers_and_nothing_written(
        pair: ConnectionPair, text: str, replace: bool, translated: bool) -> None:
    # `translated`: a file opened without newline="" (a caller's mistake), so a lone \r reaches the parser.
    source = io.StringIO(text) if translated else io.StringIO(text, newline="")
    with rolled_back():
        before = snapshot(pair)
        try:
            outcome = import_mappings_csv(pair=pair, source=source, replace=replace)
        except MappingImportError as refusal:
            event("refused")
            assert refusal.problems and all(PROBLEM.match(problem) for problem in refusal.problems), refusal.problems
            assert "\x00" not in str(refusal) and "\ud800" not in str(refusal)
            assert snapshot(pair) == before
            return
        event("imported")
        lines = [{name.strip(): (value or "").strip() for name, value in row.items()}
                 for row in csv.DictReader(io.StringIO(text, newline=""), skipinitialspace=True)]
        # A line with neither a JAGGAER value nor dates maps nothing (a template's unmapped code).
        rows = [key for key in lines if key["jaggaer_value"] or key.get("valid_from") or key.get("valid_to")]
        assert outcome.created + outcome.updated + outcome.unchanged == len(rows)
        assert outcome.left_blank == len(lines) - len(rows)
        stored = {(row.kind, row.netsuite_id, row.valid_from): row.jaggaer_value
                  for row in CodingMapping.objects.filter(pair=pair, status=CodingMapping.Status.CONFIRMED)}
        for key in rows:
            valid_from = date.fromisoformat(key["valid_from"]) if key.get("valid_from") else None
            assert stored[(key["kind"], key["netsuite_id"], valid_from)] == key["jaggaer_value"]
