"""SuiteQL over the sandbox's SQLite data set (spec section 3).

A query is parsed as Oracle SQL (sqlglot), checked against the visible schema, translated onto SQLite with a
few registered functions, run, and rendered the way NetSuite renders rows. What NetSuite does that SQLite
would not is done here on purpose:
- timestamps are stored in UTC but TO_TIMESTAMP/TO_DATE literals mean the account's time zone, and rendered
  datetimes are the account's local time;
- rows that tie on the ORDER BY (or every row, without one) come back in a random order per request;
- every value is a string, NULL columns are omitted, unnamed expressions are expr1, expr2...;
- `a || NULL` is `a` (Oracle treats NULL as the empty string when concatenating)."""

import itertools
import math
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from time import monotonic
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from sandbox.netsuite.errors import NetSuiteError
from sandbox.netsuite.schema import (
    DATE,
    DATETIME,
    DISPLAY_EXPRESSIONS,
    NEVER_NULL,
    NUM,
    STATUSES,
    TABLES,
    TEXT,
    TRANSACTION_TYPES,
    UNIQUE_KEYS,
)

MAX_LIMIT = 1000
OFFSET_CEILING = 100_000
MAX_IN_ITEMS = 1000
QUERY_SECONDS = 30
UTC_FORMAT = "%Y-%m-%d %H:%M:%S"

INVALID_QUERY = "Invalid search query."

# Functions a query may call (sqlglot's node types for them); anything else is an invalid query.
_ALLOWED_FUNCTIONS: tuple[type, ...] = (
    exp.Count, exp.Sum, exp.Avg, exp.Max, exp.Min, exp.Coalesce, exp.Nvl2, exp.Upper, exp.Lower, exp.Length,
    exp.Substring, exp.Trim, exp.Round, exp.Abs, exp.ToChar, exp.StrToTime, exp.StrToDate, exp.ToNumber,
    exp.Cast, exp.Case, exp.If, exp.Concat, exp.CurrentTimestamp, exp.Anonymous, exp.TimeToStr, exp.DateTrunc,
    exp.And, exp.Or,  # sqlglot models the connectors as functions too
)
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def query_error(detail: str = INVALID_QUERY) -> NetSuiteError:
    return NetSuiteError(400, "INVALID_PARAMETER", detail, query_param="q")


def _field_not_found(name: str) -> NetSuiteError:
    return query_error(f"Search error occurred: Field '{name}' not found.")


# --- registered SQL functions -------------------------------------------------------------------------

_ORACLE_FORMAT_TOKENS = [  # longest first
    ("MONTH", "%B"), ("HH24", "%H"), ("HH12", "%I"), ("YYYY", "%Y"), ("A.M.", "%p"), ("P.M.", "%p"),
    ("MON", "%b"), ("DAY", "%A"), ("YY", "%y"), ("MM", "%m"), ("DD", "%d"), ("DY", "%a"), ("HH", "%I"),
    ("MI", "%M"), ("SS", "%S"), ("AM", "%p"), ("PM", "%p"),
]


def oracle_format_to_strftime(oracle_format: str) -> str:
    """'YYYY-MM-DD HH24:MI:SS' -> '%Y-%m-%d %H:%M:%S'; raises ValueError on a format element we do not know."""
    out, i, upper = [], 0, oracle_format.upper()
    while i < len(oracle_format):
        if oracle_format[i] == '"':
            end = oracle_format.find('"', i + 1)
            if end < 0:
                raise ValueError("unterminated literal in date format")
            out.append(oracle_format[i + 1:end].replace("%", "%%"))
            i = end + 1
            continue
        for token, directive in _ORACLE_FORMAT_TOKENS:
            if upper.startswith(token, i):
                out.append(directive)
                i += len(token)
                break
        else:
            char = oracle_format[i]
            if char.isalpha():
                raise ValueError(f"date format not recognized: {oracle_format}")
            out.append("%%" if char == "%" else char)
            i += 1
    return "".join(out)


def _parse_stored(value: str) -> datetime | None:
    """A stored datetime (UTC text) as an aware datetime, a stored date as naive midnight, else None."""
    try:
        if len(value) == 19:
            return datetime.strptime(value, UTC_FORMAT).replace(tzinfo=timezone.utc)
        if len(value) == 10:
            return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return None
    return None


class _Functions:
    """The Python side of the SQL functions the translation calls."""

    def __init__(self, *, zone: ZoneInfo, now: Callable[[], datetime]) -> None:
        self.zone = zone
        self.now = now

    def local(self, value: str) -> datetime | None:
        parsed = _parse_stored(value)
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(self.zone)
        return parsed

    def to_char(self, value: Any, oracle_format: str | None) -> str | None:
        return self.strftime(value, oracle_format_to_strftime(oracle_format or "YYYY-MM-DD HH24:MI:SS"))

    def strftime(self, value: Any, strftime_format: str) -> str | None:
        """TO_CHAR: a stored date or datetime in the account's time zone, formatted; a number as NetSuite
        shows it."""
        if value is None:
            return None
        if isinstance(value, (int, float)):
            return number_text(value)
        moment = self.local(value)
        if moment is None:
            return str(value)
        return moment.strftime(strftime_format)

    def to_timestamp(self, value: Any, strftime_format: str | None) -> str | None:
        """Parses a local (account time zone) timestamp and returns it as stored UTC text."""
        if value is None:
            return None
        text = str(value)
        formats = [strftime_format] if strftime_format else ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%d-%b-%y"]
        for candidate in formats:
            try:
                parsed = datetime.strptime(text, candidate)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"{text!r} does not match the format")
        return parsed.replace(tzinfo=self.zone).astimezone(timezone.utc).strftime(UTC_FORMAT)

    def date_start(self, value: str | None) -> str | None:
        """A stored date as the UTC text of local midnight, to compare it with a timestamp."""
        if value is None or len(value) != 10:
            return value
        local = datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(0), tzinfo=self.zone)
        return local.astimezone(timezone.utc).strftime(UTC_FORMAT)

    def moment(self, value: str) -> datetime:
        """A stored date (local midnight) or datetime as an aware UTC datetime."""
        if len(value) == 10:
            return datetime.strptime(self.date_start(value), UTC_FORMAT).replace(tzinfo=timezone.utc)
        return datetime.strptime(value, UTC_FORMAT).replace(tzinfo=timezone.utc)

    def add_days(self, value: str | None, days: float | None) -> str | None:
        if value is None or days is None:
            return None
        if len(value) == 10 and float(days).is_integer():
            return (datetime.strptime(value, "%Y-%m-%d") + timedelta(days=days)).date().isoformat()
        return (self.moment(value) + timedelta(days=days)).strftime(UTC_FORMAT)

    def days_between(self, later: str | None, earlier: str | None) -> float | None:
        if later is None or earlier is None:
            return None
        return (self.moment(later) - self.moment(earlier)).total_seconds() / 86400

    def trunc(self, value: Any, unit: str | None) -> Any:
        """Oracle's TRUNC: a number to `unit` decimals, or a date or datetime to the start of its day
        ('DD', the default), month ('MM') or year ('YYYY') in the account's time zone."""
        if value is None:
            return None
        if isinstance(value, (int, float)):
            decimals = int(unit) if unit and unit.lstrip("-").isdigit() else 0
            return math.trunc(value * 10 ** decimals) / 10 ** decimals if decimals else math.trunc(value)
        unit = (unit or "DD").upper()
        local = self.moment(value).astimezone(self.zone)
        if unit in ("MM", "MON", "MONTH"):
            local = local.replace(day=1)
        elif unit in ("YYYY", "YEAR", "YY"):
            local = local.replace(month=1, day=1)
        elif unit not in ("DD", "DDD", "J"):
            raise ValueError(f"TRUNC unit not supported: {unit}")
        midnight = datetime.combine(local.date(), time(0), tzinfo=self.zone)
        if len(value) == 10:
            return midnight.date().isoformat()
        return midnight.astimezone(timezone.utc).strftime(UTC_FORMAT)

    def now_text(self) -> str:
        return self.now().astimezone(timezone.utc).strftime(UTC_FORMAT)


def register_functions(conn: sqlite3.Connection, *, zone: ZoneInfo, now: Callable[[], datetime]) -> None:
    """Registers the ns_* functions the translated queries call on `conn`."""
    functions = _Functions(zone=zone, now=now)
    conn.create_function("ns_to_char", 2, functions.to_char, deterministic=True)
    conn.create_function("ns_strftime", 2, functions.strftime, deterministic=True)
    conn.create_function("ns_to_timestamp", 2, functions.to_timestamp, deterministic=True)
    conn.create_function("ns_date_start", 1, functions.date_start, deterministic=True)
    # SYSDATE is one value per statement, as in Oracle; "deterministic" lets SQLite evaluate it once per run.
    conn.create_function("ns_now", 0, functions.now_text, deterministic=True)
    conn.create_function("ns_add_days", 2, functions.add_days, deterministic=True)
    conn.create_function("ns_trunc", 2, functions.trunc, deterministic=True)
    conn.create_function("ns_days_between", 2, functions.days_between, deterministic=True)
    conn.create_function("ns_type_name", 1, lambda t: TRANSACTION_TYPES.get(t, t), deterministic=True)
    conn.create_function("ns_status_name", 2, _status_name, deterministic=True)


def _status_name(transaction_type: str | None, status: str | None) -> str | None:
    name = STATUSES.get(transaction_type or "", {}).get(status or "")
    if name is None:
        return status
    return f"{TRANSACTION_TYPES[transaction_type]} : {name}"


# --- analysis: scopes, columns, kinds ---------------------------------------------------------------------

@dataclass
class _Source:
    table: str | None  # None for a subquery in FROM
    columns: dict[str, tuple[str | None, str | None]]  # name -> (kind, referenced table)


@dataclass
class _Scope:
    sources: dict[str, _Source]
    outer: list[dict[str, _Source]]
    output_aliases: set[str] = field(default_factory=set)


@dataclass
class _Output:
    name: str
    kind: str | None


def _kind(node: exp.Expression) -> str | None:
    """The column kind an expression yields, as far as rendering and date comparison care."""
    if isinstance(node, exp.Column):
        return node.meta.get("kind")
    if isinstance(node, (exp.Alias, exp.Paren, exp.Max, exp.Min, exp.DateTrunc)):
        return _kind(node.this)
    if isinstance(node, exp.Coalesce):
        return _kind(node.this)
    if isinstance(node, (exp.StrToTime, exp.StrToDate, exp.CurrentTimestamp)):
        return DATETIME
    if isinstance(node, (exp.Count, exp.Sum, exp.Avg)):
        return NUM
    if isinstance(node, exp.Case):
        branches = node.args.get("ifs") or []
        return _kind(branches[0].args["true"]) if branches else None
    if isinstance(node, (exp.ToChar, exp.TimeToStr)):
        return TEXT
    if isinstance(node, (exp.Add, exp.Sub)):
        left, right = _kind(node.this), _kind(node.expression)
        dates = (DATE, DATETIME)
        if left in dates:
            return NUM if right in dates else left
        return right if right in dates and isinstance(node, exp.Add) else None
    return None


def _is_builtin_df(node: exp.Expression) -> bool:
    return (isinstance(node, exp.Dot) and isinstance(node.this, exp.Identifier)
            and node.this.name.lower() == "builtin" and isinstance(node.expression, exp.Anonymous)
            and node.expression.name.lower() == "df")


class _Analyser:
    """Checks tables and fields against the schema, qualifies every column with its source, and works out
    the output columns' names and kinds."""

    def __init__(self) -> None:
        self.placeholders: list[exp.Placeholder] = []

    def statement(self, node: exp.Expression, outer: list[dict[str, _Source]]) -> list[_Output]:
        if isinstance(node, exp.Union):
            left = self.statement(node.left, outer)
            right = self.statement(node.right, outer)
            if len(left) != len(right):
                raise query_error()
            return left
        if isinstance(node, exp.Subquery):
            return self.statement(node.this, outer)
        if not isinstance(node, exp.Select):
            raise query_error()
        return self._select(node, outer)

    def _select(self, select: exp.Select, outer: list[dict[str, _Source]]) -> list[_Output]:
        if select.args.get("with"):
            raise query_error()
        sources: dict[str, _Source] = {}
        from_clause = select.args.get("from")
        relations = ([from_clause.this] if from_clause else []) + [j.this for j in select.args.get("joins") or []]
        for relation in relations:
            name, source = self._source(relation)
            if name in sources:
                raise query_error()
            sources[name] = source
        self._expand_stars(select, sources)
        scope = _Scope(sources=sources, outer=outer,
                       output_aliases={e.alias.lower() for e in select.expressions if isinstance(e, exp.Alias)})
        for key, value in select.args.items():
            if key in ("from", "with"):
                continue
            if key == "joins":
                for join in value or []:
                    for join_key, join_value in join.args.items():
                        if join_key != "this" and isinstance(join_value, exp.Expression):
                            self._visit(join_value, scope, in_order=False)
                continue
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, exp.Expression):
                    self._visit(child, scope, in_order=key == "order")
        return self._outputs(select)

    def _source(self, relation: exp.Expression) -> tuple[str, _Source]:
        if isinstance(relation, exp.Table) and isinstance(relation.this, exp.Identifier):
            table = relation.name.lower()
            if table not in TABLES or relation.args.get("db") or relation.args.get("catalog"):
                raise query_error()
            columns = {name: (column.kind, column.references) for name, column in TABLES[table].items()}
            return (relation.alias or table).lower(), _Source(table=table, columns=columns)
        if isinstance(relation, exp.Subquery) and relation.alias:
            outputs = self.statement(relation.this, [])
            return relation.alias.lower(), _Source(table=None, columns={o.name: (o.kind, None) for o in outputs})
        raise query_error()

    @staticmethod
    def _expand_stars(select: exp.Select, sources: dict[str, _Source]) -> None:
        expanded: list[exp.Expression] = []
        for projection in select.expressions:
            if isinstance(projection, exp.Star):
                names = list(sources)
            elif isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
                names = [projection.table.lower()]
                if names[0] not in sources:
                    raise query_error()
            else:
                expanded.append(projection)
                continue
            for name in names:
                expanded.extend(exp.column(column, table=name) for column in sources[name].columns)
        if not expanded:
            raise query_error()
        select.set("expressions", expanded)

    def _visit(self, node: exp.Expression, scope: _Scope, *, in_order: bool) -> None:
        if isinstance(node, (exp.Select, exp.Union)):
            self.statement(node, [scope.sources, *scope.outer])
            return
        if isinstance(node, exp.Column):
            self._resolve(node, scope, in_order=in_order)
            return
        if isinstance(node, exp.Placeholder):
            self.placeholders.append(node)
        elif isinstance(node, exp.In) and len(node.expressions) > MAX_IN_ITEMS:
            raise query_error(f"{INVALID_QUERY} An IN list may hold at most {MAX_IN_ITEMS} items.")
        elif isinstance(node, exp.Dot) and not _is_builtin_df(node):
            raise query_error()
        elif isinstance(node, exp.Func) and not isinstance(node, _ALLOWED_FUNCTIONS):
            raise query_error()
        elif isinstance(node, exp.Anonymous) and not _is_builtin_df(node.parent):
            raise query_error()
        for child in list(node.iter_expressions()):
            self._visit(child, scope, in_order=in_order)

    def _resolve(self, column: exp.Column, scope: _Scope, *, in_order: bool) -> None:
        name = column.name.lower()
        qualifier = column.table.lower()
        if not qualifier and in_order and name in scope.output_aliases:
            column.set("this", exp.to_identifier(name))
            return
        for sources in [scope.sources, *scope.outer]:
            if qualifier:
                if qualifier not in sources:
                    continue
                if name not in sources[qualifier].columns:
                    raise _field_not_found(name)
                found = [qualifier]
            else:
                found = [alias for alias, source in sources.items() if name in source.columns]
                if not found:
                    continue
                if len(found) > 1:
                    raise query_error(f"{INVALID_QUERY} Field '{name}' is ambiguous.")
            kind, references = sources[found[0]].columns[name]
            column.set("this", exp.to_identifier(name))
            column.set("table", exp.to_identifier(found[0]))
            column.meta.update(kind=kind, references=references, source_table=sources[found[0]].table)
            return
        if qualifier:
            raise query_error()
        raise _field_not_found(name)

    @staticmethod
    def _outputs(select: exp.Select) -> list[_Output]:
        outputs, unnamed = [], 0
        for projection in select.expressions:
            if isinstance(projection, exp.Alias):
                name = projection.alias.lower()
            elif isinstance(projection, exp.Column):
                name = projection.name.lower()
            else:
                unnamed += 1
                name = f"expr{unnamed}"
            shown = projection.this if isinstance(projection, exp.Alias) else projection
            # TO_DATE is compared as a timestamp but shown as a date.
            outputs.append(_Output(name=name, kind=DATE if isinstance(shown, exp.StrToDate) else _kind(projection)))
        return outputs


# --- translation onto SQLite ---------------------------------------------------------------------------

def _function(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _display_name(column: exp.Expression) -> exp.Expression:
    """BUILTIN.DF(column): the referenced record's display name, or the value itself."""
    if not isinstance(column, exp.Column):
        raise query_error()
    name, source_table = column.name, column.meta.get("source_table")
    if source_table == "transaction" and name == "status":
        return _function("ns_status_name", exp.column("type", table=column.table), column.copy())
    if source_table == "transaction" and name == "type":
        return _function("ns_type_name", column.copy())
    referenced = column.meta.get("references")
    if referenced is None:
        return column.copy()
    display = sqlglot.parse_one(DISPLAY_EXPRESSIONS[referenced].replace("df.", "__df."), read="sqlite")
    lookup = exp.select(display).from_(exp.to_table(referenced).as_("__df")).where(
        exp.EQ(this=exp.column("id", table="__df"), expression=column.copy()))
    subquery = exp.Subquery(this=lookup)
    subquery.meta["generated"] = True  # already SQLite: not to be translated again
    return subquery


def _translate_tree(node: exp.Expression) -> exp.Expression:
    """Translates a node, then what is below it (the original children, wherever the translation put them)."""
    translated = _translate(node)
    if translated.meta.get("generated"):
        return translated
    for child in list(translated.iter_expressions()):
        replacement = _translate_tree(child)
        if replacement is not child:
            child.replace(replacement)
    return translated


def _date_arithmetic(node: exp.Add | exp.Sub) -> exp.Expression:
    """Oracle's date arithmetic: a date plus or minus a number of days, or the days between two dates."""
    left, right = _kind(node.this), _kind(node.expression)
    if isinstance(node, exp.Sub) and left in (DATE, DATETIME) and right in (DATE, DATETIME):
        return _function("ns_days_between", node.this, node.expression)
    if left in (DATE, DATETIME) and right not in (DATE, DATETIME):
        days = node.expression if isinstance(node, exp.Add) else exp.Neg(this=exp.Paren(this=node.expression))
        return _function("ns_add_days", node.this, days)
    if isinstance(node, exp.Add) and right in (DATE, DATETIME):
        return _function("ns_add_days", node.expression, node.this)
    return node


def _translate(node: exp.Expression) -> exp.Expression:
    if isinstance(node, (exp.Add, exp.Sub)):
        return _date_arithmetic(node)
    if _is_builtin_df(node):
        arguments = node.expression.expressions
        if len(arguments) != 1:
            raise query_error()
        return _display_name(arguments[0])
    if isinstance(node, exp.ToChar):
        oracle_format = node.args.get("format")
        return _function("ns_to_char", node.this, oracle_format or exp.null())
    if isinstance(node, exp.TimeToStr):  # sqlglot's TO_CHAR of what it knows to be a timestamp
        return _function("ns_strftime", node.this, node.args["format"])
    if isinstance(node, (exp.StrToTime, exp.StrToDate)):
        return _function("ns_to_timestamp", node.this, node.args.get("format") or exp.null())
    if isinstance(node, exp.CurrentTimestamp):
        return _function("ns_now")
    if isinstance(node, exp.DateTrunc):  # sqlglot reads every Oracle TRUNC as this
        return _function("ns_trunc", node.this, node.args.get("unit") or exp.null())
    if isinstance(node, exp.DPipe):
        return exp.DPipe(this=exp.Coalesce(this=node.this, expressions=[exp.Literal.string("")]),
                         expression=exp.Coalesce(this=node.expression, expressions=[exp.Literal.string("")]))
    if isinstance(node, (*_COMPARISONS, exp.Between)):
        # A stored date against a timestamp: compare from the date's local midnight.
        sides = ["this", "expression"] if isinstance(node, _COMPARISONS) else ["this", "low", "high"]
        kinds = {side: _kind(node.args[side]) for side in sides}
        if DATE in kinds.values() and DATETIME in kinds.values():
            for side, kind in kinds.items():
                if kind == DATE:
                    node.set(side, _function("ns_date_start", node.args[side]))
    return node


def _bare_column(node: exp.Expression) -> tuple[str | None, str] | None:
    """(source table, column) of a plain column reference, else None."""
    if isinstance(node, exp.Column) and "source_table" in node.meta:
        return node.meta["source_table"], node.name
    return None


def _order_for_sqlite(select: exp.Select) -> None:
    """Oracle's NULL ordering, and a random tie-breaker unless the ORDER BY is unique: ties (and every row,
    without ORDER BY) come back in a different order per request, so only a unique ORDER BY pages safely,
    as on NetSuite."""
    ordered = list(select.args["order"].expressions) if select.args.get("order") else []
    ordered_columns = {}
    for term in ordered:
        column = _bare_column(term.this)
        if column and column in NEVER_NULL:
            # SQLite's default NULL placement; emitting Oracle's would keep SQLite off its indexes.
            term.set("nulls_first", not term.args.get("desc"))
        if column:
            ordered_columns[(term.this.table, column[1])] = column[0]
    if not _is_unique(select, ordered_columns):
        ordered.append(exp.Ordered(this=_function("random"), nulls_first=True))
    select.set("order", exp.Order(expressions=ordered))


def _is_unique(select: exp.Select, ordered_columns: dict[tuple[str, str], str | None]) -> bool:
    """Whether the ORDER BY identifies a row: every table read is keyed by ordered columns, directly or
    through a join equality with a table already known to be (a PO's lines ordered by line key decide
    the PO joined on `t.id = tl.transaction`)."""
    if select.args.get("group") or select.args.get("distinct") or not select.args.get("from"):
        return False
    relations = [select.args["from"].this] + [join.this for join in select.args.get("joins") or []]
    keys: dict[str, tuple[str, ...]] = {}
    for relation in relations:
        if not isinstance(relation, exp.Table):
            return False
        keys[(relation.alias or relation.name).lower()] = UNIQUE_KEYS[relation.name.lower()]
    equalities: list[tuple[tuple[str, str], tuple[str, str]]] = []
    for join in select.args.get("joins") or []:
        for equality in (join.args.get("on") or exp.true()).find_all(exp.EQ):
            left, right = equality.this, equality.expression
            if isinstance(left, exp.Column) and isinstance(right, exp.Column):
                pair = ((left.table, left.name), (right.table, right.name))
                equalities.extend([pair, pair[::-1]])
    known = {(alias, column) for alias, column in ordered_columns}
    decided: set[str] = set()
    progress = True
    while progress:
        progress = False
        for alias, key in keys.items():
            if alias in decided:
                continue
            if all((alias, column) in known or any(a == (alias, column) and b[0] in decided for a, b in equalities)
                   for column in key):
                decided.add(alias)
                known.update((alias, column) for column in TABLES[_table_of(relations, alias)])
                progress = True
    return decided == set(keys)


def _table_of(relations: list[exp.Expression], alias: str) -> str:
    return next(r.name.lower() for r in relations if (r.alias or r.name).lower() == alias)


def _counting(tree: exp.Expression) -> exp.Expression:
    """The query that counts the result: without ORDER BY and, when rows map one to one, without computing
    the projections."""
    counted = tree.copy()
    counted.set("order", None)
    if (isinstance(counted, exp.Select) and not counted.args.get("group") and not counted.args.get("distinct")
            and not any(projection.find(exp.AggFunc) for projection in counted.expressions)):
        counted.set("expressions", [exp.Literal.number(1)])
    return counted


@dataclass
class _Translated:
    sql: str
    count_sql: str
    outputs: list[_Output]


def _number_placeholders(tree: exp.Expression, placeholders: list[exp.Placeholder]) -> None:
    """Names the `?`s p1, p2... in the order they are written, which is the order params bind in (the
    analysis meets them in another order, e.g. a subquery in FROM first)."""
    marked = [placeholder.replace(exp.Placeholder(this=f"mark{index}"))
              for index, placeholder in enumerate(placeholders)]
    written = [int(index) for index in re.findall(r":mark(\d+)\b", tree.sql(dialect="oracle"))]
    for number, index in enumerate(written, start=1):
        marked[index].set("this", f"p{number}")


def _reject_date_literals(query: str) -> None:
    """`DATE '2025-01-01'` and `TIMESTAMP '...'` are refused (spec section 3): use TO_DATE/TO_TIMESTAMP."""
    try:
        tokens = sqlglot.Dialect.get_or_raise("oracle").tokenize(query)
    except SqlglotError as error:
        raise query_error() from error
    for token, following in itertools.pairwise(tokens):
        if token.token_type in (TokenType.DATE, TokenType.TIMESTAMP) and following.token_type == TokenType.STRING:
            raise query_error(f"{INVALID_QUERY} {token.text.upper()} literals are not supported: "
                              "use TO_DATE or TO_TIMESTAMP.")


def translate(query: str, *, param_count: int) -> _Translated:
    """Checks a SuiteQL query and translates it onto SQLite; raises NetSuiteError (400) when it is invalid."""
    _reject_date_literals(query)
    try:
        tree = sqlglot.parse_one(query, read="oracle")
    except SqlglotError as error:
        raise query_error() from error
    if tree is None or tree.find(exp.With):
        raise query_error()
    analyser = _Analyser()
    outputs = analyser.statement(tree, [])
    if len(analyser.placeholders) != param_count:
        raise query_error(f"{INVALID_QUERY} The query has {len(analyser.placeholders)} parameters "
                          f"but {param_count} values were given.")
    _number_placeholders(tree, analyser.placeholders)
    for identifier in tree.find_all(exp.TableAlias):
        identifier.set("this", exp.to_identifier(identifier.name.lower()))
    tree = _translate_tree(tree)
    counted = _counting(tree)
    if isinstance(tree, exp.Select):
        _order_for_sqlite(tree)
    sql = tree.sql(dialect="sqlite", identify=True)
    if tree.args.get("limit") or tree.args.get("offset"):
        sql = f"SELECT * FROM ({sql})"
    count_sql = f"SELECT COUNT(*) FROM ({counted.sql(dialect='sqlite', identify=True)})"
    return _Translated(sql=sql, count_sql=count_sql, outputs=outputs)


# --- rendering ---------------------------------------------------------------------------------------

def number_text(value: int | float) -> str:
    """NetSuite's rendering of a number: '10', '1250.5', never '10.0' or exponent notation."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(round(value, 10))), "f")


_DATE_FORMAT_TOKENS = re.compile(r"YYYY|MM|M|DD|D")


def format_date(moment: datetime, date_format: str) -> str:
    """A date in the user's date format, e.g. 'M/D/YYYY' -> '4/10/2022'."""
    values = {"YYYY": f"{moment.year:04d}", "MM": f"{moment.month:02d}", "M": str(moment.month),
              "DD": f"{moment.day:02d}", "D": str(moment.day)}
    return _DATE_FORMAT_TOKENS.sub(lambda m: values[m.group(0)], date_format)


def format_datetime(moment: datetime, date_format: str) -> str:
    """'8/5/2025 1:08 pm': the user's date format, then a 12-hour time without seconds."""
    hour = moment.hour % 12 or 12
    return f"{format_date(moment, date_format)} {hour}:{moment.minute:02d} {'am' if moment.hour < 12 else 'pm'}"


class _Renderer:
    def __init__(self, *, zone: ZoneInfo, date_format: str) -> None:
        self.zone = zone
        self.date_format = date_format

    def value(self, value: Any, kind: str | None) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return number_text(value)
        text = str(value)
        if kind in (DATE, DATETIME):
            parsed = _parse_stored(text)
            if parsed is not None:
                if parsed.tzinfo is not None:
                    parsed = parsed.astimezone(self.zone)
                    if kind == DATETIME:
                        return format_datetime(parsed, self.date_format)
                return format_date(parsed, self.date_format)
        return text

    def row(self, values: tuple, outputs: list[_Output]) -> dict[str, Any]:
        row: dict[str, Any] = {"links": []}
        for value, output in zip(values, outputs, strict=False):
            if value is not None and output.name not in row:
                row[output.name] = self.value(value, output.kind)
        return row


# --- the request ---------------------------------------------------------------------------------------

def check_paging(*, limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise NetSuiteError(400, "INVALID_PARAMETER",
                            f"Invalid limit {limit}: the limit must be between 1 and {MAX_LIMIT}.",
                            query_param="limit")
    if offset < 0 or offset % limit:
        raise NetSuiteError(400, "INVALID_PARAMETER",
                            f"Invalid offset {offset}: the offset must be a multiple of the limit ({limit}).",
                            query_param="offset")
    if offset >= OFFSET_CEILING:
        raise NetSuiteError(400, "INVALID_PARAMETER",
                            f"Invalid offset {offset}: no more than {OFFSET_CEILING} rows can be read by offset; "
                            "page by key instead.", query_param="offset")


def page_links(*, self_url: str, limit: int, offset: int, total: int) -> list[dict[str, str]]:
    """self, first, prev, next and last links, each the request's URL with its limit and offset."""
    parts = urlsplit(self_url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("limit", "offset")]

    def href(at: int) -> str:
        return urlunsplit(parts._replace(query=urlencode([*kept, ("limit", limit), ("offset", at)])))

    last = max(0, (total - 1) // limit * limit)
    links = [{"rel": "self", "href": href(offset)}, {"rel": "first", "href": href(0)}]
    if offset > 0:
        links.append({"rel": "prev", "href": href(max(0, offset - limit))})
    if offset + limit < total:
        links.append({"rel": "next", "href": href(offset + limit)})
    links.append({"rel": "last", "href": href(last)})
    return links


def run_suiteql(*, conn: sqlite3.Connection, query: str, params: list | None, limit: int, offset: int,
                self_url: str, zone: ZoneInfo, date_format: str) -> dict[str, Any]:
    """The whole response body of POST /query/v1/suiteql for one page."""
    check_paging(limit=limit, offset=offset)
    if not isinstance(query, str) or not query.strip():
        raise query_error()
    values = list(params or [])
    translated = translate(query, param_count=len(values))
    bound = {f"p{n}": _bindable(value) for n, value in enumerate(values, start=1)}
    # A runaway query (a cross join of big tables) must not hold the data set forever.
    deadline = monotonic() + QUERY_SECONDS
    conn.set_progress_handler(lambda: int(monotonic() > deadline), 10_000)
    try:
        total = conn.execute(translated.count_sql, bound).fetchone()[0]
        rows = conn.execute(f"{translated.sql} LIMIT {limit} OFFSET {offset}", bound).fetchall()
    except sqlite3.OperationalError as error:
        if monotonic() > deadline:
            raise query_error(f"{INVALID_QUERY} The query ran longer than {QUERY_SECONDS} seconds.") from error
        raise query_error() from error
    except (sqlite3.Error, ValueError, OverflowError) as error:
        raise query_error() from error
    finally:
        conn.set_progress_handler(None, 0)
    renderer = _Renderer(zone=zone, date_format=date_format)
    return {
        "links": page_links(self_url=self_url, limit=limit, offset=offset, total=total),
        "count": len(rows),
        "hasMore": offset + len(rows) < total,
        "items": [renderer.row(row, translated.outputs) for row in rows],
        "offset": offset,
        "totalResults": total,
    }


def _bindable(value: Any) -> Any:
    if isinstance(value, bool):
        return "T" if value else "F"
    if value is None or isinstance(value, (int, float, str)):
        return value
    raise query_error(f"{INVALID_QUERY} A parameter must be a string, a number or a boolean.")
