"""The webhook as an attacker sees it: signatures are compared in constant time, a pushed record type or id
can never send the connector to another host than the configured NetSuite account, and the inbox admin shows
who sent what and how often they were turned away."""

import hmac
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.test import Client
from django.urls import reverse

from sync.models import WebhookEvent
from sync.triggers import webhooks
from tests.sync.helpers import netsuite_rows
from tests.sync.test_webhooks import event, make_connection, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def outgoing(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every URL the connector requests, whatever the client or session: all of them pass an HTTPAdapter."""
    sent: list[str] = []
    real_send = requests.adapters.HTTPAdapter.send

    def send(adapter: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        sent.append(request.url or "")
        return real_send(adapter, request, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    yield sent


@pytest.fixture
def processed_inline(settings: Any) -> None:
    settings.SYNC_WEBHOOK_ACCEPTED_HOOK = "sync.tasks.process_webhook_event"


def push(client: Client, capture: Any, **fields: Any) -> Any:
    """Posts a signed event to the pair's connection now, and runs what its commit hands to the processor."""
    with capture(execute=True):
        return post(client, event(**fields), timestamp=int(time.time()))


def test_signatures_are_compared_with_hmac_compare_digest_which_alone_decides(
        client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    make_connection()
    compared: list[tuple[bytes, bytes]] = []
    real_compare = hmac.compare_digest

    def spy(expected: bytes, given: bytes) -> bool:
        compared.append((expected, given))
        return real_compare(expected, given)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    forged = post(client, event(), secret="forged", timestamp=int(time.time()))
    assert forged.status_code == 401 and len(compared) == 1 and compared[0][0] != compared[0][1]

    monkeypatch.setattr(webhooks.hmac, "compare_digest", lambda expected, given: False)
    genuine = post(client, event(), timestamp=int(time.time()))
    assert genuine.status_code == 401  # a correct signature is refused when compare_digest says no: no `==` path


@pytest.mark.parametrize("record_id", [
    "1@evil.example", "../../x", "http://127.0.0.2/", "//127.0.0.2/1", "127.0.0.2:8080", "1/../../../services",
    "1?q=select", "1#x", "1%2F..", "1 OR 1=1", "1\r\nHost: evil.example",
])
def test_a_record_id_crafted_as_a_host_or_path_is_refused_400_and_nothing_is_requested(
        pair: Any, netsuite: Any, client: Client, outgoing: list[str], processed_inline: None,
        django_capture_on_commit_callbacks: Any, record_id: str) -> None:
    answer = push(client, django_capture_on_commit_callbacks, recordId=record_id)

    assert answer.status_code == 400 and "recordId must be a NetSuite internal id" in answer.json()["detail"]
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.REJECTED
    assert list(netsuite.app.requests_log) == [] and outgoing == []


@pytest.mark.parametrize("record_type", ["http://127.0.0.2/", "purchaseorder/../../x", "purchaseorder@evil.example"])
def test_a_record_type_crafted_as_a_host_or_path_is_refused_and_nothing_is_requested(
        pair: Any, netsuite: Any, client: Client, outgoing: list[str], processed_inline: None,
        django_capture_on_commit_callbacks: Any, record_type: str) -> None:
    answer = push(client, django_capture_on_commit_callbacks, recordType=record_type)

    # 422 by the push contract (sync/triggers/webhooks.py): the type is well-formed JSON text, just not one we sync.
    assert answer.status_code == 422 and "is not synced" in answer.json()["detail"]
    assert list(netsuite.app.requests_log) == [] and outgoing == []


def test_an_accepted_push_re_reads_from_the_configured_account_only(
        pair: Any, netsuite: Any, jaggaer: Any, client: Client, outgoing: list[str], processed_inline: None,
        django_capture_on_commit_callbacks: Any) -> None:
    po = netsuite_rows(netsuite, "SELECT id FROM transaction WHERE type = 'PurchOrd' ORDER BY id")[0]["id"]
    outgoing.clear()
    netsuite.app.requests_log.clear()

    answer = push(client, django_capture_on_commit_callbacks, recordId=po, eventId="http://127.0.0.2/evil")

    assert answer.status_code == 202
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    reads = [url for url in outgoing if not url.startswith(pair.jaggaer.base_url + "/")]
    assert reads and all(url.startswith(pair.netsuite.rest_url + "/") for url in reads)
    assert {tuple(entry.path.split("/")[1:3]) for entry in netsuite.app.requests_log} == {("services", "rest")}


def test_the_inbox_admin_shows_the_sender_and_how_many_later_refusals_were_only_counted(
        client: Client, admin_client: Client, settings: Any) -> None:
    make_connection()
    make_connection("other-netsuite")  # its own slug, so its refusal is not over the first slug's limit
    for _ in range(settings.SYNC_WEBHOOK_REFUSAL_LIMIT + 3):
        post(client, event(), secret="forged", timestamp=int(time.time()), client_ip="203.0.113.9")
    post(client, event(), url="/webhooks/netsuite/other-netsuite/", secret="forged", timestamp=int(time.time()),
         client_ip="198.51.100.4")
    changelist = reverse("admin:sync_webhookevent_changelist")

    flooded = admin_client.get(changelist, {"rate_limited": "yes"}).content.decode()
    by_address = admin_client.get(changelist, {"q": "198.51.100.4"}).content.decode()

    assert "Client address" in flooded and "Later refusals (429)" in flooded
    assert cells(flooded, "client_ip") == ["203.0.113.9"] and cells(flooded, "refusals_counted") == ["3"]
    assert cells(by_address, "client_ip") == ["198.51.100.4"] and cells(by_address, "refusals_counted") == ["0"]


def cells(page: str, column: str) -> list[str]:
    return re.findall(rf'<td class="field-{column}">(.*?)</td>', page)
