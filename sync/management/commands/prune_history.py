from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from sync.operations.retention import prune_history


class Command(BaseCommand):
    help = "Deletes attempts, state changes and webhook events older than SYNC_RETENTION_DAYS (0 keeps them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="Override SYNC_RETENTION_DAYS for this run.")

    def handle(self, *args: Any, **options: Any) -> None:
        days = settings.SYNC_RETENTION_DAYS if options["days"] is None else options["days"]
        if days <= 0:
            self.stdout.write("Retention is 0 days: history is kept forever; nothing pruned.")
            return
        self.stdout.write(f"Older than {days} days: {prune_history(days=days)}.")
