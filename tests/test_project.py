"""The project's foundation: settings from the environment, migrations, and the test database."""

import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import Client

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


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """manage.py in a fresh process with exactly `env`: settings are read once, at import."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **env}, timeout=120,
    )


def printed_settings(*names: str, env: dict[str, str]) -> str:
    """The settings as a process started with `env` sees them, printed on one line."""
    shown = ", ".join(f"settings.{name}" for name in names)
    result = run_manage("shell", "--no-imports", "-c", f"from django.conf import settings; print({shown})", env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def production_env(tmp_path: Path) -> dict[str, str]:
    """What README's Configuration asks of a server behind a TLS-terminating proxy."""
    return {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "connector.example.com",
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "CSRF_TRUSTED_ORIGINS": "https://connector.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }


def test_production_settings_pass_the_deploy_check_without_a_warning(tmp_path: Path) -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("variable", ["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_a_required_variable_and_names_it(tmp_path: Path, variable: str) -> None:
    env = production_env(tmp_path)
    del env[variable]

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert f"{variable} must be set when DJANGO_ENV=production" in result.stderr


def test_production_refuses_debug_rather_than_ignoring_it(tmp_path: Path) -> None:
    result = run_manage("check", env={**production_env(tmp_path), "DJANGO_DEBUG": "true"})

    assert result.returncode != 0
    assert "DJANGO_DEBUG cannot be on when DJANGO_ENV=production" in result.stderr


def test_production_reads_the_proxy_header_as_the_proxy_names_it(tmp_path: Path) -> None:
    shown = printed_settings("SECURE_PROXY_SSL_HEADER", "DEBUG", env=production_env(tmp_path))

    assert shown == "('HTTP_X_FORWARDED_PROTO', 'https') False"


def test_with_nothing_set_the_connector_runs_in_development(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}

    checked = run_manage("check", env=env)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert printed_settings("DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", env=env) == "True False False"


def test_debug_off_in_development_still_refuses_to_start_without_an_encryption_key(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["DJANGO_ENV"], env["FIELD_ENCRYPTION_KEY"]

    result = run_manage("check", env={**env, "DJANGO_DEBUG": "false"})

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be set when DJANGO_DEBUG is off" in result.stderr


@pytest.mark.django_db
def test_the_webhook_answers_over_https_behind_the_ssl_redirect(client: Client, settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    url = "/webhooks/netsuite/acme-netsuite/"

    over_http = client.post(url, data=b"{}", content_type="application/json")
    over_https = client.post(url, data=b"{}", content_type="application/json", headers={"X-Forwarded-Proto": "https"})

    assert over_http.status_code == 301
    assert over_https.status_code != 301
    assert over_https["Content-Type"] == "application/json"
