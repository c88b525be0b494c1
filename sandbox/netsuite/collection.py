"""Record collection filtering: the `q` parameter of `GET /record/v1/{type}` (Oracle's "Record Collection
Filtering"): conditions `<field> <OPERATOR> <value>` joined by AND. The sandbox understands what the connector
sends and nothing more; any other q is NetSuite's 400 INVALID_PARAMETER on the q parameter (spec section 5).

- Dates: lastModifiedDate with ON, ON_OR_AFTER, AFTER, BEFORE, ON_OR_BEFORE and a quoted date in the account's
  date format ("1/1/2019" in M/D/YYYY), a day of the account's time zone (the N/query module compares there).
- Numbers: id with EQUAL, GREATER, GREATER_OR_EQUAL, LESS, LESS_OR_EQUAL and ANY_OF [1, 2]; a reference
  (entity) with ANY_OF [..]."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sandbox.netsuite.errors import NetSuiteError
from sandbox.netsuite.generator import utc_text

_CONDITION = re.compile(r'\s*(\w+)\s+([A-Z_]+)\s+("[^"]*"|\[[0-9,\s]*\]|-?[0-9]+)\s*')
_NUMBER_OPERATORS = {"EQUAL": "=", "GREATER": ">", "GREATER_OR_EQUAL": ">=", "LESS": "<", "LESS_OR_EQUAL": "<="}
_DATE_FORMAT_TOKENS = re.compile(r"YYYY|MM|M|DD|D")


def invalid_query(q: str, why: str) -> NetSuiteError:
    return NetSuiteError(400, "INVALID_PARAMETER", f"Invalid query parameter 'q' ({why}): {q}", query_param="q")


def _day(value: str, date_format: str, q: str) -> date:
    """A date in the account's date format, e.g. M/D/YYYY."""
    pattern = _DATE_FORMAT_TOKENS.sub(lambda token: {
        "YYYY": r"(?P<y>[0-9]{4})", "MM": r"(?P<m>[0-9]{2})", "M": r"(?P<m>[0-9]{1,2})",
        "DD": r"(?P<d>[0-9]{2})", "D": r"(?P<d>[0-9]{1,2})"}[token.group()], re.escape(date_format).replace(
            r"\-", "-"))
    found = re.fullmatch(pattern, value)
    if not found:
        raise invalid_query(q, f"{value!r} is not a date as {date_format}")
    try:
        return date(int(found["y"]), int(found["m"]), int(found["d"]))
    except ValueError:
        raise invalid_query(q, f"{value!r} is not a date") from None


def filter_sql(q: str, *, columns: dict[str, str], zone: ZoneInfo, date_format: str) -> tuple[str, list]:
    """An SQL condition over the record's table for `q`; `columns` maps the filterable REST fields of the type to
    their SQL columns (lastModifiedDate stored in UTC text)."""
    clauses, args = [], []
    for part in re.split(r"\s+AND\s+", q.strip()):
        found = _CONDITION.fullmatch(part)
        if not found:
            raise invalid_query(q, "not a condition <field> <operator> <value>")
        name, operator, value = found.groups()
        column = columns.get(name.lower())
        if column is None:
            raise invalid_query(q, f"unknown field {name}")
        if name.lower() == "lastmodifieddate":
            if not value.startswith('"'):
                raise invalid_query(q, "a date is quoted")
            day = _day(value[1:-1], date_format, q)

            def start(of: date) -> str:
                return utc_text(datetime(of.year, of.month, of.day, tzinfo=zone))

            bounds = {"ON_OR_AFTER": (day, None), "AFTER": (day + timedelta(days=1), None),
                      "BEFORE": (None, day), "ON_OR_BEFORE": (None, day + timedelta(days=1)),
                      "ON": (day, day + timedelta(days=1))}.get(operator)
            if bounds is None:
                raise invalid_query(q, f"{operator} is not a date operator")
            if bounds[0]:
                clauses.append(f"{column} >= ?")
                args.append(start(bounds[0]))
            if bounds[1]:
                clauses.append(f"{column} < ?")
                args.append(start(bounds[1]))
        elif operator == "ANY_OF":
            if not value.startswith("["):
                raise invalid_query(q, "ANY_OF takes a list [1, 2]")
            ids = [int(n) for n in value[1:-1].replace(",", " ").split()]
            clauses.append(f"{column} IN ({', '.join('?' * len(ids))})" if ids else "0 = 1")
            args.extend(ids)
        elif operator in _NUMBER_OPERATORS and name.lower() == "id" and not value.startswith(('"', "[")):
            clauses.append(f"{column} {_NUMBER_OPERATORS[operator]} ?")
            args.append(int(value))
        else:
            raise invalid_query(q, f"{operator} does not apply to {name}")
    return " AND ".join(clauses), args
