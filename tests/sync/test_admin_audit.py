"""Whoever acts in the admin is in the audit trail: a replay names its actor on the record's state change, and
a mapping changed in its form or imported from a CSV file names its user in the mapping's history. The person
logs in through the login form and posts the forms with their CSRF token, as a browser would."""

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from credentials.permissions import INTEGRATION_ADMIN
from mappings.models import CodingMapping, CodingRule, PairCodingRule
from sync.engine.run import sync_pass
from sync.models import SyncEvent, SyncRecord

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def ivan(settings: Any) -> Client:
    """An Integration admin logged in through the admin's login form."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = User.objects.create_user("ivan", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=INTEGRATION_ADMIN))
    browser = Client(enforce_csrf_checks=True)
    login = reverse("admin:login")
    answer = browser.post(login, {"username": "ivan", "password": PASSWORD, "next": "/admin/",
                                  "csrfmiddlewaretoken": csrf_token(browser, login)})
    assert answer.status_code == 302
    return browser


def csrf_token(browser: Client, form_url: str) -> str:
    """The token the form at `form_url` carries (Django accepts the cookie's secret in its place)."""
    assert browser.get(form_url).status_code == 200
    return browser.cookies["csrftoken"].value


def test_a_replay_from_the_admin_names_who_asked_for_it(pair: Any, netsuite: Any, jaggaer: Any, ivan: Client) -> None:
    sync_pass(pair=pair)
    record = SyncRecord.objects.filter(flow="purchase_orders").first()
    changelist = reverse("admin:sync_syncrecord_changelist")

    answer = ivan.post(changelist, {"action": "replay_selected", "_selected_action": [record.pk], "confirm": "yes",
                                    "csrfmiddlewaretoken": csrf_token(ivan, changelist)}, follow=True)

    assert "Replayed. purchase_orders: 1 delivered" in answer.content.decode()
    replayed = record.events.get(reason="Replay requested")
    assert replayed.actor == "ivan"
    assert SyncEvent.objects.filter(actor="ivan").count() == 1


def test_a_mapping_changed_in_its_form_names_its_user_in_the_history(
        pair: Any, netsuite: Any, jaggaer: Any, ivan: Client) -> None:
    # Under "explicit only" the flow proposes identity mappings, written by no person.
    PairCodingRule.objects.filter(pair=pair).update(rule=CodingRule.EXPLICIT_ONLY)
    sync_pass(pair=pair, flows=["gl_accounts"])
    proposal = CodingMapping.objects.filter(pair=pair, kind="gl_account", status=CodingMapping.Status.PROPOSED)[0]
    change = reverse("admin:mappings_codingmapping_change", args=[proposal.pk])

    answer = ivan.post(change, {
        "pair": pair.pk, "kind": "gl_account", "netsuite_id": proposal.netsuite_id, "jaggaer_value": "6000",
        "valid_from": "", "valid_to": "", "status": "confirmed", "csrfmiddlewaretoken": csrf_token(ivan, change)})

    assert answer.status_code == 302
    mapping = CodingMapping.objects.get(pair=pair, kind="gl_account", netsuite_id=proposal.netsuite_id,
                                        status=CodingMapping.Status.CONFIRMED)
    latest = mapping.history.latest()
    assert (latest.jaggaer_value, latest.history_user.username) == ("6000", "ivan")


def test_a_csv_import_from_the_admin_names_its_user_in_the_history(
        pair: Any, netsuite: Any, jaggaer: Any, ivan: Client) -> None:
    sync_pass(pair=pair, flows=["gl_accounts"])
    account = SyncRecord.objects.filter(pair=pair, flow="gl_accounts").order_by("pk")[0].netsuite_id
    form = reverse("admin:mappings_codingmapping_csv")
    upload = SimpleUploadedFile("m.csv", f"kind,netsuite_id,jaggaer_value\ngl_account,{account},6000\n".encode())

    answer = ivan.post(form, {"pair": pair.pk, "file": upload, "import": "Import",
                              "csrfmiddlewaretoken": csrf_token(ivan, form)})

    assert answer.status_code == 302
    imported = CodingMapping.objects.get(pair=pair, kind="gl_account", netsuite_id=account,
                                         status=CodingMapping.Status.CONFIRMED)
    assert imported.history.latest().history_user.username == "ivan"
