"""Whatever NetSuite data a source holds, `build` gives either a JAGGAER object of the contract's shapes
(decimal strings, calendar dates, ISO currencies, the required fields, line numbers JAGGAER takes) or a
`problem` that says why the record cannot go; it never raises."""

import json
import re
from datetime import date
from typing import Any

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from mappings.models import CodingKind, CodingRule, PairCodingRule
from mappings.references import dimension_fields_of
from mappings.resolution import CodingResolver
from sandbox.jaggaer.checks import VALIDATION
from sandbox.jaggaer.documents import JaggaerData
from sync.engine.decide import build
from sync.flows.base import Built
from sync.flows.classifications import classification_source
from sync.flows.gl_accounts import account_source
from sync.flows.transactions import transaction_source
from sync.flows.vendors import vendor_source
from sync.models import Flow
from sync.remote.errors import SourceDataError
from tests.hostile.strategies import HOSTILE, mostly, netsuite_text
from tests.mappings.conftest import (
    load_classifications,
    load_gl_accounts,
    load_jaggaer_values,
    make_pair,
)

Resolver = tuple[CodingResolver, dict[str, str]]  # a pair's resolver and its dimension fields
DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CURRENCY = re.compile(r"[A-Z]{3}")

IDS = st.from_regex(r"\A[1-9][0-9]{0,3}\Z")
REALISTIC = {
    "id": IDS, "entity": IDS, "expenseaccount": st.sampled_from(["10", "11", "12"]), "department": IDS,
    "class": IDS, "location": IDS, "subsidiary": st.sampled_from(["1", "2"]), "createdfrom": IDS,
    "maindepartment": IDS, "mainclass": IDS, "mainlocation": IDS, "mainsubsidiary": st.sampled_from(["1", "2"]),
    "foreigntotal": st.from_regex(r"\A-?[0-9]{1,7}(\.[0-9]{1,2})?\Z"),
    "quantity": st.from_regex(r"\A[0-9]{1,4}(\.[0-9]{1,3})?\Z"),
    "rate": st.from_regex(r"\A[0-9]{1,5}(\.[0-9]{1,4})?\Z"),
    "netamount": st.from_regex(r"\A-?[0-9]{1,6}(\.[0-9]{1,2})?\Z"),
    "foreignamount": st.from_regex(r"\A-?[0-9]{1,6}(\.[0-9]{1,2})?\Z"),
    "trandate": st.dates().map(date.isoformat), "duedate": st.dates().map(date.isoformat),
    "currencysymbol": st.sampled_from(["USD", "EUR", "GBP"]), "termname": st.sampled_from(["Net 30", "Net 60"]),
    "termdays": st.sampled_from(["0", "30", "60"]), "linesequencenumber": st.integers(1, 60).map(str),
    "tranid": st.from_regex(r"\A(PO|BILL)[0-9]{1,5}\Z"), "isinactive": st.sampled_from(["T", "F"]),
    "companyname": st.sampled_from(["Acme Corp", "Globex"]), "acctnumber": st.sampled_from(["6100", "6200", ""]),
}


def value_of(column: str) -> st.SearchStrategy[str]:
    """Mostly what NetSuite sends in that column, else anything at all."""
    realistic = REALISTIC.get(column)
    return netsuite_text() if realistic is None else mostly(realistic, netsuite_text())


def row_of(columns: tuple[str, ...], *, keys: tuple[str, ...] = ()) -> st.SearchStrategy[dict]:
    """A row of a record the pull accepts (its id is an internal id: tests/hostile/test_source_rows.py shows
    what happens to the others) with its `keys` columns present, the others maybe."""
    return st.fixed_dictionaries({"links": st.just([]), "id": IDS, **{column: value_of(column) for column in keys}},
                                 optional={column: value_of(column) for column in columns if column not in keys})


# A header every document check accepts, for the explicit examples to vary.
HEADER = {"id": "5", "tranid": "PO1", "trandate": "2025-06-06", "currencysymbol": "USD", "entity": "7"}
HEADER_COLUMNS = ("tranid", "trandate", "duedate", "type", "entity", "status", "approvalstatus", "currency",
                  "currencysymbol", "foreigntotal", "memo", "termname", "termdays", "externalid", "maindepartment",
                  "mainclass", "mainlocation", "mainsubsidiary")
LINE_COLUMNS = ("id", "linesequencenumber", "item", "itemdisplayname", "memo", "quantity",
                "rate", "netamount", "foreignamount", "expenseaccount", "department", "class", "location",
                "subsidiary", "isclosed", "createdfrom", "createdfromtranid")


@st.composite
def transaction_sources(draw: st.DrawFn) -> dict:
    header = draw(row_of(HEADER_COLUMNS, keys=("tranid", "trandate", "currencysymbol", "entity", "foreigntotal")))
    line_keys = ("linesequencenumber", "expenseaccount", "foreignamount")
    lines = draw(st.lists(st.fixed_dictionaries(
        {"links": st.just([]), **{column: value_of(column) for column in line_keys}},
        optional={column: value_of(column) for column in LINE_COLUMNS if column not in line_keys}), max_size=3))
    return transaction_source(header, lines)


def sources_of(flow: str) -> st.SearchStrategy[dict]:
    """Sources of the flows other than documents (transaction_sources) as the pull makes them from NetSuite
    rows; rows the pull refuses are not sources."""
    if flow == Flow.GL_ACCOUNTS:
        return row_of(("acctnumber", "fullname", "isinactive")).map(account_source)
    if flow == Flow.CLASSIFICATIONS:
        return st.builds(classification_source, row_of(("name", "fullname", "isinactive")),
                         st.sampled_from(list(CodingKind)))
    return st.builds(vendor_source, row_of(("entityid", "legalname", "email", "isinactive", "currencysymbol",
                                            "termname", "termdays"), keys=("companyname",)),
                     st.lists(value_of("subsidiary"), max_size=2))


@pytest.fixture
def resolver(db: None) -> Resolver:
    """A pair coded by the same-number rule, with a few codes that resolve and others that do not."""
    pair = make_pair("hostile-payloads")
    PairCodingRule.objects.create(pair=pair, rule=CodingRule.SAME_NUMBER)
    load_gl_accounts(pair, ("10", "6100", "Office Supplies"), ("11", "", "No number"), ("12", "6200", "Travel"))
    load_classifications(pair, "subsidiary", ("1", "Parent Co"), ("2", "Sub Co"))
    load_jaggaer_values(pair, "gl_account", "6100", "11")
    load_jaggaer_values(pair, "subsidiary", "1")
    fields = dimension_fields_of(pair.jaggaer)
    return CodingResolver(pair=pair, dimension_fields=fields), fields


def built_from(flow: str, source: dict, deleted: bool, resolver: Resolver) -> Built:
    coder, fields = resolver
    built = build(flow=flow, source=source, deleted=deleted, resolver=coder, dimension_fields=fields,
                  on=date(2026, 1, 15))
    event("refused" if built.problem else "built")
    if built.problem:
        assert built.content is None
        assert isinstance(built.problem, str) and len(built.problem) > 10
    else:
        json.dumps(built.content, ensure_ascii=False).encode("utf-8")  # what requests sends, as UTF-8 JSON
    return built


def assert_money(money: Any) -> None:
    assert CURRENCY.fullmatch(money["currency"]) and DECIMAL.fullmatch(money["value"]), money


def assert_lines(lines: list[dict]) -> None:
    numbers = [line["lineNumber"] for line in lines]
    assert all(type(number) is int and number >= 1 for number in numbers) and len(set(numbers)) == len(numbers)
    for line in lines:
        assert DECIMAL.fullmatch(line["quantity"]), line
        assert_money(line["unitPrice"])


def assert_day(text: str) -> None:
    assert DAY.fullmatch(text)
    date.fromisoformat(text)


def no_validation_errors(outcome: Any) -> None:
    """The JAGGAER sandbox, which implements the contract's item checks, finds nothing wrong with the shapes
    (unknown suppliers and coding values are another matter: the sandbox here holds none)."""
    assert [error for error in outcome.errors if error["code"] == VALIDATION] == []


# Per document flow: its header, key and date fields, its lines, what delivery adds to a first send, and the
# sandbox's check of such an item.
DOCUMENTS = {
    Flow.PURCHASE_ORDERS: ("poHeader", "poNumber", "orderDate", ("poLineList", "poLine"),
                           {"type": "new", "revisionNumber": 0}, JaggaerData.apply_purchase_order),
    Flow.VENDOR_BILLS: ("header", "supplierInvoiceNumber", "invoiceDate", ("lineList", "invoiceLine"),
                        {"type": "new"}, JaggaerData.apply_invoice),
}


@pytest.mark.parametrize("flow", list(DOCUMENTS))
@settings(HOSTILE, max_examples=100)
@given(source=transaction_sources(), deleted=st.booleans())
@example(source=transaction_source(HEADER, [{"linesequencenumber": "x1", "expenseaccount": "10", "quantity": "1",
                                               "rate": "2"}]), deleted=False)
@example(source=transaction_source(HEADER, [{"linesequencenumber": "1", "expenseaccount": "10",
                                               "quantity": "1e-999999999", "foreignamount": "1e999999999"}]),
         deleted=False)
@example(source=transaction_source({**HEADER, "foreigntotal": "1e999999999"}, []), deleted=False)
@example(source=transaction_source({**HEADER, "duedate": "4/10/2022"}, []), deleted=False)
@example(source=transaction_source(HEADER, [{"id": "3", "expenseaccount": "10", "foreignamount": "5"},
                                            {"linesequencenumber": "3", "expenseaccount": "10", "foreignamount": "5"}]),
         deleted=False)
def test_a_transaction_source_builds_a_contract_document_or_names_its_problem(
        flow: Flow, source: dict, deleted: bool, resolver: Resolver) -> None:
    built = built_from(flow, source, deleted, resolver)
    if built.problem:
        return
    header_name, number, day, (holder, lines), first_send, check = DOCUMENTS[flow]
    header = built.content[header_name]
    assert header[number] and header["supplier"]["supplierNumber"]
    assert_day(header[day])
    if "dueDate" in header:
        assert_day(header["dueDate"])
    assert CURRENCY.fullmatch(header.get("currency", "USD"))
    assert_money(header["total"])
    assert_lines(built.content[holder][lines])
    no_validation_errors(check(JaggaerData(), {**built.content, header_name: {**header, **first_send}}))


@settings(HOSTILE, max_examples=120)
@given(source=sources_of(Flow.VENDORS), deleted=st.booleans())
@example(source=vendor_source({"id": "7", "companyname": "Acme", "termname": "Net 30", "termdays": "NaN"}, []),
         deleted=False)
@example(source=vendor_source({"id": "7", "companyname": "Acme", "termname": "Net 30", "termdays": "thirty"}, []),
         deleted=False)
@example(source=vendor_source({"id": "7", "companyname": "Acme", "currencysymbol": "US$"}, []), deleted=False)
def test_a_vendor_source_builds_a_contract_supplier_or_names_its_problem(source: dict, deleted: bool,
                                                                         resolver: Resolver) -> None:
    built = built_from(Flow.VENDORS, source, deleted, resolver)
    if built.problem:
        return
    supplier = built.content
    assert supplier["supplierNumber"] and supplier["name"] and isinstance(supplier["active"], bool)
    assert all(CURRENCY.fullmatch(code) for code in supplier.get("currencyList", []))
    if "paymentTerms" in supplier:
        days = supplier["paymentTerms"].get("daysAfter", 0)
        assert supplier["paymentTerms"]["code"] and type(days) is int and days >= 0
    no_validation_errors(JaggaerData().upsert_supplier(supplier))


@settings(HOSTILE, max_examples=80)
@given(flow=st.sampled_from([Flow.GL_ACCOUNTS, Flow.CLASSIFICATIONS]).flatmap(
    lambda flow: st.tuples(st.just(flow), sources_of(flow))), deleted=st.booleans())
def test_a_reference_source_builds_a_contract_custom_field_value_or_names_its_problem(
        flow: tuple[str, dict], deleted: bool, resolver: Resolver) -> None:
    flow_name, source = flow
    built = built_from(flow_name, source, deleted, resolver)
    if built.problem:
        return
    value = built.content["value"]
    assert built.content["field"] and value["internalName"] and isinstance(value["active"], bool)
    data = JaggaerData()
    no_validation_errors(data.upsert_custom_field_value(built.content["field"], value))


@settings(HOSTILE, max_examples=60)
@given(flow=st.sampled_from(list(Flow)), source=st.dictionaries(st.sampled_from(
    ["id", "tranid", "trandate", "currency", "entity", "lines", "coding", "companyname", "acctnumber", "fullname"]),
    netsuite_text(), max_size=6))
def test_a_source_of_the_wrong_shape_is_a_problem_not_an_exception(flow: str, source: dict, resolver: Resolver) -> None:
    """A stored source written by another version of the connector, or damaged: the record fails with a
    reason instead of stopping the delivery of its batch."""
    built_from(flow, source, False, resolver)


def test_a_source_from_rows_the_pull_refuses_is_never_built() -> None:
    with pytest.raises(SourceDataError, match="not an internal id"):
        transaction_source({"tranid": "PO1"}, [])
