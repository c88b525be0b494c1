import json
import sys
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sync.engine.run import Clients
from sync.flows import FLOWS_IN_ORDER
from sync.management.arguments import add_flow_arguments, chosen_pair, plain_errors, summary_line
from sync.operations.backfill import BackfillProgress, DryRunRecord, backfill, dry_run, window_of


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date: use YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Read a bounded historical window of a flow from NetSuite, record it and deliver it."

    def add_arguments(self, parser: CommandParser) -> None:
        add_flow_arguments(parser, required=True)
        parser.add_argument("--since", required=True, help="First day, YYYY-MM-DD, in the account's time zone.")
        parser.add_argument("--until", help="Day after the last one (exclusive), YYYY-MM-DD.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Read NetSuite and print what would be sent, and what would wait and why; record "
                                 "nothing, send nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            window = window_of(_day(options["since"]), _day(options["until"]) if options["until"] else None)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        pair = chosen_pair(options)
        clients = Clients.for_pair(pair)
        flows = [f for f in FLOWS_IN_ORDER if f in options["flow"]]
        with plain_errors():
            if options["dry_run"]:
                self._dry_run(pair, flows, window, clients)
                return
            for flow in flows:
                outcome = backfill(pair=pair, flow=flow, window=window, clients=clients, on_progress=self._bar)
                self.stderr.write("")
                self.stdout.write(summary_line(outcome))

    def _dry_run(self, pair: Any, flows: list[str], window: Any, clients: Clients) -> None:
        read_so_far: dict[str, int] = {}

        def progress(state: BackfillProgress) -> None:
            # A line per page read (not a bar: the records' lines go to standard output between them).
            if read_so_far.get(state.flow) != state.read:
                read_so_far[state.flow] = state.read
                self.stderr.write(f"{state.flow}: {state.read:,} of {state.total:,} read from NetSuite "
                                  f"({state.rate:,.0f} records/s)")

        reports = dry_run(pair=pair, flows=flows, window=window, clients=clients, on_record=self._record,
                          on_progress=progress)
        for report in reports:
            for line in report.summary():
                self.stdout.write(line)

    def _record(self, item: DryRunRecord) -> None:
        self.stdout.write(f"{item.flow} {item.document_number or item.netsuite_id} (NetSuite id {item.netsuite_id}): "
                          f"{item.reason}")
        if item.payload is not None:
            self.stdout.write(json.dumps(item.payload, indent=2, ensure_ascii=False))

    def _bar(self, progress: BackfillProgress) -> None:
        total = max(progress.total, progress.read, 1)
        done = int(30 * progress.read / total)
        self.stderr.write(
            f"\r{progress.flow} [{'#' * done}{'.' * (30 - done)}] {progress.read:,}/{progress.total:,} read, "
            f"{progress.delivered:,} delivered, {progress.rate:,.0f} records/s", ending="")
        sys.stderr.flush()
