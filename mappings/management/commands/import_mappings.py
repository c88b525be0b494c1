import getpass
import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError

from credentials.pairs import PairSelectionError, add_pair_arguments, select_pair
from mappings.csv_files import MappingImportError, import_mappings_csv
from mappings.models import CodingMapping


def os_login_name() -> str:
    """Who ran the command, as the operating system knows them; a uid when no name is known (a container
    user without a passwd entry and without LOGNAME or USER)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def find_acting_user(username: str) -> AbstractBaseUser:
    """The existing Django user named by --as: an import is never attributed to a user created on the fly."""
    user_model = get_user_model()
    try:
        return user_model.objects.get_by_natural_key(username)
    except user_model.DoesNotExist:
        raise CommandError(f"--as {username}: there is no Django user of that name, nothing imported") from None


class Command(BaseCommand):
    help = "Imports mapping rows from a CSV file, all or nothing (operations.md 'Mapping CSV')."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", metavar="FILE.csv")
        parser.add_argument("--replace", action="store_true", help="delete the rows of codes absent from the file")
        parser.add_argument(
            "--as", dest="as_user", metavar="USERNAME",
            help="the Django user the mapping history names as having made the change (the OS user is always noted)",
        )
        add_pair_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        acting_user = find_acting_user(options["as_user"]) if options["as_user"] else None
        change_reason = f"import_mappings from the command line by OS user {os_login_name()}"
        # The history column is a bounded varchar; a long LOGNAME must not fail the whole import.
        reason_limit = CodingMapping.history.model._meta.get_field("history_change_reason").max_length
        try:
            pair = select_pair(netsuite=options["netsuite"], jaggaer=options["jaggaer"])
            with Path(options["file"]).open(encoding="utf-8-sig", newline="") as source:
                outcome = import_mappings_csv(
                    pair=pair,
                    source=source,
                    replace=options["replace"],
                    acting_user=acting_user,
                    change_reason=change_reason[:reason_limit],
                )
        except (PairSelectionError, MappingImportError) as error:
            raise CommandError(f"{options['file']} rejected, nothing imported: {error}") from error
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {options['file']}: {error}") from error
        self.stdout.write(f"Imported {options['file']} for {pair}: {outcome}")
