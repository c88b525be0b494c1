from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mappings.csv_files import MappingImportError, import_mappings_csv
from mappings.pairs import PairSelectionError, add_pair_arguments, select_pair


class Command(BaseCommand):
    help = "Imports mapping rows from a CSV file, all or nothing (operations.md 'Mapping CSV')."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", metavar="FILE.csv")
        parser.add_argument("--replace", action="store_true", help="delete the rows of codes absent from the file")
        add_pair_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            pair = select_pair(netsuite=options["netsuite"], jaggaer=options["jaggaer"])
            with Path(options["file"]).open(encoding="utf-8-sig", newline="") as source:
                outcome = import_mappings_csv(pair=pair, source=source, replace=options["replace"])
        except (PairSelectionError, MappingImportError) as error:
            raise CommandError(f"{options['file']} rejected, nothing imported: {error}") from error
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {options['file']}: {error}") from error
        self.stdout.write(f"Imported {options['file']} for {pair}: {outcome}")
