"""FIELD_ENCRYPTION_KEY safety: a canary that proves the configured keys can read the stored
secrets, and rotation of every encrypted column onto the newest key."""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection as db_connection
from django.db import models, transaction
from encrypted_model_fields.fields import EncryptedMixin

from credentials.models import EncryptionCanary

CANARY_VALUE = "ml-connector encryption canary"


def key_fingerprint(key: str) -> str:
    """A short, one-way name for a key, safe to print: the first 8 hex digits of its SHA-256."""
    return hashlib.sha256(key.strip().encode("utf-8")).hexdigest()[:8]


def configured_keys() -> list[str]:
    keys = settings.FIELD_ENCRYPTION_KEY
    return [keys] if isinstance(keys, str) else list(keys)


def write_canary(*, keys: list[str] | None = None) -> EncryptionCanary:
    """(Re)writes the canary with the newest key."""
    keys = keys or configured_keys()
    canary = EncryptionCanary.objects.first() or EncryptionCanary()
    canary.ciphertext = Fernet(keys[0]).encrypt(CANARY_VALUE.encode()).decode()
    canary.key_fingerprint = key_fingerprint(keys[0])
    canary.save()
    return canary


@dataclass(frozen=True)
class KeyProblem:
    message: str
    fatal: bool  # False: the secrets are readable, only with an older key (rotation pending)


def check_encryption_keys(*, keys: list[str] | None = None) -> KeyProblem | None:
    """None when the newest key reads the canary; else which key is wrong and how to fix it.

    No canary yet (a fresh database) is fine: one is written with the newest key."""
    keys = keys or configured_keys()
    canary = EncryptionCanary.objects.first()
    if canary is None:
        write_canary(keys=keys)
        return None
    readers = [index for index, key in enumerate(keys) if _decrypts(key, canary.ciphertext)]
    fingerprints = ", ".join(key_fingerprint(key) for key in keys)
    if not readers:
        return KeyProblem(fatal=True, message=(
            f"FIELD_ENCRYPTION_KEY is wrong: the stored secrets were encrypted with the key with fingerprint "
            f"{canary.key_fingerprint}, which is not among the configured keys (fingerprints {fingerprints}). "
            "Configure that key (newest first, comma-separated, to rotate onto a new one)."
        ))
    if readers[0] != 0:
        return KeyProblem(fatal=False, message=(
            f"FIELD_ENCRYPTION_KEY key number {readers[0] + 1} ({key_fingerprint(keys[readers[0]])}) reads the stored "
            f"secrets, but the newest key ({key_fingerprint(keys[0])}) has not been rotated in: run "
            "`manage.py rotate_encryption_key`."
        ))
    return None


def verify_encryption_keys(*, keys: list[str] | None = None) -> None:
    """For workers at start: refuse to run with keys that cannot read the stored secrets, instead of
    sending ciphertext as a password."""
    problem = check_encryption_keys(keys=keys)
    if problem and problem.fatal:
        raise ImproperlyConfigured(problem.message)


def _decrypts(key: str, ciphertext: str) -> bool:
    try:
        return Fernet(key).decrypt(ciphertext.encode()).decode() == CANARY_VALUE
    except (InvalidToken, ValueError):
        return False


def encrypted_columns() -> Iterator[tuple[type[models.Model], models.Field]]:
    """Every encrypted column of every installed model (history tables included)."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedMixin):
                yield model, field


def rotate_encryption_key(*, keys: list[str] | None = None) -> int:
    """Re-encrypts every stored secret with the newest key, all or nothing; returns how many values.

    Works on the raw column so that a value no key can read stops the rotation (the field would
    otherwise hand back the ciphertext and we would encrypt it a second time)."""
    keys = keys or configured_keys()
    crypter = MultiFernet([Fernet(key) for key in keys])
    rotated = 0
    with transaction.atomic():
        problem = check_encryption_keys(keys=keys)
        if problem and problem.fatal:
            raise ImproperlyConfigured(problem.message)
        with db_connection.cursor() as cursor:
            for model, field in encrypted_columns():
                table = db_connection.ops.quote_name(model._meta.db_table)
                column = db_connection.ops.quote_name(field.column)
                pk = db_connection.ops.quote_name(model._meta.pk.column)
                cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL AND {column} <> ''")
                for row_id, ciphertext in cursor.fetchall():
                    try:
                        fresh = crypter.rotate(ciphertext.encode()).decode()
                    except InvalidToken:
                        raise ImproperlyConfigured(
                            f"{model._meta.label}.{field.name} of row {row_id} cannot be read with any configured "
                            "FIELD_ENCRYPTION_KEY; nothing was rotated."
                        ) from None
                    cursor.execute(f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", [fresh, row_id])
                    rotated += 1
        write_canary(keys=keys)
    return rotated
