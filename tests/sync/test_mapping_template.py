"""The mapping template after a real read of the NetSuite sandbox: every active GL account and classification
the connector read, with its number, name and mapping; filled in on the admin page, it maps what was filled in."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mappings.models import CodingMapping
from sync.engine.run import sync_pass
from tests.mappings.conftest import make_finance_user
from tests.sync.helpers import netsuite_rows

pytestmark = pytest.mark.django_db
CSV_URL = reverse("admin:mappings_codingmapping_csv")
TABLES = {"department": "department", "class": "classification", "location": "location", "subsidiary": "subsidiary"}


def active_netsuite_codes(netsuite) -> set[tuple[str, str, str, str]]:
    """(kind, internal id, number, name) of every active code, read from the sandbox's data set."""
    codes = {("gl_account", row["id"], row.get("acctnumber", ""), row["fullname"].rsplit(" : ", 1)[-1])
             for row in netsuite_rows(netsuite, "SELECT id, acctnumber, fullname FROM account WHERE isinactive = 'F'")}
    for kind, table in TABLES.items():
        codes |= {(kind, row["id"], "", row["name"])
                  for row in netsuite_rows(netsuite, f"SELECT id, name FROM {table} WHERE isinactive = 'F'")}
    return codes


def test_the_template_lists_the_codes_read_from_netsuite_and_imports_back_filled_in(pair, netsuite, jaggaer, client):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications"])
    account = netsuite_rows(netsuite, "SELECT id, acctnumber FROM account WHERE acctnumber = '6100'")[0]
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id=account["id"], jaggaer_value="OFFICE")
    client.force_login(make_finance_user())

    response = client.post(CSV_URL, {"pair": pair.pk, "template": "Download template"})

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    listed = {(row["kind"], row["netsuite_id"], row["netsuite_number"], row["netsuite_name"]) for row in rows}
    assert listed == active_netsuite_codes(netsuite)
    assert len(rows) == len(listed)
    assert {(row["netsuite_id"], row["jaggaer_value"]) for row in rows if row["jaggaer_value"]} == {
        (account["id"], "OFFICE")}

    department = next(row for row in rows if row["kind"] == "department")
    department["jaggaer_value"] = "CC-FILLED"
    filled = io.StringIO()
    writer = csv.DictWriter(filled, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    upload = SimpleUploadedFile("template.csv", filled.getvalue().encode())
    client.post(CSV_URL, {"pair": pair.pk, "file": upload, "replace": "on", "import": "Import"})

    assert set(CodingMapping.objects.filter(pair=pair, status="confirmed").values_list(
        "kind", "netsuite_id", "jaggaer_value")) == {("gl_account", account["id"], "OFFICE"),
                                                     ("department", department["netsuite_id"], "CC-FILLED")}
