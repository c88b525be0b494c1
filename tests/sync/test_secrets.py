"""No secret reaches what the sync side writes: attempts, events, runs, the webhook inbox, queued tasks,
logs and the sync pages of the admin."""

import json
import logging
import time

import pytest
from django.urls import reverse

from sandbox.netsuite.push import push_signature
from sync.models import SyncRecord, WebhookEvent
from sync.run import sync_pass
from tests.credentials.test_secrets_stay_secret import every_secret, raw_database_dump
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
