"""The NetSuite sandbox's data set: an in-memory SQLite database seeded by the generator, queried through
SuiteQL and the REST record service, and changed by mutations that tests and the demo call.

Timestamps are stored in UTC; SuiteQL shows and compares them in the account's time zone. Every mutation
stamps `lastmodifieddate` / `linelastmodifieddate` from the sandbox clock, so a test moves time with
`clock.advance()` instead of sleeping. A line-only edit moves only that line's `linelastmodifieddate`, as
on NetSuite: a client watching the header's `lastmodifieddate` alone misses it."""

import random
import sqlite3
import threading
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.clock import Clock
from sandbox.netsuite import generator, records
from sandbox.netsuite.schema import RECORD_TYPE_OF, TABLES, ddl, index_ddl
from sandbox.netsuite.suiteql import register_functions, run_suiteql

_SEGMENT_FIELDS = ("department", "class", "location")
_DELETABLE = {"purchaseorder": "transaction", "vendorbill": "transaction", "vendor": "vendor", "account": "account"}
_INACTIVATABLE = {"vendor", "account", "item", "subsidiary", "department", "classification", "location"}


def _bool_text(value: Any) -> str:
    return "T" if value in (True, "T") else "F"


def _class_key(fields: dict[str, Any]) -> None:
    """`class` is a Python keyword: callers may say `classification` (the table's name) instead."""
    if "classification" in fields:
        fields["class"] = fields.pop("classification")


def _date_text(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


class NetSuiteDataset:
    """A NetSuite account's data, deterministic from `seed`; `reset()` returns to the seeded state."""

    def __init__(self, *, seed: int = 42, vendors: int = 20, purchase_orders: int = 200,
                 account_timezone: str = "America/Los_Angeles", clock: Clock | None = None,
                 date_format: str = "M/D/YYYY") -> None:
        self.seed = seed
        self.clock = clock or Clock()
        self.account_timezone = account_timezone
        self.date_format = date_format
        self._zone = ZoneInfo(account_timezone)
        self._lock = threading.RLock()
        self._pristine = sqlite3.connect(":memory:", check_same_thread=False)
        self._create(self._pristine)
        generator.seed_reference_data(self._pristine)
        rng = random.Random(seed)
        generator.seed_vendors(self._pristine, rng=rng, count=vendors)
        generator.seed_purchase_orders(self._pristine, rng=rng, count=purchase_orders)
        for statement in index_ddl():
            self._pristine.execute(statement)
        # Statistics let SQLite's planner walk an index in ORDER BY order instead of sorting every row.
        self._pristine.execute("ANALYZE")
        self._pristine.commit()
        self._conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        # Oracle's LIKE is case-sensitive; SQLite's is not unless told.
        self._conn.execute("PRAGMA case_sensitive_like = ON")
        register_functions(self._conn, zone=self._zone, now=self.clock.utcnow)
        self.reset()

    @staticmethod
    def _create(conn: sqlite3.Connection) -> None:
        for statement in ddl():
            conn.execute(statement)

    def reset(self) -> None:
        """Back to the seeded state: a page-level copy of the pristine database, fast at any size."""
        with self._lock:
            self._pristine.backup(self._conn)

    def _now(self) -> str:
        return generator.utc_text(self.clock.utcnow())

    # --- reading -------------------------------------------------------------------------------------

    def suiteql(self, *, query: str, params: list | None, limit: int, offset: int, self_url: str) -> dict:
        """The whole body of a SuiteQL response page; raises NetSuiteError (400) for bad queries or paging."""
        with self._lock:
            return run_suiteql(conn=self._conn, query=query, params=params, limit=limit, offset=offset,
                               self_url=self_url, zone=self._zone, date_format=self.date_format)

    def get_record(self, *, record_type: str, record_id: str, expand: bool, fields: list[str] | None,
                   base_url: str) -> dict:
        """One REST record. `record_type` is purchaseOrder, vendorBill, vendor or account (any case);
        `record_id` an internal id or `eid:<externalId>`; `base_url` the server's root URL (links are
        `<base_url>/services/rest/record/v1/...`)."""
        kind = records.record_kind(record_type)
        with self._lock:
            internal_id = records.find_id(self._conn, kind=kind, record_id=record_id)
            return records.render_record(self._conn, kind=kind, internal_id=internal_id, expand=expand,
                                         fields=fields, base_url=base_url)

    def list_records(self, *, record_type: str, limit: int, offset: int, base_url: str, q: str | None = None) -> dict:
        """Ids of a record type, filtered by `q` (record collection filtering: lastModifiedDate days in the account's
        time zone and date format, ids, references; sandbox/netsuite/collection.py)."""
        kind = records.record_kind(record_type)
        with self._lock:
            return records.list_records(self._conn, kind=kind, rest_type=record_type.lower(), limit=limit,
                                        offset=offset, q=q, base_url=base_url, zone=self._zone,
                                        date_format=self.date_format)

    def counts(self) -> dict[str, int]:
        """Rows per SuiteQL table."""
        with self._lock:
            return {table: self._conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in TABLES}

    # --- mutations -----------------------------------------------------------------------------------

    def _next_id(self, table: str) -> int:
        return (self._conn.execute(f'SELECT MAX("id") FROM "{table}"').fetchone()[0] or 0) + 1

    def _exists(self, table: str, row_id: int, where: str = "", args: tuple = ()) -> bool:
        sql = f'SELECT 1 FROM "{table}" WHERE "id" = ?{where}'
        return self._conn.execute(sql, (row_id, *args)).fetchone() is not None

    def _update(self, table: str, row_id: int, values: dict[str, Any], *, key: str = "id") -> None:
        if values:
            assignments = ", ".join(f'"{column}" = ?' for column in values)
            self._conn.execute(f'UPDATE "{table}" SET {assignments} WHERE "{key}" = ?', (*values.values(), row_id))

    def _update_line(self, transaction_id: int, line: int, values: dict[str, Any]) -> None:
        assignments = ", ".join(f'"{column}" = ?' for column in values)
        self._conn.execute(f'UPDATE "transactionline" SET {assignments} WHERE "transaction" = ? AND "id" = ?',
                           (*values.values(), transaction_id, line))

    def create_vendor(self, **fields: Any) -> str:
        """A new vendor; returns its internal id.

        Fields: companyname (or, for a person, entityid with isperson=True), entityid (default: the company
        name), legalname, email, phone, isinactive (bool), currency (id, default 1 USD), terms (id),
        category (id), taxidnum, externalid, subsidiary (primary subsidiary id, default 2), subsidiaries
        (list of ids, default [subsidiary]), defaultaddress (text)."""
        with self._lock:
            vendor_id = self._next_id("vendor")
            now = self._now()
            subsidiary = fields.get("subsidiary", 2)
            display = fields.get("entityid") or fields.get("companyname") or f"Vendor {vendor_id}"
            self._conn.execute(
                'INSERT INTO "vendor" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                (vendor_id, display, fields.get("companyname"), fields.get("legalname"), fields.get("email"),
                 fields.get("phone"), _bool_text(fields.get("isinactive", False)), fields.get("currency", 1),
                 fields.get("terms"), fields.get("category"), fields.get("taxidnum"), now, now,
                 fields.get("externalid"), _bool_text(fields.get("isperson", False)), subsidiary,
                 fields.get("defaultaddress")))
            self._conn.executemany('INSERT INTO "vendorsubsidiaryrelationship" VALUES (?, ?)',
                                   [(vendor_id, s) for s in fields.get("subsidiaries", [subsidiary])])
            return str(vendor_id)

    def update_vendor(self, vendor_id: str, **fields: Any) -> None:
        """Changes a vendor's fields (those of create_vendor except subsidiaries) and its lastmodifieddate."""
        names = {"entityid", "companyname", "legalname", "email", "phone", "isinactive", "currency", "terms",
                 "category", "taxidnum", "externalid", "isperson", "subsidiary", "defaultaddress"}
        unknown = set(fields) - names
        if unknown:
            raise ValueError(f"unknown vendor fields: {sorted(unknown)}")
        values = {("_" + k if k in ("isperson", "subsidiary", "defaultaddress") else k):
                  (_bool_text(v) if k in ("isinactive", "isperson") else v) for k, v in fields.items()}
        with self._lock:
            if not self._exists("vendor", int(vendor_id)):
                raise records.not_found()
            self._update("vendor", int(vendor_id), {**values, "lastmodifieddate": self._now()})

    def _line_row(self, *, transaction: int, line: int, spec: dict[str, Any], header: dict[str, Any],
                  now: str) -> tuple:
        """A transactionline row from a line spec (see create_purchase_order)."""
        item = spec.get("item")
        if item is not None:
            found = self._conn.execute('SELECT "itemtype", "expenseaccount", "displayname" FROM "item" WHERE "id" = ?',
                                       (item,)).fetchone()
            if found is None:
                raise ValueError(f"no item {item}")
            itemtype, account, description = found
        else:
            itemtype, account, description = None, spec["account"], None
        quantity, rate = spec.get("quantity"), spec.get("rate")
        amount = spec.get("amount")
        if amount is None:
            if quantity is None or rate is None:
                raise ValueError("a line needs an amount, or a quantity and a rate")
            amount = round(quantity * rate, 2)
        return generator.line_row(
            transaction, line, amount=amount, rate=header["exchangerate"], account=account,
            segments=[spec.get(f, header.get(f)) for f in _SEGMENT_FIELDS], subsidiary=header["subsidiary"],
            modified=now, item=item, itemtype=itemtype, memo=spec.get("memo", description),
            quantity=None if quantity is None else float(quantity), unit_rate=rate,
            isclosed=_bool_text(spec.get("isclosed", False)), createdfrom=spec.get("createdfrom"),
            orderline=spec.get("orderline"), received=spec.get("quantityreceived"))

    def _header_defaults(self, vendor_id: int, header: dict[str, Any]) -> dict[str, Any]:
        vendor = self._conn.execute('SELECT "currency", "terms", "_subsidiary" FROM "vendor" WHERE "id" = ?',
                                    (vendor_id,)).fetchone()
        if vendor is None:
            raise records.not_found()
        _class_key(header)
        currency = header.get("currency", vendor[0])
        local_today = self.clock.utcnow().astimezone(self._zone).date()
        return {"currency": currency, "terms": vendor[1], "subsidiary": vendor[2],
                "exchangerate": generator.EXCHANGE_RATES.get(currency, 1.0), "trandate": local_today,
                "approvalstatus": 2, **header}

    def _insert_transaction(self, transaction_id: int, *, kind: str, vendor_id: int, header: dict[str, Any],
                            lines: list[tuple], tranid: str) -> str:
        now = self._now()
        total = round(sum(line[generator.LINE_AMOUNT] for line in lines), 2)
        self._conn.execute(
            'INSERT INTO "transaction" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            (transaction_id, tranid, _date_text(header["trandate"]), kind, RECORD_TYPE_OF[kind],
             vendor_id, header["status"], header["approvalstatus"], header["currency"], header["exchangerate"],
             total, header.get("memo"), _date_text(header.get("duedate")), header["terms"], now, now,
             header.get("externalid")))
        main = generator.main_line_row(transaction_id, total=total, rate=header["exchangerate"],
                                       segments=[header.get(f) for f in _SEGMENT_FIELDS],
                                       subsidiary=header["subsidiary"], modified=now)
        self._conn.executemany(f'INSERT INTO "transactionline" VALUES ({", ".join("?" * len(main))})',
                               [main, *lines])
        return str(transaction_id)

    def create_purchase_order(self, *, vendor_id: str, lines: list[dict], **header: Any) -> str:
        """A new purchase order; returns its internal id.

        Lines: item lines {"item": id, "quantity": n, "rate": x} (amount = quantity * rate unless "amount"
        is given; the GL account is the item's expense account) or expense lines {"account": id,
        "amount": x} (quantity and rate optional); each may set memo, department, class, location,
        isclosed, quantityreceived. Header: tranid, trandate (date or 'YYYY-MM-DD'), status (letter,
        default 'B' Pending Receipt), approvalstatus (1/2/3), currency, exchangerate, memo, duedate, terms,
        externalid, department, class (or classification), location, subsidiary (default: the vendor's)."""
        if not lines:
            raise ValueError("a purchase order needs at least one line")
        with self._lock:
            values = self._header_defaults(int(vendor_id), dict(header))
            values.setdefault("status", "B")
            po_id = self._next_id("transaction")
            now = self._now()
            rows = [self._line_row(transaction=po_id, line=n, spec=spec, header=values, now=now)
                    for n, spec in enumerate(lines, start=1)]
            return self._insert_transaction(po_id, kind="PurchOrd", vendor_id=int(vendor_id), header=values,
                                            lines=rows, tranid=values.get("tranid") or f"PO{10000 + po_id}")

    def _transaction_id(self, po_id: str, kind: str = "PurchOrd") -> int:
        internal_id = int(po_id)
        if not self._exists("transaction", internal_id, ' AND "type" = ?', (kind,)):
            raise records.not_found()
        return internal_id

    def update_purchase_order(self, po_id: str, **header: Any) -> None:
        """A header edit: tranid, trandate, status, approvalstatus, currency, exchangerate, memo, duedate,
        terms, externalid, and the main line's department, class (or classification), location, subsidiary.
        Bumps the header's lastmodifieddate (and the main line's, when a segment changes)."""
        _class_key(header)
        main_fields = {k: header.pop(k) for k in (*_SEGMENT_FIELDS, "subsidiary") if k in header}
        allowed = {"tranid", "trandate", "status", "approvalstatus", "currency", "exchangerate", "memo", "duedate",
                   "terms", "externalid"}
        if set(header) - allowed:
            raise ValueError(f"unknown purchase order fields: {sorted(set(header) - allowed)}")
        with self._lock:
            internal_id = self._transaction_id(po_id)
            now = self._now()
            values = {k: _date_text(v) for k, v in header.items()}
            self._update("transaction", internal_id, {**values, "lastmodifieddate": now})
            if main_fields:
                self._update_line(internal_id, 0, {**main_fields, "linelastmodifieddate": now})

    def update_purchase_order_line(self, po_id: str, line: int, **fields: Any) -> None:
        """A line-only edit: quantity, rate, amount, memo, department, class (or classification), location,
        isclosed, quantityreceived, account (expense lines). Only this line's linelastmodifieddate moves; the
        header's lastmodifieddate stays, as on NetSuite. The order's total follows the new amount."""
        _class_key(fields)
        allowed = {"quantity", "rate", "amount", "memo", *_SEGMENT_FIELDS, "isclosed", "quantityreceived", "account"}
        if set(fields) - allowed:
            raise ValueError(f"unknown line fields: {sorted(set(fields) - allowed)}")
        with self._lock:
            internal_id = self._transaction_id(po_id)
            current = self._conn.execute(
                'SELECT "quantity", "rate", "foreignamount", "netamount" FROM "transactionline" '
                'WHERE "transaction" = ? AND "id" = ? AND "mainline" = \'F\'', (internal_id, line)).fetchone()
            if current is None:
                raise records.not_found()
            quantity, rate = fields.get("quantity", current[0]), fields.get("rate", current[1])
            amount = fields.get("amount")
            if amount is None and ("quantity" in fields or "rate" in fields) and quantity is not None and rate:
                amount = round(quantity * rate, 2)
            values: dict[str, Any] = {k: v for k, v in fields.items() if k in ("quantity", "rate", "memo",
                                                                              *_SEGMENT_FIELDS)}
            if "isclosed" in fields:
                values["isclosed"] = _bool_text(fields["isclosed"])
            if "quantityreceived" in fields:
                values["_quantityreceived"] = fields["quantityreceived"]
            if "account" in fields:
                values["expenseaccount"] = fields["account"]
            if amount is not None:
                exchange_rate = current[3] / current[2] if current[2] else 1.0
                values.update(foreignamount=amount, netamount=round(amount * exchange_rate, 2))
            values["linelastmodifieddate"] = self._now()
            self._update_line(internal_id, line, values)
            if amount is not None:
                self._refresh_total(internal_id)

    def _refresh_total(self, internal_id: int) -> None:
        total = self._conn.execute('SELECT ROUND(SUM("foreignamount"), 2) FROM "transactionline" '
                                   'WHERE "transaction" = ? AND "mainline" = \'F\'', (internal_id,)).fetchone()[0]
        self._conn.execute('UPDATE "transaction" SET "foreigntotal" = ? WHERE "id" = ?', (total, internal_id))
        self._conn.execute('UPDATE "transactionline" SET "foreignamount" = ?, "netamount" = '
                           '(SELECT ROUND(-? * "exchangerate", 2) FROM "transaction" WHERE "id" = ?) '
                           'WHERE "transaction" = ? AND "mainline" = \'T\'',
                           (-total, total, internal_id, internal_id))

    def create_vendor_bill(self, *, po_id: str, **header: Any) -> str:
        """A vendor bill billed from a purchase order; returns its internal id. Its lines copy the order's
        item and expense lines (all of them, or header `lines=[line ids]`), each with createdfrom = the
        order and its order line. Header: tranid, trandate, status (default 'A' Open), duedate, memo,
        externalid, approvalstatus."""
        with self._lock:
            order_id = self._transaction_id(po_id)
            order = self._conn.execute('SELECT "entity", "currency", "exchangerate", "terms" FROM "transaction" '
                                       'WHERE "id" = ?', (order_id,)).fetchone()
            main = self._conn.execute('SELECT "department", "class", "location", "subsidiary" FROM "transactionline" '
                                      'WHERE "transaction" = ? AND "mainline" = \'T\'', (order_id,)).fetchone()
            wanted = header.pop("lines", None)
            _class_key(header)
            values = {"currency": order[1], "exchangerate": order[2], "terms": order[3], "trandate": None,
                      "approvalstatus": 2, "status": "A", "department": main[0], "class": main[1],
                      "location": main[2], "subsidiary": main[3], **header}
            if values["trandate"] is None:
                values["trandate"] = self.clock.utcnow().astimezone(self._zone).date()
            source_lines = self._conn.execute(
                'SELECT "id", "item", "expenseaccount", "quantity", "rate", "foreignamount", "memo", "department", '
                '"class", "location" FROM "transactionline" WHERE "transaction" = ? AND "mainline" = \'F\' '
                'AND "taxline" = \'F\' ORDER BY "id"', (order_id,)).fetchall()
            chosen = [row for row in source_lines if wanted is None or row[0] in wanted]
            if not chosen:
                raise ValueError("nothing to bill")
            bill_id = self._next_id("transaction")
            now = self._now()
            rows = []
            for n, (line_id, item, account, quantity, rate, amount, memo, department, klass, location) in enumerate(
                    chosen, start=1):
                spec = {"item": item, "account": account, "quantity": quantity, "rate": rate, "amount": amount,
                        "memo": memo, "department": department, "class": klass, "location": location,
                        "createdfrom": order_id, "orderline": line_id}
                rows.append(self._line_row(transaction=bill_id, line=n, spec=spec, header=values, now=now))
            return self._insert_transaction(bill_id, kind="VendBill", vendor_id=order[0], header=values, lines=rows,
                                            tranid=values.get("tranid") or f"BILL-{bill_id}")

    def delete_record(self, record_type: str, record_id: str) -> None:
        """Deletes a purchaseorder, vendorbill, vendor or account and records it in deletedrecord."""
        record_type = record_type.lower()
        table = _DELETABLE.get(record_type)
        if table is None:
            raise ValueError(f"cannot delete a {record_type}")
        internal_id = int(record_id)
        with self._lock:
            if table == "transaction":
                self._transaction_id(record_id, records.RECORD_TYPES[record_type])
                self._conn.execute('DELETE FROM "transactionline" WHERE "transaction" = ?', (internal_id,))
            elif not self._exists(table, internal_id):
                raise records.not_found()
            if table == "vendor":
                self._conn.execute('DELETE FROM "vendorsubsidiaryrelationship" WHERE "entity" = ?', (internal_id,))
            self._conn.execute(f'DELETE FROM "{table}" WHERE "id" = ?', (internal_id,))
            self._conn.execute('INSERT INTO "deletedrecord" VALUES (?, ?, ?)', (internal_id, record_type, self._now()))

    def create_account(self, **fields: Any) -> str:
        """A new GL account; returns its id. Fields: name, acctnumber, accttype (default 'Expense'),
        parent (id), description, isinactive (bool)."""
        with self._lock:
            account_id = self._next_id("account")
            name = fields.get("name") or f"Account {account_id}"
            parent = fields.get("parent")
            fullname = name
            if parent is not None:
                parent_row = self._conn.execute('SELECT "fullname" FROM "account" WHERE "id" = ?', (parent,)).fetchone()
                if parent_row is None:
                    raise records.not_found()
                fullname = f"{parent_row[0]} : {name}"
            self._conn.execute('INSERT INTO "account" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
                               (account_id, fields.get("acctnumber"), fullname, fields.get("accttype", "Expense"),
                                _bool_text(fields.get("isinactive", False)), parent, fields.get("description"),
                                self._now(), name))
            return str(account_id)

    def set_inactive(self, record_type: str, record_id: str, inactive: bool = True) -> None:
        """Marks a vendor, account, item, subsidiary, department, classification or location (in)active."""
        table = record_type.lower()
        if table not in _INACTIVATABLE:
            raise ValueError(f"{record_type} has no isinactive flag")
        with self._lock:
            if not self._exists(table, int(record_id)):
                raise records.not_found()
            values: dict[str, Any] = {"isinactive": _bool_text(inactive)}
            if "lastmodifieddate" in TABLES[table]:
                values["lastmodifieddate"] = self._now()
            self._update(table, int(record_id), values)
