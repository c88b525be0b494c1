"""A wrong FIELD_ENCRYPTION_KEY is caught by its canary; rotation moves every secret onto the newest key."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection as db_connection

from credentials.encryption import (
    check_encryption_keys,
    configured_keys,
    key_fingerprint,
    rotate_encryption_key,
    verify_encryption_keys,
    write_canary,
)
from credentials.models import EncryptionCanary, JaggaerConnection

CURRENT = configured_keys()[0]


def new_key() -> str:
    return Fernet.generate_key().decode()


def stored_client_secret(name: str) -> str:
    """The JAGGAER client secret as the database holds it (ciphertext)."""
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM credentials_jaggaerconnection WHERE name = %s", [name])
        return cursor.fetchone()[0]


def jaggaer_connection() -> JaggaerConnection:
    return JaggaerConnection.objects.create(name="acme-jaggaer", base_url="https://prep-reg02.api.jaggaer.com",
                                            client_id="j", client_secret="the-jaggaer-secret")


@pytest.mark.django_db
def test_the_configured_key_reads_the_canary() -> None:
    write_canary()
    assert check_encryption_keys() is None
    verify_encryption_keys()


@pytest.mark.django_db
def test_a_wrong_key_is_refused_naming_the_key_that_can_read_the_data() -> None:
    write_canary()
    wrong = new_key()

    problem = check_encryption_keys(keys=[wrong])

    assert problem is not None and problem.fatal
    assert problem.message.startswith("FIELD_ENCRYPTION_KEY is wrong")
    assert key_fingerprint(CURRENT) in problem.message and key_fingerprint(wrong) in problem.message
    assert CURRENT not in problem.message and wrong not in problem.message
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY is wrong"):
        verify_encryption_keys(keys=[wrong])


@pytest.mark.django_db
def test_a_new_key_that_is_not_rotated_in_yet_is_a_warning() -> None:
    write_canary()
    problem = check_encryption_keys(keys=[new_key(), CURRENT])
    assert problem is not None and not problem.fatal and "rotate_encryption_key" in problem.message


@pytest.mark.django_db
def test_rotation_re_encrypts_every_secret_with_the_newest_key() -> None:
    write_canary()
    jaggaer_connection()
    newest = new_key()

    rotated = rotate_encryption_key(keys=[newest, CURRENT])

    assert rotated >= 1
    ciphertext = stored_client_secret("acme-jaggaer")
    assert Fernet(newest).decrypt(ciphertext.encode()).decode() == "the-jaggaer-secret"
    assert EncryptionCanary.objects.get().key_fingerprint == key_fingerprint(newest)
    assert check_encryption_keys(keys=[newest]) is None
    assert check_encryption_keys(keys=[CURRENT]).fatal


@pytest.mark.django_db
def test_rotation_stops_and_changes_nothing_when_a_value_cannot_be_read() -> None:
    write_canary()
    jaggaer_connection()
    before = stored_client_secret("acme-jaggaer")
    JaggaerConnection.objects.create(name="other", base_url="https://prep.jaggaer.com", client_id="x",
                                     client_secret="y")
    with db_connection.cursor() as cursor:
        cursor.execute("UPDATE credentials_jaggaerconnection SET client_secret = %s WHERE name = 'other'",
                       [Fernet(new_key()).encrypt(b"lost").decode()])

    with pytest.raises(ImproperlyConfigured, match="credentials.JaggaerConnection.client_secret of row"):
        rotate_encryption_key(keys=[new_key(), CURRENT])

    assert stored_client_secret("acme-jaggaer") == before


@pytest.mark.django_db
def test_the_rotation_command_reports_the_count_and_the_key() -> None:
    write_canary()
    jaggaer_connection()
    out = io.StringIO()

    call_command("rotate_encryption_key", stdout=out)

    assert out.getvalue().startswith("Re-encrypted ") and key_fingerprint(CURRENT) in out.getvalue()
    assert JaggaerConnection.objects.get().client_secret == "the-jaggaer-secret"


@pytest.mark.django_db(transaction=True)
def test_commands_refuse_to_start_with_a_wrong_key() -> None:
    write_canary()
    database = settings.DATABASES["default"]
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "FIELD_ENCRYPTION_KEY": new_key()}

    finished = subprocess.run([sys.executable, "manage.py", "check", "--tag", "security"], env=env,
                              cwd=Path(settings.BASE_DIR), capture_output=True, text=True, timeout=60)

    assert finished.returncode != 0
    assert "credentials.E001" in finished.stderr and "FIELD_ENCRYPTION_KEY is wrong" in finished.stderr
