"""Leases that keep a flow of a pair to one process at a time (sync.models.FlowLock)."""

import os
import socket
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from types import MappingProxyType

from django.db.models import Q
from django.utils import timezone

from credentials.models import ConnectionPair
from sync.models import FlowLock

LEASE = timedelta(minutes=30)  # renewed as a run progresses; a dead holder blocks the flow this long at most

# Leases this thread of work already holds, so that a scheduled run (which leases its whole pull and
# delivery) can call sync_pass, whose pull asks for the same lease again.
_held: ContextVar[Mapping[tuple[int, str], str]] = ContextVar("held_flow_leases", default=MappingProxyType({}))


class FlowBusy(Exception):
    pass


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_held(*, pair: ConnectionPair, flow: str) -> bool:
    """Whether a live process holds the flow's lease now (a run of it is under way)."""
    return FlowLock.objects.filter(pair=pair, flow=flow, expires_at__gte=timezone.now()).exclude(holder="").exists()


@contextmanager
def flow_lease(*, pair: ConnectionPair, flow: str) -> Iterator[str]:
    """Holds the flow's lease for the block; raises FlowBusy when another live process holds it.
    Re-entrant: inside a block that already holds it, the lease is simply used."""
    key = (pair.pk, flow)
    held = _held.get()
    if key in held:
        yield held[key]
        return
    holder = _holder()
    FlowLock.objects.get_or_create(pair=pair, flow=flow)
    now = timezone.now()
    taken = FlowLock.objects.filter(pair=pair, flow=flow).filter(
        Q(holder="") | Q(expires_at__lt=now)
    ).update(holder=holder, expires_at=now + LEASE)
    if taken != 1:
        raise FlowBusy(f"{flow} is being pulled by another process")
    token = _held.set({**held, key: holder})
    try:
        yield holder
    finally:
        _held.reset(token)
        FlowLock.objects.filter(pair=pair, flow=flow, holder=holder).update(holder="", expires_at=None)


def extend_lease(*, pair: ConnectionPair, flow: str) -> None:
    """Called as a long run makes progress (each page pulled, each batch delivered): a run that is alive
    keeps its lease however long it takes, while a dead one's still expires one LEASE after its last sign."""
    holder = _held.get().get((pair.pk, flow))
    if holder:
        FlowLock.objects.filter(pair=pair, flow=flow, holder=holder).update(expires_at=timezone.now() + LEASE)
