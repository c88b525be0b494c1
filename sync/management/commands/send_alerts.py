from typing import Any

from django.core.management.base import BaseCommand

from sync.operations.alerts import check_alerts


class Command(BaseCommand):
    help = "Opens, mails (one mail per incident) and resolves alert incidents."

    def handle(self, *args: Any, **options: Any) -> None:
        report = check_alerts()
        for incident in report.opened:
            self.stdout.write(f"opened: {incident.message.splitlines()[0]}")
        for incident in report.resolved:
            self.stdout.write(f"resolved: {incident.message.splitlines()[0]}")
        self.stdout.write(f"{len(report.opened)} opened, {len(report.resolved)} resolved, {report.mailed} mailed.")
