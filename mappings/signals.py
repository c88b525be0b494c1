"""What the mappings app tells others, without knowing who listens: `coding_available` is sent when NetSuite
codes of a pair can now be coded in JAGGAER, because a confirmed mapping was saved (admin, CSV import,
confirmation) or the JAGGAER value they need appeared. The sync app releases the records that waited for
them, in the same transaction as the save."""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from mappings.models import CodingMapping

# Sent with pair (ConnectionPair), kind (CodingKind value), netsuite_ids (list of str), reason (str) and
# actor (the username that caused it, or ""). A listener may answer with a sentence for the person who saved
# the mapping ("Released 3 held records (2 POs, 1 bill)").
coding_available = Signal()


@receiver(post_save, sender=CodingMapping, dispatch_uid="mappings_coding_available_on_save")
def announce_confirmed_mapping(sender: type[CodingMapping], instance: CodingMapping, **kwargs: Any) -> None:
    if instance.status == CodingMapping.Status.CONFIRMED:
        user = getattr(instance, "_history_user", None)
        answers = coding_available.send(
            sender=CodingMapping, pair=instance.pair, kind=instance.kind, netsuite_ids=[instance.netsuite_id],
            reason=f"Mapping saved: {instance}", actor=user.get_username() if user is not None else "",
        )
        # Read by the admin, which tells the person who saved what the save set free.
        instance.announced = [answer for _, answer in answers if isinstance(answer, str)]
