from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from credentials.pairs import PairSelectionError, add_pair_arguments, select_pair
from mappings.csv_files import export_mapping_template, export_mappings_csv


class Command(BaseCommand):
    help = "Exports the confirmed mapping rows (or, with --template, every NetSuite code) as CSV to FILE.csv or " \
           "standard output."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", metavar="FILE.csv", nargs="?")
        parser.add_argument(
            "--template", action="store_true",
            help="every active NetSuite code the connector knows, with its mapping or an empty JAGGAER value to fill in",
        )
        add_pair_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            pair = select_pair(netsuite=options["netsuite"], jaggaer=options["jaggaer"])
        except PairSelectionError as error:
            raise CommandError(str(error)) from error
        write, what = (export_mapping_template, "NetSuite codes") if options["template"] else (
            export_mappings_csv, "mapping rows")
        if not options["file"]:
            write(pair=pair, out=self.stdout)
            return
        try:
            with Path(options["file"]).open("w", encoding="utf-8", newline="") as out:
                count = write(pair=pair, out=out)
        except OSError as error:
            raise CommandError(f"cannot write {options['file']}: {error}") from error
        self.stdout.write(f"Exported {count} {what} of {pair} to {options['file']}")
