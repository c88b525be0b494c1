"""No secret reaches what the sync side writes: attempts, events, runs, the webhook inbox, queued tasks,
logs and the sync pages of the admin."""

import json
import logging
import time
from collections.abc import Callable, Iterator
from multiprocessing import Queue, Value
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse
from django_q.brokers import get_broker
from django_q.models import Task
from django_q.monitor import monitor
from django_q.signing import SignedPackage
from django_q.worker import worker

from credentials.errors import ConnectionFailed
from credentials.models import ConnectionPair
from mappings.models import CodingMapping
from sandbox.netsuite.push import push_signature
from sync.engine.run import sync_pass
from sync.models import SyncRecord, WebhookEvent
from tests.credentials.conftest import make_netsuite
from tests.credentials.test_secrets_stay_secret import (
    WRONG_SECRET,
    every_secret,
    raw_database_dump,
    table_rows,
)
from tests.sync.helpers import netsuite_rows

pytestmark = pytest.mark.django_db
SECRET = "whsec-acme-0a1b2c3d4e5f"
PO_PATH = "/j1p/api/public/jp/v1/purchaseorders"


def post_event(client, record_id: str, secret: str, timestamp: int):
    body = json.dumps({"eventId": f"evt-{secret[:3]}-{record_id}", "recordType": "purchaseorder",
                       "recordId": record_id, "eventType": "edit", "occurredAt": "2026-11-24T00:00:00Z"}).encode()
    return client.post("/webhooks/netsuite/acme-netsuite/", data=body, content_type="application/json",
                       HTTP_X_SIGNATURE=push_signature(secret=secret, timestamp=timestamp, body=body))


def test_a_sync_with_failures_and_pushed_events_leaves_no_secret_anywhere(
        pair, netsuite, jaggaer, client, admin_client, caplog, settings, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    settings.SYNC_WEBHOOK_ACCEPTED_HOOK = "sync.tasks.process_webhook_event"
    jaggaer.app.add_fault(kind="server_error", count=2, path=PO_PATH, method="POST")
    sync_pass(pair=pair)
    po = netsuite_rows(netsuite, "SELECT id FROM transaction WHERE type = 'PurchOrd' ORDER BY id")[0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        accepted = post_event(client, po, SECRET, int(time.time()))
    refused = post_event(client, po, "not-the-secret", int(time.time()))
    record = SyncRecord.objects.filter(flow="purchase_orders").first()
    pages = [admin_client.get(reverse("admin:sync_syncrecord_changelist")).content.decode(),
             admin_client.get(reverse("admin:sync_syncrecord_change", args=[record.pk])).content.decode(),
             admin_client.get(reverse("admin:sync_webhookevent_changelist")).content.decode()]

    assert (accepted.status_code, refused.status_code) == (202, 401)
    assert WebhookEvent.objects.count() == 2
    assert SyncRecord.objects.filter(sync_attempts__http_status=500).exists()  # failures were recorded too
    places = {"database": raw_database_dump(), "logs": caplog.text, "admin": "\n".join(pages)}
    assert record.document_number in places["admin"]  # the pages really show sync data
    for secret in every_secret(netsuite, jaggaer):
        for place, text in places.items():
            assert secret not in text, f"a secret ({secret[:4]}...) is in the {place}"


# settings.LOGGING holds these at WARNING whatever else is configured: their DEBUG lines are OAuth 1.0a signature
# base strings and keys. Production runs with that cap, so the test keeps it and checks that it is there.
CAPPED_LOGGERS = ("oauthlib", "requests_oauthlib")


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog at DEBUG on the root logger and on every logger of the process, with the loggers that do not
    pass their records to the root (django-q2's own) captured too."""
    caplog.set_level(logging.DEBUG)
    detached = []
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if not isinstance(logger, logging.Logger) or name.startswith(CAPPED_LOGGERS):
            continue
        caplog.set_level(logging.DEBUG, logger=name)
        if not logger.propagate:
            logger.addHandler(caplog.handler)
            detached.append(logger)
    assert all(logging.getLogger(name).getEffectiveLevel() == logging.WARNING for name in CAPPED_LOGGERS)
    yield caplog
    for logger in detached:
        logger.removeHandler(caplog.handler)


@pytest.fixture
def issued_tokens(netsuite: Any, jaggaer: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every access token the two sandboxes hand out during the test, also those the connector drops later."""
    issued: list[str] = []

    def noting(issue: Callable[..., str]) -> Callable[..., str]:
        def issue_and_note(*args: Any, **kwargs: Any) -> str:
            issued.append(issue(*args, **kwargs))
            return issued[-1]
        return issue_and_note

    monkeypatch.setattr(netsuite.app.auth, "issue_access_token", noting(netsuite.app.auth.issue_access_token))
    monkeypatch.setattr(jaggaer.app, "issue_access_token", noting(jaggaer.app.issue_access_token))
    return issued


def reconfigured(pair: ConnectionPair, netsuite: Any, method: str) -> ConnectionPair:
    """The pair's NetSuite account switched to another auth method (configure_connection updates by name)."""
    make_netsuite(netsuite, method)
    return ConnectionPair.objects.select_related("netsuite", "jaggaer").get(pk=pair.pk)


def run_queued_tasks() -> None:
    """What a qcluster worker does with the ORM queue, done here by django-q2's own worker and monitor: each
    task runs, its outcome is saved in django_q_task (a failure with its traceback), a success is taken off the
    queue and a failure stays on it for redelivery."""
    broker = get_broker()
    tasks, results = Queue(), Queue()
    for ack_id, package in broker.dequeue() or []:
        tasks.put({**SignedPackage.loads(package), "ack_id": ack_id})
    tasks.put("STOP")
    # A worker and a monitor first close stale database connections; here that would end the test's transaction.
    with mock.patch("django_q.worker.close_old_django_connections"), \
            mock.patch("django_q.monitor.close_old_django_connections"):
        worker(tasks, results, Value("f", -1), timeout=None)
        results.put("STOP")
        monitor(results, broker)
    for queue in (tasks, results):
        queue.close()
        queue.join_thread()


def test_full_and_failed_syncs_and_their_queued_tasks_leave_no_secret_in_any_table_or_log(
        pair, netsuite, jaggaer, client, admin_client, every_log, issued_tokens, settings,
        django_capture_on_commit_callbacks):
    settings.SYNC_WEBHOOK_ACCEPTED_HOOK = "sync.triggers.push.event_accepted"  # to django-q2's queue, as in production
    settings.SYNC_RETRY_BASE_SECONDS = 0
    settings.SYNC_MAX_ATTEMPTS = 2
    pos = netsuite_rows(netsuite, "SELECT id FROM transaction WHERE type = 'PurchOrd' AND status = 'B' ORDER BY id")

    def push(record_id: str) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return post_event(client, record_id, SECRET, int(time.time())).status_code

    # A full sync with each NetSuite auth method, so that every kind of credential is used, and a pushed event;
    # finance maps one account, so that the mapping history holds a row too.
    sync_pass(pair=pair)
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="8", jaggaer_value="6100")
    for number, method in enumerate(["tba", "oauth2_authorization_code"], start=1):
        pair = reconfigured(pair, netsuite, method)
        netsuite.app.dataset.update_purchase_order(pos[number]["id"], memo=f"Changed under {method}")
        sync_pass(pair=pair)
    assert push(pos[0]["id"]) == 202
    run_queued_tasks()
    assert {entry.auth for entry in netsuite.app.requests_log} >= {
        "oauth2_client_credentials", "tba", "oauth2_authorization_code"}

    # Then everything fails: NetSuite revokes its tokens, JAGGAER answers 500 to every purchase order, and an
    # administrator rotates the JAGGAER client secret to one JAGGAER refuses.
    netsuite.app.revoke_tokens()
    jaggaer.app.add_fault(kind="server_error", path=PO_PATH, method="POST")
    netsuite.app.dataset.update_purchase_order(pos[3]["id"], memo="Refused with a 500")
    sync_pass(pair=pair, flows=["purchase_orders"])
    form = {"name": pair.jaggaer.name, "base_url": pair.jaggaer.base_url, "client_id": pair.jaggaer.client_id,
            "client_secret": WRONG_SECRET, "transport": pair.jaggaer.transport,
            "dimension_fields": json.dumps(pair.jaggaer.dimension_fields)}
    assert admin_client.post(reverse("admin:credentials_jaggaerconnection_change", args=[pair.jaggaer.pk]),
                             form).status_code == 302
    netsuite.app.dataset.update_purchase_order(pos[4]["id"], memo="Never delivered")
    with pytest.raises(ConnectionFailed):
        sync_pass(pair=ConnectionPair.objects.select_related("netsuite", "jaggaer").get(pk=pair.pk))
    assert push(pos[4]["id"]) == 202
    run_queued_tasks()  # fails on JAGGAER's refusal, and stays queued

    rows = table_rows()
    assert SyncRecord.objects.filter(state=SyncRecord.State.FAILED).exists()
    assert sorted(WebhookEvent.objects.values_list("status", flat=True)) == ["failed", "processed"]
    assert sorted(task.success for task in Task.objects.all()) == [False, True]
    for table in ["django_q_task", "django_q_ormq", "django_q_schedule", "django_session", "django_admin_log",
                  "credentials_historicalnetsuiteconnection", "credentials_historicaljaggaerconnection",
                  "mappings_historicalcodingmapping", "credentials_accesstoken", "sync_syncattempt"]:
        assert rows[table], f"{table} is empty: the test would not see a secret in it"
    places = {"database": raw_database_dump(), "logs": every_log.text}
    assert "Traceback" in places["database"] and "JAGGAER refused the client id" in places["logs"]
    assert "Failed 'sync.tasks.process_webhook_event'" in places["logs"]  # django-q2's own logger is captured
    assert len(issued_tokens) >= 4
    for secret in every_secret(netsuite, jaggaer, issued_tokens=issued_tokens):
        for place, text in places.items():
            assert secret not in text, f"a secret ({secret[:4]}...) is in the {place}"
