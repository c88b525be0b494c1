"""Starts the NetSuite and JAGGAER sandbox servers on 127.0.0.1, seeded, until interrupted."""

import json
import signal
import threading
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.http import RunningServer


class Command(BaseCommand):
    help = "Start the NetSuite and JAGGAER sandbox servers on 127.0.0.1 with a seeded data set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--netsuite-port", type=int, default=8601)
        parser.add_argument("--jaggaer-port", type=int, default=8602)
        parser.add_argument("--seed", type=int, default=42, help="Same seed, same data set.")
        parser.add_argument("--vendors", type=int, default=20)
        parser.add_argument("--purchase-orders", type=int, default=200)
        parser.add_argument(
            "--write-connections",
            metavar="DIR",
            help="Write netsuite.json and jaggaer.json for `configure_connection --file` into DIR.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from sandbox.jaggaer.app import JaggaerSandbox
        from sandbox.netsuite.app import NetSuiteSandbox
        from sandbox.netsuite.dataset import NetSuiteDataset

        if options["vendors"] < 1 or options["purchase_orders"] < 0:
            raise CommandError("--vendors must be at least 1 and --purchase-orders at least 0")
        netsuite = NetSuiteSandbox(
            dataset=NetSuiteDataset(
                seed=options["seed"], vendors=options["vendors"], purchase_orders=options["purchase_orders"]
            )
        )
        jaggaer = JaggaerSandbox()
        try:
            netsuite_server = RunningServer(netsuite.wsgi_app(), port=options["netsuite_port"])
            jaggaer_server = RunningServer(jaggaer.wsgi_app(), port=options["jaggaer_port"])
        except OSError as exc:
            raise CommandError(f"Cannot listen on 127.0.0.1: {exc.strerror} (is another sandbox running?)") from None

        counts = ", ".join(f"{n} {table}" for table, n in netsuite.dataset.counts().items())
        self.stdout.write(f"NetSuite sandbox (account {netsuite.account_id}) on {netsuite_server.url}: {counts}")
        self.stdout.write(f"JAGGAER sandbox on {jaggaer_server.url}")
        if options["write_connections"]:
            self._write_connections(Path(options["write_connections"]), netsuite, netsuite_server, jaggaer, jaggaer_server)

        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            netsuite_server.stop()
            jaggaer_server.stop()

    def _write_connections(self, folder: Path, netsuite: Any, netsuite_server: RunningServer,
                           jaggaer: Any, jaggaer_server: RunningServer) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        files = {
            "netsuite.json": {
                "name": "sandbox-netsuite",
                "system": "netsuite",
                "account_id": netsuite.account_id,
                "base_url": netsuite_server.url,
                "auth": netsuite.demo_credentials()["oauth2_client_credentials"],
                "concurrency_limit": 5,
                "timezone": netsuite.dataset.account_timezone,
            },
            "jaggaer.json": {
                "name": "sandbox-jaggaer",
                "system": "jaggaer",
                "base_url": jaggaer_server.url,
                "auth": jaggaer.demo_credentials(),
            },
        }
        for filename, content in files.items():
            path = folder / filename
            path.write_text(json.dumps(content, indent=2))
            path.chmod(0o600)  # holds the sandbox's demo private key and secret
        self.stdout.write(f"Connection files for configure_connection written to {folder}/")
