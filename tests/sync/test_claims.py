"""Claims: a delivery releases the claims of its own batch and touches no other record."""

import pytest
from django.db import connection

from sync.engine.run import sync_pass
from sync.models import SyncRecord

pytestmark = pytest.mark.django_db


def row_version(record: SyncRecord) -> str:
    """Where PostgreSQL keeps the record's current version: every UPDATE of the row moves it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT ctid::text FROM sync_syncrecord WHERE id = %s", [record.pk])
        return cursor.fetchone()[0]


def test_a_batch_whose_records_wait_releases_its_own_claims_and_rewrites_no_other_record(pair, netsuite, jaggaer):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications"])
    account = SyncRecord.objects.filter(pair=pair, flow="gl_accounts").first()
    before = row_version(account)

    sync_pass(pair=pair, flows=["purchase_orders"])  # no supplier in JAGGAER yet: every PO waits for its own

    purchase_orders = SyncRecord.objects.filter(pair=pair, flow="purchase_orders")
    assert set(purchase_orders.values_list("state", flat=True)) == {SyncRecord.State.WAITING_FOR_DEPENDENCY}
    assert not purchase_orders.exclude(claim_token="").exists()
    # Releasing the batch's claims once matched the empty claim token of every settled record in the table:
    # each batch rewrote every unclaimed record, and deadlocked with concurrent pulls and deliveries.
    assert row_version(account) == before
