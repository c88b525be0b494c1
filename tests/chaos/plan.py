"""The soak's size and its timeline of breakages, all drawn from one seed so that a failing run is replayed by
running it again with CHAOS_SEED set to the seed it printed.

    CHAOS_RECORDS              records across all flows (default 5000)
    CHAOS_SEED                 the seed (default: a new one each run)
    CHAOS_SECONDS              how long faults, changes and pushes go on at least (default 100); they go on
                               until 90% of the records are delivered, at most 2.5 times as long
    CHAOS_MAINTENANCE_SECONDS  JAGGAER's one maintenance window (default 30)

Replaying a seed makes the same data, the same changes and the same moments of kills and restarts; which
request meets a fault also depends on the order in which concurrent requests arrive."""

import os
import random
from dataclasses import dataclass

from sandbox.netsuite import generator

DEFAULT_RECORDS = 5000
# Reference lists the generator always makes: GL accounts and the four classification tables.
REFERENCE_RECORDS = len(generator.ACCOUNTS) + sum(
    len(rows) for rows in (generator.SUBSIDIARIES, generator.DEPARTMENTS, generator.CLASSES, generator.LOCATIONS))
# The generator bills about one PO in three (statuses E and G) and makes a vendor per twelve records here.
BILLS_PER_PO = 4 / 12
VENDOR_SHARE = 1 / 12

KILLS = 3
KINDS_ONCE = ("restart_postgres", "restart_redis", "revoke_netsuite_tokens", "jaggaer_maintenance")


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


@dataclass(frozen=True)
class Moment:
    at: float  # seconds after the soak started
    action: str  # "kill" or one of KINDS_ONCE


@dataclass(frozen=True)
class SoakPlan:
    seed: int
    records: int
    chaos_seconds: float
    maintenance_seconds: float
    moments: tuple[Moment, ...]

    @property
    def vendors(self) -> int:
        return max(10, round(self.records * VENDOR_SHARE))

    @property
    def purchase_orders(self) -> int:
        """POs to seed so that, with their bills, the data set holds about `records` records."""
        return max(10, round((self.records - REFERENCE_RECORDS - self.vendors) / (1 + BILLS_PER_PO)))

    @property
    def longest_chaos_seconds(self) -> float:
        return self.chaos_seconds * 2.5

    @property
    def drain_seconds(self) -> float:
        """The bound on the wait for the queue to drain once the faults stop, growing with the size."""
        return 150 + self.records / 50

    @classmethod
    def from_environment(cls) -> "SoakPlan":
        seed = int(_number("CHAOS_SEED", random.SystemRandom().randrange(1, 10**9)))
        rng = random.Random(seed)
        chaos_seconds = _number("CHAOS_SECONDS", 100)
        # Breakages fall in the first three quarters, so that the soak also sees the connector recover under
        # load; each at a moment of its own.
        moments = [Moment(round(rng.uniform(0.1, 0.75) * chaos_seconds, 1), "kill") for _ in range(KILLS)]
        moments += [Moment(round(rng.uniform(0.1, 0.75) * chaos_seconds, 1), kind) for kind in KINDS_ONCE]
        return cls(seed=seed, records=int(_number("CHAOS_RECORDS", DEFAULT_RECORDS)), chaos_seconds=chaos_seconds,
                   maintenance_seconds=_number("CHAOS_MAINTENANCE_SECONDS", 30),
                   moments=tuple(sorted(moments, key=lambda moment: moment.at)))
