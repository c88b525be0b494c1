"""The tables SuiteQL can see (spec section 3), their column types, which column refers to which table,
and the SQLite DDL the data set is stored in.

Only the columns listed in TABLES are visible to SuiteQL. A few extra columns, prefixed `_`, hold what the
REST records show but SuiteQL does not list (a vendor's address, an account's own name...), and tables
prefixed `_` hold display names for references; queries naming them fail like any unknown field."""

from dataclasses import dataclass

# Column kinds: "int" and "num" render as numbers, "text" as is, "bool" is stored 'T'/'F',
# "date" is stored 'YYYY-MM-DD', "datetime" is stored in UTC as 'YYYY-MM-DD HH:MM:SS'.
INT, NUM, TEXT, BOOL, DATE, DATETIME = "int", "num", "text", "bool", "date", "datetime"

_SQLITE_TYPES = {INT: "INTEGER", NUM: "REAL", TEXT: "TEXT", BOOL: "TEXT", DATE: "TEXT", DATETIME: "TEXT"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    references: str | None = None  # the table whose display name BUILTIN.DF shows for this column


def _columns(*specs: tuple) -> dict[str, Column]:
    return {spec[0]: Column(*spec) for spec in specs}


def _segment_columns(table: str) -> dict[str, Column]:
    return _columns(("id", INT), ("name", TEXT), ("fullname", TEXT), ("parent", INT, table),
                    ("isinactive", BOOL), ("lastmodifieddate", DATETIME))


TABLES: dict[str, dict[str, Column]] = {
    "transaction": _columns(
        ("id", INT), ("tranid", TEXT), ("trandate", DATE), ("type", TEXT), ("recordtype", TEXT),
        ("entity", INT, "vendor"), ("status", TEXT), ("approvalstatus", INT, "_approvalstatus"),
        ("currency", INT, "currency"), ("exchangerate", NUM), ("foreigntotal", NUM), ("memo", TEXT),
        ("duedate", DATE), ("terms", INT, "term"), ("createddate", DATETIME), ("lastmodifieddate", DATETIME),
        ("externalid", TEXT),
    ),
    "transactionline": _columns(
        ("transaction", INT, "transaction"), ("id", INT), ("linesequencenumber", INT), ("mainline", BOOL),
        ("taxline", BOOL), ("item", INT, "item"), ("itemtype", TEXT), ("memo", TEXT), ("quantity", NUM),
        ("rate", NUM), ("netamount", NUM), ("foreignamount", NUM), ("expenseaccount", INT, "account"),
        ("department", INT, "department"), ("class", INT, "classification"), ("location", INT, "location"),
        ("subsidiary", INT, "subsidiary"), ("isclosed", BOOL), ("createdfrom", INT, "transaction"),
        ("linelastmodifieddate", DATETIME),
    ),
    "item": _columns(
        ("id", INT), ("itemid", TEXT), ("displayname", TEXT), ("itemtype", TEXT),
        ("expenseaccount", INT, "account"), ("isinactive", BOOL),
    ),
    "deletedrecord": _columns(("recordid", INT), ("recordtype", TEXT), ("deleteddate", DATETIME)),
    "vendor": _columns(
        ("id", INT), ("entityid", TEXT), ("companyname", TEXT), ("legalname", TEXT), ("email", TEXT),
        ("phone", TEXT), ("isinactive", BOOL), ("currency", INT, "currency"), ("terms", INT, "term"),
        ("category", INT, "_vendorcategory"), ("taxidnum", TEXT), ("datecreated", DATETIME),
        ("lastmodifieddate", DATETIME), ("externalid", TEXT),
    ),
    "vendorsubsidiaryrelationship": _columns(("entity", INT, "vendor"), ("subsidiary", INT, "subsidiary")),
    "account": _columns(
        ("id", INT), ("acctnumber", TEXT), ("fullname", TEXT), ("accttype", TEXT), ("isinactive", BOOL),
        ("parent", INT, "account"), ("description", TEXT), ("lastmodifieddate", DATETIME),
    ),
    "subsidiary": _segment_columns("subsidiary"),
    "department": _segment_columns("department"),
    "classification": _segment_columns("classification"),
    "location": _segment_columns("location"),
    "currency": _columns(("id", INT), ("symbol", TEXT), ("name", TEXT)),
    "term": _columns(("id", INT), ("name", TEXT), ("daysuntilnetdue", INT)),
}

# Storage the REST records need beyond the SuiteQL columns; invisible to queries.
_HIDDEN_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "transactionline": [("_orderline", INT), ("_quantityreceived", NUM)],
    "vendor": [("_isperson", BOOL), ("_subsidiary", INT), ("_defaultaddress", TEXT)],
    "account": [("_name", TEXT)],
}
_HIDDEN_TABLES = {
    "_approvalstatus": [("id", INT), ("name", TEXT)],
    "_vendorcategory": [("id", INT), ("name", TEXT)],
}

# What BUILTIN.DF(column) shows for a reference to each table, as an SQL expression over alias "df".
DISPLAY_EXPRESSIONS: dict[str, str] = {
    "vendor": 'df."entityid"',
    "currency": 'df."name"',  # the currency's name ("Euro"), not its symbol: spec section 3
    "account": 'COALESCE(df."acctnumber" || \' \', \'\') || df."_name"',  # "6100 Office Supplies"
    "subsidiary": 'df."fullname"',
    "department": 'df."fullname"',
    "classification": 'df."fullname"',
    "location": 'df."fullname"',
    "term": 'df."name"',
    "item": 'df."itemid"',
    "transaction": "ns_type_name(df.\"type\") || ' #' || df.\"tranid\"",
    "_approvalstatus": 'df."name"',
    "_vendorcategory": 'df."name"',
}

TRANSACTION_TYPES = {"PurchOrd": "Purchase Order", "VendBill": "Bill"}
RECORD_TYPE_OF = {"PurchOrd": "purchaseorder", "VendBill": "vendorbill"}

# One-letter statuses per transaction type and what NetSuite calls them.
STATUSES = {
    "PurchOrd": {"A": "Pending Supervisor Approval", "B": "Pending Receipt", "C": "Rejected by Supervisor",
                 "D": "Partially Received", "E": "Pending Billing/Partially Received", "F": "Pending Bill",
                 "G": "Fully Billed", "H": "Closed"},
    "VendBill": {"A": "Open", "B": "Paid In Full", "C": "Cancelled", "D": "Pending Approval", "E": "Rejected"},
}

# What identifies a row of each table: an ORDER BY holding the keys of every table it reads is unique, so
# it needs no random tie-breaker.
UNIQUE_KEYS: dict[str, tuple[str, ...]] = {
    **{table: ("id",) for table in TABLES},
    "transactionline": ("transaction", "id"),
    "deletedrecord": ("recordid", "recordtype", "deleteddate"),
    "vendorsubsidiaryrelationship": ("entity", "subsidiary"),
}
# Columns that are never NULL: ordering by them needs no NULLS FIRST/LAST, which keeps SQLite on its indexes.
NEVER_NULL = {(table, column) for table, keys in UNIQUE_KEYS.items() for column in keys} | {
    ("transaction", "lastmodifieddate"), ("transaction", "createddate"), ("transaction", "type"),
    ("transactionline", "linelastmodifieddate"), ("vendor", "lastmodifieddate"), ("account", "lastmodifieddate"),
}

_INDEXES = [
    'CREATE INDEX "transaction_lastmodified" ON "transaction" ("lastmodifieddate", "id")',
    'CREATE INDEX "transaction_type_lastmodified" ON "transaction" ("type", "lastmodifieddate", "id")',
    'CREATE UNIQUE INDEX "transaction_externalid" ON "transaction" ("externalid")',
    'CREATE UNIQUE INDEX "transactionline_key" ON "transactionline" ("transaction", "id")',
    'CREATE INDEX "transactionline_lastmodified" ON "transactionline" ("linelastmodifieddate")',
    'CREATE INDEX "transactionline_createdfrom" ON "transactionline" ("createdfrom")',
    'CREATE INDEX "deletedrecord_deleted" ON "deletedrecord" ("deleteddate")',
    'CREATE INDEX "vendor_lastmodified" ON "vendor" ("lastmodifieddate", "id")',
    'CREATE UNIQUE INDEX "vendor_externalid" ON "vendor" ("externalid")',
    'CREATE INDEX "vendorsubsidiaryrelationship_entity" ON "vendorsubsidiaryrelationship" ("entity")',
]

_PRIMARY_KEYED = {"transaction", "item", "vendor", "account", "subsidiary", "department", "classification",
                  "location", "currency", "term", "_approvalstatus", "_vendorcategory"}


def ddl() -> list[str]:
    """CREATE TABLE statements for every table."""
    statements = []
    all_tables = {name: [(c.name, c.kind) for c in cols.values()] for name, cols in TABLES.items()}
    for name, extra in _HIDDEN_COLUMNS.items():
        all_tables[name] = all_tables[name] + extra
    all_tables.update(_HIDDEN_TABLES)
    for name, columns in all_tables.items():
        parts = []
        for column, kind in columns:
            key = " PRIMARY KEY" if column == "id" and name in _PRIMARY_KEYED else ""
            parts.append(f'"{column}" {_SQLITE_TYPES[kind]}{key}')
        statements.append(f'CREATE TABLE "{name}" ({", ".join(parts)})')
    return statements


def index_ddl() -> list[str]:
    """CREATE INDEX statements; run after a bulk load, which is faster than loading into indexed tables."""
    return list(_INDEXES)
