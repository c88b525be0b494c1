"""Key-based paging reads past NetSuite's 100,000-row offset ceiling without losing or repeating a row."""

import pytest
import requests

from sandbox.http import RunningServer
from sandbox.netsuite.app import NetSuiteSandbox
from sandbox.netsuite.dataset import NetSuiteDataset
from sync.engine.paging import Position, keyed_pages
from sync.flows.transactions import line_change_stream
from sync.remote.netsuite_client import NetSuiteClient


@pytest.fixture(scope="module")
def big_account():
    sandbox = NetSuiteSandbox(dataset=NetSuiteDataset(purchase_orders=30_000))
    server = RunningServer(sandbox.wsgi_app())
    yield sandbox, server
    server.stop()


def test_more_than_100000_changed_rows_are_read_by_key_each_exactly_once(big_account, settings):
    sandbox, server = big_account
    settings.SYNC_PAGE_SIZE = 1000
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sandbox.issue_access_token()}"
    client = NetSuiteClient(session=session, rest_url=f"{server.url}/services/rest")
    stream = line_change_stream("PurchOrd")

    seen = [(row["cursor_k0"], row["cursor_k1"])
            for rows, _ in keyed_pages(client=client, stream=stream, after=Position.start(len(stream.keys)))
            for row in rows]

    total = sandbox.dataset.suiteql(
        query="SELECT COUNT(*) AS n FROM transactionline tl JOIN transaction t ON t.id = tl.transaction "
              "WHERE t.type = 'PurchOrd'", params=None, limit=1, offset=0, self_url="x")["items"][0]["n"]
    assert int(total) > 100_000
    assert len(seen) == len(set(seen)) == int(total)
    assert client.requests_made == -(-int(total) // 1000)
