"""A push event whose task never ran (the broker lost it in a restart, or the worker that had taken it was
killed: django-q2's Redis broker does not redeliver) is processed by the retry pass, found by the chaos soak."""

from datetime import timedelta

import pytest
import time_machine

from sync.engine.run import sync_pass
from sync.models import WebhookEvent
from sync.triggers.push import UNPROCESSED_AFTER, process_due_events
from tests.sync.test_untrusted_answers import open_po, pushed

pytestmark = pytest.mark.django_db


def test_an_accepted_event_whose_task_was_lost_is_processed_by_the_retry_pass(pair, netsuite, jaggaer):
    sync_pass(pair=pair)
    po = open_po(netsuite)
    netsuite.app.dataset.update_purchase_order(po["id"], memo="Pushed, then the broker restarted")
    event = pushed(pair, "purchaseorder", po["id"])  # accepted; its task is gone

    assert process_due_events() == 0  # its task may merely be late
    with time_machine.travel(event.received_at + UNPROCESSED_AFTER + timedelta(seconds=1)):
        assert process_due_events() == 1
        assert process_due_events() == 0

    event.refresh_from_db()
    assert (event.status, event.next_attempt_at) == (WebhookEvent.Status.PROCESSED, None)
    assert jaggaer.app.purchase_orders[po["tranid"]]["poHeader"]["notes"] == "Pushed, then the broker restarted"


def test_an_accepted_event_another_worker_took_for_processing_is_left_to_it(pair, netsuite, jaggaer):
    event = pushed(pair, "purchaseorder", open_po(netsuite)["id"])
    later = event.received_at + UNPROCESSED_AFTER + timedelta(seconds=1)
    WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=later + timedelta(minutes=1))

    with time_machine.travel(later):
        assert process_due_events() == 0
