"""configure_connection: the operations contract's JSON, one-line errors naming the field, nothing half-saved."""

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from credentials.models import ConnectionPair, JaggaerConnection, NetSuiteConnection

pytestmark = pytest.mark.django_db

def run(data: Any, tmp_path: Path) -> str:
    path = tmp_path / "conn.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    out = io.StringIO()
    call_command("configure_connection", "--file", str(path), stdout=out)
    return out.getvalue()


def m2m(key_pem: str, **auth: Any) -> dict[str, Any]:
    return {"name": "acme-netsuite", "system": "netsuite", "account_id": "1234567_sb1",
            "auth": {"method": "oauth2_client_credentials", "client_id": "client-abc", "certificate_id": "cert-1",
                     "private_key_pem": key_pem, "algorithm": "PS256", **auth},
            "concurrency_limit": 5, "timezone": "America/Los_Angeles", "webhook_secret": "whsec-9f8e7d"}


def jaggaer(**extra: Any) -> dict[str, Any]:
    return {"name": "acme-jaggaer", "system": "jaggaer", "base_url": "https://prep-reg02.api.jaggaer.com",
            "auth": {"method": "oauth2_client_credentials", "client_id": "j-client", "client_secret": "j-secret-77aa"},
            **extra}


def test_a_netsuite_connection_is_created_normalised_and_without_printing_secrets(tmp_path: Path, rsa_key: Any) -> None:
    output = run(m2m(rsa_key.private_pem), tmp_path)

    connection = NetSuiteConnection.objects.get(name="acme-netsuite")
    assert connection.account_id == "1234567_SB1"
    assert connection.base_url == "https://1234567-sb1.suitetalk.api.netsuite.com"
    assert connection.private_key_pem == rsa_key.private_pem
    assert "Created NetSuite connection acme-netsuite" in output
    assert rsa_key.private_pem.splitlines()[1] not in output and "whsec-9f8e7d" not in output


def test_the_second_side_makes_the_pair_and_says_so(tmp_path: Path, rsa_key: Any) -> None:
    run(m2m(rsa_key.private_pem), tmp_path)
    output = run(jaggaer(), tmp_path)

    pair = ConnectionPair.objects.get()
    assert (pair.netsuite.name, pair.jaggaer.name) == ("acme-netsuite", "acme-jaggaer")
    assert "Paired acme-netsuite -> acme-jaggaer." in output
    assert "j-secret-77aa" not in output


def test_running_it_again_updates_by_name_and_clears_the_other_methods_secrets(tmp_path: Path, rsa_key: Any) -> None:
    run(m2m(rsa_key.private_pem), tmp_path)
    output = run({**m2m(""), "auth": {"method": "tba", "consumer_key": "ck", "consumer_secret": "cs",
                                      "token_id": "ti", "token_secret": "ts"}}, tmp_path)

    connection = NetSuiteConnection.objects.get()
    assert "Updated NetSuite connection" in output
    assert connection.auth_method == "tba"
    assert (connection.private_key_pem, connection.client_id, connection.certificate_id) == ("", "", "")


def test_standard_input_is_read_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(jaggaer())))
    call_command("configure_connection", "--file", "-", stdout=io.StringIO())
    assert JaggaerConnection.objects.get().client_secret == "j-secret-77aa"


def test_an_authorization_code_connection_without_refresh_token_waits_for_consent(tmp_path: Path) -> None:
    output = run({**m2m(""), "auth": {"method": "oauth2_authorization_code", "client_id": "c", "client_secret": "s"}},
                 tmp_path)
    assert NetSuiteConnection.objects.get().needs_consent
    assert "needs consent" in output


@pytest.mark.parametrize("make_input, field", [
    (lambda key: "{\"name\": \"acme\",", "not valid JSON"),
    (lambda key: "[1, 2]", "one JSON object"),
    (lambda key: {**m2m(key), "system": "sap"}, "system:"),
    (lambda key: {**m2m(key), "account_id": "acme-sandbox"}, "account_id:"),
    (lambda key: {**m2m(key), "auth": {"method": "password", "client_id": "x"}}, "auth.method:"),
    (lambda key: m2m(key, certificate_id=""), "auth.certificate_id:"),
    (lambda key: m2m("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----"), "auth.private_key_pem:"),
    (lambda key: m2m(key, algorithm="ES256"), "auth.private_key_pem: ES256 needs an EC private key"),
    (lambda key: m2m(key, algorithm="RS256"), "auth.algorithm:"),
    (lambda key: m2m(key, secret="x"), "auth.secret: unknown setting"),
    (lambda key: {**m2m(key), "timezone": "Pacific Time"}, "timezone:"),
    (lambda key: {**m2m(key), "concurrency_limit": "five"}, "concurrency_limit:"),
    (lambda key: {**jaggaer(), "auth": {"method": "oauth2_client_credentials", "client_id": "j"}},
     "auth.client_secret:"),
    (lambda key: {**jaggaer(), "dimension_fields": {"gl_acount": "GLAccount"}}, "dimension_fields:"),
])
def test_bad_input_is_refused_with_the_field_named_and_nothing_saved(
    make_input: Any, field: str, tmp_path: Path, rsa_key: Any
) -> None:
    with pytest.raises(CommandError) as refused:
        run(make_input(rsa_key.private_pem), tmp_path)

    assert field in str(refused.value)
    assert "\n" not in str(refused.value)
    assert rsa_key.private_pem.splitlines()[1] not in str(refused.value)
    assert not NetSuiteConnection.objects.exists() and not JaggaerConnection.objects.exists()


def test_an_ec_key_on_the_wrong_curve_is_refused(tmp_path: Path, ec_key: Any) -> None:
    with pytest.raises(CommandError, match="ES384 needs an EC key on secp384r1"):
        run(m2m(ec_key.private_pem, algorithm="ES384"), tmp_path)


def test_a_sandbox_account_is_not_paired_with_a_production_tenant_unless_intended(
    tmp_path: Path, rsa_key: Any
) -> None:
    run(m2m(rsa_key.private_pem), tmp_path)
    production = jaggaer(base_url="https://acme.api.jaggaer.com")

    with pytest.raises(CommandError, match="allow_production_with_sandbox"):
        run(production, tmp_path)
    assert not JaggaerConnection.objects.exists() and not ConnectionPair.objects.exists()

    run({**production, "allow_production_with_sandbox": True}, tmp_path)
    assert ConnectionPair.objects.count() == 1


def test_a_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("configure_connection", "--file", str(tmp_path / "absent.json"))


def test_a_jaggaer_connection_can_use_the_xml_imports_without_printing_their_secret(tmp_path: Path) -> None:
    output = run(jaggaer(transport="xml", xml={"identity": "acme-org", "shared_secret": "xml-secret-5b1f"}), tmp_path)

    connection = JaggaerConnection.objects.get(name="acme-jaggaer")
    assert (connection.transport, connection.xml_identity, connection.xml_shared_secret) == (
        "xml", "acme-org", "xml-secret-5b1f")
    assert "xml-secret-5b1f" not in output
    # A re-configure that leaves the secret out keeps the stored one.
    run(jaggaer(transport="xml", xml={"identity": "acme-org"}), tmp_path)
    connection.refresh_from_db()
    assert connection.xml_shared_secret == "xml-secret-5b1f"


@pytest.mark.parametrize(("extra", "error"), [
    ({"transport": "soap"}, 'transport: must be "j1p" or "xml", not \'soap\'.'),
    ({"transport": "xml"}, "xml.identity: required."),
    ({"transport": "xml", "xml": {"identity": "acme-org"}}, "xml.shared_secret: required."),
    ({"transport": "xml", "xml": "acme-org:secret"}, "xml: must be an object"),
    ({"transport": "xml", "xml": {"identity": "a", "shared_secret": "s", "password": "p"}},
     "xml.password: unknown setting"),
])
def test_bad_xml_transport_settings_are_named_and_nothing_is_saved(tmp_path: Path, extra: dict, error: str) -> None:
    with pytest.raises(CommandError, match=error.replace("(", r"\(").replace(")", r"\)")):
        run(jaggaer(**extra), tmp_path)
    assert not JaggaerConnection.objects.exists()


def test_the_netsuite_read_mode_is_set_kept_when_absent_and_a_bad_value_is_named(tmp_path: Path, rsa_key: Any) -> None:
    run({**m2m(rsa_key.private_pem), "read_mode": "rest_records"}, tmp_path)
    assert NetSuiteConnection.objects.get().read_mode == "rest_records"

    run(m2m(rsa_key.private_pem), tmp_path)
    assert NetSuiteConnection.objects.get().read_mode == "rest_records"

    with pytest.raises(CommandError) as refused:
        run({**m2m(rsa_key.private_pem), "read_mode": "soap"}, tmp_path)
    assert str(refused.value) == ('read_mode: must be "suiteql" or "rest_records" (for a role without SuiteAnalytics '
                                  "Workbook), not 'soap'.")
    assert NetSuiteConnection.objects.get().read_mode == "rest_records"
