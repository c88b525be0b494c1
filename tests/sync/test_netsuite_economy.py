"""NetSuite requests a sync does not need: a first sync and a backfill from before every document read each
document's lines with it, so they do not also read the line-change stream, while a later sync still finds a
line-only edit through it."""

from datetime import date, timedelta
from typing import Any

import pytest

from sync.engine.run import Clients, sync_pass
from sync.models import SyncCursor, SyncRecord
from sync.operations.backfill import backfill, window_of
from tests.sync.helpers import netsuite_rows

pytestmark = pytest.mark.django_db
UP_TO_POS = ["gl_accounts", "classifications", "vendors", "purchase_orders"]
LINE_STREAM = "AS transactionid"  # what only the line-change stream's query selects


def watched(pair: Any) -> tuple[Clients, list[str]]:
    """The pair's clients, with every SuiteQL query the NetSuite client sends noted (and sent as it is)."""
    clients = Clients.for_pair(pair)
    queries: list[str] = []
    send = clients.netsuite.suiteql

    def noting(*, query: str, **options: Any) -> dict:
        queries.append(query)
        return send(query=query, **options)

    clients.netsuite.suiteql = noting  # type: ignore[method-assign]
    return clients, queries


def po_lines(netsuite: Any) -> tuple[str, str]:
    row = netsuite_rows(netsuite, "SELECT id, tranid FROM transaction WHERE type = 'PurchOrd' ORDER BY id")[0]
    return row["id"], row["tranid"]


def test_a_first_sync_reads_no_line_stream_and_the_next_sync_still_finds_a_line_only_edit(pair, netsuite, jaggaer):
    clients, queries = watched(pair)
    sync_pass(pair=pair, flows=UP_TO_POS, clients=clients)

    assert not [query for query in queries if LINE_STREAM in query]
    assert len(jaggaer.app.purchase_orders) == len(netsuite_rows(netsuite, "SELECT id FROM transaction WHERE type = 'PurchOrd'"))
    assert SyncCursor.objects.get(pair=pair, flow="purchase_orders", stream="lines").last_modified

    po_id, po_number = po_lines(netsuite)
    netsuite.app.dataset.update_purchase_order_line(po_id, 1, memo="Edited after the first sync")
    queries.clear()
    sync_pass(pair=pair, flows=UP_TO_POS, clients=clients)

    assert [query for query in queries if LINE_STREAM in query]
    line = next(sent for sent in jaggaer.app.purchase_orders[po_number]["poLineList"]["poLine"] if sent["lineNumber"] == 1)
    assert line["description"] == "Edited after the first sync"


def test_a_backfill_from_before_every_document_reads_no_line_stream_and_a_later_window_does(pair, netsuite, jaggaer):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"])
    clients, queries = watched(pair)

    outcome = backfill(pair=pair, flow="purchase_orders", window=window_of(date(2000, 1, 1), None), clients=clients,
                       on_progress=lambda progress: None)

    assert not [query for query in queries if LINE_STREAM in query]
    assert outcome.run.delivered == len(jaggaer.app.purchase_orders) > 0

    oldest = netsuite_rows(netsuite, "SELECT TO_CHAR(MIN(lastmodifieddate), 'YYYY-MM-DD') AS d FROM transaction "
                                     "WHERE type = 'PurchOrd'")[0]["d"]
    queries.clear()
    # A window that starts after the oldest document leaves it out, and a line edited inside the window on a
    # document last saved before it is found only by the line stream: that window reads it.
    backfill(pair=pair, flow="purchase_orders", window=window_of(date.fromisoformat(oldest) + timedelta(days=1), None),
             clients=clients, on_progress=lambda progress: None)
    assert [query for query in queries if LINE_STREAM in query]


def test_the_line_queries_read_only_the_lines_jaggaer_gets_and_the_main_line_comes_with_the_header(pair, netsuite,
                                                                                                    jaggaer):
    clients = Clients.for_pair(pair)
    line_rows: list[dict] = []
    send = clients.netsuite.suiteql

    def noting(*, query: str, **options: Any) -> dict:
        page = send(query=query, **options)
        if "FROM transactionline tl LEFT JOIN item" in query:
            line_rows.extend(page["items"])
        return page

    clients.netsuite.suiteql = noting  # type: ignore[method-assign]
    sync_pass(pair=pair, flows=UP_TO_POS, clients=clients)

    item_and_expense_lines = netsuite_rows(netsuite, (
        "SELECT tl.id FROM transactionline tl JOIN transaction t ON t.id = tl.transaction "
        "WHERE t.type = 'PurchOrd' AND tl.mainline = 'F' AND tl.taxline = 'F'"))
    assert len(line_rows) == len(item_and_expense_lines) > 0
    # The document's own coding (its main line's) still arrives, read with the header.
    po_id, po_number = po_lines(netsuite)
    [main] = netsuite_rows(netsuite, "SELECT department, subsidiary FROM transactionline WHERE transaction = "
                                     f"{po_id} AND mainline = 'T'")
    record = SyncRecord.objects.get(pair=pair, flow="purchase_orders", netsuite_id=po_id)
    assert (record.source["coding"]["department"], record.source["coding"]["subsidiary"]) == (
        main["department"], main["subsidiary"])
    assert jaggaer.app.purchase_orders[po_number]["poHeader"]["customFieldValueSetList"]
