"""System check: a wrong FIELD_ENCRYPTION_KEY stops every command (runserver, qcluster, sync_now...)
before ciphertext is sent anywhere as a password."""

from typing import Any

from django.core import checks
from django.db import DatabaseError

from credentials.encryption import check_encryption_keys


@checks.register(checks.Tags.security)
def encryption_key_reads_stored_secrets(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        problem = check_encryption_keys()
    except DatabaseError:
        return []  # not migrated yet or no database: the command itself will say so
    if problem is None:
        return []
    if problem.fatal:
        return [checks.Error(problem.message, id="credentials.E001")]
    return [checks.Warning(problem.message, id="credentials.W001")]
