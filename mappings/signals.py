"""A confirmed mapping, however it was saved (admin, CSV import, confirmation), releases the records that
waited for its code, in the same transaction as the save."""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from mappings.models import CodingMapping
from mappings.release import release_waiting_records


@receiver(post_save, sender=CodingMapping, dispatch_uid="mappings_release_on_save")
def release_on_mapping_saved(sender: type[CodingMapping], instance: CodingMapping, **kwargs: Any) -> None:
    if instance.status == CodingMapping.Status.CONFIRMED:
        user = getattr(instance, "_history_user", None)
        release_waiting_records(
            pair=instance.pair,
            kind=instance.kind,
            netsuite_ids=[instance.netsuite_id],
            reason=f"Mapping saved: {instance}",
            actor=user.get_username() if user is not None else "",
        )
