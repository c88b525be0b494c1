"""Processing pushed events: the push is only a hint, so the record is re-read from NetSuite and goes
through the same recording and delivery as a poll (which therefore cannot deliver it twice)."""

import logging

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from credentials.models import ConnectionPair
from sync.deliver import deliver_due
from sync.errors import failure_words
from sync.models import Flow, SyncRecord, WebhookEvent
from sync.pull import pull_one, record_key
from sync.run import Clients

logger = logging.getLogger(__name__)

FLOW_OF_RECORD_TYPE = {
    "purchaseorder": Flow.PURCHASE_ORDERS, "vendorbill": Flow.VENDOR_BILLS, "vendor": Flow.VENDORS,
    "account": Flow.GL_ACCOUNTS, "subsidiary": Flow.CLASSIFICATIONS, "department": Flow.CLASSIFICATIONS,
    "classification": Flow.CLASSIFICATIONS, "location": Flow.CLASSIFICATIONS,
}


def event_accepted(*, event_id: int) -> None:
    """Called once the accepted event is committed: the worker processes it."""
    async_task("sync.tasks.process_webhook_event", event_id)


def process_event(*, event_id: int, clients: Clients | None = None) -> None:
    """Re-reads the event's record, records it and delivers it and every record it released. Each pair of
    the event's NetSuite connection gets it."""
    event = WebhookEvent.objects.select_related("connection").get(pk=event_id)
    if event.status not in (WebhookEvent.Status.ACCEPTED, WebhookEvent.Status.FAILED):
        return
    flow = FLOW_OF_RECORD_TYPE[event.record_type]
    table = event.record_type if flow == Flow.CLASSIFICATIONS else "records"
    try:
        for pair in ConnectionPair.objects.filter(netsuite=event.connection).select_related("netsuite", "jaggaer"):
            pair_clients = clients or Clients.for_pair(pair)
            pull_one(pair=pair, flow=flow, client=pair_clients.netsuite, netsuite_id=event.record_id, table=table)
            key = record_key(flow=flow, netsuite_id=event.record_id, table=table)
            ids = list(SyncRecord.objects.filter(pair=pair, flow=flow, netsuite_id=key).values_list("pk", flat=True))
            deliver_due(pair=pair, flow=flow, client=pair_clients.jaggaer, only_ids=ids)
    except Exception as exc:
        logger.warning("Push event %s (%s %s) failed: %s", event.pk, event.record_type, event.record_id, exc)
        _finish(event, WebhookEvent.Status.FAILED, failure_words(exc))
        raise
    _finish(event, WebhookEvent.Status.PROCESSED, "Re-read from NetSuite and synced")


def _finish(event: WebhookEvent, status: str, reason: str) -> None:
    with transaction.atomic():
        event.status = status
        event.reason = reason[:2000]
        event.processed_at = timezone.now()
        event.save(update_fields=["status", "reason", "processed_at"])
