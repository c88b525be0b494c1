"""Letting records go that waited for a mapping, when the mappings app says their codes can be coded now
(mappings.signals.coding_available): the sync engine resolves them again and either delivers them or puts
them back to wait."""

from collections.abc import Iterable
from typing import Any

from django.dispatch import receiver

from credentials.models import ConnectionPair
from mappings.signals import coding_available
from sync.models import MissingCoding, SyncRecord
from sync.records import make_due

RELEASE_REASON = "A mapping or JAGGAER value it waited for is there now"


def release_waiting_records(
    *, pair: ConnectionPair, kind: str, netsuite_ids: Iterable[str], reason: str = RELEASE_REASON, actor: str = ""
) -> int:
    """Makes every record of the pair that waits for one of these codes due now (pending, with an event naming
    the reason). Returns how many were released."""
    waiting = SyncRecord.State.WAITING_FOR_MAPPING
    blocked = MissingCoding.objects.filter(
        record__pair=pair, record__state=waiting, kind=kind, netsuite_id__in=list(netsuite_ids)
    ).values("record_id")
    return make_due(
        records=SyncRecord.objects.filter(pk__in=blocked, state=waiting), reason=reason, actor=actor
    )


@receiver(coding_available, dispatch_uid="sync_release_on_coding_available")
def release_on_coding_available(sender: Any, *, pair: ConnectionPair, kind: str, netsuite_ids: Iterable[str],
                                reason: str = RELEASE_REASON, actor: str = "", **kwargs: Any) -> int:
    return release_waiting_records(pair=pair, kind=kind, netsuite_ids=netsuite_ids, reason=reason, actor=actor)
