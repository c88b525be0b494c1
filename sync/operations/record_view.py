"""Sync records in finance's words: a document's date, amount, vendor and lines (GL account, cost center,
amount) with the line that stops it marked, what a replay would send said the same way, and times, states and
triggers named as people say them. Read from what a record keeps (its NetSuite source, its attempts) and from
the payload a replay would send; nothing here writes. The admin pages render what these functions return."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from mappings.models import CodingKind, JaggaerValue, NetSuiteReference
from mappings.references import ReferenceIndex, dimension_fields_of
from mappings.resolution import CodingResolver, LineCoding
from sync.models import ErrorKind, Flow, SyncAttempt, SyncRecord

State = SyncRecord.State
DOCUMENT_FLOWS = (Flow.PURCHASE_ORDERS, Flow.VENDOR_BILLS)

# The model's choices name states for the code; these are the words on finance's pages.
STATE_WORDS: dict[str, str] = {
    State.PENDING: "Due to be sent",
    State.DELIVERED: "Delivered",
    State.WAITING_FOR_MAPPING: "Waiting for a mapping",
    State.WAITING_FOR_DEPENDENCY: "Waiting for another record",
    State.RETRYING: "Will be retried automatically",
    State.FAILED: "Failed",
    State.SKIPPED: "Skipped (unchanged)",
    State.RESOLVED: "Resolved by a person (will not be sent)",
}
# SyncRun.trigger values (sync/triggers/schedules.py, sync/engine/run.py, the commands).
TRIGGER_WORDS: dict[str, str] = {
    "retry_sweep": "Automatic retry",
    "schedule": "Schedule",
    "sync_now": "Sync now",
    "backfill": "Backfill",
    "refresh": "Reference lists refreshed",
    "push": "Change pushed by NetSuite",
}
# SyncAttempt.action values.
ACTION_WORDS: dict[str, str] = {
    "new": "Create in JAGGAER",
    "update": "Update in JAGGAER",
    "cancel": "Cancel in JAGGAER",
    "upsert": "Create or update in JAGGAER",
    "lookup": "Look up in JAGGAER",
    "build": "Checked, nothing sent",
}
UNCHANGED_WARNING = "Unchanged since the last failure: it will fail the same way."
# Where JAGGAER's item errors name a document line (contract section 2: `field` is a path into the item).
_LINE_FIELD = re.compile(r"^(?:poLineList\.poLine|lineList\.invoiceLine)\[(\d+)\]")


def words_for(words: dict[str, str], value: str) -> str:
    """The users' word for an internal value; a value nobody named yet shows as written, not as nothing."""
    return words.get(value, value.replace("_", " ").capitalize() if value else "")


# Times ------------------------------------------------------------------------------------------------


def zone_named(name: str | None) -> ZoneInfo:
    """The time zone a browser reported (an IANA name), else the server's: never an error for a bad name."""
    try:
        return ZoneInfo(name) if name else ZoneInfo(settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def moment(value: datetime | None) -> str:
    """"4 Dec 2026, 14:03 CET": in the active time zone, labelled, to the minute (seconds and microseconds
    help nobody reading an audit trail, and a bare time is ambiguous)."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def netsuite_moment(record: SyncRecord) -> str:
    """When NetSuite last changed the record, said as `moment` says times: NetSuite writes it without a zone,
    in the account's time zone (the connection's `timezone`); a value it wrote otherwise is shown as written."""
    try:
        written = datetime.fromisoformat(record.netsuite_last_modified)
    except ValueError:
        return record.netsuite_last_modified
    if timezone.is_naive(written):
        written = written.replace(tzinfo=zone_named(record.pair.netsuite.timezone))
    return moment(written)


# Amounts ----------------------------------------------------------------------------------------------


def as_decimal(value: object) -> Decimal | None:
    """NetSuite's and JAGGAER's amounts are decimal strings; a damaged one is shown as unknown, not a crash."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def money(amount: Decimal | None, currency: str = "") -> str:
    if amount is None:
        return ""
    return f"{amount:,.2f} {currency}".strip()


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


# A record's business facts --------------------------------------------------------------------------


@dataclass(frozen=True)
class LineView:
    """One document line as finance reads it; `problem` says why it is the line that stops the document."""

    number: str
    description: str
    account: str
    cost_center: str
    amount: Decimal | None
    currency: str
    problem: str = ""

    @property
    def offending(self) -> bool:
        return bool(self.problem)

    @property
    def amount_text(self) -> str:
        return money(self.amount, self.currency)


@dataclass(frozen=True)
class Summary:
    """What a record is about: for documents their date, amount, currency and vendor; for vendors and
    reference data (GL accounts, classifications) their name and number."""

    document_date: date | None = None
    amount: Decimal | None = None
    currency: str = ""
    vendor: str = ""
    name: str = ""
    number: str = ""
    lines: list[LineView] = field(default_factory=list)

    @property
    def amount_text(self) -> str:
        return money(self.amount, self.currency)


def summary_of(record: SyncRecord) -> Summary:
    """The header facts of a record from the NetSuite source it keeps (no query: fit for the record list)."""
    source = record.source if isinstance(record.source, dict) else {}
    if record.flow in DOCUMENT_FLOWS:
        return Summary(document_date=_day(source.get("trandate")), amount=as_decimal(source.get("foreigntotal")),
                       currency=str(source.get("currency") or ""), vendor=record.label,
                       number=record.document_number)
    if record.flow == Flow.VENDORS:
        name = source.get("companyname") or source.get("entityid") or record.label
        return Summary(name=str(name), number=record.netsuite_id)
    return Summary(name=str(source.get("fullname") or source.get("name") or record.label),
                   number=str(source.get("acctnumber") or record.document_number))


def record_view(record: SyncRecord) -> Summary:
    """A record's summary with its lines, each with its GL account and cost center by number and name, and
    the lines that stop it marked: a GL account or other code with no JAGGAER value now, or a line JAGGAER's
    last answer refused."""
    summary = summary_of(record)
    source = record.source if isinstance(record.source, dict) else {}
    lines = source.get("lines")
    if record.flow not in DOCUMENT_FLOWS or not isinstance(lines, list):
        return summary
    resolver = CodingResolver(pair=record.pair, dimension_fields=dimension_fields_of(record.pair.jaggaer))
    refused = refused_lines(record)
    today = timezone.localdate()
    found = []
    for line in lines:
        if not isinstance(line, dict):
            continue
        number = str(line.get("linesequencenumber") or line.get("id") or "")
        coding = LineCoding(account=line.get("expenseaccount") or None, department=line.get("department") or None,
                            classification=line.get("class") or None, location=line.get("location") or None,
                            subsidiary=line.get("subsidiary") or None)
        missing = resolver.resolve(coding, on=today).missing
        problems = [code.message for code in missing] + refused.get(number, [])
        found.append(LineView(
            number=number, description=str(line.get("memo") or line.get("itemdisplayname") or ""),
            account=_named(resolver.references, CodingKind.GL_ACCOUNT, line.get("expenseaccount")),
            cost_center=_named(resolver.references, CodingKind.DEPARTMENT, line.get("department")),
            amount=as_decimal(line.get("foreignamount") or line.get("netamount")), currency=summary.currency,
            problem="; ".join(problems)))
    return Summary(**{**vars(summary), "lines": found})


def _named(references: ReferenceIndex, kind: str, netsuite_id: object) -> str:
    if not netsuite_id:
        return ""
    code = references.netsuite_code(kind, str(netsuite_id))
    if code is None:
        return f"NetSuite id {netsuite_id}"
    return " ".join(part for part in (code.number, code.name) if part)


def last_sent(record: SyncRecord) -> SyncAttempt | None:
    """The record's latest attempt that sent something to JAGGAER."""
    return record.sync_attempts.exclude(request=None).order_by("-started_at", "-id").first()


def refused_lines(record: SyncRecord) -> dict[str, list[str]]:
    """Line number -> JAGGAER's messages, from the latest send's answer: JAGGAER names a line by its position
    in what was sent, which the attempt kept."""
    attempt = last_sent(record)
    if attempt is None or not isinstance(attempt.result, dict):
        return {}
    sent = document_lines(attempt.request)
    named: dict[str, list[str]] = {}
    for error in attempt.result.get("errors") or []:
        position = _LINE_FIELD.match(str(error.get("field", ""))) if isinstance(error, dict) else None
        if position and int(position[1]) < len(sent):
            number = str(sent[int(position[1])].get("lineNumber", ""))
            named.setdefault(number, []).append(f"JAGGAER: {error.get('message') or error.get('code')}")
    return named


def document_lines(payload: object) -> list[dict]:
    """The lines of a JAGGAER purchase order or invoice payload."""
    if not isinstance(payload, dict):
        return []
    holder = payload.get("poLineList") or payload.get("lineList")
    if not isinstance(holder, dict):
        return []
    lines = holder.get("poLine") or holder.get("invoiceLine") or []
    return [line for line in lines if isinstance(line, dict)]


# What a replay would send -----------------------------------------------------------------------------


def _custom_values(part: dict) -> dict[str, str]:
    """{"GLAccount": "6100", ...} of a header's or line's customFieldValueSetList."""
    sets = (part.get("customFieldValueSetList") or {}).get("customFieldValueSet") or []
    return {value_set.get("name", ""): value_set["customFieldValueList"]["customFieldValue"][0]["internalName"]
            for value_set in sets if value_set.get("customFieldValueList", {}).get("customFieldValue")}


def payload_summary(record: SyncRecord, payload: dict | None) -> Summary:
    """What a JAGGAER payload says in business words: for POs and bills the vendor, the total and, per line,
    the amount with the GL account and cost center values it carries; for vendors and reference data the
    name and number."""
    if not payload:
        return Summary()
    if record.flow in DOCUMENT_FLOWS:
        fields = dimension_fields_of(record.pair.jaggaer)
        account_field, cost_center_field = fields[CodingKind.GL_ACCOUNT], fields[CodingKind.DEPARTMENT]
        header = payload.get("poHeader") or payload.get("header") or {}
        total = header.get("total") or {}
        coded = [(line, _custom_values(line)) for line in document_lines(payload)]
        named = _jaggaer_names(record, {(field, value) for _, values in coded for field, value in values.items()
                                        if field in (account_field, cost_center_field)})
        lines = []
        for line, values in coded:
            price, quantity = as_decimal((line.get("unitPrice") or {}).get("value")), as_decimal(line.get("quantity"))
            lines.append(LineView(
                number=str(line.get("lineNumber", "")), description=str(line.get("description", "")),
                account=named.get((account_field, values.get(account_field, "")), ""),
                cost_center=named.get((cost_center_field, values.get(cost_center_field, "")), ""),
                amount=price * quantity if price is not None and quantity is not None else None,
                currency=str((line.get("unitPrice") or {}).get("currency") or "")))
        supplier = (header.get("supplier") or {}).get("supplierNumber", "")
        return Summary(document_date=_day(header.get("orderDate") or header.get("invoiceDate")),
                       amount=as_decimal(total.get("value")), currency=str(total.get("currency") or ""),
                       vendor=record.label or f"NetSuite vendor {supplier}", lines=lines,
                       number=str(header.get("poNumber") or header.get("supplierInvoiceNumber") or ""))
    if record.flow == Flow.VENDORS:
        return Summary(name=str(payload.get("name", "")), number=str(payload.get("supplierNumber", "")))
    value = payload.get("value") or {}
    return Summary(name=str(value.get("description", "")), number=str(value.get("internalName", "")))


def _jaggaer_names(record: SyncRecord, values: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(field, internalName) -> "6000 Operating Expenses": a JAGGAER value with the description JAGGAER lists
    for it (as last read), so that a preview reads like the record page; a value never listed stays bare."""
    found = {key: key[1] for key in values}
    rows = JaggaerValue.objects.filter(field__connection_id=record.pair.jaggaer_id,
                                       field__name__in={field for field, _ in values},
                                       internal_name__in={value for _, value in values})
    for field_name, internal_name, description in rows.values_list("field__name", "internal_name", "description"):
        if (field_name, internal_name) in found:
            found[(field_name, internal_name)] = f"{internal_name} {description}".strip()
    return found


def unchanged_since_failure(record: SyncRecord, payload: dict | None) -> bool:
    """Whether a replay would send exactly what JAGGAER refused last time. A failure of the network or of
    JAGGAER itself (retries exhausted) is left out: the same payload may well pass now."""
    if not payload or record.state != State.FAILED or record.last_error_kind == ErrorKind.REMOTE:
        return False
    attempt = last_sent(record)
    return attempt is not None and attempt.state_after == State.FAILED and attempt.request == payload


# Search -----------------------------------------------------------------------------------------------


def number_search(term: str) -> Q | None:
    """Records a number typed in the search box means: documents whose lines use a GL account of that number,
    or whose amount is that number ("1250.5" finds a total NetSuite wrote as 1250.50). None for other text.
    The line condition reads JSON containment, which SQLite (the demo) cannot: there a number finds amounts."""
    cleaned = term.replace(",", "").strip()
    amount = as_decimal(cleaned) if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", cleaned) else None
    if amount is None:
        return None
    forms = {cleaned, format(amount.normalize(), "f"), f"{amount:.2f}"}
    match = Q(flow__in=DOCUMENT_FLOWS, source__foreigntotal__in=sorted(forms))
    if cleaned.isdigit() and connection.features.supports_json_field_contains:
        # An account number is each NetSuite account's own: lines keep the account's internal id.
        accounts = NetSuiteReference.objects.filter(reference_list__kind=CodingKind.GL_ACCOUNT, number=cleaned)
        for connection_id, account_id in accounts.values_list("reference_list__connection_id", "netsuite_id"):
            match |= Q(flow__in=DOCUMENT_FLOWS, pair__netsuite_id=connection_id,
                       source__lines__contains=[{"expenseaccount": account_id}])
    return match
