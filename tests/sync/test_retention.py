"""Retention: history older than SYNC_RETENTION_DAYS goes, newer history and the records stay."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from sync.models import SyncAttempt, SyncEvent, SyncRecord, WebhookEvent
from sync.operations.retention import prune_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(pair):
    now = timezone.now()
    record = SyncRecord.objects.create(pair=pair, flow="vendors", netsuite_id="77")
    for age in (40, 10):
        at = now - timedelta(days=age)
        attempt = SyncAttempt.objects.create(record=record, started_at=at, action="upsert", state_after="delivered",
                                             message=f"{age} days old")
        SyncEvent.objects.create(record=record, at=at, to_state="delivered", reason=f"{age} days old", attempt=attempt)
        WebhookEvent.objects.create(received_at=at, connection_slug="acme-netsuite", status="processed",
                                    http_status=202, reason=f"{age} days old")
    return record


def test_prunes_only_rows_older_than_the_setting(history, settings):
    settings.SYNC_RETENTION_DAYS = 30

    report = prune_history()

    assert (report.attempts, report.events, report.webhook_events) == (1, 1, 1)
    for model in (SyncAttempt, SyncEvent, WebhookEvent):
        assert list(model.objects.values_list("reason" if model is not SyncAttempt else "message", flat=True)) == [
            "10 days old"]
    assert SyncRecord.objects.filter(pk=history.pk).exists()


def test_zero_keeps_everything_forever(history, settings, capsys):
    settings.SYNC_RETENTION_DAYS = 0

    call_command("prune_history")

    assert "kept forever" in capsys.readouterr().out
    assert SyncAttempt.objects.count() == SyncEvent.objects.count() == WebhookEvent.objects.count() == 2


def test_the_command_can_override_the_days(history, capsys):
    call_command("prune_history", "--days", "5")

    assert "2 attempts, 2 state changes and 2 webhook events pruned" in capsys.readouterr().out
    assert not SyncAttempt.objects.exists()
