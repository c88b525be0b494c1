"""The project's foundation: settings from the environment, migrations, and the test database."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from connector_project.env import env_str

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_suite_runs_on_postgresql_as_the_readme_promises() -> None:
    assert connection.vendor == "postgresql"


def test_no_model_change_is_missing_a_migration() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_setting_can_come_from_a_file_named_by_the_file_variant(tmp_path, monkeypatch) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("EXAMPLE_SETTING", raising=False)
    monkeypatch.setenv("EXAMPLE_SETTING_FILE", str(secret))
    assert env_str("EXAMPLE_SETTING", "default") == "from-a-file"


def test_an_unreadable_file_variant_is_a_clear_error(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("EXAMPLE_SETTING", raising=False)
    monkeypatch.setenv("EXAMPLE_SETTING_FILE", str(tmp_path / "missing"))
    with pytest.raises(RuntimeError, match="EXAMPLE_SETTING_FILE points at"):
        env_str("EXAMPLE_SETTING")


def test_production_settings_refuse_to_start_without_an_encryption_key(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 50}
    result = subprocess.run(
        [sys.executable, "-c", "import connector_project.settings"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be set" in result.stderr
