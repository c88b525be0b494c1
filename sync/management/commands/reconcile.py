from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials.pairs import add_pair_arguments
from sync.management.arguments import chosen_pair, plain_errors
from sync.operations.reconcile import RECONCILED_FLOWS, reconcile


class Command(BaseCommand):
    help = ("NetSuite's counts and totals for one flow and day against JAGGAER's, and every difference record by "
            "record. Exit 1 when they differ.")

    def add_arguments(self, parser: CommandParser) -> None:
        add_pair_arguments(parser)
        parser.add_argument("--flow", required=True, choices=[str(flow) for flow in RECONCILED_FLOWS])
        parser.add_argument("--day", required=True, help="The document date, YYYY-MM-DD.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = date.fromisoformat(options["day"])
        except ValueError:
            raise CommandError(f"--day must be YYYY-MM-DD, not {options['day']!r}") from None
        pair = chosen_pair(options)
        with plain_errors():
            result = reconcile(pair=pair, flow=options["flow"], day=day)
        self.stdout.write(f"{result.flow} on {result.day}: NetSuite {result.netsuite_count} open, total "
                          f"{result.netsuite_total}; JAGGAER {result.jaggaer_count} open, total {result.jaggaer_total}")
        for difference in result.differences:
            self.stdout.write(f"  {difference.document} (NetSuite id {difference.netsuite_id}): {difference.problem}")
        if not result.matches:
            raise CommandError(f"{len(result.differences)} differences")
        self.stdout.write("They agree.")
