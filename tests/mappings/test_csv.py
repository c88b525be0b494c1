"""Mapping rows as CSV (operations.md "Mapping CSV"): round trip, all-or-nothing import with line numbers,
upsert and --replace, and the commands around them."""

import io
from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from mappings.csv_files import MappingImportError, export_mappings_csv, import_mappings_csv
from mappings.models import CodingMapping
from tests.mappings.conftest import load_classifications, load_gl_accounts, make_pair


def rows_of(pair) -> list[tuple]:
    return list(
        CodingMapping.objects.filter(pair=pair)
        .order_by("kind", "netsuite_id", "valid_from")
        .values_list("kind", "netsuite_id", "jaggaer_value", "valid_from", "valid_to", "status")
    )


def import_text(pair, text: str, replace: bool = False):
    return import_mappings_csv(pair=pair, source=io.StringIO(text), replace=replace)


def test_export_then_import_into_an_empty_database_gives_identical_rows(pair, tmp_path: Path) -> None:
    load_gl_accounts(pair, ("123", "6100", "Office Supplies, Paper"))
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100",
                                 valid_to=date(2026, 3, 31))
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100-A",
                                 valid_from=date(2026, 4, 1))
    CodingMapping.objects.create(pair=pair, kind="department", netsuite_id="5", jaggaer_value="CC, Sales \"EU\"")
    CodingMapping.objects.create(pair=pair, kind="subsidiary", netsuite_id="1", jaggaer_value="BU-US")
    exported = rows_of(pair)
    out = tmp_path / "mappings.csv"
    call_command("export_mappings", str(out), stdout=io.StringIO())

    CodingMapping.objects.all().delete()
    assert rows_of(pair) == []
    call_command("import_mappings", str(out), stdout=io.StringIO())

    assert rows_of(pair) == exported
    header, first = out.read_text().splitlines()[:2]
    assert header == "kind,netsuite_id,netsuite_number,netsuite_name,jaggaer_value,valid_from,valid_to"
    assert first == 'department,5,,,"CC, Sales ""EU""",,'


def test_the_contracts_minimal_file_imports_and_ignores_name_and_note_columns(pair) -> None:
    outcome = import_text(pair, "kind,netsuite_id,jaggaer_value,netsuite_name,note\n"
                                "gl_account,123,6100,Office Supplies,checked by AP\n"
                                "class,7,CL-7,,\n")

    assert outcome.created == 2
    assert rows_of(pair) == [("class", "7", "CL-7", None, None, "confirmed"),
                             ("gl_account", "123", "6100", None, None, "confirmed")]


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("gl_acount,124,6200", "line 3: unknown kind 'gl_acount' (one of gl_account, department, class, location, subsidiary)"),
        ("gl_account,12x,6200", "line 3: '12x' is not a NetSuite internal id (digits only)"),
        ("gl_account,124,,2026-01-01,", "line 3: the JAGGAER value is empty"),
        ("gl_account,123,6100-B", "line 3: duplicate of line 2 (gl_account 123 with no dates)"),
        ("department,5,CC,2026-13-01,", "line 3: valid_from '2026-13-01' is not a date (YYYY-MM-DD)"),
        ("department,5,CC,2026-05-01,2026-04-30", "line 3: valid to 2026-04-30 is before valid from 2026-05-01"),
        ("gl_account,124,6200,,,surplus", "line 3: more cells than the header has columns"),
    ],
)
def test_a_bad_line_rejects_the_whole_file_with_its_line_number(pair, bad_line: str, message: str) -> None:
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="900", jaggaer_value="KEEP")
    before = rows_of(pair)
    text = f"kind,netsuite_id,jaggaer_value,valid_from,valid_to\ngl_account,123,6100,,\n{bad_line}\nclass,7,CL-7,,\n"

    with pytest.raises(MappingImportError) as rejected:
        import_text(pair, text)

    assert rejected.value.problems == [message]
    assert rows_of(pair) == before


def test_overlapping_effective_dates_in_a_file_are_rejected(pair) -> None:
    text = ("kind,netsuite_id,jaggaer_value,valid_from,valid_to\n"
            "gl_account,123,OLD,2026-01-01,2026-04-01\n"
            "gl_account,123,NEW,2026-04-01,\n")

    with pytest.raises(MappingImportError) as rejected:
        import_text(pair, text)

    assert rejected.value.problems == [
        "line 3: the dates of gl_account 123 (valid from 2026-04-01 to any day) overlap line 2 "
        "(valid from 2026-01-01 to 2026-04-01)"
    ]


def test_unknown_netsuite_ids_are_rejected_once_the_list_is_loaded(pair) -> None:
    text = "kind,netsuite_id,jaggaer_value\ngl_account,999,6100\ndepartment,77,CC\n"
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"))

    with pytest.raises(MappingImportError) as rejected:
        import_text(pair, text)

    # Departments were never read from NetSuite, so an unknown department id cannot be judged yet.
    assert len(rejected.value.problems) == 1
    assert rejected.value.problems[0].startswith("line 2: NetSuite has no GL account with internal id 999 (list refreshed ")


def test_every_bad_line_is_listed(pair) -> None:
    with pytest.raises(MappingImportError) as rejected:
        import_text(pair, "kind,netsuite_id,jaggaer_value\nfoo,1,A\ngl_account,2,A\nclass,x,B\n")

    assert [problem.split(":")[0] for problem in rejected.value.problems] == ["line 2", "line 4"]


def test_a_file_without_the_required_columns_is_rejected(pair) -> None:
    with pytest.raises(MappingImportError, match=r"line 1: the header must name kind, netsuite_id, jaggaer_value"):
        import_text(pair, "kind,internal_id,value\ngl_account,1,A\n")


def test_import_upserts_by_code_and_keeps_absent_rows_unless_replace(pair) -> None:
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="OLD")
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="124", jaggaer_value="STAYS")

    outcome = import_text(pair, "kind,netsuite_id,jaggaer_value\ngl_account,123,NEW\ngl_account,125,ADDED\n")

    assert (outcome.created, outcome.updated, outcome.deleted) == (1, 1, 0)
    assert [row[:3] for row in rows_of(pair)] == [
        ("gl_account", "123", "NEW"), ("gl_account", "124", "STAYS"), ("gl_account", "125", "ADDED")
    ]
    outcome = import_text(pair, "kind,netsuite_id,jaggaer_value\ngl_account,123,NEW\n", replace=True)
    assert (outcome.unchanged, outcome.deleted) == (1, 2)
    assert [row[:3] for row in rows_of(pair)] == [("gl_account", "123", "NEW")]


def test_a_file_row_confirms_a_proposal_and_history_keeps_both(pair) -> None:
    proposal = CodingMapping.objects.create(
        pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100", status=CodingMapping.Status.PROPOSED
    )

    import_text(pair, "kind,netsuite_id,jaggaer_value\ngl_account,123,6100\n")

    proposal.refresh_from_db()
    assert proposal.status == CodingMapping.Status.CONFIRMED
    assert [h.status for h in proposal.history.order_by("history_id")] == ["proposed", "confirmed"]


def test_export_leaves_out_proposals(pair) -> None:
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100",
                                 status=CodingMapping.Status.PROPOSED)
    load_classifications(pair, "class", ("7", "Retail"))
    CodingMapping.objects.create(pair=pair, kind="class", netsuite_id="7", jaggaer_value="CL-7")
    out = io.StringIO()

    assert export_mappings_csv(pair=pair, out=out) == 1
    assert out.getvalue().splitlines()[1:] == ["class,7,,Retail,CL-7,,"]


def test_commands_need_the_pair_named_when_there_are_several(pair, tmp_path: Path) -> None:
    other = make_pair()
    source = tmp_path / "in.csv"
    source.write_text("kind,netsuite_id,jaggaer_value\ngl_account,123,6100\n")

    with pytest.raises(CommandError, match="several connection pairs: name one with --netsuite NAME --jaggaer NAME"):
        call_command("import_mappings", str(source))
    call_command("import_mappings", str(source), "--netsuite", other.netsuite.name, "--jaggaer", other.jaggaer.name,
                 stdout=io.StringIO())

    assert rows_of(other) == [("gl_account", "123", "6100", None, None, "confirmed")]
    assert rows_of(pair) == []


def test_import_command_reports_a_bad_file_in_one_line_and_imports_nothing(pair, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("kind,netsuite_id,jaggaer_value\ngl_account,123,6100\nsupplier,5,X\n")

    with pytest.raises(CommandError) as failed:
        call_command("import_mappings", str(source))

    assert str(failed.value) == (
        f"{source} rejected, nothing imported: line 3: unknown kind 'supplier' "
        "(one of gl_account, department, class, location, subsidiary)"
    )
    assert rows_of(pair) == []


def test_export_command_writes_to_standard_output_without_a_file(pair) -> None:
    CodingMapping.objects.create(pair=pair, kind="location", netsuite_id="9", jaggaer_value="LOC-NYC")
    out = io.StringIO()

    call_command("export_mappings", stdout=out)

    assert out.getvalue().splitlines() == [
        "kind,netsuite_id,netsuite_number,netsuite_name,jaggaer_value,valid_from,valid_to", "location,9,,,LOC-NYC,,"]


def history_of(pair) -> list[tuple]:
    return list(
        CodingMapping.history.filter(pair=pair)
        .order_by("history_id")
        .values_list("netsuite_id", "history_type", "history_user__username", "history_change_reason")
    )


def test_import_command_as_a_django_user_records_them_in_the_history(pair, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LOGNAME", "ops")
    User.objects.create_user("alice")
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="124", jaggaer_value="GONE")
    source = tmp_path / "in.csv"
    source.write_text("kind,netsuite_id,jaggaer_value\ngl_account,123,6100\n")

    call_command("import_mappings", str(source), "--replace", "--as", "alice", stdout=io.StringIO())

    reason = "import_mappings from the command line by OS user ops"
    assert history_of(pair)[1:] == [("124", "-", "alice", reason), ("123", "+", "alice", reason)]
    assert CodingMapping.objects.get(pair=pair).created_by.username == "alice"


def test_import_command_without_as_names_the_os_user_in_the_change_reason(pair, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LOGNAME", "root")
    source = tmp_path / "in.csv"
    source.write_text("kind,netsuite_id,jaggaer_value\ngl_account,123,6100\n")

    call_command("import_mappings", str(source), stdout=io.StringIO())

    assert history_of(pair) == [("123", "+", None, "import_mappings from the command line by OS user root")]


def test_import_command_as_an_unknown_user_is_refused_and_imports_nothing(pair, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("kind,netsuite_id,jaggaer_value\ngl_account,123,6100\n")

    with pytest.raises(CommandError, match="--as mallory: there is no Django user of that name, nothing imported"):
        call_command("import_mappings", str(source), "--as", "mallory")

    assert rows_of(pair) == []
