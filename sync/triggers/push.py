"""Processing pushed events: the push is only a hint, so the record is re-read from NetSuite and goes
through the same recording and delivery as a poll (which therefore cannot deliver it twice). An event whose
processing failed (NetSuite unreachable, a re-read that came back empty) is processed again with back-off,
so that a push-only set-up loses nothing either."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from credentials.models import ConnectionPair
from sync.engine.deliver import deliver_due
from sync.engine.pull import pull_one
from sync.engine.run import Clients
from sync.flows import flow_of_record_type
from sync.models import SyncRecord, WebhookEvent
from sync.remote.backoff import backoff_delay
from sync.remote.errors import failure_words

logger = logging.getLogger(__name__)

# How long a worker that took a due event for processing keeps others from taking it too.
TAKEN_FOR = timedelta(minutes=10)
# An accepted event still unprocessed after this long lost its task: a broker restarted without persistence,
# or the worker that had taken it died (django-q2's Redis broker does not redeliver). Processing it again is
# harmless if its task was merely late: a processed event is not processed twice.
UNPROCESSED_AFTER = timedelta(minutes=5)



def event_accepted(*, event_id: int) -> None:
    """Called once the accepted event is committed: the worker processes it."""
    async_task("sync.tasks.process_webhook_event", event_id)


def process_event(*, event_id: int, clients: Clients | None = None) -> None:
    """Re-reads the event's record, records it and delivers it and every record it released. Each pair of
    the event's NetSuite connection gets it."""
    event = WebhookEvent.objects.select_related("connection").get(pk=event_id)
    if event.status not in (WebhookEvent.Status.ACCEPTED, WebhookEvent.Status.FAILED):
        return
    definition = flow_of_record_type(event.record_type)
    flow = str(definition.flow)
    try:
        for pair in ConnectionPair.objects.filter(netsuite=event.connection).select_related("netsuite", "jaggaer"):
            pair_clients = clients or Clients.for_pair(pair)
            pull_one(pair=pair, record_type=event.record_type, client=pair_clients.netsuite, netsuite_id=event.record_id)
            key = definition.record_key(event.record_id, event.record_type)
            ids = list(SyncRecord.objects.filter(pair=pair, flow=flow, netsuite_id=key).values_list("pk", flat=True))
            deliver_due(pair=pair, flow=flow, client=pair_clients.jaggaer, only_ids=ids)
    except Exception as exc:
        logger.warning("Push event %s (%s %s) failed: %s", event.pk, event.record_type, event.record_id, exc)
        _failed(event, failure_words(exc))
        raise
    _finish(event, WebhookEvent.Status.PROCESSED, "Re-read from NetSuite and synced", next_attempt_at=None)


def process_due_events(*, now: datetime | None = None, limit: int = 100) -> int:
    """Processes again the failed events whose retry has come, and the accepted ones whose task was lost (the
    worker calls this every minute); returns how many it took. Each is taken with a conditional UPDATE, so two
    workers never process one together."""
    now = now or timezone.now()
    lost = Q(status=WebhookEvent.Status.ACCEPTED, received_at__lte=now - UNPROCESSED_AFTER) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    due = WebhookEvent.objects.filter(Q(status=WebhookEvent.Status.FAILED, next_attempt_at__lte=now) | lost)
    taken = 0
    oldest_first = (F("next_attempt_at").asc(nulls_first=True), "received_at")
    for event_id in list(due.order_by(*oldest_first).values_list("pk", flat=True)[:limit]):
        if not due.filter(pk=event_id).update(next_attempt_at=now + TAKEN_FOR):
            continue
        taken += 1
        try:
            process_event(event_id=event_id)
        except Exception:  # recorded on the event by process_event; the next event must still be processed
            logger.info("Push event %s failed again", event_id)
    return taken


def _failed(event: WebhookEvent, reason: str) -> None:
    attempts = event.attempts + 1
    if attempts >= settings.SYNC_MAX_ATTEMPTS:
        _finish(event, WebhookEvent.Status.FAILED, f"{reason} (gave up after {attempts} attempts: the next poll "
                "or a replay of the record picks the change up)", attempts=attempts, next_attempt_at=None)
        return
    delay = backoff_delay(attempt=attempts, base=settings.SYNC_RETRY_BASE_SECONDS, cap=settings.SYNC_RETRY_CAP_SECONDS)
    next_at = timezone.now() + timedelta(seconds=delay)
    _finish(event, WebhookEvent.Status.FAILED, f"{reason} (attempt {attempts}; processed again from "
            f"{timezone.localtime(next_at):%Y-%m-%d %H:%M:%S %Z})", attempts=attempts, next_attempt_at=next_at)


def _finish(event: WebhookEvent, status: str, reason: str, **fields: object) -> None:
    with transaction.atomic():
        event.status = status
        event.reason = reason[:2000]
        event.processed_at = timezone.now()
        for name, value in fields.items():
            setattr(event, name, value)
        event.save(update_fields=["status", "reason", "processed_at", *fields])
