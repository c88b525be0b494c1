"""Recording pulled sources when another process records the same new NetSuite record at the same moment (a
push's re-read beside a poll), as the chaos soak had it: the second one updates it instead of failing its page."""

import threading

import pytest
from django.db import connection

from sync.engine import journal
from sync.engine.journal import SourceItem, record_sources
from sync.models import SyncRecord

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_record_another_process_created_since_it_was_looked_up_is_updated_and_the_page_recorded(pair, monkeypatch):
    def recorded(memo: str, netsuite_id: str = "1201") -> int:
        item = SourceItem(netsuite_id=netsuite_id, source={"memo": memo}, document_number=f"PO{netsuite_id}")
        return record_sources(pair=pair, flow="purchase_orders", items=[item])

    def push_in_another_process() -> None:
        try:
            recorded("read for a push")
        finally:
            connection.close()

    insert = journal._insert_each

    def create_after_the_push(rows: list) -> None:
        if rows and isinstance(rows[0], SyncRecord):
            monkeypatch.undo()  # the push creates its record with the real insert
            push = threading.Thread(target=push_in_another_process)
            push.start()
            push.join(timeout=30)
        insert(rows)

    monkeypatch.setattr(journal, "_insert_each", create_after_the_push)

    assert recorded("read by the poll") == 1

    record = SyncRecord.objects.get(pair=pair, flow="purchase_orders", netsuite_id="1201")
    assert record.source == {"memo": "read by the poll"}
    assert list(record.events.order_by("id").values_list("reason", flat=True)) == [
        "Read from NetSuite", "Changed in NetSuite"]
