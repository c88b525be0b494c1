import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sync.operations.status import sync_status


class Command(BaseCommand):
    help = "Counts of records per flow and state, cursors and last runs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help='Print {"flows": {flow: {state: count}}, ...}.')

    def handle(self, *args: Any, **options: Any) -> None:
        status = sync_status()
        if options["json"]:
            self.stdout.write(json.dumps(status, indent=2))
            return
        for flow, states in status["flows"].items():
            counts = ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "no records"
            last = status["last_runs"].get(flow)
            when = f"; last run {last['started_at']} ({'ok' if last['succeeded'] else 'failed'})" if last else ""
            self.stdout.write(f"{flow}: {counts}{when}")
        for name, cursor in status["cursors"].items():
            self.stdout.write(f"cursor {name}: {cursor['last_modified']} / {cursor['last_id']}")
