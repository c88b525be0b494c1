"""Two processes syncing the same pair at once on PostgreSQL deliver every record exactly once."""

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from sync.models import SyncRecord

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sync_now_processes_deliver_every_record_once(pair, netsuite, jaggaer, tmp_path):
    database = connection.settings_dict
    env = {**os.environ,
           "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
           "SYNC_LOCK_DIR": str(tmp_path / "locks")}
    processes = [
        subprocess.Popen([sys.executable, "manage.py", "sync_now"], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=240) for process in processes]

    assert [process.returncode for process in processes] == [0, 0], outputs
    sent = Counter((entry["path"], entry["key"]) for entry in jaggaer.app.received())
    assert [key for key, count in sent.items() if count > 1] == []
    assert not SyncRecord.objects.exclude(state=SyncRecord.State.DELIVERED).exists()
    assert len(jaggaer.app.purchase_orders) == SyncRecord.objects.filter(flow="purchase_orders").count()
