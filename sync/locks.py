"""Leases that keep a flow's pull to one process at a time (sync.models.FlowLock)."""

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from credentials.models import ConnectionPair
from sync.models import FlowLock

LEASE = timedelta(minutes=30)  # longer than any pull; a dead holder blocks the flow this long at most


class FlowBusy(Exception):
    pass


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@contextmanager
def flow_lease(*, pair: ConnectionPair, flow: str) -> Iterator[str]:
    """Holds the flow's lease for the block; raises FlowBusy when another live process holds it."""
    holder = _holder()
    FlowLock.objects.get_or_create(pair=pair, flow=flow)
    now = timezone.now()
    taken = FlowLock.objects.filter(pair=pair, flow=flow).filter(
        Q(holder="") | Q(expires_at__lt=now)
    ).update(holder=holder, expires_at=now + LEASE)
    if taken != 1:
        raise FlowBusy(f"{flow} is being pulled by another process")
    try:
        yield holder
    finally:
        FlowLock.objects.filter(pair=pair, flow=flow, holder=holder).update(holder="", expires_at=None)

