""""Test connection": authenticate, make one cheap read, and say in plain words what was checked and
what failed. Used by the admin action and `check_connections`; the outcome is kept on the connection."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from credentials.errors import ConnectionFailed, Problem
from credentials.jaggaer_auth import jaggaer_session
from credentials.models import (
    JaggaerConnection,
    JaggaerTransport,
    NetSuiteAuthMethod,
    NetSuiteConnection,
    NetSuiteReadMode,
)
from credentials.netsuite_auth import netsuite_session
from credentials.session import BearerAuth, ConnectionSession
from credentials.tokens import unreachable
from sync.remote.errors import JaggaerError
from sync.remote.jaggaer_xml import JaggaerXmlClient

# The generic NetSuite 401 names the account that answered (spec section 2d).
_REALM = re.compile(r'realm="([^"]*)"')


@dataclass
class ConnectionReport:
    ok: bool = True
    checked: list[str] = field(default_factory=list)
    problem: Problem | None = None
    failure: str = ""

    @property
    def summary(self) -> str:
        done = "; ".join(self.checked) if self.checked else "nothing"
        return f"{done}." if self.ok else f"{self.failure} (checked: {done})"


def check_connection(*, connection: NetSuiteConnection | JaggaerConnection) -> ConnectionReport:
    """Runs the check and stores its time and outcome on the connection."""
    report = ConnectionReport()
    try:
        if isinstance(connection, NetSuiteConnection):
            _test_netsuite(connection, report)
        else:
            _test_jaggaer(connection, report)
    except ConnectionFailed as exc:
        report.ok, report.problem, report.failure = False, exc.problem, exc.message
    connection.last_tested_at = datetime.now(tz=UTC)
    connection.last_test_ok = report.ok
    connection.last_test_result = report.summary
    # An update, not save(): a test is not a change of the connection, so it writes no history row.
    type(connection).objects.filter(pk=connection.pk).update(
        last_tested_at=connection.last_tested_at, last_test_ok=report.ok, last_test_result=report.summary,
    )
    return report


def _fresh_token(session: ConnectionSession, report: ConnectionReport, what: str) -> None:
    """A stored token could hide credentials that stopped working: ask for a new one."""
    if isinstance(session.auth, BearerAuth):
        cached = session.auth.tokens.get_cached()
        session.auth.tokens.renew(stale=cached)
        report.checked.append(f"obtained an access token ({what})")


# What each read mode needs of the integration's role, in the admin's words.
_SUITEQL_REFUSED = "SuiteQL refused: the role lacks SuiteAnalytics Workbook"
_REST_REFUSED = "REST records refused: the role lacks the permissions to view its records (e.g. Lists > Subsidiaries)"


def _test_netsuite(connection: NetSuiteConnection, report: ConnectionReport) -> None:
    """Tries both read modes, so that the report says which the role allows and which to choose."""
    session = netsuite_session(connection=connection)
    _fresh_token(session, report, connection.get_auth_method_display())
    if connection.auth_method == NetSuiteAuthMethod.TBA:
        report.checked.append(f"signed requests with TBA (HMAC-SHA256, realm {connection.realm})")
    suiteql = _allowed(connection, session, "POST", "/query/v1/suiteql", "the SuiteQL read", params={"limit": 1},
                       json={"q": "SELECT id FROM subsidiary"}, headers={"Prefer": "transient"})
    rest = _allowed(connection, session, "GET", "/record/v1/subsidiary", "the REST record list", params={"limit": 1})
    if suiteql:
        report.checked.append("read one subsidiary with SuiteQL")
    if rest:
        report.checked.append("listed subsidiaries through REST records")
    if not (suiteql or rest):
        raise ConnectionFailed(Problem.REFUSED, (
            "NetSuite accepted the login but the role may not run SuiteQL nor read REST records (403): give the "
            "integration's role the REST Web Services and SuiteAnalytics Workbook permissions."
        ))
    chosen = connection.read_mode
    if not suiteql:
        verdict = f"{_SUITEQL_REFUSED}; REST records allowed"
        if chosen == NetSuiteReadMode.SUITEQL:
            raise ConnectionFailed(Problem.REFUSED, f"{verdict}: set the connection's read mode to REST records "
                                   '("read_mode": "rest_records"), or give the role SuiteAnalytics Workbook.')
    elif not rest:
        verdict = f"SuiteQL allowed; {_REST_REFUSED}"
        if chosen == NetSuiteReadMode.REST_RECORDS:
            raise ConnectionFailed(Problem.REFUSED, f"{verdict}: set the connection's read mode to SuiteQL "
                                   '("read_mode": "suiteql").')
    else:
        # SuiteQL reads in bulk (about 10 requests per 1,000 POs against about 1,000) and sees line-only edits.
        verdict = "SuiteQL allowed; REST records allowed" + (
            "" if chosen == NetSuiteReadMode.SUITEQL else " (suggested read mode: SuiteQL, which reads in bulk and "
            "sees line-only edits)")
    report.checked.append(f"{verdict}; read mode {connection.get_read_mode_display()}")


def _allowed(connection: NetSuiteConnection, session: ConnectionSession, method: str, path: str, what: str,
             **kwargs: Any) -> bool:
    """Whether the role may make this read: True on 200, False on NetSuite's 403; any other answer is a failure."""
    url = f"{connection.rest_url}{path}"
    try:
        response = session.request(method, url, **kwargs)
    except requests.RequestException as exc:
        raise unreachable(url, exc) from None
    if response.status_code == 200:
        return True
    if response.status_code == 401:
        raise _netsuite_login_refused(connection, response)
    if response.status_code == 403:
        return False
    raise ConnectionFailed(Problem.REFUSED, f"NetSuite answered {what} with HTTP {response.status_code}"
                           f"{_netsuite_detail(response)}.")


def _netsuite_login_refused(connection: NetSuiteConnection, response: requests.Response) -> ConnectionFailed:
    realm = _REALM.search(response.headers.get("WWW-Authenticate", ""))
    if realm and realm.group(1) and realm.group(1) != connection.account_id:
        return ConnectionFailed(Problem.WRONG_ACCOUNT, (
            f"Wrong account id: the server at {connection.base_url} is NetSuite account {realm.group(1)}, "
            f"but the connection says {connection.account_id}."
        ))
    if connection.auth_method == NetSuiteAuthMethod.TBA:
        return ConnectionFailed(Problem.BAD_TBA_TOKEN, (
            "NetSuite refused the signed request (INVALID_LOGIN): check the consumer key and secret and the "
            f"token id and secret, that the token belongs to account {connection.account_id}, and that this "
            "computer's clock is within 5 minutes of the real time."
        ))
    return ConnectionFailed(Problem.REFUSED, (
        "NetSuite refused a freshly issued access token (INVALID_LOGIN): the integration record may be "
        "disabled, or the role lacks the REST Web Services permission."
    ))


def _netsuite_detail(response: requests.Response) -> str:
    try:
        details = response.json().get("o:errorDetails") or []
        return f": {details[0]['detail']}" if details else ""
    except (ValueError, AttributeError, KeyError, IndexError, TypeError):
        return ""


def _test_jaggaer(connection: JaggaerConnection, report: ConnectionReport) -> None:
    session = jaggaer_session(connection=connection)
    _fresh_token(session, report, "client credentials")
    url = f"{connection.base_url.rstrip('/')}/j1p/api/public/jcf/v1/customfields"
    try:
        response = session.get(url)
    except requests.RequestException as exc:
        raise unreachable(url, exc) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 200 and isinstance(body, dict) and body.get("returnCode") == 0:
        report.checked.append("listed the custom fields")
        if connection.transport == JaggaerTransport.XML:
            _test_jaggaer_xml(connection, session, report)
        return
    if response.status_code == 200 and isinstance(body, dict):
        raise ConnectionFailed(Problem.REFUSED, (
            f"JAGGAER answered the custom-field list with returnCode {body.get('returnCode')}: "
            f"{body.get('returnMessage') or 'no message'}."
        ))
    raise ConnectionFailed(Problem.REFUSED, (
        f"JAGGAER answered the custom-field list with HTTP {response.status_code}: check the base URL and "
        "that the integration client may read custom fields."
    ))


def _test_jaggaer_xml(connection: JaggaerConnection, session: requests.Session, report: ConnectionReport) -> None:
    """The XML imports' Identity and SharedSecret, by a supplier message that holds no supplier: nothing is
    written. The OAuth client was checked first: invoices and custom-field values still go through J1P."""
    client = JaggaerXmlClient(session=session, base_url=connection.base_url, identity=connection.xml_identity,
                              shared_secret=connection.xml_shared_secret, max_attempts=1, timeout=30)
    try:
        report.checked.append(client.check_credentials())
    except JaggaerError as exc:
        problem = Problem.UNREACHABLE if exc.code == "TRANSPORT" else Problem.REFUSED
        raise ConnectionFailed(problem, f"JAGGAER's XML supplier import did not accept an empty message: {exc}") from None
