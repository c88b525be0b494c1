"""Full-sync throughput and cost against the sandboxes: records per second, NetSuite requests per 1,000
records, JAGGAER requests, peak memory.

    .venv/bin/python bench/sync_throughput.py --purchase-orders 10000
    DATABASE_URL=postgres://... .venv/bin/python bench/sync_throughput.py --purchase-orders 100000

Without DATABASE_URL it uses a throwaway SQLite file. Prints figures; asserts nothing."""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchase-orders", type=int, default=10_000)
    parser.add_argument("--vendors", type=int, default=200)
    arguments = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="ml-connector-bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.db")
    os.environ.setdefault("SYNC_LOCK_DIR", f"{workdir}/locks")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "connector_project.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from credentials.configuration import configure_connection
    from credentials.models import ConnectionPair
    from mappings.models import CodingRule, PairCodingRule
    from sandbox.http import RunningServer
    from sandbox.jaggaer.app import JaggaerSandbox
    from sandbox.netsuite.app import NetSuiteSandbox
    from sandbox.netsuite.dataset import NetSuiteDataset
    from sync.engine.run import sync_pass
    from sync.models import SyncRecord

    started = time.monotonic()
    netsuite = NetSuiteSandbox(dataset=NetSuiteDataset(purchase_orders=arguments.purchase_orders,
                                                       vendors=arguments.vendors))
    jaggaer = JaggaerSandbox()
    jaggaer.configure(rate_per_second=1_000_000, max_in_flight=64)
    netsuite_server, jaggaer_server = RunningServer(netsuite.wsgi_app()), RunningServer(jaggaer.wsgi_app())
    print(f"sandbox data set built in {time.monotonic() - started:.1f} s: {netsuite.dataset.counts()}")

    call_command("migrate", verbosity=0)
    configure_connection(data={"name": "bench-netsuite", "system": "netsuite", "account_id": netsuite.account_id,
                               "base_url": netsuite_server.url, "timezone": netsuite.dataset.account_timezone,
                               "auth": netsuite.demo_credentials()["oauth2_client_credentials"]})
    configure_connection(data={"name": "bench-jaggaer", "system": "jaggaer", "base_url": jaggaer_server.url,
                               "auth": jaggaer.demo_credentials()})
    pair = ConnectionPair.objects.get()
    PairCodingRule.objects.update_or_create(pair=pair, defaults={"rule": CodingRule.SAME_NUMBER})

    for label in ("first full sync", "second sync (nothing changed)"):
        started = time.monotonic()
        outcomes = sync_pass(pair=pair)
        elapsed = time.monotonic() - started
        print(f"\n{label}: {elapsed:.1f} s")
        for outcome in outcomes:
            pulled = outcome.pulled
            per_thousand = pulled.netsuite_requests * 1000 / pulled.read if pulled and pulled.read else 0
            print(f"  {outcome.flow:16} read {pulled.read if pulled else 0:>7,}  NetSuite requests "
                  f"{pulled.netsuite_requests if pulled else 0:>5} ({per_thousand:5.1f} per 1,000 records)  "
                  f"JAGGAER requests {outcome.delivered.jaggaer_requests:>5}  "
                  f"delivered {outcome.delivered.counts.get('delivered', 0):>7,}")
        delivered = SyncRecord.objects.filter(state="delivered").count()
        print(f"  records delivered in all: {delivered:,} ({delivered / elapsed:,.0f} per second of this pass)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process (sandboxes included): {peak:,.0f} MiB")
    netsuite_server.stop()
    jaggaer_server.stop()


if __name__ == "__main__":
    main()
