"""The SuiteScript customers deploy, run under node against the real webhook: what it signs is exactly what the
endpoint verifies, and what it does when the connector refuses or is briefly unavailable."""

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

from sync.flows import PUSHED_RECORD_TYPES
from sync.models import WebhookEvent
from tests.sync.test_webhooks import SECRET, make_connection, processor  # noqa: F401 (processor: a fixture)

NODE = shutil.which("node")
SCRIPT_DIR = Path(__file__).resolve().parents[2] / "sync" / "suitescript"
HARNESS = Path(__file__).resolve().parent / "suitescript_harness" / "run.js"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed, so the SuiteScript cannot be run")


def run_script(*, entry: str, entry_point: str, context: dict, connector_url: str = "",
               tamper_body: bool = False, api_secrets: dict[str, str] | None = None) -> dict[str, Any]:
    settings = {"connectorUrl": connector_url, "connectionSlug": "acme-netsuite", "secretId": "custsecret_mlc_webhook"}
    scenario = {
        "scriptDir": str(SCRIPT_DIR), "entry": entry, "entryPoint": entry_point, "context": context,
        "parameters": {f"custscript_mlc_ue_{name}": value for name, value in (
            ("connector_url", connector_url), ("connection_slug", "acme-netsuite"),
            ("secret_id", "custsecret_mlc_webhook"))},
        "settings": settings, "apiSecrets": {"custsecret_mlc_webhook": SECRET} if api_secrets is None else api_secrets, "tamperBody": tamper_body,
    }
    finished = subprocess.run([NODE, str(HARNESS)], input=json.dumps(scenario), capture_output=True, text=True,
                              timeout=120, check=True)
    outcome = json.loads(finished.stdout)
    assert SECRET not in json.dumps(outcome["logs"])
    return outcome


def user_event(connector_url: str, *, type_: str, record_id: int = 1211, **options: Any) -> dict[str, Any]:
    record = {"type": "purchaseorder", "id": record_id}
    context = {"type": type_, "oldRecord": record} if type_ == "delete" else {"type": type_, "newRecord": record}
    return run_script(entry="ml_connector_push_ue.js", entry_point="afterSubmit", context=context,
                      connector_url=connector_url, **options)


@pytest.fixture
def connector_url(live_server: Any) -> str:
    make_connection()
    return live_server.url


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("user_event_type", "event_type"), [
    ("create", "create"), ("xedit", "edit"), ("delete", "delete"),
])
def test_the_user_event_script_pushes_a_saved_record_and_the_connector_accepts_it(
        connector_url: str, processor: list[int], user_event_type: str, event_type: str) -> None:  # noqa: F811
    outcome = user_event(connector_url, type_=user_event_type)

    [request] = outcome["requests"]
    assert request["url"] == f"{connector_url}/webhooks/netsuite/acme-netsuite/"
    assert request["code"] == 202
    assert request["headers"]["Content-Type"] == "application/json"
    assert re.fullmatch(r"t=\d{10},v1=[0-9a-f]{64}", request["headers"]["X-Signature"])
    body = json.loads(request["body"])
    assert UUID4.match(body["eventId"])
    event = WebhookEvent.objects.get()
    assert (event.status, event.event_id, event.record_type, event.record_id, event.event_type) == (
        WebhookEvent.Status.ACCEPTED, body["eventId"], "purchaseorder", "1211", event_type)
    assert processor == [event.pk]


@pytest.mark.django_db(transaction=True)
def test_the_event_subscriber_script_pushes_the_same_payload(connector_url: str) -> None:
    outcome = run_script(entry="ml_connector_push_es.js", entry_point="handle", connector_url=connector_url,
                         context={"context": {"recordType": "VENDORBILL"}, "payload": {"recordId": "877"}})

    assert [request["code"] for request in outcome["requests"]] == [202]
    event = WebhookEvent.objects.get()
    assert (event.status, event.record_type, event.record_id, event.event_type) == (
        WebhookEvent.Status.ACCEPTED, "vendorbill", "877", "edit")


@pytest.mark.django_db(transaction=True)
def test_a_body_changed_after_the_script_signed_it_is_refused_and_the_script_logs_why(connector_url: str) -> None:
    outcome = user_event(connector_url, type_="edit", tamper_body=True)

    assert [request["code"] for request in outcome["requests"]] == [401]
    event = WebhookEvent.objects.get()
    assert (event.status, event.record_id) == (WebhookEvent.Status.REJECTED, "12119")
    [error] = [log for log in outcome["logs"] if log["level"] == "error"]
    assert error["title"] == "ML connector refused the push"
    assert "HTTP 401" in error["details"] and "signature does not match" in error["details"]


@pytest.mark.django_db(transaction=True)
def test_a_connector_briefly_unable_to_store_the_event_gets_one_immediate_retry(
        connector_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    create = WebhookEvent.objects.create
    failures = iter([OperationalError("connection to server lost")])

    def create_after_one_failure(**fields: Any) -> WebhookEvent:
        for failure in failures:
            raise failure
        return create(**fields)

    monkeypatch.setattr(WebhookEvent.objects, "create", create_after_one_failure)
    outcome = user_event(connector_url, type_="edit")

    assert [request["code"] for request in outcome["requests"]] == [503, 202]
    assert outcome["requests"][0]["body"] == outcome["requests"][1]["body"]
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.ACCEPTED


def test_an_unconfigured_deployment_sends_nothing_and_logs_what_is_missing() -> None:
    outcome = user_event("", type_="edit")
    assert outcome["requests"] == []
    [error] = outcome["logs"]
    assert error["title"] == "ML connector push not configured"
    assert "connectorUrl" in error["details"]


def test_a_missing_api_secret_sends_nothing_and_logs_which_secret_to_check() -> None:
    outcome = user_event("http://127.0.0.1:1", type_="edit", api_secrets={})
    assert outcome["requests"] == []
    [error] = outcome["logs"]
    assert error["title"] == "ML connector push cannot sign"
    assert "custsecret_mlc_webhook" in error["details"]


def test_an_unreachable_connector_is_logged_without_failing_the_save() -> None:
    outcome = user_event("http://127.0.0.1:1", type_="edit")
    [error] = outcome["logs"]
    assert error["title"] == "ML connector push failed"
    assert "purchaseorder 1211 (edit) to http://127.0.0.1:1/webhooks/netsuite/acme-netsuite/" in error["details"]


def test_the_event_subscriber_definition_subscribes_every_synced_record_type_to_every_change() -> None:
    definition = ElementTree.parse(SCRIPT_DIR / "Objects" / "custevsub_mlc_push.xml").getroot()
    subscribed = {(criterion.findtext("type"), criterion.findtext("parameters/parameter/value").lower())
                  for criterion in definition.iter("criterion")}
    assert subscribed == {(change, record_type) for change in ("CREATED", "UPDATED", "DELETED")
                          for record_type in PUSHED_RECORD_TYPES}
    assert definition.findtext("scriptfilepath").endswith("/ml_connector_push_es.js]")
