"""SuiteQL rows are untrusted: whatever strings NetSuite sends or leaves out, a row becomes a source that can
be hashed and stored, or a SourceDataError that says what is wrong; never any other exception."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mappings.models import CodingKind
from sync.engine.journal import SourceItem, content_hash, record_sources
from sync.flows.classifications import classification_source
from sync.flows.gl_accounts import account_source
from sync.flows.transactions import LINE_COLUMNS, transaction_source
from sync.flows.vendors import vendor_source
from sync.models import Flow, SyncRecord
from sync.remote.errors import SourceDataError
from tests.hostile.strategies import HOSTILE, netsuite_row, netsuite_text, rolled_back
from tests.mappings.conftest import make_pair

ACCOUNT_COLUMNS = ("id", "acctnumber", "fullname", "accttype", "isinactive", "parent", "description")
CLASSIFICATION_COLUMNS = ("id", "name", "fullname", "parent", "isinactive")
VENDOR_COLUMNS = ("id", "entityid", "companyname", "legalname", "email", "phone", "isinactive", "taxidnum",
                  "externalid", "currency", "currencysymbol", "terms", "termname", "termdays")
HEADER_COLUMNS = ("id", "tranid", "trandate", "duedate", "type", "entity", "entityname", "status", "approvalstatus",
                  "currency", "currencysymbol", "exchangerate", "foreigntotal", "memo", "terms", "termname",
                  "termdays", "externalid", "maindepartment", "mainclass", "mainlocation", "mainsubsidiary")
LINE_ROW_COLUMNS = ("transaction", "isclosed", "linemodified", *LINE_COLUMNS)
FLAGS = frozenset({"isinactive", "isclosed"})


def assert_valid_source(source: dict) -> None:
    """What a SyncRecord can keep and a payload can be built from: JSON text that PostgreSQL's jsonb takes
    (no NUL, no lone surrogate), yes/no columns as booleans, everything else as text, a NetSuite id as id."""
    text = json.dumps(source, ensure_ascii=False)
    text.encode("utf-8")  # a lone surrogate raises here, as it would in content_hash and in PostgreSQL
    assert "\x00" not in text and "\\u0000" not in text
    assert source["id"].isascii() and source["id"].isdigit()
    for key, value in source.items():
        if key in FLAGS:
            assert isinstance(value, bool), key
        elif key == "subsidiaries":
            assert all(isinstance(member, str) for member in value)
        elif key == "coding":
            assert all(isinstance(member, str) for member in value.values())
        elif key == "lines":
            for line in value:
                assert isinstance(line.pop("isclosed"), bool)
                assert all(isinstance(member, str) for member in line.values())
        else:
            assert isinstance(value, str), key


def source_or_refusal(make: Callable[..., dict], *args: Any) -> dict | None:
    try:
        source = make(*args)
    except SourceDataError as refusal:
        assert str(refusal)  # a reason people can read
        return None
    assert_valid_source(json.loads(json.dumps(source)))
    return source


@settings(HOSTILE, max_examples=150)
@given(row=netsuite_row(ACCOUNT_COLUMNS))
@example(row={"links": [], "id": "12", "fullname": "Office\x00Supplies"})
@example(row={"links": [], "id": "12", "acctnumber": "61\ud80000"})
@example(row={"links": [], "id": "\u0661\u0662"})
@example(row={"links": []})
def test_any_account_row_gives_a_valid_source_or_a_clear_refusal(row: dict) -> None:
    source_or_refusal(account_source, row)


@settings(HOSTILE, max_examples=100)
@given(row=netsuite_row(CLASSIFICATION_COLUMNS), kind=st.sampled_from(list(CodingKind)))
def test_any_classification_row_gives_a_valid_source_or_a_clear_refusal(row: dict, kind: CodingKind) -> None:
    source_or_refusal(classification_source, row, kind)


@settings(HOSTILE, max_examples=150)
@given(row=netsuite_row(VENDOR_COLUMNS), subsidiaries=st.lists(netsuite_text(), max_size=3))
@example(row={"links": [], "id": "7", "companyname": "Acme\udc00"}, subsidiaries=["1\x00"])
def test_any_vendor_row_gives_a_valid_source_or_a_clear_refusal(row: dict, subsidiaries: list[str]) -> None:
    source_or_refusal(vendor_source, row, subsidiaries)


@settings(HOSTILE, max_examples=100)
@given(header=netsuite_row(HEADER_COLUMNS), lines=st.lists(netsuite_row(LINE_ROW_COLUMNS), max_size=4))
@example(header={"links": [], "id": "1", "memo": "\x00", "maindepartment": "\ud800"},
         lines=[{"links": [], "department": "\ud800"}])
def test_any_transaction_rows_give_a_valid_source_or_a_clear_refusal(header: dict, lines: list[dict]) -> None:
    source = source_or_refusal(transaction_source, header, lines)
    if source is not None:
        assert len(source["lines"]) == len(lines)


@pytest.mark.django_db
@settings(HOSTILE, max_examples=25)
@given(header=netsuite_row(HEADER_COLUMNS), lines=st.lists(netsuite_row(LINE_ROW_COLUMNS), max_size=3))
@example(header={"links": [], "id": "1", "memo": "a\x00b", "tranid": "PO\ud8001"}, lines=[])
def test_every_source_a_row_gives_is_stored_and_hashed_as_the_pull_stores_it(header: dict, lines: list[dict]) -> None:
    """The pull records sources in PostgreSQL (jsonb) with a hash of their canonical UTF-8 JSON."""
    try:
        source = transaction_source(header, lines)
    except SourceDataError:
        return
    with rolled_back():
        pair = make_pair("hostile-rows")
        item = SourceItem(netsuite_id=source["id"], source=source)
        record_sources(pair=pair, flow=Flow.PURCHASE_ORDERS, items=[item])
        stored = SyncRecord.objects.get(pair=pair, netsuite_id=source["id"])
        assert stored.source == source
        assert stored.source_sha256 == content_hash(source)
