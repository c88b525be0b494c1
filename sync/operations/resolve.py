""""Mark resolved": a person says that failed, retrying or waiting records need nothing more (fixed by hand in
JAGGAER, no longer wanted), with a note. The note, who and when are kept in each record's state changes; the
records leave the console and are sent again only if NetSuite changes them or someone replays them."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from sync.engine.journal import change_state
from sync.models import SyncRecord
from sync.operations.error_groups import PROBLEM_STATES


@dataclass(frozen=True)
class Resolved:
    resolved: int
    busy: int  # being sent at that moment, so left as they were


@transaction.atomic
def mark_resolved(*, records: QuerySet[SyncRecord], actor: str, note: str) -> Resolved:
    """Marks the records that still have a problem resolved, each with its audit event; a record a delivery holds
    right now is left alone (its outcome is about to be written, and may well be "delivered")."""
    note = note.strip()
    if not note:
        raise ValueError("Say why they are resolved: the note is kept with each record.")
    now = timezone.now()
    chosen = SyncRecord.objects.filter(pk__in=records.values("pk"), state__in=PROBLEM_STATES)
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    resolved = 0
    for record in chosen.filter(free).select_for_update().defer("payload", "source"):
        resolved += change_state(record=record, to_state=SyncRecord.State.RESOLVED, reason=f"Marked resolved: {note}",
                                 actor=actor, next_attempt_at=None, resend=False)
    return Resolved(resolved=resolved, busy=chosen.exclude(free).count())
