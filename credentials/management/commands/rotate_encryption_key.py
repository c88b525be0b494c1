from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from credentials.encryption import configured_keys, key_fingerprint, rotate_encryption_key


class Command(BaseCommand):
    help = ("Re-encrypts every stored secret with the newest FIELD_ENCRYPTION_KEY (the first of the list); "
            "older keys may be removed afterwards.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = rotate_encryption_key()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Re-encrypted {count} values with key {key_fingerprint(configured_keys()[0])}.")
