"""JAGGAER list reads (spec section 2): 1-based `start`, `limit` 1..100 (default 25) and
`flt=<field>==<value>[;<field>>=<value>]`, answered in the paged envelope."""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
_OPERATORS = ("==", ">=")


class ListQueryError(ValueError):
    """A paging or filter parameter the contract does not allow: the API answers 400."""


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    value: str

    def holds(self, actual: Any) -> bool:
        if actual is None:
            return False
        actual_text = _as_text(actual)
        if self.operator == "==":
            return actual_text == self.value
        try:
            return Decimal(actual_text) >= Decimal(self.value)
        except InvalidOperation:
            # Dates (YYYY-MM-DD) and other text compare in lexical order.
            return actual_text >= self.value


@dataclass(frozen=True)
class ListQuery:
    start: int
    limit: int
    conditions: tuple[Condition, ...]


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _positive_int(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ListQueryError(f"{name} must be an integer, not '{raw}'") from None


def parse_list_query(query: Mapping[str, str], *, fields: Collection[str]) -> ListQuery:
    start = _positive_int(query, "start", 1)
    if start < 1:
        raise ListQueryError("start is 1-based and must be at least 1")
    limit = _positive_int(query, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise ListQueryError(f"limit must be between 1 and {MAX_LIMIT}")
    conditions = []
    for clause in filter(None, query.get("flt", "").split(";")):
        # The first operator in the clause splits it, so a value may itself contain "==" or ">=".
        positions = [(clause.find(op), op) for op in _OPERATORS if op in clause]
        if not positions:
            raise ListQueryError(f"flt clause '{clause}' needs == or >=")
        operator = min(positions)[1]
        field, _, value = clause.partition(operator)
        if field not in fields:
            raise ListQueryError(f"flt cannot filter on '{field}'; filterable: {', '.join(sorted(fields))}")
        conditions.append(Condition(field=field, operator=operator, value=value))
    return ListQuery(start=start, limit=limit, conditions=tuple(conditions))


def list_page(*, rows: list[dict], query: ListQuery, filter_values: Callable[[dict], Mapping[str, Any]],
              list_name: str, item_name: str) -> dict[str, Any]:
    """The envelope of one page of `rows` (already in their stable order) that pass every condition."""
    matching = [
        row for row in rows
        if all(condition.holds(filter_values(row).get(condition.field)) for condition in query.conditions)
    ]
    page = matching[query.start - 1:query.start - 1 + query.limit]
    return {
        "returnCode": 0,
        "returnMessage": "",
        "totRecords": len(matching),
        "returnedRecords": len(page),
        "startAt": query.start,
        list_name: {item_name: page},
    }
