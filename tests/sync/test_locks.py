"""A flow's lease lives as long as its run makes progress, and no longer."""

import pytest
from django.utils import timezone

from sync.engine.locks import LEASE, flow_lease
from sync.engine.pull import pull
from sync.engine.run import Clients
from sync.models import FlowLock

pytestmark = pytest.mark.django_db


def test_a_run_that_keeps_making_progress_keeps_its_lease(pair, netsuite, jaggaer, settings):
    settings.SYNC_PAGE_SIZE = 50
    with flow_lease(pair=pair, flow="purchase_orders") as holder:
        # As if the run had already taken most of its lease.
        FlowLock.objects.filter(holder=holder).update(expires_at=timezone.now() + LEASE / 100)

        pull(pair=pair, flow="purchase_orders", client=Clients.for_pair(pair).netsuite)

        lock = FlowLock.objects.get(holder=holder)
        assert lock.expires_at > timezone.now() + LEASE * 0.9
    assert FlowLock.objects.get(pair=pair, flow="purchase_orders").holder == ""
