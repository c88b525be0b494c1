"""Prepares a configured pair for the demo: an admin user, same-number coding, a schedule per flow and
the worker's periodic tasks. Safe to run again: it only adds what is missing."""

import secrets
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django_q.models import Schedule

from credentials.pairs import add_pair_arguments
from mappings.models import CodingRule, PairCodingRule
from sync.management.arguments import chosen_pair
from sync.triggers.schedules import describe, ensure_schedules, install_periodic_tasks

ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = ("Prepares the configured pair for the demo: an admin user, the 'explicit, then same number' coding "
            "rule, a schedule for every flow that has none, and the worker's periodic tasks.")

    def add_arguments(self, parser: CommandParser) -> None:
        add_pair_arguments(parser)
        parser.add_argument("--admin-password-file", type=Path, required=True,
                            help="Holds the admin user's password; written with a new random one if missing.")
        parser.add_argument("--every-minutes", type=int, default=5, help="Interval of the schedules created.")

    def handle(self, *args: Any, admin_password_file: Path, every_minutes: int, **options: Any) -> None:
        self._ensure_admin(admin_password_file)
        pair = chosen_pair(options)
        PairCodingRule.objects.update_or_create(pair=pair, defaults={"rule": CodingRule.SAME_NUMBER})
        self.stdout.write(f"{pair}: coding rule '{CodingRule.SAME_NUMBER.label}'.")
        for schedule in ensure_schedules(pair=pair, every_minutes=every_minutes):
            self.stdout.write(f"Scheduled {schedule.get_flow_display()}: {describe(schedule)}.")
        install_periodic_tasks(schedule_model=Schedule)

    def _ensure_admin(self, password_file: Path) -> None:
        if not password_file.exists():
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(secrets.token_urlsafe(12) + "\n", encoding="utf-8")
            password_file.chmod(0o600)
        users = get_user_model().objects
        if not users.filter(username=ADMIN_USERNAME).exists():
            password = password_file.read_text(encoding="utf-8").strip()
            users.create_superuser(ADMIN_USERNAME, "admin@example.com", password)
            self.stdout.write(f"Created the superuser '{ADMIN_USERNAME}' (password in {password_file}).")
