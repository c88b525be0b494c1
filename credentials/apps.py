from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CredentialsConfig(AppConfig):
    name = "credentials"
    verbose_name = "Connections"

    def ready(self) -> None:
        from credentials import checks  # noqa: F401 - registers the encryption key check

        post_migrate.connect(_after_migrate, dispatch_uid="credentials.after_migrate")


def _after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """Group permissions for every model that exists now, and the encryption canary of a fresh
    database (written with the key it is being set up with)."""
    if sender.name != "credentials":
        return
    from credentials.encryption import write_canary
    from credentials.models import EncryptionCanary
    from credentials.permissions import grant_group_permissions

    grant_group_permissions(using=using)
    if not EncryptionCanary.objects.using(using).exists():
        write_canary()
