"""Reading what changed in NetSuite since each flow's cursors (or within a window), in bulk, and recording
it; and re-reading one record for a push. What to read is the flow's (sync/flows/); how to page, move
cursors and record is sync/engine/paging.py's."""

from collections.abc import Callable

from credentials.models import ConnectionPair, NetSuiteReadMode
from sync.engine.journal import record_deletions
from sync.engine.paging import PullContext, PullReport, Window
from sync.flows import flow_named, flow_of_record_type
from sync.flows.deletions import DELETED_RECORD_QUERY
from sync.remote.errors import NetSuiteError
from sync.remote.netsuite_client import NetSuiteClient


def pull(*, pair: ConnectionPair, flow: str, client: NetSuiteClient, window: Window | None = None,
         progress: Callable[[PullReport], None] | None = None,
         page_done: Callable[[], None] | None = None) -> PullReport:
    """Reads what changed in `flow` since its cursors (or within `window`) and records it, calling `page_done`
    after each page it recorded."""
    return _read(PullContext(pair=pair, flow=flow, client=client, window=window, progress=progress,
                             page_done=page_done))


def pull_one(*, pair: ConnectionPair, record_type: str, client: NetSuiteClient, netsuite_id: str) -> PullReport:
    """Re-reads one record of a NetSuite record type through the same path as a poll, so that a push and a
    poll of the same change record it once. A record that comes back empty is deleted only when NetSuite says
    so: deletedrecord lists it (SuiteQL), or the record read answers 404 NONEXISTENT_ID (REST records). Anything
    else (a save not visible yet, an answer that lost its rows) is a retryable fault, because treating it as a
    deletion would cancel a live PO in JAGGAER."""
    definition = flow_of_record_type(record_type)
    context = PullContext(pair=pair, flow=str(definition.flow), client=client, window=None, progress=None,
                          only_id=netsuite_id, only_stream=definition.stream_of(record_type))
    report = _read(context)
    if report.read == 0 and not context.confirmed_absent:
        if _rest_records(pair):
            # The record was read and not recorded (never for a record that exists): nothing says it is gone.
            raise NetSuiteError(system="NetSuite", retryable=True, code="NOT_FOUND_NOT_DELETED",
                                message=f"NetSuite returned no {record_type} {netsuite_id}: not treated as deleted; "
                                        "it is read again later")
        if not client.suiteql(query=DELETED_RECORD_QUERY, params=[record_type, int(netsuite_id)], limit=1)["items"]:
            raise NetSuiteError(system="NetSuite", retryable=True, code="NOT_FOUND_NOT_DELETED",
                                message=f"NetSuite returned no {record_type} {netsuite_id} and lists no deletion of "
                                        "it: not treated as deleted; it is read again later")
    if report.read == 0:
        report.deleted = record_deletions(pair=pair, flow=str(definition.flow),
                                          netsuite_ids=[definition.record_key(netsuite_id, record_type)])
    return report


def _rest_records(pair: ConnectionPair) -> bool:
    return pair.netsuite.read_mode == NetSuiteReadMode.REST_RECORDS


def _read(context: PullContext) -> PullReport:
    """Reads through the connection's read mode: SuiteQL, or REST records for a role that may not run SuiteQL."""
    before = context.client.requests_made
    definition = flow_named(context.flow)
    if _rest_records(context.pair):
        definition.read_records(context)
    else:
        definition.read(context)
    context.report.netsuite_requests = context.client.requests_made - before
    return context.report
