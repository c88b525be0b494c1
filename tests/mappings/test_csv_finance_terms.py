"""Mapping CSV in finance's words: kinds by label and codes by account number or name, on the admin page and
from the command; a code that names none or several is its line's problem and nothing is imported; exports
carry each code's number and name and import back unchanged; the template lists every code to fill in."""

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from mappings.csv_files import MappingImportError, export_mapping_template, export_mappings_csv, import_mappings_csv
from mappings.models import CodingMapping
from mappings.references import store_netsuite_reference
from tests.mappings.conftest import load_classifications, load_gl_accounts
from tests.mappings.test_admin import text_of
from tests.mappings.test_csv import rows_of

CSV_URL = reverse("admin:mappings_codingmapping_csv")
FINANCE_FILE = (
    "kind,netsuite_id,jaggaer_value\n"
    "GL Account,6100,GL-OFFICE\n"
    "gl_account,124,GL-TRAVEL\n"
    "Department,Sales,CC-SALES\n"
    "department,marketing,CC-MKT\n"
    "Subsidiary,1,BU-US\n"
)
FINANCE_ROWS = [
    ("department", "5", "CC-SALES", None, None, "confirmed"),
    ("department", "6", "CC-MKT", None, None, "confirmed"),
    ("gl_account", "123", "GL-OFFICE", None, None, "confirmed"),
    ("gl_account", "124", "GL-TRAVEL", None, None, "confirmed"),
    ("subsidiary", "1", "BU-US", None, None, "confirmed"),
]


@pytest.fixture
def coded_pair(pair):
    """A pair whose NetSuite lists were read: GL accounts 6100 and 6200, departments Sales and Marketing."""
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"), ("124", "6200", "Travel"))
    load_classifications(pair, "department", ("5", "Sales"), ("6", "Marketing"))
    load_classifications(pair, "subsidiary", ("1", "Acme US"))
    return pair


def import_text(pair, text: str, replace: bool = False):
    return import_mappings_csv(pair=pair, source=io.StringIO(text, newline=""), replace=replace)


def exported(pair, write=export_mappings_csv) -> str:
    out = io.StringIO()
    write(pair=pair, out=out)
    return out.getvalue()


def test_account_numbers_names_and_kind_labels_import_as_the_codes_they_name(coded_pair) -> None:
    outcome = import_text(coded_pair, FINANCE_FILE)

    assert outcome.created == 5
    assert rows_of(coded_pair) == FINANCE_ROWS


def test_the_import_command_reads_finance_terms(coded_pair, tmp_path: Path) -> None:
    source = tmp_path / "finance.csv"
    source.write_text(FINANCE_FILE)
    out = io.StringIO()

    call_command("import_mappings", str(source), stdout=out)

    assert rows_of(coded_pair) == FINANCE_ROWS
    assert out.getvalue().strip() == f"Imported {source} for {coded_pair}: 5 created, 0 updated, 0 unchanged, 0 deleted"


def test_the_admin_csv_page_reads_finance_terms(finance_client, coded_pair) -> None:
    upload = SimpleUploadedFile("finance.csv", FINANCE_FILE.encode())

    response = finance_client.post(CSV_URL, {"pair": coded_pair.pk, "file": upload, "import": "Import"}, follow=True)

    assert "Imported finance.csv: 5 created, 0 updated, 0 unchanged, 0 deleted." in text_of(response)
    assert rows_of(coded_pair) == FINANCE_ROWS


def test_number_and_name_columns_name_a_code_without_its_internal_id(coded_pair) -> None:
    import_text(coded_pair, "kind,netsuite_id,netsuite_number,netsuite_name,jaggaer_value\n"
                            "GL account,,6200,,GL-TRAVEL\n"
                            "Department,,,Marketing,CC-MKT\n")

    assert [row[:3] for row in rows_of(coded_pair)] == [("department", "6", "CC-MKT"),
                                                         ("gl_account", "124", "GL-TRAVEL")]


def test_an_ambiguous_or_unknown_code_is_refused_with_its_line_and_value_and_nothing_is_imported(coded_pair) -> None:
    # Internal id 6100 of another account, beside the account numbered 6100; two departments named Sales.
    load_gl_accounts(coded_pair, ("6100", "7000", "Rent"))
    store_netsuite_reference(connection=coded_pair.netsuite, kind="department", rows=[
        {"id": "5", "name": "Sales", "fullname": "EMEA : Sales", "isinactive": "F"},
        {"id": "9", "name": "Sales", "fullname": "US : Sales", "isinactive": "F"},
    ])
    CodingMapping.objects.create(pair=coded_pair, kind="class", netsuite_id="7", jaggaer_value="KEEP")
    before = rows_of(coded_pair)

    with pytest.raises(MappingImportError) as rejected:
        import_text(coded_pair, "kind,netsuite_id,jaggaer_value\n"
                                "gl_account,124,GL-TRAVEL\n"
                                "GL account,6100,GL-OFFICE\n"
                                "Department,sales,CC-SALES\n"
                                "Department,Salez,CC-SALES\n"
                                "GL account,9999,GL-X\n"
                                "Supplier,5,X\n")

    problems = rejected.value.problems
    assert problems[0] == (
        "line 3: GL account '6100' names 2 NetSuite codes (GL account 6100 Office Supplies (NetSuite id 123), "
        "GL account 7000 Rent (NetSuite id 6100)): say which with a netsuite_number or netsuite_name column "
        "(a full name reads 'Parent : Child')"
    )
    assert problems[1] == (
        "line 4: Department 'sales' names 2 NetSuite codes (Department Sales (NetSuite id 5), Department Sales "
        "(NetSuite id 9)): say which with a netsuite_number or netsuite_name column (a full name reads "
        "'Parent : Child')"
    )
    assert problems[2].startswith("line 5: NetSuite has no Department with the name 'Salez' (list refreshed ")
    assert problems[3].startswith("line 6: NetSuite has no GL account with internal id 9999 (list refreshed ")
    assert problems[3].endswith("UTC), nor one with that number or name")
    assert problems[4].startswith("line 7: unknown kind 'Supplier'")
    assert len(problems) == 5
    assert rows_of(coded_pair) == before


def test_a_second_column_or_a_full_name_settles_which_code_is_meant(coded_pair) -> None:
    load_gl_accounts(coded_pair, ("6100", "7000", "Rent"))
    store_netsuite_reference(connection=coded_pair.netsuite, kind="department", rows=[
        {"id": "5", "name": "Sales", "fullname": "EMEA : Sales", "isinactive": "F"},
        {"id": "9", "name": "Sales", "fullname": "US : Sales", "isinactive": "F"},
    ])

    import_text(coded_pair, "kind,netsuite_id,netsuite_number,netsuite_name,jaggaer_value\n"
                            "GL account,6100,6100,,GL-OFFICE\n"
                            "GL account,6100,,Rent,GL-RENT\n"
                            "Department,us : sales,,,CC-US\n")

    assert [row[:3] for row in rows_of(coded_pair)] == [
        ("department", "9", "CC-US"), ("gl_account", "123", "GL-OFFICE"), ("gl_account", "6100", "GL-RENT")]


def test_the_same_code_by_number_and_by_id_in_one_file_is_a_duplicate(coded_pair) -> None:
    with pytest.raises(MappingImportError) as rejected:
        import_text(coded_pair, "kind,netsuite_id,jaggaer_value\ngl_account,123,A\nGL account,6100,B\n")

    assert rejected.value.problems == ["line 3: duplicate of line 2 (gl_account 123 with no dates)"]


def test_the_admin_page_lists_each_bad_line_and_imports_nothing(finance_client, coded_pair) -> None:
    upload = SimpleUploadedFile("finance.csv", b"kind,netsuite_id,jaggaer_value\nDepartment,Sales,CC\n"
                                               b"Department,Finance,CC-FIN\n")

    response = finance_client.post(CSV_URL, {"pair": coded_pair.pk, "file": upload, "import": "Import"})

    assert "line 3: NetSuite has no Department with the name 'Finance'" in text_of(response)
    assert not CodingMapping.objects.exists()


def test_the_import_command_names_the_bad_line_and_imports_nothing(coded_pair, tmp_path: Path) -> None:
    source = tmp_path / "finance.csv"
    source.write_text("kind,netsuite_id,jaggaer_value\nGL account,6100,GL-OFFICE\nGL account,6300,GL-X\n")

    with pytest.raises(CommandError, match=r"rejected, nothing imported: line 3: NetSuite has no GL account with "
                                           r"internal id 6300 \(list refreshed"):
        call_command("import_mappings", str(source))

    assert rows_of(coded_pair) == []


def test_an_export_carries_each_codes_number_and_name_beside_its_internal_id(coded_pair) -> None:
    CodingMapping.objects.create(pair=coded_pair, kind="gl_account", netsuite_id="123", jaggaer_value="GL-OFFICE",
                                 valid_from=date(2026, 1, 1))
    CodingMapping.objects.create(pair=coded_pair, kind="department", netsuite_id="5", jaggaer_value="CC-SALES")

    lines = exported(coded_pair).splitlines()

    assert lines == ["kind,netsuite_id,netsuite_number,netsuite_name,jaggaer_value,valid_from,valid_to",
                     "department,5,,Sales,CC-SALES,,",
                     "gl_account,123,6100,Office Supplies,GL-OFFICE,2026-01-01,"]


def test_an_export_imports_back_changing_nothing_even_where_an_id_is_another_codes_number(coded_pair) -> None:
    load_gl_accounts(coded_pair, ("6100", "7000", "Rent"))
    CodingMapping.objects.create(pair=coded_pair, kind="gl_account", netsuite_id="123", jaggaer_value="GL-OFFICE",
                                 valid_to=date(2026, 3, 31))
    CodingMapping.objects.create(pair=coded_pair, kind="gl_account", netsuite_id="123", jaggaer_value="GL-OFFICE-2",
                                 valid_from=date(2026, 4, 1))
    CodingMapping.objects.create(pair=coded_pair, kind="gl_account", netsuite_id="6100", jaggaer_value="GL-RENT")
    CodingMapping.objects.create(pair=coded_pair, kind="department", netsuite_id="5", jaggaer_value='CC, "Sales"')
    CodingMapping.objects.create(pair=coded_pair, kind="location", netsuite_id="44", jaggaer_value="LOC-NYC")
    before, history = rows_of(coded_pair), CodingMapping.history.count()

    outcome = import_text(coded_pair, exported(coded_pair), replace=True)

    assert (outcome.created, outcome.updated, outcome.unchanged, outcome.deleted) == (0, 0, 5, 0)
    assert rows_of(coded_pair) == before
    assert CodingMapping.history.count() == history


def test_the_template_lists_every_active_code_with_its_mapping_or_a_blank_to_fill_in(coded_pair) -> None:
    store_netsuite_reference(connection=coded_pair.netsuite, kind="gl_account", rows=[
        {"id": "125", "acctnumber": "6900", "fullname": "Trade Shows (old)", "isinactive": "T"},
        {"id": "126", "acctnumber": "6950", "fullname": "Old Events", "isinactive": "T"},
    ])
    CodingMapping.objects.create(pair=coded_pair, kind="gl_account", netsuite_id="124", jaggaer_value="GL-TRAVEL")
    CodingMapping.objects.create(pair=coded_pair, kind="gl_account", netsuite_id="125", jaggaer_value="GL-SHOWS")

    lines = exported(coded_pair, export_mapping_template).splitlines()

    # Inactive codes only while a row maps them (an import with replace must not lose it).
    assert lines == ["kind,netsuite_id,netsuite_number,netsuite_name,jaggaer_value,valid_from,valid_to",
                     "gl_account,123,6100,Office Supplies,,,",
                     "gl_account,124,6200,Travel,GL-TRAVEL,,",
                     "gl_account,125,6900,Trade Shows (old),GL-SHOWS,,",
                     "department,6,,Marketing,,,",
                     "department,5,,Sales,,,",
                     "subsidiary,1,,Acme US,,,"]


def test_a_filled_in_template_maps_what_was_filled_in_and_nothing_else(coded_pair) -> None:
    CodingMapping.objects.create(pair=coded_pair, kind="gl_account", netsuite_id="124", jaggaer_value="GL-TRAVEL")
    rows = list(csv.DictReader(io.StringIO(exported(coded_pair, export_mapping_template))))
    for row in rows:
        if row["netsuite_name"] == "Sales":
            row["jaggaer_value"] = "CC-SALES"
    filled = io.StringIO()
    writer = csv.DictWriter(filled, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)

    outcome = import_text(coded_pair, filled.getvalue(), replace=True)

    assert (outcome.created, outcome.unchanged, outcome.deleted, outcome.left_blank) == (1, 1, 0, 3)
    assert [row[:3] for row in rows_of(coded_pair)] == [("department", "5", "CC-SALES"),
                                                         ("gl_account", "124", "GL-TRAVEL")]


def test_the_template_is_downloaded_from_the_admin_csv_page(finance_client, coded_pair) -> None:
    page = finance_client.get(CSV_URL)
    assert 'name="template"' in page.content.decode()

    response = finance_client.post(CSV_URL, {"pair": coded_pair.pk, "template": "Download template"})

    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="mapping-template-{coded_pair.netsuite.name}-{coded_pair.jaggaer.name}.csv"')
    assert response.content.decode().splitlines()[1] == "gl_account,123,6100,Office Supplies,,,"


def test_the_export_command_writes_the_template(coded_pair, tmp_path: Path) -> None:
    target = tmp_path / "template.csv"
    out = io.StringIO()

    call_command("export_mappings", str(target), "--template", stdout=out)

    assert out.getvalue().strip() == f"Exported 5 NetSuite codes of {coded_pair} to {target}"
    assert target.read_text() == exported(coded_pair, export_mapping_template)
