from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials.diagnosis import check_connection
from credentials.models import JaggaerConnection, NetSuiteConnection


class Command(BaseCommand):
    help = "Authenticates and makes one cheap read on each connection (or the named ones); exit 1 if any fails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="Connection names; all when omitted.")

    def handle(self, *args: Any, names: list[str], **options: Any) -> None:
        connections = [*NetSuiteConnection.objects.order_by("name"), *JaggaerConnection.objects.order_by("name")]
        if names:
            known = {connection.name for connection in connections}
            unknown = [name for name in names if name not in known]
            if unknown:
                raise CommandError(f"no connection named {', '.join(unknown)}")
            connections = [connection for connection in connections if connection.name in names]
        if not connections:
            raise CommandError("no connections configured; add one with configure_connection")
        failed = 0
        for connection in connections:
            report = check_connection(connection=connection)
            failed += not report.ok
            kind = "NetSuite" if isinstance(connection, NetSuiteConnection) else "JAGGAER"
            self.stdout.write(f"{'ok  ' if report.ok else 'FAIL'} {connection.name} ({kind}): {report.summary}")
        if failed:
            raise CommandError(f"{failed} of {len(connections)} connections failed", returncode=1)
