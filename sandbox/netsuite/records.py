"""REST record rendering (spec section 4): purchaseOrder, vendorBill, vendor and account, and the records they
refer to (subsidiary, department, classification, location, currency, term, the item types,
vendorSubsidiaryRelationship) as NetSuite's
record service shows them, modelled on the captured ../shared/fixtures/netsuite/record_purchase_order_expanded.json:
typed values, references as {"id", "refName", "links"}, dates "2025-06-06", datetimes in UTC
"2025-05-17T20:25:00Z", empty fields left out, sublists `item` and `expense`."""

import sqlite3
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.netsuite.collection import filter_sql
from sandbox.netsuite.errors import NetSuiteError
from sandbox.netsuite.schema import DISPLAY_EXPRESSIONS, STATUSES
from sandbox.netsuite.suiteql import check_paging, page_links

# REST path names, lower-case (paths are case-insensitive) -> where the record lives.
_SEGMENTS = ("subsidiary", "department", "classification", "location")
RECORD_TYPES = {"purchaseorder": "PurchOrd", "vendorbill": "VendBill", "vendor": "vendor", "account": "account",
                **{segment: segment for segment in _SEGMENTS}, "currency": "currency", "term": "term",
                "inventoryitem": "InvtPart", "noninventoryitem": "NonInvtPart", "serviceitem": "Service",
                "vendorsubsidiaryrelationship": "vendorsubsidiaryrelationship"}
_REST_NAME_OF_TABLE = {"vendor": "vendor", "currency": "currency", "subsidiary": "subsidiary",
                       "department": "department", "classification": "classification", "location": "location",
                       "term": "term", "account": "account", "transaction": "purchaseorder"}
_ITEM_RECORD_TYPES = {"InvtPart": "inventoryitem", "NonInvtPart": "noninventoryitem", "Service": "serviceitem"}
# The relationship rows have no id column of their own: their SQLite rowid stands in.
_RELATIONSHIP = "vendorsubsidiaryrelationship"
_APPROVAL_STATUS_NAMES = {1: "Pending Approval", 2: "Approved", 3: "Rejected"}

_TRANSACTION_FIELDS = ["tranId", "tranDate", "entity", "currency", "exchangeRate", "subsidiary", "department",
                       "class", "location", "terms", "memo", "status", "approvalStatus", "total", "subtotal",
                       "dueDate", "createdDate", "lastModifiedDate", "externalId", "item", "expense"]
FIELDS = {
    "PurchOrd": _TRANSACTION_FIELDS,
    "VendBill": _TRANSACTION_FIELDS + ["account", "postingPeriod"],
    "vendor": ["entityId", "companyName", "legalName", "email", "phone", "isInactive", "isPerson", "subsidiary",
               "currency", "terms", "category", "taxIdNum", "defaultAddress", "externalId", "dateCreated",
               "lastModifiedDate"],
    "account": ["acctNumber", "acctName", "fullName", "acctType", "isInactive", "parent", "description",
                "lastModifiedDate"],
    **{segment: ["name", "fullName", "parent", "isInactive", "lastModifiedDate"] for segment in _SEGMENTS},
    "currency": ["symbol", "name"],
    "term": ["name", "daysUntilNetDue"],
    **{kind: ["itemId", "displayName", "itemType", "expenseAccount", "isInactive"] for kind in _ITEM_RECORD_TYPES},
    _RELATIONSHIP: ["entity", "subsidiary"],
}
# The fields the record list's q may filter on, per table, and their SQL columns.
_FILTERABLE = {
    "transaction": {"id": '"id"', "lastmodifieddate": '"lastmodifieddate"'},
    "vendor": {"id": '"id"', "lastmodifieddate": '"lastmodifieddate"'},
    "account": {"id": '"id"', "lastmodifieddate": '"lastmodifieddate"'},
    **{segment: {"id": '"id"', "lastmodifieddate": '"lastmodifieddate"'} for segment in _SEGMENTS},
    "currency": {"id": '"id"'}, "term": {"id": '"id"'}, "item": {"id": '"id"'},
    _RELATIONSHIP: {"id": "rowid", "entity": '"entity"'},
}


def rest_root(base_url: str) -> str:
    """`<base>/services/rest` from the server's base URL (with or without that suffix)."""
    base = base_url.rstrip("/")
    return base if base.endswith("/services/rest") else f"{base}/services/rest"


def record_kind(record_type: str) -> str:
    kind = RECORD_TYPES.get(record_type.lower())
    if kind is None:
        raise NetSuiteError(400, "INVALID_PARAMETER", f"Invalid record type: {record_type}.", path=record_type)
    return kind


def not_found() -> NetSuiteError:
    return NetSuiteError(404, "NONEXISTENT_ID", "Record does not exist.")


def _utc_iso(stored: str | None) -> str | None:
    if not stored:
        return None
    moment = datetime.strptime(stored, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _bool(stored: str | None) -> bool:
    return stored == "T"


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    """Empty fields are left out, as NetSuite does."""
    return {key: value for key, value in values.items() if value is not None and value != ""}


class _Renderer:
    def __init__(self, conn: sqlite3.Connection, base_url: str) -> None:
        self.conn = conn
        self.root = rest_root(base_url)
        self._names: dict[tuple[str, int], str | None] = {}

    def href(self, *parts: object) -> str:
        return "/".join([self.root, "record/v1", *(str(p) for p in parts)])

    def display_name(self, table: str, row_id: int) -> str | None:
        key = (table, row_id)
        if key not in self._names:
            expression = DISPLAY_EXPRESSIONS[table]
            row = self.conn.execute(f'SELECT {expression} FROM "{table}" AS df WHERE df."id" = ?', (row_id,)).fetchone()
            self._names[key] = row[0] if row else None
        return self._names[key]

    def ref(self, table: str, row_id: int | None, rest_type: str | None = None) -> dict | None:
        if row_id is None:
            return None
        return {"links": [{"rel": "self", "href": self.href(rest_type or _REST_NAME_OF_TABLE[table], row_id)}],
                "id": str(row_id), "refName": self.display_name(table, row_id)}

    def item_ref(self, item_id: int | None) -> dict | None:
        if item_id is None:
            return None
        kind = self.conn.execute('SELECT "itemtype" FROM "item" WHERE "id" = ?', (item_id,)).fetchone()[0]
        return self.ref("item", item_id, _ITEM_RECORD_TYPES.get(kind, "item"))

    def transaction_ref(self, transaction_id: int | None) -> dict | None:
        if transaction_id is None:
            return None
        kind = self.conn.execute('SELECT "recordtype" FROM "transaction" WHERE "id" = ?', (transaction_id,)).fetchone()
        return self.ref("transaction", transaction_id, kind[0] if kind else "purchaseorder")


def _rows(conn: sqlite3.Connection, sql: str, args: tuple) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, args)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _where(kind: str) -> tuple[str, str, tuple, tuple]:
    """The table of a record kind, its id column, and the condition that keeps rows of that kind."""
    if kind in ("PurchOrd", "VendBill"):
        return "transaction", '"id"', ('"type" = ?',), (kind,)
    if kind in _ITEM_RECORD_TYPES:
        return "item", '"id"', ('"itemtype" = ?',), (kind,)
    return kind, ("rowid" if kind == _RELATIONSHIP else '"id"'), (), ()


def find_id(conn: sqlite3.Connection, *, kind: str, record_id: str) -> int:
    """The internal id of a record named by internal id or `eid:<externalId>`; 404 when there is none."""
    table, id_column, conditions, type_args = _where(kind)
    type_filter = "".join(f" AND {condition}" for condition in conditions)
    if record_id.lower().startswith("eid:"):
        if table not in ("transaction", "vendor"):  # only those carry an external id in this data set
            raise not_found()
        row = conn.execute(f'SELECT "id" FROM "{table}" WHERE "externalid" = ?{type_filter}',
                           (record_id[4:], *type_args)).fetchone()
    elif record_id.isdigit():
        row = conn.execute(f'SELECT {id_column} FROM "{table}" WHERE {id_column} = ?{type_filter}',
                           (int(record_id), *type_args)).fetchone()
    else:
        row = None
    if row is None:
        raise not_found()
    return row[0]


def render_record(conn: sqlite3.Connection, *, kind: str, internal_id: int, expand: bool,
                  fields: list[str] | None, base_url: str) -> dict[str, Any]:
    renderer = _Renderer(conn, base_url)
    render: Callable[..., dict[str, Any]] = {
        "PurchOrd": _transaction, "VendBill": _transaction, "vendor": _vendor, "account": _account,
        **dict.fromkeys(_SEGMENTS, _segment), "currency": _currency, "term": _term,
        **dict.fromkeys(_ITEM_RECORD_TYPES, _item), _RELATIONSHIP: _relationship}[kind]
    body = render(renderer, internal_id, kind=kind, expand=expand)
    rest_type = {"PurchOrd": "purchaseorder", "VendBill": "vendorbill", **_ITEM_RECORD_TYPES}.get(kind, kind)
    self_href = renderer.href(rest_type, internal_id) + ("?expandSubResources=true" if expand else "")
    record = {"links": [{"rel": "self", "href": self_href}], "id": str(internal_id), **_compact(body)}
    if fields is None:
        return record
    wanted = {f.strip().lower() for f in fields if f.strip()}
    known = {f.lower(): f for f in FIELDS[kind]}
    unknown = sorted(wanted - set(known) - {"id", "links"})
    if unknown:
        raise NetSuiteError(400, "NONEXISTENT_FIELD", f"Field '{unknown[0]}' for record '{rest_type}' was not found.",
                            query_param="fields")
    return {key: value for key, value in record.items() if key in ("links", "id") or key.lower() in wanted}


def _transaction(renderer: _Renderer, internal_id: int, *, kind: str, expand: bool) -> dict[str, Any]:
    conn = renderer.conn
    header = _rows(conn, 'SELECT * FROM "transaction" WHERE "id" = ?', (internal_id,))[0]
    lines = _rows(conn, 'SELECT * FROM "transactionline" WHERE "transaction" = ? ORDER BY "id"', (internal_id,))
    main = next((line for line in lines if line["mainline"] == "T"), {})
    body_lines = [line for line in lines if line["mainline"] == "F" and line["taxline"] == "F"]
    rest_type = header["recordtype"]
    billed = _quantities_billed(conn, internal_id) if kind == "PurchOrd" else {}
    status_name = STATUSES.get(kind, {}).get(header["status"])
    body: dict[str, Any] = {
        "tranId": header["tranid"],
        "tranDate": header["trandate"],
        "entity": renderer.ref("vendor", header["entity"]),
        "currency": renderer.ref("currency", header["currency"]),
        "exchangeRate": header["exchangerate"],
        "subsidiary": renderer.ref("subsidiary", main.get("subsidiary")),
        "department": renderer.ref("department", main.get("department")),
        "class": renderer.ref("classification", main.get("class")),
        "location": renderer.ref("location", main.get("location")),
        "terms": renderer.ref("term", header["terms"]),
        "memo": header["memo"],
        "status": {"id": header["status"], "refName": status_name} if header["status"] else None,
        "approvalStatus": ({"id": str(header["approvalstatus"]),
                            "refName": _APPROVAL_STATUS_NAMES.get(header["approvalstatus"])}
                           if header["approvalstatus"] else None),
        "total": header["foreigntotal"],
        "subtotal": round(sum(line["foreignamount"] or 0 for line in body_lines), 2),
        "dueDate": header["duedate"],
        "createdDate": _utc_iso(header["createddate"]),
        "lastModifiedDate": _utc_iso(header["lastmodifieddate"]),
        "externalId": header["externalid"],
    }
    if kind == "VendBill":
        body["account"] = renderer.ref("account", main.get("expenseaccount"))
        body["postingPeriod"] = _posting_period(renderer, header["trandate"])
    for sublist, is_item in (("item", True), ("expense", False)):
        entries = [line for line in body_lines if (line["item"] is not None) == is_item]
        section: dict[str, Any] = {"links": [{"rel": "self", "href": renderer.href(rest_type, internal_id, sublist)}]}
        if expand:
            section["items"] = [_line(renderer, line, rest_type, sublist, billed) for line in entries]
            section["totalResults"] = len(entries)
        body[sublist] = section
    return body


def _quantities_billed(conn: sqlite3.Connection, po_id: int) -> dict[int, float]:
    rows = conn.execute('SELECT "_orderline", SUM("quantity") FROM "transactionline" WHERE "createdfrom" = ? '
                        'GROUP BY "_orderline"', (po_id,)).fetchall()
    return {line: quantity or 0.0 for line, quantity in rows}


def _posting_period(renderer: _Renderer, trandate: str | None) -> dict | None:
    if not trandate:
        return None
    day = date.fromisoformat(trandate)
    period_id = (day.year - 2000) * 12 + day.month
    return {"links": [{"rel": "self", "href": renderer.href("accountingperiod", period_id)}],
            "id": str(period_id), "refName": day.strftime("%b %Y")}


def _line(renderer: _Renderer, line: dict[str, Any], rest_type: str, sublist: str,
          billed: dict[int, float]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "links": [{"rel": "self", "href": renderer.href(rest_type, line["transaction"], sublist, line["id"])}],
        "line": line["id"],
    }
    if sublist == "item":
        # No account on item lines: the GL account is the item's expense account (spec section 4).
        values.update(
            item=renderer.item_ref(line["item"]),
            itemType={"id": line["itemtype"], "refName": line["itemtype"]} if line["itemtype"] else None,
            description=line["memo"], quantity=line["quantity"], rate=line["rate"],
        )
    else:
        # The data set keeps a quantity and rate on some expense lines, which SuiteQL shows: the record shows them
        # too, so that both read modes see one account.
        values.update(account=renderer.ref("account", line["expenseaccount"]), memo=line["memo"],
                      quantity=line["quantity"], rate=line["rate"])
    values.update(
        amount=line["foreignamount"],
        department=renderer.ref("department", line["department"]),
        location=renderer.ref("location", line["location"]),
        isClosed=_bool(line["isclosed"]),
    )
    values["class"] = renderer.ref("classification", line["class"])
    if rest_type == "purchaseorder" and sublist == "item":
        values.update(quantityReceived=line["_quantityreceived"] or 0.0,
                      quantityBilled=billed.get(line["id"], 0.0))
    if line["createdfrom"] is not None:
        values.update(orderDoc=renderer.transaction_ref(line["createdfrom"]), orderLine=line["_orderline"])
    return _compact(values)


def _vendor(renderer: _Renderer, internal_id: int, *, kind: str, expand: bool) -> dict[str, Any]:
    row = _rows(renderer.conn, 'SELECT * FROM "vendor" WHERE "id" = ?', (internal_id,))[0]
    return {
        "entityId": row["entityid"], "companyName": row["companyname"], "legalName": row["legalname"],
        "email": row["email"], "phone": row["phone"], "isInactive": _bool(row["isinactive"]),
        "isPerson": _bool(row["_isperson"]), "subsidiary": renderer.ref("subsidiary", row["_subsidiary"]),
        "currency": renderer.ref("currency", row["currency"]), "terms": renderer.ref("term", row["terms"]),
        "category": renderer.ref("_vendorcategory", row["category"], "vendorcategory"),
        "taxIdNum": row["taxidnum"], "defaultAddress": row["_defaultaddress"], "externalId": row["externalid"],
        "dateCreated": _utc_iso(row["datecreated"]), "lastModifiedDate": _utc_iso(row["lastmodifieddate"]),
    }


def _account(renderer: _Renderer, internal_id: int, *, kind: str, expand: bool) -> dict[str, Any]:
    row = _rows(renderer.conn, 'SELECT * FROM "account" WHERE "id" = ?', (internal_id,))[0]
    return {
        "acctNumber": row["acctnumber"], "acctName": row["_name"], "fullName": row["fullname"],
        "acctType": {"id": row["accttype"], "refName": row["accttype"]}, "isInactive": _bool(row["isinactive"]),
        "parent": renderer.ref("account", row["parent"]), "description": row["description"],
        "lastModifiedDate": _utc_iso(row["lastmodifieddate"]),
    }


def _segment(renderer: _Renderer, internal_id: int, *, kind: str, expand: bool) -> dict[str, Any]:
    row = _rows(renderer.conn, f'SELECT * FROM "{kind}" WHERE "id" = ?', (internal_id,))[0]
    return {"name": row["name"], "fullName": row["fullname"], "parent": renderer.ref(kind, row["parent"]),
            "isInactive": _bool(row["isinactive"]), "lastModifiedDate": _utc_iso(row["lastmodifieddate"])}


def _currency(renderer: _Renderer, internal_id: int, *, kind: str, expand: bool) -> dict[str, Any]:
    row = _rows(renderer.conn, 'SELECT * FROM "currency" WHERE "id" = ?', (internal_id,))[0]
    return {"symbol": row["symbol"], "name": row["name"]}


def _term(renderer: _Renderer, internal_id: int, *, kind: str, expand: bool) -> dict[str, Any]:
    row = _rows(renderer.conn, 'SELECT * FROM "term" WHERE "id" = ?', (internal_id,))[0]
    return {"name": row["name"], "daysUntilNetDue": row["daysuntilnetdue"]}


def _item(renderer: _Renderer, internal_id: int, *, kind: str, expand: bool) -> dict[str, Any]:
    row = _rows(renderer.conn, 'SELECT * FROM "item" WHERE "id" = ?', (internal_id,))[0]
    return {"itemId": row["itemid"], "displayName": row["displayname"],
            "itemType": {"id": row["itemtype"], "refName": row["itemtype"]},
            "expenseAccount": renderer.ref("account", row["expenseaccount"]), "isInactive": _bool(row["isinactive"])}


def _relationship(renderer: _Renderer, internal_id: int, *, kind: str, expand: bool) -> dict[str, Any]:
    entity, subsidiary = renderer.conn.execute(f'SELECT "entity", "subsidiary" FROM "{_RELATIONSHIP}" WHERE rowid = ?',
                                               (internal_id,)).fetchone()
    return {"entity": renderer.ref("vendor", entity), "subsidiary": renderer.ref("subsidiary", subsidiary)}


def list_records(conn: sqlite3.Connection, *, kind: str, rest_type: str, limit: int, offset: int, q: str | None,
                 base_url: str, zone: ZoneInfo, date_format: str) -> dict[str, Any]:
    """GET /record/v1/<type>[?q=]: ids and links only, oldest id first, paged like SuiteQL."""
    check_paging(limit=limit, offset=offset)
    renderer = _Renderer(conn, base_url)
    table, id_column, conditions, args = _where(kind)
    clauses = list(conditions)
    if q is not None and q.strip():
        condition, filter_args = filter_sql(q, columns=_FILTERABLE[table], zone=zone, date_format=date_format)
        clauses.append(f"({condition})")
        args = (*args, *filter_args)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    total = conn.execute(f'SELECT COUNT(*) FROM "{table}" {where}', args).fetchone()[0]
    ids = [row[0] for row in conn.execute(f'SELECT {id_column} FROM "{table}" {where} ORDER BY {id_column} '
                                          'LIMIT ? OFFSET ?', (*args, limit, offset))]
    return {
        "links": page_links(self_url=renderer.href(rest_type), limit=limit, offset=offset, total=total),
        "count": len(ids),
        "hasMore": offset + len(ids) < total,
        "items": [{"links": [{"rel": "self", "href": renderer.href(rest_type, i)}], "id": str(i)} for i in ids],
        "offset": offset,
        "totalResults": total,
    }
