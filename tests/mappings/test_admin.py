"""The admin finance staff use: validation on the form, warnings, search, filters, CSV, the coverage page
and the bulk action."""

import html
import re

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mappings.models import CodingMapping, NetSuiteReference
from sync.models import SyncRecord
from tests.mappings.conftest import load_classifications, load_gl_accounts, load_jaggaer_values

ADD_URL = reverse("admin:mappings_codingmapping_add")
LIST_URL = reverse("admin:mappings_codingmapping_changelist")
COVERAGE_URL = reverse("admin:mappings_unmappedcode_changelist")
CODES_URL = reverse("admin:mappings_netsuitereference_changelist")
CSV_URL = reverse("admin:mappings_codingmapping_csv")


def add_form(pair, **fields: str) -> dict[str, str]:
    return {"pair": str(pair.pk), "kind": "gl_account", "netsuite_id": "123", "jaggaer_value": "6100",
            "valid_from": "", "valid_to": "", "status": "confirmed", **fields}


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_a_value_jaggaer_does_not_have_is_saved_with_a_visible_warning(finance_client, pair) -> None:
    load_jaggaer_values(pair, "gl_account", "6200")

    response = finance_client.post(ADD_URL, add_form(pair), follow=True)

    assert CodingMapping.objects.get().jaggaer_value == "6100"
    assert "Saved with a warning: JAGGAER GLAccount value '6100': JAGGAER does not have it" in text_of(response)
    assert "JAGGAER does not have it" in text_of(finance_client.get(LIST_URL))


def test_an_active_value_saves_without_a_warning(finance_client, pair) -> None:
    load_jaggaer_values(pair, "gl_account", "6100")

    response = finance_client.post(ADD_URL, add_form(pair), follow=True)

    assert CodingMapping.objects.count() == 1
    assert "Saved with a warning" not in text_of(response)
    assert "⚠" not in text_of(response)


def test_overlapping_dates_are_refused_on_the_form(finance_client, pair) -> None:
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="OLD")

    response = finance_client.post(ADD_URL, add_form(pair, valid_from="2026-04-01"))

    assert response.status_code == 200
    assert "GL account 123 is already mapped to 'OLD' with no dates: the dates overlap" in text_of(response)
    assert CodingMapping.objects.count() == 1


def test_finance_can_map_a_code_that_has_a_proposal_without_deleting_it_first(finance_client, pair) -> None:
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100",
                                 status=CodingMapping.Status.PROPOSED)

    response = finance_client.post(ADD_URL, add_form(pair, jaggaer_value="6000"))

    assert response.status_code == 302, text_of(response)[-1500:]
    assert list(CodingMapping.objects.values_list("jaggaer_value", "status")) == [("6000", "confirmed")]


def test_an_unknown_netsuite_id_is_refused_once_the_list_is_loaded(finance_client, pair) -> None:
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"))

    response = finance_client.post(ADD_URL, add_form(pair, netsuite_id="999"))

    assert "NetSuite has no GL account with internal id 999" in text_of(response)
    assert not CodingMapping.objects.exists()


def test_the_add_form_opens_prefilled_and_suggests_codes_by_name(finance_client, pair) -> None:
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"))

    page = finance_client.get(f"{ADD_URL}?pair={pair.pk}&kind=gl_account&netsuite_id=123").content.decode()

    assert 'name="netsuite_id" value="123"' in page
    assert '<span class="datalist-current">GL account 6100 Office Supplies (NetSuite id 123)</span>' in page
    assert '<option value="123">GL account 6100 Office Supplies (NetSuite id 123)</option>' in page


def test_search_finds_a_mapping_by_netsuite_number_or_name(finance_client, pair) -> None:
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"), ("124", "7200", "Travel"))
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="GL-A")
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="124", jaggaer_value="GL-B")

    by_number = text_of(finance_client.get(LIST_URL, {"q": "6100"}))
    by_name = text_of(finance_client.get(LIST_URL, {"q": "travel"}))

    assert "GL-A" in by_number and "GL-B" not in by_number
    assert "GL-B" in by_name and "GL-A" not in by_name


def test_filter_shows_rows_whose_jaggaer_value_is_inactive_or_missing(finance_client, pair) -> None:
    load_jaggaer_values(pair, "gl_account", "GOOD", inactive=("OLD",))
    for netsuite_id, value in [("1", "GOOD"), ("2", "OLD"), ("3", "NEVER")]:
        CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id=netsuite_id, jaggaer_value=value)

    listed = text_of(finance_client.get(LIST_URL, {"inactive": "jaggaer"}))

    assert "OLD" in listed and "NEVER" in listed and "GOOD" not in listed


def test_netsuite_codes_filter_unmapped_and_map_by_same_number_in_bulk(finance_client, pair) -> None:
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"), ("124", "6200", "Travel"))
    load_jaggaer_values(pair, "gl_account", "6100", "6200")
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="124", jaggaer_value="TRAVEL")

    unmapped = text_of(finance_client.get(CODES_URL, {"mapping": "unmapped"}))
    assert "Office Supplies" in unmapped and "Travel" not in unmapped

    selected = NetSuiteReference.objects.values_list("pk", flat=True)
    response = finance_client.post(
        CODES_URL, {"action": "map_selected_by_same_number", "_selected_action": [str(pk) for pk in selected]},
        follow=True,
    )

    assert "1 mapped, 1 already had a mapping row, 0 have no identical active JAGGAER value" in text_of(response)
    assert dict(CodingMapping.objects.values_list("netsuite_id", "jaggaer_value")) == {"123": "6100", "124": "TRAVEL"}


def test_coverage_lists_blocking_codes_with_counts_and_prefilled_links(finance_client, pair, waiting_record) -> None:
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"), ("130", "6900", "Unused"))
    load_classifications(pair, "department", ("5", "Sales"))
    waiting_record(("gl_account", "123"), ("department", "5"))
    waiting_record(("gl_account", "123"))
    done = waiting_record(("department", "5"))
    SyncRecord.objects.filter(pk=done.pk).update(state=SyncRecord.State.DELIVERED)

    response = finance_client.get(COVERAGE_URL)
    page = text_of(response)

    assert (
        "GL account 6100 Office Supplies (NetSuite id 123) 2 GL account 6100 Office Supplies (NetSuite id 123) "
        "has no JAGGAER GLAccount mapping" in page
    )
    assert "Department Sales (NetSuite id 5) 1 " in page
    assert "GL account 6900 Unused (NetSuite id 130)" in page  # listed as unmapped, blocking nothing
    assert f'href="{ADD_URL}?pair={pair.pk}&amp;kind=gl_account&amp;netsuite_id=123"' in response.content.decode()


def test_coverage_is_linked_from_the_admin_index(finance_client) -> None:
    assert f'href="{COVERAGE_URL}"' in finance_client.get(reverse("admin:index")).content.decode()


def test_staff_without_mapping_permissions_cannot_see_coverage(client, db) -> None:
    client.force_login(User.objects.create_user("intern", is_staff=True))

    assert client.get(COVERAGE_URL).status_code == 403


def test_csv_import_in_the_admin_reports_the_bad_line_and_imports_nothing(finance_client, pair) -> None:
    upload = SimpleUploadedFile("m.csv", b"kind,netsuite_id,jaggaer_value\ngl_account,123,6100\nbogus,1,X\n")

    response = finance_client.post(CSV_URL, {"pair": pair.pk, "file": upload, "import": "Import"})

    assert "line 3: unknown kind 'bogus'" in text_of(response)
    assert not CodingMapping.objects.exists()


def test_csv_import_and_export_in_the_admin(finance_client, pair) -> None:
    upload = SimpleUploadedFile("m.csv", "\ufeffkind,netsuite_id,jaggaer_value\ngl_account,123,6100\n".encode())

    response = finance_client.post(CSV_URL, {"pair": pair.pk, "file": upload, "import": "Import"}, follow=True)
    assert "Imported m.csv: 1 created, 0 updated, 0 unchanged, 0 deleted." in text_of(response)
    assert CodingMapping.objects.get().history.get().history_user.username == "fiona"

    exported = finance_client.post(CSV_URL, {"pair": pair.pk, "export": "Export"})
    assert exported["Content-Type"].startswith("text/csv")
    assert exported.content.decode().splitlines()[1] == "gl_account,123,,,6100,,"


def test_history_shows_who_changed_a_mapping(finance_client, pair) -> None:
    finance_client.post(ADD_URL, add_form(pair))
    mapping = CodingMapping.objects.get()
    change_url = reverse("admin:mappings_codingmapping_change", args=[mapping.pk])
    finance_client.post(change_url, add_form(pair, jaggaer_value="6110"))

    history = text_of(finance_client.get(reverse("admin:mappings_codingmapping_history", args=[mapping.pk])))

    assert history.count("fiona") >= 2
    assert "6110" in history


def test_a_proposed_value_that_finance_changes_is_confirmed_and_releases_the_held_records(
        finance_client, pair, waiting_record) -> None:
    load_jaggaer_values(pair, "gl_account", "6000", "6100")
    proposal = CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100",
                                            status=CodingMapping.Status.PROPOSED)
    held = [waiting_record(("gl_account", "123")), waiting_record(("gl_account", "123"))]
    change_url = reverse("admin:mappings_codingmapping_change", args=[proposal.pk])

    response = finance_client.post(change_url, add_form(pair, jaggaer_value="6000", status="proposed"), follow=True)

    proposal.refresh_from_db()
    assert (proposal.jaggaer_value, proposal.status) == ("6000", CodingMapping.Status.CONFIRMED)
    assert "Released 2 held records (2 bills)." in text_of(response)
    assert {record.state for record in SyncRecord.objects.filter(pk__in=[r.pk for r in held])} == {"pending"}


def test_a_proposal_saved_unchanged_says_that_nothing_uses_it_until_confirmed(finance_client, pair,
                                                                               waiting_record) -> None:
    load_jaggaer_values(pair, "gl_account", "6100")
    proposal = CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100",
                                            status=CodingMapping.Status.PROPOSED)
    held = waiting_record(("gl_account", "123"))
    change_url = reverse("admin:mappings_codingmapping_change", args=[proposal.pk])

    response = finance_client.post(change_url, add_form(pair, status="proposed"), follow=True)

    assert CodingMapping.objects.get(pk=proposal.pk).status == CodingMapping.Status.PROPOSED
    assert "Saved as a proposal: nothing uses this mapping and no held record goes out until its status is " \
           "Confirmed." in text_of(response)
    assert SyncRecord.objects.get(pk=held.pk).state == SyncRecord.State.WAITING_FOR_MAPPING


def test_a_mapping_is_titled_by_the_account_number_and_name_finance_knows(finance_client, pair) -> None:
    load_gl_accounts(pair, ("13", "6900", "Trade Shows (old)"))
    load_jaggaer_values(pair, "gl_account", "6000")
    mapping = CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="13", jaggaer_value="6000")
    unknown = CodingMapping.objects.create(pair=pair, kind="department", netsuite_id="77", jaggaer_value="CC-1")

    page = text_of(finance_client.get(reverse("admin:mappings_codingmapping_change", args=[mapping.pk])))

    assert "GL account 6900 Trade Shows (old) → 6000" in page
    assert str(unknown) == "Department 77 → CC-1"


def test_the_map_it_form_names_and_suggests_codes_of_the_chosen_kind_only(finance_client, pair) -> None:
    load_classifications(pair, "subsidiary", ("2", "Honeycomb US"))
    load_classifications(pair, "class", ("2", "Retail"), ("3", "Wholesale"))
    load_jaggaer_values(pair, "class", "2", "3")
    load_jaggaer_values(pair, "subsidiary", "US-01")

    page = finance_client.get(f"{ADD_URL}?pair={pair.pk}&kind=class&netsuite_id=2").content.decode()

    netsuite_list = re.search(r'<datalist id="id_netsuite_id_suggestions">(.*?)</datalist>', page, re.S).group(1)
    jaggaer_list = re.search(r'<datalist id="id_jaggaer_value_suggestions">(.*?)</datalist>', page, re.S).group(1)
    assert "Retail" in netsuite_list and "Wholesale" in netsuite_list and "Honeycomb" not in netsuite_list
    assert 'value="US-01"' not in jaggaer_list and 'value="3"' in jaggaer_list
    current = re.search(r'<span class="datalist-current">(.*?)</span>', page).group(1)
    assert "Retail" in html.unescape(current) and "Honeycomb" not in current
