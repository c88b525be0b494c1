"""Hypothesis strategies for what the connector receives from outside: NetSuite's row values, JAGGAER-bound
sources, CSV text, pushed requests. Each mixes realistic values, values a careless producer sends, and
anything at all, so that a property is exercised near the valid inputs as well as far from them."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Every hostile test: no example database in the shared working tree (falsifying examples found once are
# kept as @example), no deadline (examples that touch PostgreSQL vary in time), and fixtures set up once
# per test rather than per example are intended (each example rolls its writes back).
HOSTILE = settings(database=None, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                          HealthCheck.data_too_large])

# What breaks storage, parsing or arithmetic: NUL and lone surrogates (JSON's "\u0000" and "\ud800" escapes
# arrive as such), digits of other scripts, exponents, NaN and infinities, whitespace and signs.
NASTY = (
    "", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "\ufeff1", "²", "١٢", "１２", "0", "00", "-0", "+1", "-1",
    "1e3", "1E-3", "1e999999999", "-1e-999999999", "1_000", " 12 ", "12\n", "NaN", "-nan", "sNaN", "Infinity",
    "-inf", "0.0", "1.", ".5", "1,5", "1.2.3", "0x10", "T", "F", "t", "true", "null", "None", "9" * 40,
    "0." + "0" * 60 + "1", "1" + "0" * 45, "2025-06-06", "2025-02-30", "4/10/2022", "2025-06-06T00:00:00Z",
    "20250606", "USD", "usd", "US$", "€", "<b>", "'; DROP TABLE x; --", "\u202e", "\r\n",
)
ODD_CHARACTERS = st.characters(categories=["Cs", "Cc", "Zs", "Nd", "No", "Lu", "Ll", "P", "S"])


def netsuite_text() -> st.SearchStrategy[str]:
    """One SuiteQL value: NetSuite renders every value as a string (spec section 3)."""
    return st.one_of(
        st.sampled_from(NASTY),
        st.from_regex(r"\A[1-9][0-9]{0,6}\Z"),  # internal ids
        st.from_regex(r"\A-?[0-9]{1,9}(\.[0-9]{1,6})?\Z"),  # amounts, quantities, rates
        st.dates().map(lambda day: day.isoformat()),
        st.from_regex(r"\A[A-Z]{3}\Z"),  # currency symbols
        st.text(max_size=30),
        st.text(ODD_CHARACTERS, max_size=12),
    )


def mostly(usual: st.SearchStrategy, other: st.SearchStrategy) -> st.SearchStrategy:
    """`usual` nine times in ten: an input is only accepted when all its parts are, so each part must be valid
    often enough for the code behind the checks to be reached at all."""
    return st.integers(0, 9).flatmap(lambda draw: other if draw == 0 else usual)


def netsuite_row(columns: Iterable[str]) -> st.SearchStrategy[dict]:
    """A SuiteQL row: NULL columns are left out, present ones are strings, and every row has its links."""
    return st.fixed_dictionaries({"links": st.just([])}, optional={column: netsuite_text() for column in columns})


@contextmanager
def rolled_back() -> Iterator[None]:
    """One example's writes, undone when it ends: examples of one test share its database."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
