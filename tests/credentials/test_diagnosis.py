""""Test connection" and check_connections name common mistakes in plain words."""

import io
import socket
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from credentials.diagnosis import check_connection
from credentials.errors import Problem
from tests.credentials.conftest import make_jaggaer, make_netsuite

pytestmark = pytest.mark.django_db


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("method", ["oauth2_client_credentials", "oauth2_authorization_code", "tba"])
def test_a_working_netsuite_connection_reports_what_was_checked(netsuite: Any, method: str) -> None:
    connection = make_netsuite(netsuite, method)

    report = check_connection(connection=connection)

    assert report.ok, report.summary
    assert "read one subsidiary with SuiteQL" in report.summary
    connection.refresh_from_db()
    assert connection.last_test_ok and connection.last_tested_at and "SuiteQL" in connection.last_test_result


def test_a_bad_client_id_is_named(jaggaer: Any, netsuite: Any) -> None:
    jaggaer_report = check_connection(connection=make_jaggaer(jaggaer, auth={
        "method": "oauth2_client_credentials", "client_id": "typo-client", "client_secret": "x"}))
    auth = {**netsuite.app.demo_credentials()["oauth2_authorization_code"], "client_id": "typo-client"}
    netsuite_report = check_connection(connection=make_netsuite(netsuite, "oauth2_authorization_code", auth=auth))

    for report in (jaggaer_report, netsuite_report):
        assert not report.ok and report.problem == Problem.BAD_CLIENT
        assert "refused the client id or client secret" in report.summary


def test_a_key_that_does_not_match_the_certificate_is_named(netsuite: Any, rsa_key: Any) -> None:
    auth = {**netsuite.app.demo_credentials()["oauth2_client_credentials"], "private_key_pem": rsa_key.private_pem}

    report = check_connection(connection=make_netsuite(netsuite, auth=auth))

    assert report.problem == Problem.BAD_KEY
    assert "private key does not match" in report.summary


def test_a_wrong_tba_token_secret_is_named(netsuite: Any) -> None:
    auth = {**netsuite.app.demo_credentials()["tba"], "token_secret": "0" * 64}

    report = check_connection(connection=make_netsuite(netsuite, "tba", auth=auth))

    assert not report.ok and report.problem == Problem.BAD_TBA_TOKEN
    assert "0" * 64 not in report.summary


def test_clock_skew_is_named(netsuite: Any) -> None:
    connection = make_netsuite(netsuite, "oauth2_client_credentials")
    netsuite.app.clock.advance(15 * 60)  # NetSuite's clock runs 15 minutes ahead of ours

    report = check_connection(connection=connection)

    assert report.problem == Problem.CLOCK_SKEW
    assert "clock" in report.summary


def test_a_wrong_account_id_is_named_with_the_account_that_answered(netsuite: Any) -> None:
    report = check_connection(connection=make_netsuite(netsuite, "tba", account_id="7654321_SB1"))

    assert report.problem == Problem.WRONG_ACCOUNT
    assert "is NetSuite account 1234567_SB1, but the connection says 7654321_SB1" in report.summary


def test_an_unreachable_host_is_named(netsuite: Any, jaggaer: Any) -> None:
    url = closed_port_url()
    reports = [check_connection(connection=make_netsuite(netsuite, "oauth2_client_credentials", base_url=url)),
               check_connection(connection=make_netsuite(netsuite, "tba", name="tba-netsuite", base_url=url)),
               check_connection(connection=make_jaggaer(jaggaer, base_url=url))]

    for report in reports:
        assert report.problem == Problem.UNREACHABLE
        assert f"Could not reach {url.removeprefix('http://')}: the connection was refused" in report.summary


def test_check_connections_prints_a_line_per_connection_and_fails_if_one_fails(netsuite: Any, jaggaer: Any) -> None:
    make_netsuite(netsuite, "tba")
    make_jaggaer(jaggaer, auth={"method": "oauth2_client_credentials", "client_id": "typo", "client_secret": "x"})
    out = io.StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("check_connections", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("ok   acme-netsuite (NetSuite): ")
    assert lines[1].startswith("FAIL acme-jaggaer (JAGGAER): JAGGAER refused the client id or client secret")
    assert failed.value.returncode == 1


def test_check_connections_with_names_checks_only_those(netsuite: Any, jaggaer: Any) -> None:
    make_netsuite(netsuite, "tba")
    make_jaggaer(jaggaer)
    out = io.StringIO()

    call_command("check_connections", "acme-jaggaer", stdout=out)

    assert out.getvalue().splitlines() == [
        "ok   acme-jaggaer (JAGGAER): obtained an access token (client credentials); listed the custom fields."]
    with pytest.raises(CommandError, match="no connection named nobody"):
        call_command("check_connections", "nobody")


def test_check_connections_checks_the_xml_identity_and_secret_without_writing(jaggaer: Any) -> None:
    make_jaggaer(jaggaer, transport="xml", xml=jaggaer.app.demo_xml_credentials())
    out = io.StringIO()

    call_command("check_connections", "acme-jaggaer", stdout=out)

    assert "XML identity 'ml-connector-demo' and its shared secret accepted by /apps/Router/TSMSupplierXMLImport" \
        in out.getvalue()
    assert not jaggaer.app.received()


def test_a_refused_xml_shared_secret_is_named_and_not_printed(jaggaer: Any) -> None:
    make_jaggaer(jaggaer, transport="xml", xml={"identity": "ml-connector-demo", "shared_secret": "not-the-secret"})
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("check_connections", "acme-jaggaer", stdout=out)

    assert "JAGGAER refused the XML identity 'ml-connector-demo' or its shared secret" in out.getvalue()
    assert "not-the-secret" not in out.getvalue()
