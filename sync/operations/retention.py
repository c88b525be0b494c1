"""Retention: attempts, state changes and webhook inbox rows older than SYNC_RETENTION_DAYS (90 by default)
are deleted; 0 keeps everything. The default is finite because the inbox also records refused pushes from
anyone. Records themselves stay: they are the connector's memory of what JAGGAER holds."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from sync.models import SyncAttempt, SyncEvent, WebhookEvent

# Deleted in slices so that pruning a large backlog never holds long locks on the live tables.
CHUNK = 5000


@dataclass
class PruneReport:
    attempts: int = 0
    events: int = 0
    webhook_events: int = 0

    def __str__(self) -> str:
        return (f"{self.attempts} attempts, {self.events} state changes and {self.webhook_events} webhook events "
                "pruned")


def prune_history(*, days: int | None = None, now: datetime | None = None) -> PruneReport:
    """Deletes history older than `days` (default SYNC_RETENTION_DAYS); 0 deletes nothing. Events go first:
    they point at attempts."""
    days = settings.SYNC_RETENTION_DAYS if days is None else days
    if days <= 0:
        return PruneReport()
    before = (now or timezone.now()) - timedelta(days=days)
    return PruneReport(
        events=_delete_in_chunks(SyncEvent.objects.filter(at__lt=before)),
        attempts=_delete_in_chunks(SyncAttempt.objects.filter(started_at__lt=before)),
        webhook_events=_delete_in_chunks(WebhookEvent.objects.filter(received_at__lt=before)),
    )


def _delete_in_chunks(rows: QuerySet) -> int:
    deleted = 0
    while ids := list(rows.values_list("pk", flat=True)[:CHUNK]):
        with transaction.atomic():
            deleted += rows.model.objects.filter(pk__in=ids).delete()[1].get(rows.model._meta.label, 0)
    return deleted


def prune_history_task() -> None:
    """The django-q2 task: schedule `sync.operations.retention.prune_history_task` daily."""
    prune_history()
