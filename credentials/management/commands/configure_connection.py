import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials.configuration import ConfigurationError, configure_connection, parse_connection_json
from credentials.models import NetSuiteConnection


class Command(BaseCommand):
    help = "Creates or updates (by name) one NetSuite or JAGGAER connection from a JSON file (- for standard input)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", required=True, help="JSON file describing the connection, or - for stdin.")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        if file == "-":
            text, source = sys.stdin.read(), "standard input"
        else:
            try:
                text, source = Path(file).read_text(encoding="utf-8"), file
            except OSError as exc:
                raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        try:
            result = configure_connection(data=parse_connection_json(text, source=source))
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from None
        connection = result.connection
        verb = "Created" if result.created else "Updated"
        if isinstance(connection, NetSuiteConnection):
            detail = f"account {connection.account_id}, {connection.get_auth_method_display()}, {connection.base_url}"
            kind = "NetSuite"
        else:
            detail, kind = connection.base_url, "JAGGAER"
        self.stdout.write(f"{verb} {kind} connection {connection.name} ({detail}).")
        if isinstance(connection, NetSuiteConnection) and connection.needs_consent:
            self.stdout.write("It needs consent: open the connection in the admin and follow the consent link.")
        if result.pair:
            self.stdout.write(f"Paired {result.pair.netsuite.name} -> {result.pair.jaggaer.name}.")
