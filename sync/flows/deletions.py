"""NetSuite's `deletedrecord` table: the only evidence on which a deletion is acted (a flow reads it as a
stream; a push re-read that finds nothing asks it about the one record)."""

from sync.engine.paging import PullContext, Stream

DELETED_RECORD_QUERY = "SELECT d.recordid FROM deletedrecord d WHERE d.recordtype = ? AND d.recordid = ?"


def deletion_stream(record_type: str) -> Stream:
    return Stream(
        name="deletions",
        select="d.recordid",
        tables="deletedrecord d",
        timestamp="d.deleteddate",
        keys=("d.recordid",),
        where=f"d.recordtype = '{record_type}'",
    )


def read_deletions(context: PullContext, record_type: str) -> None:
    context.each_page(deletion_stream(record_type), lambda rows: context.deleted([row["recordid"] for row in rows]))
