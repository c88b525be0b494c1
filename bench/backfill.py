"""The connector's backfill of purchase orders beside the bare script (bench/raw_baseline.py): the same sandboxes,
the same data, one run, figures side by side with issue 10's targets.

    .venv/bin/python bench/backfill.py [--pos 5000] [--latency realistic|zero]
    DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres .venv/bin/python bench/backfill.py

The sandboxes run in a process of their own (`manage.py run_sandbox` on free 127.0.0.1 ports) with the latency
profile: realistic is NetSuite 150 ms per request and 5 in flight, JAGGAER 100 ms and 4 in flight; zero keeps
the limits and leaves the connector's own overhead. The bare script runs first in its own process. JAGGAER is
then reset, and this process becomes the connector: a throwaway SQLite file (or, with DATABASE_URL naming a
PostgreSQL server, a throwaway database created on it and dropped after), the two connections, `sync_now` of
GL accounts, classifications and vendors (not timed), then `backfill --flow purchase_orders --since 2000-01-01`
through call_command, timed. Requests and peaks in flight are the sandboxes' counts; CPU time and peak RSS
are each contender's own process (the database server's CPU is not in it on PostgreSQL).
Prints figures; asserts nothing. `--skip-raw --json` is how bench/memory.py runs the connector alone."""

import argparse
import json
import subprocess
import sys
from collections import Counter
from dataclasses import asdict
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.environment import (  # noqa: E402
    BACKFILL_SINCE,
    PROFILES,
    ROOT,
    Profile,
    Sandboxes,
    Transfer,
    add_transfer_arguments,
    configure_pair,
    connector_database,
    figures,
    measured,
    start_django,
    sync_what_orders_need,
    target_line,
    workspace,
)

# Issue 10's targets.
NETSUITE_REQUESTS_VS_BARE = 1.15
JAGGAER_REQUESTS_PER_THOUSAND = 22
POS_PER_SECOND_VS_BARE = {"realistic": 0.9, "zero": 0.5}
PEAK_RSS_MIB = 300


def bare_script(sandboxes: Sandboxes, profile: Profile) -> Transfer:
    answer = subprocess.run([sys.executable, "bench/raw_baseline.py", "--attach", str(sandboxes.folder), "--latency",
                             profile.name, "--json"], cwd=ROOT, check=True, capture_output=True, text=True,
                            timeout=6 * 3600)
    return Transfer(**json.loads(answer.stdout.splitlines()[-1]))


def connector_backfill(sandboxes: Sandboxes, workdir: Path) -> tuple[Transfer, Counter]:
    """`backfill --flow purchase_orders` in this process after the flows orders depend on; returns its figures
    and the orders' states."""
    start_django(workdir)
    from django.core.management import call_command

    from sync.models import Flow, SyncRecord

    pair = configure_pair(sandboxes)
    sync_what_orders_need()
    with measured(Transfer(), sandboxes) as result:
        call_command("backfill", flow=[Flow.PURCHASE_ORDERS.value], since=BACKFILL_SINCE, stdout=StringIO(),
                     stderr=sys.stderr)
    sys.stderr.write("\n")
    orders = SyncRecord.objects.filter(pair=pair, flow=Flow.PURCHASE_ORDERS)
    states = Counter(orders.values_list("state", flat=True))
    result.purchase_orders = sum(states.values())
    result.created = states[SyncRecord.State.DELIVERED]
    return result, states


def report(*, bare: Transfer, product: Transfer, states: Counter, profile: Profile, database: str) -> None:
    print("\n".join(figures({"bare script": bare, "backfill": product}, profile)))
    print(f"\nbackfill on {database}; its orders by state: "
          + ", ".join(f"{state} {count:,}" for state, count in sorted(states.items())))
    print(f"NetSuite requests per 1,000 POs: {product.per_thousand(product.netsuite_requests):.1f}")
    print(f"JAGGAER requests per 1,000 POs: {product.per_thousand(product.jaggaer_requests):.1f}")
    print("\nissue 10's targets (backfill against the bare script of this run):")
    print(target_line("  NetSuite requests per 1,000 POs, backfill / bare",
                      product.per_thousand(product.netsuite_requests) / bare.per_thousand(bare.netsuite_requests),
                      at_most=NETSUITE_REQUESTS_VS_BARE))
    print(target_line("  JAGGAER requests per 1,000 POs", product.per_thousand(product.jaggaer_requests),
                      at_most=JAGGAER_REQUESTS_PER_THOUSAND))
    print(target_line(f"  POs/s at {profile.name} latency, backfill / bare", product.per_second / bare.per_second,
                      at_least=POS_PER_SECOND_VS_BARE[profile.name]))
    print(target_line("  peak RSS of the connector, MiB", product.peak_rss_mib, at_most=PEAK_RSS_MIB))
    bound = product.api_bound(profile)
    if bound:
        print(f"  (the APIs' limits would let the backfill's {product.netsuite_requests} NetSuite and "
              f"{product.jaggaer_requests} JAGGAER requests run at {bound:,.0f} POs/s; it ran at "
              f"{product.per_second / bound:.0%} of that)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_transfer_arguments(parser)
    parser.add_argument("--skip-raw", action="store_true", help="the connector only")
    parser.add_argument("--json", action="store_true", help="print the connector's figures as one JSON object")
    options = parser.parse_args()
    profile = PROFILES[options.latency]
    with workspace("backfill") as workdir, connector_database(workdir) as database:
        print(f"{profile.describe()}; building {options.pos:,} purchase orders in the sandbox ...", file=sys.stderr)
        sandboxes = Sandboxes.start(profile=profile, purchase_orders=options.pos, vendors=options.vendors,
                                    workdir=workdir)
        try:
            bare = None if options.skip_raw else bare_script(sandboxes, profile)
            sandboxes.reset_jaggaer()
            product, states = connector_backfill(sandboxes, workdir)
        finally:
            sandboxes.stop()
    if options.json:
        print(json.dumps(asdict(product) | {"database": database, "states": states}))
    elif bare is None:
        print("\n".join(figures({"backfill": product}, profile)))
    else:
        report(bare=bare, product=product, states=states, profile=profile, database=database)


if __name__ == "__main__":
    main()
