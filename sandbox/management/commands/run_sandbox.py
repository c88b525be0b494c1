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
        parser.add_argument("--netsuite-port", type=int, default=8601, help="0: any free port.")
        parser.add_argument("--jaggaer-port", type=int, default=8602, help="0: any free port.")
        parser.add_argument("--seed", type=int, default=42, help="Same seed, same data set.")
        parser.add_argument("--vendors", type=int, default=20)
        parser.add_argument("--purchase-orders", type=int, default=200)
        # The conditions of a real account (issue 10's benchmarks: NetSuite 0.15 s and 5, JAGGAER 0.1 s and 4).
        parser.add_argument("--netsuite-latency", type=float, default=0.0, metavar="SECONDS",
                            help="Every NetSuite API request is held this long in its concurrency slot.")
        parser.add_argument("--netsuite-concurrency", type=int, default=5, metavar="N",
                            help="NetSuite requests in flight at once before 429 CONCURRENCY_LIMIT_EXCEEDED.")
        parser.add_argument("--jaggaer-latency", type=float, default=0.0, metavar="SECONDS",
                            help="Every JAGGAER API request is held this long in its in-flight slot.")
        parser.add_argument("--jaggaer-in-flight", type=int, default=4, metavar="N",
                            help="JAGGAER requests in flight at once per client before 429 with Retry-After.")
        parser.add_argument("--jaggaer-rate", type=float, default=10, metavar="N",
                            help="JAGGAER requests per second per client before 429 with Retry-After.")
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
        if options["netsuite_concurrency"] < 1 or options["jaggaer_in_flight"] < 1 or options["jaggaer_rate"] <= 0:
            raise CommandError("--netsuite-concurrency and --jaggaer-in-flight must be at least 1, --jaggaer-rate "
                               "above 0")
        try:
            netsuite = NetSuiteSandbox(
                dataset=NetSuiteDataset(
                    seed=options["seed"], vendors=options["vendors"], purchase_orders=options["purchase_orders"]
                ),
                concurrency_limit=options["netsuite_concurrency"], latency=options["netsuite_latency"],
            )
            jaggaer = JaggaerSandbox(latency=options["jaggaer_latency"], max_in_flight=options["jaggaer_in_flight"],
                                     rate_per_second=options["jaggaer_rate"])
        except ValueError as exc:  # a latency out of range
            raise CommandError(str(exc)) from None
        try:
            netsuite_server = RunningServer(netsuite.wsgi_app(), port=options["netsuite_port"])
            jaggaer_server = RunningServer(jaggaer.wsgi_app(), port=options["jaggaer_port"])
        except OSError as exc:
            raise CommandError(f"Cannot listen on 127.0.0.1: {exc.strerror} (is another sandbox running?)") from None

        counts = ", ".join(f"{n} {table}" for table, n in netsuite.dataset.counts().items())
        self.stdout.write(f"NetSuite sandbox (account {netsuite.account_id}) on {netsuite_server.url}: {counts}")
        self.stdout.write(f"JAGGAER sandbox on {jaggaer_server.url}")
        self.stdout.write(f"NetSuite: {options['netsuite_latency']:g} s per request, {options['netsuite_concurrency']} in "
                          f"flight; JAGGAER: {options['jaggaer_latency']:g} s per request, {options['jaggaer_in_flight']} "
                          f"in flight, {options['jaggaer_rate']:g} per second")
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
                "concurrency_limit": netsuite.governor.account_limit,
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
