"""The connection admin: secrets write-only, Test connection, permissions by group."""

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.test import Client

from credentials.models import (
    JAGGAER_SECRET_FIELDS,
    NETSUITE_SECRET_FIELDS,
    AccessToken,
    ConnectionPair,
    JaggaerConnection,
    NetSuiteConnection,
)
from credentials.permissions import FINANCE, INTEGRATION_ADMIN
from tests.credentials.conftest import make_jaggaer, make_netsuite

pytestmark = pytest.mark.django_db

JAGGAER_ADMIN = "/admin/credentials/jaggaerconnection/"


def member_of(group: str, username: str) -> Client:
    user = User.objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    browser = Client()
    browser.force_login(user)
    return browser


def test_finance_gets_403_on_every_page_and_action_of_every_connection_model(netsuite: Any, jaggaer: Any) -> None:
    make_netsuite(netsuite)
    make_jaggaer(jaggaer)
    pair = ConnectionPair.objects.get()  # paired by configure_connection
    objects = {NetSuiteConnection: pair.netsuite, JaggaerConnection: pair.jaggaer, ConnectionPair: pair}
    registered = {model for model in admin.site._registry if model._meta.app_label == "credentials"}
    assert registered == set(objects)  # a connection model added to the admin must be added here
    finance = member_of(FINANCE, "fiona")

    refused = []
    for model, obj in objects.items():
        base = f"/admin/credentials/{model._meta.model_name}/"
        for page in ["", "add/", f"{obj.pk}/change/", f"{obj.pk}/delete/", f"{obj.pk}/history/"]:
            refused += [(f"GET {base}{page}", finance.get(base + page).status_code),
                        (f"POST {base}{page}", finance.post(base + page, {"post": "yes"}).status_code)]
        actions = ["delete_selected", *(getattr(a, "__name__", a) for a in admin.site._registry[model].actions)]
        for action in actions:
            answer = finance.post(base, {"action": action, "_selected_action": [obj.pk]})
            refused.append((f"action {action} on {base}", answer.status_code))
    for url in [f"/credentials/netsuite/{pair.netsuite.name}/consent/", "/credentials/netsuite/oauth/callback/"]:
        refused.append((f"GET {url}", finance.get(url).status_code))

    assert [entry for entry in refused if entry[1] != 403] == []
    assert "credentials" not in finance.get("/admin/").content.decode()  # not even listed
    assert ConnectionPair.objects.filter(pk=pair.pk).exists() and not AccessToken.objects.exists()


def test_finance_may_manage_mappings_read_and_replay_sync_records_but_not_touch_connections() -> None:
    finance = User.objects.create_user("fiona", is_staff=True)
    finance.groups.add(Group.objects.get(name=FINANCE))
    perms = finance.get_all_permissions()

    assert "sync.view_syncrecord" in perms and "sync.change_syncrecord" not in perms
    assert "sync.replay_syncrecord" in perms
    assert {p for p in perms if p.startswith("credentials.")} == set()
    assert all(p.startswith(("mappings.", "sync.view_")) or p == "sync.replay_syncrecord" for p in perms)


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
            "client_secret": "", "transport": "j1p", "dimension_fields": '{"gl_account": "GLAccount", '
            '"department": "Dept", "class": "Class", "location": "Location", "subsidiary": "BusinessUnit"}'}
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


def test_the_netsuite_connection_page_offers_the_read_mode_and_says_what_rest_records_cannot_see(
        netsuite: Any) -> None:
    connection = make_netsuite(netsuite)
    browser = member_of(INTEGRATION_ADMIN, "ivan")
    change = f"/admin/credentials/netsuiteconnection/{connection.pk}/change/"

    page = browser.get(change).content.decode()
    assert 'name="read_mode"' in page and '<option value="rest_records">REST records</option>' in page
    assert "cannot see a line-only edit" in page  # the field's help, whichever mode is chosen
    assert "Every change, line-only edits included" in page

    connection.read_mode = "rest_records"
    connection.save()
    page = browser.get(change).content.decode()
    assert "<strong>REST records cannot see a line-only edit</strong> that does not move" in page
    assert "through push" in page
