"""The connection admin: secrets write-only, Test connection, permissions by group."""

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from credentials.models import JAGGAER_SECRET_FIELDS, NETSUITE_SECRET_FIELDS, JaggaerConnection, NetSuiteConnection
from credentials.permissions import FINANCE, INTEGRATION_ADMIN
from tests.credentials.conftest import make_jaggaer

pytestmark = pytest.mark.django_db

JAGGAER_ADMIN = "/admin/credentials/jaggaerconnection/"


def member_of(group: str, username: str) -> Client:
    user = User.objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.mark.parametrize("path", [
    "/admin/credentials/netsuiteconnection/", "/admin/credentials/netsuiteconnection/add/",
    JAGGAER_ADMIN, "/admin/credentials/connectionpair/",
])
def test_finance_gets_403_on_the_connection_admin(path: str) -> None:
    assert member_of(FINANCE, "fiona").get(path).status_code == 403


def test_finance_may_manage_mappings_and_read_sync_records_but_not_connections() -> None:
    finance = User.objects.create_user("fiona", is_staff=True)
    finance.groups.add(Group.objects.get(name=FINANCE))
    perms = finance.get_all_permissions()

    assert "sync.view_syncrecord" in perms and "sync.change_syncrecord" not in perms
    assert {p for p in perms if p.startswith("credentials.")} == set()
    assert all(p.startswith(("mappings.", "sync.view_")) for p in perms)


def test_integration_admins_see_the_connection_list(jaggaer: Any) -> None:
    make_jaggaer(jaggaer)
    page = member_of(INTEGRATION_ADMIN, "ivan").get(JAGGAER_ADMIN)
    assert page.status_code == 200 and "acme-jaggaer" in page.content.decode()


def test_the_form_never_shows_a_stored_secret_and_a_blank_field_keeps_it(jaggaer: Any) -> None:
    connection = make_jaggaer(jaggaer)
    secret = jaggaer.app.demo_credentials()["client_secret"]
    browser = member_of(INTEGRATION_ADMIN, "ivan")
    change = f"{JAGGAER_ADMIN}{connection.pk}/change/"

    page = browser.get(change).content.decode()
    assert secret not in page and "Stored. Leave empty to keep it" in page

    form = {"name": "acme-jaggaer", "base_url": connection.base_url, "client_id": connection.client_id,
            "client_secret": "", "dimension_fields": '{"gl_account": "GLAccount", "department": "Dept", '
            '"class": "Class", "location": "Location", "subsidiary": "BusinessUnit"}'}
    assert browser.post(change, form).status_code == 302
    connection.refresh_from_db()
    assert connection.client_secret == secret and connection.dimension_fields["department"] == "Dept"

    assert browser.post(change, {**form, "client_secret": "rotated-secret-42"}).status_code == 302
    connection.refresh_from_db()
    assert connection.client_secret == "rotated-secret-42"


def test_the_test_connection_action_says_what_was_checked_and_keeps_the_result(jaggaer: Any) -> None:
    connection = make_jaggaer(jaggaer)
    browser = member_of(INTEGRATION_ADMIN, "ivan")

    page = browser.post(JAGGAER_ADMIN, {"action": "test_connections", "_selected_action": [connection.pk]},
                        follow=True).content.decode().lower()

    assert "acme-jaggaer: works" in page and "listed the custom fields" in page
    connection.refresh_from_db()
    assert connection.last_test_ok and connection.last_tested_at
    jaggaer.app.register_client(client_id=connection.client_id, client_secret="changed-on-jaggaer")

    page = browser.post(JAGGAER_ADMIN, {"action": "test_connections", "_selected_action": [connection.pk]},
                        follow=True).content.decode()
    assert "refused the client id or client secret" in page
    assert JaggaerConnection.objects.get().last_test_ok is False


def test_history_rows_leave_every_secret_out() -> None:
    for model, secrets in [(NetSuiteConnection, NETSUITE_SECRET_FIELDS), (JaggaerConnection, JAGGAER_SECRET_FIELDS)]:
        recorded = {field.name for field in model.history.model._meta.get_fields()}
        assert "name" in recorded
        assert recorded.isdisjoint(secrets)


def test_pairing_a_sandbox_account_with_a_production_tenant_is_refused_in_the_admin() -> None:
    netsuite = NetSuiteConnection.objects.create(name="acme-netsuite", account_id="1234567_SB1",
                                                 base_url="https://1234567-sb1.suitetalk.api.netsuite.com")
    production = JaggaerConnection.objects.create(name="acme-jaggaer", base_url="https://acme.api.jaggaer.com",
                                                  client_id="j", client_secret="s")
    browser = member_of(INTEGRATION_ADMIN, "ivan")

    page = browser.post("/admin/credentials/connectionpair/add/", {"netsuite": netsuite.pk, "jaggaer": production.pk})

    assert page.status_code == 200 and "allow_production_with_sandbox" in page.content.decode()
