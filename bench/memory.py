"""Peak memory of the connector's backfill at 50,000 and 200,000 purchase orders (issue 10: under 300 MB, and
200,000 orders at most 1.2x the memory of 50,000).

    .venv/bin/python bench/memory.py             # 50,000 and 200,000 orders: long, see bench/RESULTS.md
    .venv/bin/python bench/memory.py --small 10  # 5,000 and 20,000 orders: a few minutes

Each size is `bench/backfill.py --skip-raw --json` in a process of its own, because a process's peak RSS only
grows: the sandboxes in their own process, the connector on a throwaway SQLite file (or PostgreSQL, see
bench/backfill.py), `backfill --flow purchase_orders` after the flows orders depend on. Zero latency by default:
memory does not depend on it, the duration does. Prints figures; asserts nothing."""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.environment import ROOT, add_profile_argument, target_line  # noqa: E402

SIZES = (50_000, 200_000)
PEAK_RSS_MIB = 300
GROWTH = 1.2


def backfill_alone(*, purchase_orders: int, latency: str) -> dict:
    answer = subprocess.run([sys.executable, "bench/backfill.py", "--skip-raw", "--json", "--pos", str(purchase_orders),
                             "--latency", latency], cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
                            timeout=24 * 3600)
    return json.loads(answer.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1, metavar="FACTOR",
                        help="divide both sizes by FACTOR for a quick run")
    add_profile_argument(parser)
    parser.set_defaults(latency="zero")
    options = parser.parse_args()
    if options.small < 1:
        parser.error("--small must be at least 1")
    runs = {}
    for size in (n // options.small for n in SIZES):
        started = time.monotonic()
        runs[size] = backfill_alone(purchase_orders=size, latency=options.latency)
        run = runs[size]
        print(f"{size:>9,} purchase orders: peak RSS {run['peak_rss_mib']:,.0f} MiB; backfill {run['seconds']:,.0f} s "
              f"({run['created'] / run['seconds']:,.0f} POs/s, {run['created']:,} delivered, on {run['database']}); "
              f"whole run with the sandboxes' set-up {time.monotonic() - started:,.0f} s", flush=True)
    small, large = (runs[size] for size in sorted(runs))
    print(target_line("peak RSS at the larger size, MiB", large["peak_rss_mib"], at_most=PEAK_RSS_MIB))
    print(target_line(f"peak RSS at {max(runs):,} / at {min(runs):,} orders", large["peak_rss_mib"] / small["peak_rss_mib"],
                      at_most=GROWTH))


if __name__ == "__main__":
    main()
