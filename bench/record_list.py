"""How fast the SyncRecord admin list answers with 1,000,000 records (issue 6: under a second).

Fills the database named by DATABASE_URL with ROWS sync records (PostgreSQL COPY, about a minute for a
million; skipped when they are already there), then times the admin changelist through Django's test client
as a logged-in superuser, without and with filters and searches, and prints the figures. Not part of the test
suite. Run it against a PostgreSQL of its own, never a live one, e.g.:

    D=$(mktemp -d) && chmod 755 $D && chown postgres $D
    runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D $D/data -U postgres -A trust --no-sync
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D $D/data -w -l $D/log \
        -o "-p 55432 -k $D -c listen_addresses=127.0.0.1 -c fsync=off" start
    DATABASE_URL=postgres://postgres@127.0.0.1:55432/postgres .venv/bin/python bench/record_list.py [--rows N]

(stop it with pg_ctl -D $D/data stop). It migrates that database itself.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "connector_project.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from credentials.models import ConnectionPair, JaggaerConnection, NetSuiteConnection  # noqa: E402
from sync.models import Flow, SyncRecord  # noqa: E402

CHUNK = 50_000
REPEATS = 5
VENDORS = 2000
# Roughly a year of a mid-size customer after its backfill: mostly delivered, a tail that needs people.
STATES = [(SyncRecord.State.DELIVERED, 0.93), (SyncRecord.State.SKIPPED, 0.03),
          (SyncRecord.State.WAITING_FOR_MAPPING, 0.015), (SyncRecord.State.WAITING_FOR_DEPENDENCY, 0.01),
          (SyncRecord.State.RETRYING, 0.005), (SyncRecord.State.FAILED, 0.008), (SyncRecord.State.PENDING, 0.002)]
FLOWS = [(Flow.PURCHASE_ORDERS, 0.55), (Flow.VENDOR_BILLS, 0.43), (Flow.VENDORS, 0.02)]


def bench_pair() -> ConnectionPair:
    netsuite, _ = NetSuiteConnection.objects.get_or_create(
        name="bench-netsuite", defaults={"account_id": "1234567_SB1", "base_url": "http://127.0.0.1:9"})
    jaggaer, _ = JaggaerConnection.objects.get_or_create(name="bench-jaggaer", defaults={"base_url": "http://127.0.0.1:9"})
    pair, _ = ConnectionPair.objects.get_or_create(netsuite=netsuite, jaggaer=jaggaer)
    return pair


def fill(pair: ConnectionPair, rows: int) -> None:
    existing = SyncRecord.objects.filter(pair=pair).count()
    if existing >= rows:
        print(f"{existing:,} records already there")
        return
    fields = [f for f in SyncRecord._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f.column for f in fields)
    rng = random.Random(6)
    now = timezone.now()
    payload = json.dumps({"poHeader": {"notes": "x" * 400}, "poLineList": {"poLine": [{"lineNumber": n, "description": "y" * 120}
                                                                                     for n in range(8)]}})
    source = json.dumps({"memo": "z" * 300, "lines": [{"memo": "w" * 80} for _ in range(8)]})
    started = time.monotonic()
    raw = connection.connection  # psycopg 3: COPY is the fast path for a million rows
    with raw.cursor() as cursor, cursor.copy(f"COPY {SyncRecord._meta.db_table} ({columns}) FROM STDIN") as copy:
        for n in range(existing, rows):
            flow = rng.choices([f for f, _ in FLOWS], [w for _, w in FLOWS])[0]
            state = rng.choices([s for s, _ in STATES], [w for _, w in STATES])[0]
            vendor = rng.randrange(VENDORS)
            updated = now - timedelta(seconds=rng.randrange(365 * 86400))
            failing = state in (SyncRecord.State.FAILED, SyncRecord.State.RETRYING, SyncRecord.State.WAITING_FOR_MAPPING)
            values = {
                "pair_id": pair.pk, "flow": flow, "netsuite_id": str(n + 1), "state": state,
                "document_number": f"{'PO' if flow == Flow.PURCHASE_ORDERS else 'BILL-'}{100000 + n}",
                "netsuite_entity": str(vendor), "label": f"Vendor {vendor} Supplies Inc", "source": source,
                "source_sha256": "a" * 64, "netsuite_last_modified": "2026-01-01 00:00:00", "deleted_in_netsuite": False,
                "attempts": 1 if failing else 0, "next_attempt_at": updated + timedelta(hours=1) if failing else None,
                "claimed_until": None, "claim_token": "", "payload": payload, "payload_sha256": "b" * 64,
                "delivered_sha256": "b" * 64 if state == SyncRecord.State.DELIVERED else "",
                "delivered_at": updated if state == SyncRecord.State.DELIVERED else None, "outcome_unknown": False,
                "resend": False, "in_jaggaer": state == SyncRecord.State.DELIVERED, "blocked_by": "",
                "jaggaer_id": str(n), "jaggaer_revision": None,
                "last_error_kind": "mapping" if state == SyncRecord.State.WAITING_FOR_MAPPING else (
                    "rejected" if state == SyncRecord.State.FAILED else ""),
                "last_error_code": "", "last_error_message": "Rejected by JAGGAER: VALIDATION" if failing else "",
                "created_at": updated, "updated_at": updated,
            }
            copy.write_row([values[f.attname] for f in fields])
    raw.commit()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {SyncRecord._meta.db_table}")
    print(f"filled {rows - existing:,} records in {time.monotonic() - started:.0f} s")


def timed(client: Client, url: str, params: dict) -> tuple[float, int]:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        answer = client.get(url, params)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, (params, answer.status_code)
    return statistics.median(times), len(answer.context["cl"].result_list)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run it against PostgreSQL: set DATABASE_URL=postgres://... (see the top of this file).")
    setup_test_environment()  # the test client then sees the template context (rows shown)
    call_command("migrate", verbosity=0)
    pair = bench_pair()
    fill(pair, options.rows)
    user, _ = User.objects.get_or_create(username="bench", defaults={"is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(user)
    url = reverse("admin:sync_syncrecord_changelist")
    cases = {
        "no filter": {},
        "failed": {"state__exact": "failed"},
        "POs waiting for a mapping": {"flow__exact": "purchase_orders", "state__exact": "waiting_for_mapping"},
        "error kind rejected": {"last_error_kind__exact": "rejected"},
        "changed 1-7 days ago": {"age": "week"},
        "search PO number": {"q": "PO51234"},
        "search vendor name": {"q": "Vendor 1234 Supplies"},
        "search NetSuite id": {"q": "777777"},
        "page 50": {"p": "50"},
    }
    print(f"SyncRecord admin list, {SyncRecord.objects.filter(pair=pair).count():,} records; median of {REPEATS}:")
    for name, params in cases.items():
        seconds, shown = timed(client, url, params)
        flag = "" if seconds < 1 else "  <-- over a second"
        print(f"  {name:28} {seconds * 1000:7.0f} ms  ({shown} rows shown){flag}")
    record = SyncRecord.objects.filter(pair=pair).only("pk").last()
    started = time.perf_counter()
    client.get(reverse("admin:sync_syncrecord_change", args=[record.pk]))
    print(f"  {'record page':28} {(time.perf_counter() - started) * 1000:7.0f} ms")
    started = time.perf_counter()
    client.get(reverse("sync:dashboard"))
    print(f"  {'dashboard':28} {(time.perf_counter() - started) * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
