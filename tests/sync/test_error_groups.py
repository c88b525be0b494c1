"""Normalising error messages, so that one cause met by many records is one group of the error console; and the
pattern that filters the record list on a group, which must find the same records."""

import re

import pytest

from sync.operations.error_groups import message_pattern, normalised_message


@pytest.mark.parametrize(("first", "second"), [
    ("Line 1 of PO10005 has no GL account (expense account)",
     "Line 12 of PO10231 has no GL account (expense account)"),
    ("The purchase order PO10007 has an unknown currency (id '99')",
     "The purchase order PO10008 has an unknown currency (id '1')"),
    ('Vendor "Acme, Inc." has payment terms 30 days', 'Vendor "Büro Müller GmbH" has payment terms 45 days'),
    ("Amount 1,234.50 exceeds the budget of 1,000.00 on 2026-12-05", "Amount 9.99 exceeds the budget of 5 on 2027-01-31"),
    ("Vendor “Acme” is inactive", "Vendor “Globex” is inactive"),
])
def test_the_same_cause_with_other_numbers_ids_amounts_or_quoted_values_reads_the_same(first, second):
    assert normalised_message(first) == normalised_message(second)


def test_numbers_and_quoted_values_become_placeholders():
    assert normalised_message("The purchase order PO10007 has an unknown currency (id '99')") == (
        'The purchase order PO<n> has an unknown currency (id "…")')


@pytest.mark.parametrize(("first", "second"), [
    ("Line 1 of PO10005 has no GL account (expense account)", "Line 1 of PO10005 has no date (trandate)"),
    ("JAGGAER HTTP 500 HTTP_500: Internal server error", "JAGGAER HTTP 502 HTTP_502: Internal server error"),
    ("Vendor 'Acme' is inactive", "Vendor 'Acme' is unknown"),
])
def test_different_causes_stay_apart(first, second):
    assert normalised_message(first) != normalised_message(second)


def test_the_http_status_and_the_error_code_are_kept_as_they_name_the_cause():
    message = "JAGGAER HTTP 422 E1042: Supplier 7781 is blocked"

    assert normalised_message(message, code="E1042") == "JAGGAER HTTP 422 E1042: Supplier <n> is blocked"


def test_an_apostrophe_is_not_taken_for_a_quoted_value():
    assert normalised_message("The vendor's bill 17 can't be sent") == "The vendor's bill <n> can't be sent"


def test_records_that_gave_up_retrying_fall_in_the_group_of_those_still_retrying():
    retrying = "JAGGAER HTTP 503 HTTP_503: Service unavailable: scheduled maintenance"

    assert normalised_message(f"{retrying} (gave up after 8 attempts)") == normalised_message(retrying)


def test_normalising_twice_changes_nothing_more():
    once = normalised_message("""Line 3 of PO10005: account "6100" and 'X' cost 12.50""")

    assert normalised_message(once) == once


@pytest.mark.parametrize("message", [
    "Line 1 of PO10005 has no GL account (expense account)",
    "The purchase order PO10007 has an unknown currency (id '99')",
    "JAGGAER HTTP 503 HTTP_503: Service unavailable [maintenance] (gave up after 8 attempts)",
    'Vendor "Acme, Inc." owes $1,234.50 * 2 | ^ {x}? \\ done.',
    "",
])
def test_the_record_list_pattern_of_a_group_matches_its_messages(message):
    pattern = message_pattern(normalised_message(message))

    assert re.search(pattern, message)


def test_the_record_list_pattern_refuses_another_cause():
    pattern = message_pattern(normalised_message("Line 1 of PO10005 has no GL account (expense account)"))

    assert re.search(pattern, "Line 7 of PO20001 has no GL account (expense account)")
    assert re.search(pattern, "Line 1 of PO10005 has no GL account (expense account)!") is None
    assert re.search(pattern, "Line 1 of PO10005 has no date (trandate)") is None
