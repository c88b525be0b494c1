"""Letting records go that waited for a mapping, when the mappings app says their codes can be coded now
(mappings.signals.coding_available): the sync engine resolves them again and either delivers them or puts
them back to wait."""

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.dispatch import receiver

from credentials.models import ConnectionPair
from mappings.signals import coding_available
from sync.engine.journal import make_due
from sync.flows import flow_named
from sync.models import MissingCoding, SyncRecord

RELEASE_REASON = "A mapping or JAGGAER value it waited for is there now"


def release_waiting_records(
    *, pair: ConnectionPair, kind: str, netsuite_ids: Iterable[str], reason: str = RELEASE_REASON, actor: str = ""
) -> int:
    """Makes every record of the pair that waits for one of these codes due now (pending, with an event naming
    the reason). Returns how many were released."""
    return make_due(records=_waiting(pair=pair, kind=kind, netsuite_ids=netsuite_ids), reason=reason, actor=actor)


def _waiting(*, pair: ConnectionPair, kind: str, netsuite_ids: Iterable[str]) -> QuerySet[SyncRecord]:
    waiting = SyncRecord.State.WAITING_FOR_MAPPING
    blocked = MissingCoding.objects.filter(
        record__pair=pair, record__state=waiting, kind=kind, netsuite_id__in=list(netsuite_ids)
    ).values("record_id")
    return SyncRecord.objects.filter(pk__in=blocked, state=waiting)


@receiver(coding_available, dispatch_uid="sync_release_on_coding_available")
def release_on_coding_available(sender: Any, *, pair: ConnectionPair, kind: str, netsuite_ids: Iterable[str],
                                reason: str = RELEASE_REASON, actor: str = "", **kwargs: Any) -> str:
    """Releases the records and says so in finance's words: "Released 3 held records (2 POs, 1 bill)"."""
    netsuite_ids = list(netsuite_ids)
    held = Counter(_waiting(pair=pair, kind=kind, netsuite_ids=netsuite_ids).values_list("flow", flat=True))
    released = release_waiting_records(pair=pair, kind=kind, netsuite_ids=netsuite_ids, reason=reason, actor=actor)
    if not released:
        return "No held record was waiting for it."
    per_flow = ", ".join(f"{n} {flow_named(flow).nouns[0 if n == 1 else 1]}" for flow, n in sorted(held.items()))
    return f"Released {released} held record{'' if released == 1 else 's'} ({per_flow})."
