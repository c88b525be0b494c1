"""A seeded generator of a NetSuite-shaped data set: reference lists (subsidiaries, segments, GL accounts,
currencies, terms), vendors, purchase orders with item, expense and tax lines, and vendor bills billed from
them. The same seed always gives the same rows; sizes go from the demo (20 vendors, 200 POs) to the
benchmark (100,000 POs), written in bulk in chunks so that memory stays flat."""

import random
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone

# Seeded rows live in 2025 so that they never depend on the machine's clock; mutations made later are
# stamped from the sandbox clock and therefore sort after them.
WINDOW_START = datetime(2025, 1, 1, 8, 0, tzinfo=timezone.utc)
WINDOW_DAYS = 300

AP_ACCOUNT_ID = 2
TAX_ACCOUNT_ID = 3

SUBSIDIARIES = [  # id, name, parent, inactive
    (1, "Honeycomb Holdings Inc.", None, False),
    (2, "Honeycomb US", 1, False),
    (3, "Honeycomb Europe GmbH", 1, False),
    (4, "Honeycomb UK Ltd", 1, False),
    (5, "Honeycomb Canada", 1, True),
]
DEPARTMENTS = [
    (1, "Sales", None, False), (2, "Wholesale", 1, False), (3, "Operations", None, False),
    (4, "Research & Development", None, False), (5, "Administration", None, False), (6, "Finance", 5, False),
    (7, "Marketing", None, True),
]
CLASSES = [
    (1, "Hardware", None, False), (2, "Accessories", 1, False), (3, "Services", None, False),
    (4, "Software", None, False), (5, "Legacy Products", None, True),
]
LOCATIONS = [
    (1, "San Francisco HQ", None, False), (2, "Floor 2", 1, False), (3, "Reno Warehouse", None, False),
    (4, "Berlin Office", None, False), (5, "London Office", None, False), (6, "Toronto Office", None, True),
]
CURRENCIES = [(1, "USD", "US Dollar"), (2, "GBP", "British pound"), (3, "CAD", "Canadian Dollar"), (4, "EUR", "Euro")]
EXCHANGE_RATES = {1: 1.0, 2: 1.27, 3: 0.73, 4: 1.08}
TERMS = [(1, "Net 15", 15), (2, "Net 30", 30), (3, "Net 60", 60), (4, "Due on receipt", 0), (5, "1% 10 Net 30", 30)]
TERM_DAYS = {term_id: days for term_id, _, days in TERMS}
APPROVAL_STATUSES = [(1, "Pending Approval"), (2, "Approved"), (3, "Rejected")]
VENDOR_CATEGORIES = [(1, "Supplier"), (2, "Consultant"), (3, "Contractor"), (4, "Tax agency")]

ACCOUNTS = [  # id, number, name, type, parent, inactive, description
    (1, "1000", "Checking", "Bank", None, False, "Operating bank account"),
    (2, "2000", "Accounts Payable", "AcctPay", None, False, None),
    (3, "2200", "Sales Tax Payable", "OthCurrLiab", None, False, None),
    (4, "1400", "Inventory Asset", "OthCurrAsset", None, False, None),
    (5, "1500", "Fixed Assets - Equipment", "FixedAsset", None, False, None),
    (6, "5000", "Cost of Goods Sold", "COGS", None, False, "Purchased goods for resale"),
    (7, "6000", "Operating Expenses", "Expense", None, False, None),
    (8, "6100", "Office Supplies", "Expense", 7, False, "Paper, toner, small office items"),
    (9, "6200", "Software Subscriptions", "Expense", 7, False, None),
    (10, "6300", "Travel", "Expense", 7, False, None),
    (11, "6400", "Professional Services", "Expense", 7, False, "Consulting and contractors"),
    (12, "6500", "Repairs & Maintenance", "Expense", 7, False, None),
    (13, "6900", "Trade Shows (old)", "Expense", 7, True, "Closed in 2024"),
    (14, None, "Miscellaneous Expense", "Expense", None, False, None),
    (15, "8100", "Interest Expense", "OthExpense", None, False, None),
    (16, "8200", "Bank Charges", "OthExpense", None, False, None),
]
EXPENSE_LINE_ACCOUNTS = [8, 9, 10, 11, 12, 14, 15, 16]

ITEMS = [  # id, itemid, displayname, itemtype, expense account, inactive, unit price
    (1, "OFF-PAPER-A4", "Copy paper A4, 500 sheets", "NonInvtPart", 8, False, 6.49),
    (2, "OFF-TONER-K", "Toner cartridge, black", "NonInvtPart", 8, False, 89.0),
    (3, "HW-LAPTOP-14", "Laptop 14 inch", "InvtPart", 6, False, 1249.0),
    (4, "HW-MONITOR-27", "Monitor 27 inch", "InvtPart", 6, False, 329.99),
    (5, "HW-DOCK-USB-C", "USB-C docking station", "InvtPart", 6, False, 189.5),
    (6, "SW-CAD-SEAT", "CAD software seat, yearly", "Service", 9, False, 1800.0),
    (7, "SVC-CONSULT-H", "Consulting hour", "Service", 11, False, 150.0),
    (8, "SVC-REPAIR", "On-site repair visit", "Service", 12, False, 240.0),
    (9, "HW-CABLE-HDMI", "HDMI cable 2 m", "InvtPart", 6, False, 12.75),
    (10, "OFF-CHAIR", "Office chair", "NonInvtPart", 8, False, 410.0),
    (11, "HW-FAX", "Fax machine", "InvtPart", 6, True, 99.0),
]

_NAMED_VENDORS = [  # company name or None for a person, person name, currency, subsidiary, country
    ("Müller Bürobedarf GmbH", None, 4, 3, "DE"),
    ("Société Générale d'Équipement", None, 4, 3, "FR"),
    (None, "Jane Doe", 1, 2, "US"),
    ("Acme Office Supply", None, 1, 2, "US"),
    ("Northwind Traders Ltd", None, 2, 4, "GB"),
    ("Contoso Consulting LLC", None, 1, 2, "US"),
    ("Ōsaka Precision Parts K.K.", None, 1, 2, "JP"),
    ("Maple Leaf Logistics", None, 3, 2, "CA"),
]
_NAME_WORDS = (["Summit", "Harbor", "Granite", "Blue Ridge", "Cedar", "Pioneer", "Atlas", "Beacon", "Evergreen",
                "Keystone", "Silverline", "Redwood", "Copperfield", "Lakeside", "Northstar", "Orchard"],
               ["Supply", "Industrial", "Technologies", "Services", "Components", "Office Products", "Systems",
                "Facilities", "Electronics", "Partners"],
               ["Inc.", "LLC", "Co.", "Corp.", "Group"])
_ADDRESSES = {
    "DE": "Hauptstraße 12\n80331 München\nGermany",
    "FR": "12 rue de l'Église\n69002 Lyon\nFrance",
    "US": "500 Market Street\nSan Francisco CA 94105\nUnited States",
    "GB": "10 Baker Street\nLondon W1U 3BW\nUnited Kingdom",
    "JP": "1-2-3 Umeda, Kita-ku\nOsaka 530-0001\nJapan",
    "CA": "200 Bay Street\nToronto ON M5J 2J2\nCanada",
}
_PO_STATUSES = ["A", "B", "B", "B", "D", "E", "F", "F", "G", "G", "G", "H"]
_MEMOS = ["Quarterly restock", "Urgent: replacement parts", "New hire equipment", "Annual renewal",
          "Per quote Q-2025-118", "Office move", None, None, None]

_CHUNK = 2000  # purchase orders per bulk insert


def utc_text(moment: datetime) -> str:
    """The stored form of a timestamp: UTC, 'YYYY-MM-DD HH:MM:SS' (isoformat is much faster than strftime)."""
    return moment.astimezone(timezone.utc).isoformat(sep=" ")[:19]


def _insert(conn: sqlite3.Connection, table: str, rows: Sequence[Sequence]) -> None:
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        conn.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)


def _full_names(rows: Iterable[tuple]) -> dict[int, str]:
    """'Parent : Child' names, as NetSuite shows segments and accounts (parents are listed first)."""
    names: dict[int, str] = {}
    for row_id, name, parent, *_ in rows:
        names[row_id] = f"{names[parent]} : {name}" if parent else name
    return names


def seed_reference_data(conn: sqlite3.Connection) -> None:
    """Subsidiaries, departments, classes, locations, currencies, terms, GL accounts and items."""
    stamp = utc_text(WINDOW_START - timedelta(days=90))
    for table, rows in (("subsidiary", SUBSIDIARIES), ("department", DEPARTMENTS), ("classification", CLASSES),
                        ("location", LOCATIONS)):
        full = _full_names(rows)
        _insert(conn, table, [(i, name, full[i], parent, "T" if inactive else "F", stamp)
                              for i, name, parent, inactive in rows])
    _insert(conn, "currency", CURRENCIES)
    _insert(conn, "term", TERMS)
    _insert(conn, "_approvalstatus", APPROVAL_STATUSES)
    _insert(conn, "_vendorcategory", VENDOR_CATEGORIES)
    full = _full_names([(a[0], a[2], a[4]) for a in ACCOUNTS])
    # Columns: id, acctnumber, fullname, accttype, isinactive, parent, description, lastmodifieddate, _name
    _insert(conn, "account", [(i, number, full[i], kind, "T" if inactive else "F", parent, description, stamp, name)
                              for i, number, name, kind, parent, inactive, description in ACCOUNTS])
    _insert(conn, "item", [(i, itemid, name, kind, account, "T" if inactive else "F")
                           for i, itemid, name, kind, account, inactive, _ in ITEMS])


def seed_vendors(conn: sqlite3.Connection, *, rng: random.Random, count: int) -> None:
    """Named vendors first (non-ASCII names, a person), then generated companies; every seventh inactive."""
    vendors, relationships = [], []
    for n in range(count):
        vendor_id = 101 + n
        if n < len(_NAMED_VENDORS):
            company, person, currency, subsidiary, country = _NAMED_VENDORS[n]
        else:
            words = [rng.choice(part) for part in _NAME_WORDS]
            company, person = f"{words[0]} {words[1]} {words[2]} {vendor_id}", None
            currency, subsidiary, country = 1, 2, "US"
        display = company or person
        created = WINDOW_START - timedelta(days=rng.randint(30, 400), minutes=rng.randint(0, 1439))
        modified = created + timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1439))
        slug = "".join(ch for ch in display.lower() if ch.isascii() and ch.isalnum())[:16] or f"vendor{vendor_id}"
        # Columns: id, entityid, companyname, legalname, email, phone, isinactive, currency, terms, category,
        # taxidnum, datecreated, lastmodifieddate, externalid, _isperson, _subsidiary, _defaultaddress
        vendors.append((
            vendor_id, display, company, company, f"ap@{slug}.example.com",
            f"+1 415 555 {rng.randint(1000, 9999)}" if rng.random() < 0.8 else None,
            "T" if n % 7 == 6 else "F", currency, rng.choice([1, 2, 2, 3]), 2 if person else rng.choice([1, 1, 2, 3]),
            f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}" if rng.random() < 0.7 else None,
            utc_text(created), utc_text(modified), f"VEND-{vendor_id}" if n % 3 != 2 else None,
            "T" if person else "F", subsidiary, f"{display}\n{_ADDRESSES[country]}",
        ))
        relationships.append((vendor_id, subsidiary))
        if subsidiary != 1 and rng.random() < 0.3:
            relationships.append((vendor_id, 1))
    _insert(conn, "vendor", vendors)
    _insert(conn, "vendorsubsidiaryrelationship", relationships)


def _money(value: float) -> float:
    return round(value + 1e-9, 2)


# Positions in a transactionline row tuple (the table's column order).
LINE_ID, LINE_TAXLINE, LINE_ITEM, LINE_AMOUNT = 1, 4, 5, 11


def line_row(transaction: int, line: int, *, amount: float, rate: float, account: int, segments: Sequence,
             subsidiary: int, modified: str, mainline: str = "F", taxline: str = "F", item: int | None = None,
             itemtype: str | None = None, memo: str | None = None, quantity: float | None = None,
             unit_rate: float | None = None, isclosed: str = "F", createdfrom: int | None = None,
             orderline: int | None = None, received: float | None = None) -> tuple:
    """A transactionline row. `amount` is in the transaction's currency, `rate` its exchange rate,
    `segments` (department, class, location), `modified` the stored UTC text."""
    # Columns: transaction, id, linesequencenumber, mainline, taxline, item, itemtype, memo, quantity, rate,
    # netamount, foreignamount, expenseaccount, department, class, location, subsidiary, isclosed,
    # createdfrom, linelastmodifieddate, _orderline, _quantityreceived
    return (transaction, line, line, mainline, taxline, item, itemtype, memo, quantity, unit_rate,
            _money(amount * rate), amount, account, *segments, subsidiary, isclosed, createdfrom, modified,
            orderline, received)


def main_line_row(transaction: int, *, total: float, rate: float, segments: Sequence, subsidiary: int,
                  modified: str) -> tuple:
    """The header's line (mainline 'T', id 0): its segments, and the total credited to Accounts Payable."""
    return line_row(transaction, 0, mainline="T", amount=-total, rate=rate, account=AP_ACCOUNT_ID,
                    segments=segments, subsidiary=subsidiary, modified=modified)


class _PurchaseOrderBuilder:
    """Builds purchase orders (and the bills billed from them) as row tuples, with ids continuing after the
    rows already stored, so that generated orders can be appended to an existing data set."""

    def __init__(self, conn: sqlite3.Connection, *, rng: random.Random) -> None:
        self.rng = rng
        self.vendors = conn.execute(
            'SELECT "id", "currency", "terms", "_subsidiary" FROM "vendor" WHERE "isinactive" = \'F\' ORDER BY "id"'
        ).fetchall()
        self.next_id = (conn.execute('SELECT MAX("id") FROM "transaction"').fetchone()[0] or 1000) + 1
        self.next_number = conn.execute('SELECT COUNT(*) FROM "transaction"').fetchone()[0] + 1
        self.departments = [row[0] for row in DEPARTMENTS if not row[3]]
        self.classes = [row[0] for row in CLASSES if not row[3]]
        self.locations = [row[0] for row in LOCATIONS if not row[3]]
        self.items = [row for row in ITEMS if not row[5]]
        self.transactions: list[tuple] = []
        self.lines: list[tuple] = []
        self.deleted: list[tuple] = []

    def _take_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def purchase_order(self) -> None:
        rng = self.rng
        vendor_id, currency, terms, subsidiary = rng.choice(self.vendors)
        po_id = self._take_id()
        if rng.random() < 0.01:  # an order deleted since: its id stays used, as in NetSuite
            self.deleted.append((po_id, "purchaseorder", utc_text(WINDOW_START + timedelta(days=rng.randint(1, 290)))))
            po_id = self._take_id()
        created = WINDOW_START + timedelta(days=rng.randint(0, WINDOW_DAYS - 40), seconds=rng.randint(0, 86399))
        modified = created + timedelta(seconds=rng.choice([0, 0, rng.randint(60, 30 * 86400)]))
        trandate = (created - timedelta(hours=8)).date()
        status = rng.choice(_PO_STATUSES)
        rate = EXCHANGE_RATES[currency]
        if currency != 1:  # foreign-currency orders carry the day's rate
            rate = round(rate * rng.uniform(0.97, 1.03), 6)
        header_segments = (rng.choice(self.departments), rng.choice(self.classes), rng.choice(self.locations))
        stamp = utc_text(modified)
        lines = self._lines(po_id, subsidiary, header_segments, rate, status, stamp)
        total = _money(sum(line[LINE_AMOUNT] for line in lines))
        due = trandate + timedelta(days=TERM_DAYS[terms])
        number = self.next_number
        self.next_number += 1
        # Columns: id, tranid, trandate, type, recordtype, entity, status, approvalstatus, currency, exchangerate,
        # foreigntotal, memo, duedate, terms, createddate, lastmodifieddate, externalid
        self.transactions.append((
            po_id, f"PO{10000 + number}", trandate.isoformat(), "PurchOrd", "purchaseorder", vendor_id, status,
            1 if status == "A" else (3 if status == "C" else 2), currency, rate, total, rng.choice(_MEMOS),
            due.isoformat() if rng.random() < 0.8 else None, terms, utc_text(created), stamp,
            f"PO-EXT-{number}" if rng.random() < 0.5 else None,
        ))
        self.lines.append(main_line_row(po_id, total=total, rate=rate, segments=header_segments,
                                        subsidiary=subsidiary, modified=stamp))
        self.lines.extend(lines)
        if status in ("E", "G"):
            self._bill(po_id, vendor_id, currency, rate, terms, trandate, modified, subsidiary, header_segments,
                       lines, partial=status == "E")

    def _lines(self, po_id: int, subsidiary: int, header_segments: tuple, rate: float, status: str,
               modified: str) -> list[tuple]:
        rng = self.rng
        lines: list[tuple] = []
        received_all = status in ("E", "F", "G", "H")
        item_lines = rng.choice([0, 1, 1, 2, 2, 3, 4])
        expense_lines = rng.choice([0, 0, 1, 1, 2]) if item_lines else rng.choice([1, 2])
        for _ in range(item_lines):
            item_id, _, name, kind, account, _, price = rng.choice(self.items)
            quantity = float(rng.randint(1, 20))
            segments = header_segments if rng.random() < 0.6 else (
                rng.choice(self.departments), rng.choice(self.classes), rng.choice(self.locations))
            lines.append(line_row(po_id, len(lines) + 1, item=item_id, itemtype=kind, memo=name, quantity=quantity,
                                    unit_rate=price, amount=_money(quantity * price), rate=rate, account=account,
                                    segments=segments, subsidiary=subsidiary, modified=modified,
                                    received=quantity if received_all else None))
        for _ in range(expense_lines):
            amount = _money(rng.uniform(20, 5000))
            itemised = rng.random() < 0.5  # NetSuite often leaves an expense line's quantity and rate empty
            quantity = float(rng.randint(1, 5)) if itemised else None
            unit_rate = _money(amount / quantity) if quantity else None
            lines.append(line_row(po_id, len(lines) + 1, memo=rng.choice(_MEMOS), quantity=quantity,
                                    unit_rate=unit_rate, amount=_money(unit_rate * quantity) if quantity else amount,
                                    rate=rate, account=rng.choice(EXPENSE_LINE_ACCOUNTS), segments=header_segments,
                                    subsidiary=subsidiary, modified=modified))
        if rng.random() < 0.2:
            tax = _money(sum(line[LINE_AMOUNT] for line in lines) * 0.0825)
            lines.append(line_row(po_id, len(lines) + 1, taxline="T", memo="Sales tax", amount=tax, rate=rate,
                                    account=TAX_ACCOUNT_ID, segments=(None, None, None), subsidiary=subsidiary,
                                    modified=modified))
        return lines

    def _bill(self, po_id: int, vendor_id: int, currency: int, rate: float, terms: int, po_date: date,
              po_modified: datetime, subsidiary: int, header_segments: tuple, po_lines: list[tuple],
              partial: bool) -> None:
        rng = self.rng
        bill_id = self._take_id()
        created = po_modified + timedelta(days=rng.randint(1, 20), seconds=rng.randint(0, 86399))
        modified = created + timedelta(seconds=rng.choice([0, rng.randint(60, 10 * 86400)]))
        stamp = utc_text(modified)
        billed = [line for line in po_lines if line[LINE_TAXLINE] == "F"]
        if partial and len(billed) > 1:
            billed = billed[: len(billed) - 1]
        bill_lines = []
        for n, line in enumerate(billed, start=1):
            (_, line_id, _, _, _, item, itemtype, memo, quantity, unit_rate, _, amount, account, *rest) = line
            bill_lines.append(line_row(bill_id, n, item=item, itemtype=itemtype, memo=memo, quantity=quantity,
                                         unit_rate=unit_rate, amount=amount, rate=rate, account=account,
                                         segments=rest[:3], subsidiary=subsidiary, modified=stamp,
                                         createdfrom=po_id, orderline=line_id))
        total = _money(sum(line[LINE_AMOUNT] for line in bill_lines))
        trandate = po_date + timedelta(days=rng.randint(3, 25))
        due = trandate + timedelta(days=TERM_DAYS[terms])
        number = self.next_number
        self.next_number += 1
        self.transactions.append((
            bill_id, f"BILL-{number}", trandate.isoformat(), "VendBill", "vendorbill", vendor_id,
            rng.choice(["A", "A", "B"]), 2, currency, rate, total, None, due.isoformat(), terms, utc_text(created),
            stamp, None,
        ))
        self.lines.append(main_line_row(bill_id, total=total, rate=rate, segments=header_segments,
                                        subsidiary=subsidiary, modified=stamp))
        self.lines.extend(bill_lines)

    def flush(self, conn: sqlite3.Connection) -> None:
        _insert(conn, "transaction", self.transactions)
        _insert(conn, "transactionline", self.lines)
        _insert(conn, "deletedrecord", self.deleted)
        self.transactions, self.lines, self.deleted = [], [], []


def seed_purchase_orders(conn: sqlite3.Connection, *, rng: random.Random, count: int) -> None:
    """`count` purchase orders after the ones stored, with bills for the billed ones, in bulk chunks."""
    builder = _PurchaseOrderBuilder(conn, rng=rng)
    for n in range(count):
        builder.purchase_order()
        if (n + 1) % _CHUNK == 0:
            builder.flush(conn)
    builder.flush(conn)
