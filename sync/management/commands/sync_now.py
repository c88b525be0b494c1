from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sync.engine.run import sync_pass
from sync.management.arguments import add_flow_arguments, chosen_pair, plain_errors, summary_line


class Command(BaseCommand):
    help = "One full pass in this process: pull what changed since each flow's cursor, then deliver what is due."

    def add_arguments(self, parser: CommandParser) -> None:
        add_flow_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        pair = chosen_pair(options)
        with plain_errors():
            for outcome in sync_pass(pair=pair, flows=options["flow"], trigger="sync_now"):
                self.stdout.write(summary_line(outcome))
