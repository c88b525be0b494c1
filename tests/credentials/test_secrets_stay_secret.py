"""No secret in clear text anywhere a person or an attacker might look: the raw database, logs,
command output, exception messages, history rows, admin pages."""

import logging
from collections.abc import Iterable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection as db_connection
from django.test import Client
from django_q.models import OrmQ, Task

from credentials.diagnosis import check_connection
from credentials.errors import ConnectionFailed
from credentials.jaggaer_auth import jaggaer_session
from credentials.models import AccessToken, JaggaerConnection, NetSuiteConnection
from credentials.netsuite_auth import netsuite_session
from tests.credentials.conftest import make_jaggaer, make_netsuite, suiteql_one

pytestmark = pytest.mark.django_db

WRONG_SECRET = "wrong-secret-b7c1e0d9"
CUSTOM_FIELDS = "/j1p/api/public/jcf/v1/customfields"


def every_secret(netsuite: Any, jaggaer: Any, *, issued_tokens: Iterable[str] = ()) -> list[str]:
    """The sandboxes' credentials, the wrong secret tests type, and access tokens: those cached now and
    `issued_tokens` (what the sandboxes handed out, including tokens the connector has since dropped)."""
    demo = netsuite.app.demo_credentials()
    # Each base64 line of the key's body on its own: a PEM split or re-wrapped somewhere still shows them.
    key_lines = [line for line in demo["oauth2_client_credentials"]["private_key_pem"].splitlines()[1:-1]
                 if len(line) >= 16]
    values = [
        *key_lines,
        demo["oauth2_authorization_code"]["client_secret"], demo["oauth2_authorization_code"]["refresh_token"],
        *(demo["tba"][name] for name in ("consumer_key", "consumer_secret", "token_id", "token_secret")),
        jaggaer.app.demo_credentials()["client_secret"], "whsec-acme-0a1b2c3d4e5f", WRONG_SECRET,
        *(row.token for row in AccessToken.objects.exclude(obtained_at=None)), *issued_tokens,
    ]
    assert all(len(value) >= 16 for value in values)
    return values


def table_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (history, task queue, sessions and admin log included), as the database
    stores it; binary columns as bytes, whose repr shows any text they hold."""
    rows = {}
    with db_connection.cursor() as cursor:
        for table in db_connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {db_connection.ops.quote_name(table)}")
            rows[table] = [tuple(bytes(value) if isinstance(value, memoryview) else value for value in row)
                           for row in cursor.fetchall()]
    return rows


def decoded_rows() -> dict[str, list[Any]]:
    """What some tables keep encoded, decoded: django-q2's pickled task arguments and results, its signed
    queued packages, and signed session data. A secret in them would not show in the raw rows."""
    return {
        "django_q_task": list(Task.objects.values_list("name", "func", "args", "kwargs", "result")),
        "django_q_ormq": [queued.task for queued in OrmQ.objects.all()],
        "django_session": [session.get_decoded() for session in Session.objects.all()],
    }


def raw_database_dump() -> str:
    """Every row of every table, as the database stores it and with encoded columns decoded."""
    chunks = [f"{table}: {rows!r}" for table, rows in table_rows().items()]
    chunks.extend(f"{table} (decoded): {rows!r}" for table, rows in decoded_rows().items())
    return "\n".join(chunks)


def test_no_secret_in_clear_text_anywhere(netsuite: Any, jaggaer: Any, caplog: pytest.LogCaptureFixture,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    connections = [make_netsuite(netsuite, "oauth2_client_credentials", name="ns-m2m"),
                   make_netsuite(netsuite, "oauth2_authorization_code", name="ns-code"),
                   make_netsuite(netsuite, "tba", name="ns-tba"),
                   make_jaggaer(jaggaer)]
    for connection in connections[:3]:
        assert suiteql_one(netsuite_session(connection=connection), connection).status_code == 200
    jaggaer_connection = connections[3]
    assert jaggaer_session(connection=jaggaer_connection).get(jaggaer_connection.base_url + CUSTOM_FIELDS).ok
    assert AccessToken.objects.count() == 3  # two NetSuite OAuth 2.0 connections and JAGGAER; TBA has none

    for connection in NetSuiteConnection.objects.all():  # a change through the model writes history rows
        connection.concurrency_limit = 3
        connection.save()
    messages = []
    broken = make_jaggaer(jaggaer, name="broken-jaggaer", auth={
        "method": "oauth2_client_credentials", "client_id": "someone", "client_secret": WRONG_SECRET})
    with pytest.raises(ConnectionFailed) as failed:
        jaggaer_session(connection=broken).get(broken.base_url + CUSTOM_FIELDS)
    messages.append(str(failed.value))
    messages.append(check_connection(connection=broken).summary)
    with pytest.raises(CommandError) as command_failed:
        call_command("check_connections")
    messages.append(str(command_failed.value))

    browser = Client()
    browser.force_login(User.objects.create_superuser("ada", "ada@example.com", "pw"))
    pages = []
    for model, connection in [(type(c)._meta.model_name, c) for c in
                              [*NetSuiteConnection.objects.all(), *JaggaerConnection.objects.all()]]:
        for page in ("change", "history"):
            response = browser.get(f"/admin/credentials/{model}/{connection.pk}/{page}/")
            assert response.status_code == 200
            pages.append(response.content.decode())
        pages.append(browser.get(f"/admin/credentials/{model}/").content.decode())

    output = capsys.readouterr()
    places = {"database": raw_database_dump(), "logs": caplog.text, "output": output.out + output.err,
              "exceptions": "\n".join(messages), "admin": "\n".join(pages)}
    assert "ns-m2m" in places["output"] and "ns-m2m" in places["admin"]  # the places really hold our data
    for secret in every_secret(netsuite, jaggaer):
        for place, text in places.items():
            assert secret not in text, f"a secret ({secret[:4]}...) is in the {place}"
