from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from credentials.pairs import PairSelectionError, add_pair_arguments, select_pair
from mappings.csv_files import export_mappings_csv


class Command(BaseCommand):
    help = "Exports the confirmed mapping rows as CSV to FILE.csv or standard output."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", metavar="FILE.csv", nargs="?")
        add_pair_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            pair = select_pair(netsuite=options["netsuite"], jaggaer=options["jaggaer"])
        except PairSelectionError as error:
            raise CommandError(str(error)) from error
        if not options["file"]:
            export_mappings_csv(pair=pair, out=self.stdout)
            return
        try:
            with Path(options["file"]).open("w", encoding="utf-8", newline="") as out:
                count = export_mappings_csv(pair=pair, out=out)
        except OSError as error:
            raise CommandError(f"cannot write {options['file']}: {error}") from error
        self.stdout.write(f"Exported {count} mapping rows of {pair} to {options['file']}")
