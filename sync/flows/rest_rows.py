"""REST records read as the rows SuiteQL returns, so that each flow builds its source from them exactly as it
does in SuiteQL mode and JAGGAER receives the same objects in both read modes.

REST records are typed (spec section 4): numbers and booleans typed, references {"id", "refName", "links"},
empty fields left out. SuiteQL rows hold text (spec section 3): numbers as digits without a trailing ".0",
booleans "T"/"F", a reference as its id, NULLs left out. These helpers turn the one into the other and refuse
a value of the wrong type, as the SuiteQL page reader does."""

import math
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

from sync.remote.errors import SourceDataError


def number_text(value: object, what: str) -> str:
    """A JSON number as SuiteQL renders it: '10', '1250.5', never '10.0' or an exponent."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SourceDataError(f"NetSuite sent {what} as {type(value).__name__}, not as a number")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise SourceDataError(f"NetSuite sent {what} {value!r}, not a number")
    # Ten places drop the binary noise of a float (0.30000000000000004) that NetSuite's own rendering never shows.
    written = format(Decimal(repr(round(value, 10))), "f")
    return written.rstrip("0").rstrip(".") if "." in written else written


def reference(record: dict, name: str) -> dict | None:
    value = record.get(name)
    if value is None:
        return None
    if not (isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]):
        raise SourceDataError(f"NetSuite sent the reference {name!r} without its id")
    return value


def reference_id(record: dict, name: str) -> str | None:
    """A reference's id, as SuiteQL shows the column (None: the field is empty)."""
    value = reference(record, name)
    return value["id"] if value else None


def referenced_type(ref: dict, name: str) -> str:
    """The record type a reference points to, from its self link (".../record/v1/noninventoryitem/12"): an
    item line names items of several types, each read at its own path."""
    for link in ref.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "self" and isinstance(link.get("href"), str):
            parts = urlsplit(link["href"]).path.rstrip("/").split("/")
            if len(parts) >= 2 and parts[-1] == ref["id"] and parts[-2].isalpha():
                return parts[-2]
    raise SourceDataError(f"NetSuite sent the reference {name!r} without a link that names its record type")


def flag_text(record: dict, name: str) -> str:
    value = record.get(name, False)
    if not isinstance(value, bool):
        raise SourceDataError(f"NetSuite sent {name!r} as {type(value).__name__}, not as a boolean")
    return "T" if value else "F"


def plain(record: dict, name: str) -> str | None:
    """A text, date or number field as SuiteQL shows it (None: the field is empty)."""
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return number_text(value, repr(name))


def suiteql_row(**columns: str | None) -> dict[str, str]:
    """A SuiteQL row: empty columns are left out, as NetSuite does."""
    return {column: value for column, value in columns.items() if value is not None and value != ""}


def sublist(record: dict, name: str) -> list[dict]:
    """An expanded sublist's lines (spec section 4: {"links", "items", "totalResults"}). A sublist without its
    items was not expanded: the record is not what was asked for, and reads again."""
    section = record.get(name)
    if section is None:
        return []
    if not (isinstance(section, dict) and isinstance(section.get("items"), list)
            and all(isinstance(line, dict) for line in section["items"])):
        raise SourceDataError(f"NetSuite sent the sublist {name!r} without its lines")
    return section["items"]


def base_amount(amount: object, exchange_rate: object, what: str) -> str:
    """An amount in the account's base currency (SuiteQL's netamount), to the cent."""
    value = Decimal(number_text(amount, what)) * Decimal(number_text(exchange_rate, "exchangeRate"))
    return number_text(float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)), what)
