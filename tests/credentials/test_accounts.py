import pytest

from credentials.accounts import derived_base_url, host_label, is_production_jaggaer_url, normalise_account_id


@pytest.mark.parametrize("raw, expected", [
    ("1234567", "1234567"),
    ("1234567_SB1", "1234567_SB1"),
    ("1234567_sb1", "1234567_SB1"),
    ("1234567-sb1", "1234567_SB1"),
    (" 1234567-SB12 ", "1234567_SB12"),
])
def test_account_ids_are_stored_in_the_realm_form_netsuite_expects(raw: str, expected: str) -> None:
    assert normalise_account_id(raw) == expected


@pytest.mark.parametrize("raw", ["", "acme", "1234567_SB", "1234567_RP1", "1234567__SB1", "https://1234567.app.netsuite.com"])
def test_malformed_account_ids_are_refused_with_an_example(raw: str) -> None:
    with pytest.raises(ValueError, match="1234567_SB1"):
        normalise_account_id(raw)


def test_the_host_uses_the_lower_case_dashed_label() -> None:
    assert host_label("1234567_SB1") == "1234567-sb1"
    assert derived_base_url("1234567_SB1") == "https://1234567-sb1.suitetalk.api.netsuite.com"


@pytest.mark.parametrize("url, production", [
    ("https://acme.api.jaggaer.com", True),
    ("https://prep-reg02.api.jaggaer.com", False),
    ("https://uat-acme.jaggaer.com", False),
    ("http://127.0.0.1:8602", False),
])
def test_production_jaggaer_tenants_are_told_apart_from_test_ones(url: str, production: bool) -> None:
    assert is_production_jaggaer_url(url) is production
