from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sync.management.arguments import plain_errors
from sync.models import Flow, SyncRecord
from sync.operations.replay import not_delivered, replay


class Command(BaseCommand):
    help = "Send the chosen records again now, through the current mappings (never duplicates)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", type=int, action="append", dest="ids", help="A SyncRecord id (repeatable).")
        parser.add_argument("--state", action="append", choices=SyncRecord.State.values, help="Repeatable.")
        parser.add_argument("--flow", action="append", choices=Flow.values, help="Repeatable.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not (options["ids"] or options["state"] or options["flow"]):
            raise CommandError("Choose records with --id, --state or --flow (all three may be repeated).")
        records = SyncRecord.objects.all()
        if options["ids"]:
            records = records.filter(pk__in=options["ids"])
            missing = set(options["ids"]) - set(records.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"No sync record with id {', '.join(map(str, sorted(missing)))}")
        if options["state"]:
            records = records.filter(state__in=options["state"])
        if options["flow"]:
            records = records.filter(flow__in=options["flow"])
        chosen = list(records.values_list("pk", flat=True))
        if not chosen:
            self.stdout.write("No record matches: nothing replayed.")
            return
        with plain_errors():
            reports = replay(records=records, actor="replay command")
        for flow, report in reports.items():
            counts = ", ".join(f"{n} {state}" for state, n in sorted(report.counts.items()))
            self.stdout.write(f"{Flow(flow).label}: {counts}")
        self.stdout.write(f"Replayed {len(chosen)} record(s).")
        # A replay that failed again is not a success: each failure with its reason, and a non-zero exit.
        failed = [record for record in not_delivered(chosen) if record.state == SyncRecord.State.FAILED]
        for record in failed:
            self.stdout.write(f"Failed again: {record} (id {record.pk}): {record.last_error_message}")
        if failed:
            raise CommandError(f"{len(failed)} of {len(chosen)} replayed record(s) failed again (listed above).")
