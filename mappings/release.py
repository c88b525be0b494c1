"""Letting records go that waited for a mapping: called whenever a mapping is saved or a JAGGAER value
appears."""

from collections.abc import Iterable

from credentials.models import ConnectionPair
from sync.models import MissingCoding, SyncRecord
from sync.records import make_due

RELEASE_REASON = "A mapping or JAGGAER value it waited for is there now"


def release_waiting_records(
    *, pair: ConnectionPair, kind: str, netsuite_ids: Iterable[str], reason: str = RELEASE_REASON, actor: str = ""
) -> int:
    """Makes every record of the pair that waits for one of these codes due now (pending, with an event naming
    the reason); the sync engine resolves it again and either delivers it or puts it back to wait. Returns how
    many were released."""
    waiting = SyncRecord.State.WAITING_FOR_MAPPING
    blocked = MissingCoding.objects.filter(
        record__pair=pair, record__state=waiting, kind=kind, netsuite_id__in=list(netsuite_ids)
    ).values("record_id")
    return make_due(
        records=SyncRecord.objects.filter(pk__in=blocked, state=waiting), reason=reason, actor=actor
    )
