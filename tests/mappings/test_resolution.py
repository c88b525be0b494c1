"""Resolving a NetSuite line's coding to JAGGAER values (jaggaer.md section 8)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mappings.models import CodingMapping, CodingRule, PairCodingRule
from mappings.resolution import CodingResolver, LineCoding, resolve_coding
from tests.mappings.conftest import load_classifications, load_gl_accounts, load_jaggaer_values, make_pair

FIELDS = {"gl_account": "GLAccount", "department": "CostCenter", "class": "Class", "location": "Location",
          "subsidiary": "BusinessUnit"}
DAY = date(2026, 3, 15)


def resolve(pair, on: date = DAY, fields: dict[str, str] = FIELDS, **coding: str):
    return resolve_coding(pair=pair, coding=LineCoding(**coding), on=on, dimension_fields=fields)


def test_explicit_row_gives_the_jaggaer_value_and_names_the_mapping_and_history_used(pair) -> None:
    mapping = CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="GL-6100")
    mapping.jaggaer_value = "GL-6110"
    mapping.save()

    resolution = resolve(pair, account="123")

    assert resolution.complete
    assert resolution.custom_field_values() == {"GLAccount": "GL-6110"}
    latest_history = mapping.history.latest().history_id
    assert resolution.mappings_used() == [(mapping.pk, latest_history)]


def test_each_dimension_goes_to_the_field_the_connection_configures(pair) -> None:
    for kind, netsuite_id, value in [
        ("gl_account", "123", "6100"), ("department", "5", "CC-SALES"), ("class", "7", "CL-7"),
        ("location", "9", "LOC-NYC"), ("subsidiary", "1", "BU-US"),
    ]:
        CodingMapping.objects.create(pair=pair, kind=kind, netsuite_id=netsuite_id, jaggaer_value=value)
    fields = {**FIELDS, "department": "Department"}

    resolution = resolve(pair, fields=fields, account="123", department="5", classification="7", location="9",
                         subsidiary="1")

    assert resolution.custom_field_values() == {
        "GLAccount": "6100", "Department": "CC-SALES", "Class": "CL-7", "Location": "LOC-NYC", "BusinessUnit": "BU-US",
    }


def test_dimensions_netsuite_leaves_empty_are_left_out(pair) -> None:
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100")

    resolution = resolve(pair, account="123", department=None, location="")

    assert resolution.complete
    assert resolution.custom_field_values() == {"GLAccount": "6100"}


def test_missing_pieces_are_reported_one_by_one_with_names_finance_recognises(pair) -> None:
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"))
    load_classifications(pair, "department", ("5", "Sales"))
    CodingMapping.objects.create(pair=pair, kind="location", netsuite_id="9", jaggaer_value="LOC-NYC")

    resolution = resolve(pair, account="123", department="5", location="9", subsidiary="42")

    assert not resolution.complete
    assert resolution.custom_field_values() == {"Location": "LOC-NYC"}
    assert [missing.message for missing in resolution.missing] == [
        "GL account 6100 Office Supplies (NetSuite id 123) has no JAGGAER GLAccount mapping",
        "Department Sales (NetSuite id 5) has no JAGGAER CostCenter mapping",
        "Subsidiary (NetSuite id 42) has no JAGGAER BusinessUnit mapping",
    ]
    assert [(missing.kind, missing.netsuite_id) for missing in resolution.missing] == [
        ("gl_account", "123"), ("department", "5"), ("subsidiary", "42"),
    ]


def test_same_number_rule_uses_the_account_number_when_jaggaer_has_it_active(pair) -> None:
    PairCodingRule.objects.create(pair=pair, rule=CodingRule.SAME_NUMBER)
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"), ("124", "6200", "Travel"), ("125", "", "No number"))
    load_jaggaer_values(pair, "gl_account", "6100", "125", inactive=("6200",))

    assert resolve(pair, account="123").custom_field_values() == {"GLAccount": "6100"}
    assert resolve(pair, account="123").mappings_used() == []
    # An account without a number was created in JAGGAER under its internal id.
    assert resolve(pair, account="125").custom_field_values() == {"GLAccount": "125"}
    assert [m.message for m in resolve(pair, account="124").missing] == [
        "GL account 6200 Travel (NetSuite id 124) has no JAGGAER GLAccount mapping"
    ]


def test_same_number_rule_uses_a_classifications_internal_id(pair) -> None:
    PairCodingRule.objects.create(pair=pair, rule=CodingRule.SAME_NUMBER)
    load_jaggaer_values(pair, "department", "5")

    assert resolve(pair, department="5").custom_field_values() == {"CostCenter": "5"}
    assert not resolve(pair, department="6").complete


def test_explicit_row_wins_over_the_same_number(pair) -> None:
    PairCodingRule.objects.create(pair=pair, rule=CodingRule.SAME_NUMBER)
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"))
    load_jaggaer_values(pair, "gl_account", "6100", "6100-NEW")
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100-NEW")

    assert resolve(pair, account="123").custom_field_values() == {"GLAccount": "6100-NEW"}


def test_without_the_rule_an_identical_jaggaer_value_is_not_used(pair) -> None:
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"))
    load_jaggaer_values(pair, "gl_account", "6100")

    assert not resolve(pair, account="123").complete


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 31), "OLD"),  # valid_to is inclusive: the last day of the old row
        (date(2026, 4, 1), "NEW"),  # valid_from is inclusive: the first day of the new row
        (date(2025, 12, 31), None),  # before the first row starts
    ],
)
def test_effective_dates_at_the_boundary(pair, day: date, expected: str | None) -> None:
    CodingMapping.objects.create(
        pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="OLD",
        valid_from=date(2026, 1, 1), valid_to=date(2026, 3, 31),
    )
    CodingMapping.objects.create(
        pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="NEW", valid_from=date(2026, 4, 1)
    )

    resolution = resolve(pair, on=day, account="123")

    assert resolution.custom_field_values().get("GLAccount") == expected


def test_a_proposal_is_not_used_until_finance_confirms_it(pair) -> None:
    CodingMapping.objects.create(
        pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100", status=CodingMapping.Status.PROPOSED
    )

    assert not resolve(pair, account="123").complete


def test_a_mapping_to_a_value_jaggaer_does_not_have_or_deactivated_still_waits(pair) -> None:
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"), ("124", "6200", "Travel"))
    load_jaggaer_values(pair, "gl_account", "6300", inactive=("6200",))
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100")
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="124", jaggaer_value="6200")

    assert [m.message for m in resolve(pair, account="123").missing] == [
        "GL account 6100 Office Supplies (NetSuite id 123) is mapped to JAGGAER GLAccount value '6100', "
        "but JAGGAER does not have it"
    ]
    assert [m.message for m in resolve(pair, account="124").missing] == [
        "GL account 6200 Travel (NetSuite id 124) is mapped to JAGGAER GLAccount value '6200', "
        "but it is inactive in JAGGAER"
    ]


def test_mappings_of_another_pair_are_not_used(pair) -> None:
    other = make_pair()
    CodingMapping.objects.create(pair=other, kind="gl_account", netsuite_id="123", jaggaer_value="6100")

    assert not resolve(pair, account="123").complete


def test_a_batch_resolver_makes_no_query_per_line(pair) -> None:
    load_gl_accounts(pair, *[(str(i), str(6000 + i), f"Account {i}") for i in range(200)])
    for i in range(0, 200, 2):
        CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id=str(i), jaggaer_value=str(6000 + i))
    resolver = CodingResolver(pair=pair, dimension_fields=FIELDS)

    with CaptureQueriesContext(connection) as queries:
        resolutions = [resolver.resolve(LineCoding(account=str(i)), on=DAY) for i in range(200)]

    assert len(queries) == 0
    assert sum(resolution.complete for resolution in resolutions) == 100
