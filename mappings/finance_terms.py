"""NetSuite codes in the words finance uses: a kind by its label ("GL account", "Department") as well as its
internal name, and a code by its account number or its name as well as its internal id. A file written by
hand names codes this way; only an answer that points at exactly one code is taken."""

import re
from dataclasses import dataclass

from credentials.models import ConnectionPair
from mappings.models import CodingKind, NetSuiteReference
from mappings.references import ReferenceIndex

_SEPARATORS = re.compile(r"[\s_-]+")


def _folded(text: str) -> str:
    return _SEPARATORS.sub(" ", text.strip()).casefold()


_KIND_OF_WORDS = {
    _folded(words): kind for kind in CodingKind for words in (kind.value, kind.label)
}


def kind_named(words: str) -> str | None:
    """The CodingKind value for `gl_account`, `GL account`, `GL Account`, `gl-account`...; None when none is."""
    return _KIND_OF_WORDS.get(_folded(words))


@dataclass(frozen=True)
class CodeSearch:
    """What a file gave to name one code: any of the three, the first given naming it and the others only
    settling a tie (an exported file carries all three; a hand-written one usually one)."""

    netsuite_id: str = ""
    number: str = ""
    name: str = ""


@dataclass(frozen=True)
class FoundCode:
    netsuite_id: str = ""  # empty when `problem` says why no single code was found
    problem: str = ""


@dataclass(frozen=True)
class _Code:
    netsuite_id: str
    number: str
    names: frozenset[str]  # folded name and full name ("Parent : Child")


class NetSuiteCodeFinder:
    """Finds codes of one pair's NetSuite reference lists (loaded once) by internal id, number or name."""

    def __init__(self, *, pair: ConnectionPair, references: ReferenceIndex) -> None:
        self.references = references
        self._codes: dict[str, list[_Code]] = {}
        rows = NetSuiteReference.objects.filter(reference_list__connection_id=pair.netsuite_id).values_list(
            "reference_list__kind", "netsuite_id", "number", "name", "fullname"
        )
        for kind, netsuite_id, number, name, fullname in rows:
            names = frozenset(_folded(text) for text in (name, fullname) if text)
            self._codes.setdefault(kind, []).append(_Code(netsuite_id, number, names))

    def find(self, kind: str, search: CodeSearch) -> FoundCode:
        """The one code of `kind` the search names. While NetSuite's list of the kind was never read, only an
        internal id can name a code (it is taken as given and checked once the list is read)."""
        given = [(column, text) for column, text in
                 (("netsuite_id", search.netsuite_id), ("netsuite_number", search.number),
                  ("netsuite_name", search.name)) if text]
        if not given:
            return FoundCode(problem="no NetSuite code: fill netsuite_id (internal id, account number or name)")
        if not self.references.netsuite_list_loaded(kind):
            return FoundCode(netsuite_id=search.netsuite_id, problem="" if search.netsuite_id else (
                f"NetSuite's {CodingKind(kind).label} list was never read, so only an internal id in netsuite_id "
                "can name one (refresh the reference lists first)"))
        column, text = given[0]
        found = [code for code in self._codes.get(kind, []) if self._names(code, column, text)]
        for other_column, other_text in given[1:]:
            if len(found) < 2:
                break
            found = [code for code in found if self._names(code, other_column, other_text)] or found
        if len(found) == 1:
            return FoundCode(netsuite_id=found[0].netsuite_id)
        if not found:
            return FoundCode(problem=self._unknown(kind, column, text))
        found.sort(key=lambda code: (code.number, len(code.netsuite_id), code.netsuite_id))
        named = ", ".join(self.references.describe(kind, code.netsuite_id) for code in found[:5])
        return FoundCode(problem=f"{CodingKind(kind).label} '{text}' names {len(found)} NetSuite codes ({named}): "
                                 "say which with a netsuite_number or netsuite_name column (a full name reads "
                                 "'Parent : Child')")

    @staticmethod
    def _names(code: _Code, column: str, text: str) -> bool:
        if column == "netsuite_number":
            return bool(code.number) and code.number == text
        if column == "netsuite_name":
            return _folded(text) in code.names
        return text in (code.netsuite_id, code.number) or _folded(text) in code.names

    def _unknown(self, kind: str, column: str, text: str) -> str:
        label = CodingKind(kind).label
        refreshed = f"list refreshed {self.references.netsuite_refreshed[kind]:%Y-%m-%d %H:%M} UTC"
        if column == "netsuite_number":
            return f"NetSuite has no {label} numbered '{text}' ({refreshed})"
        if column == "netsuite_name":
            return f"NetSuite has no {label} named '{text}' ({refreshed})"
        by = "number or name" if kind == CodingKind.GL_ACCOUNT else "name"
        if text.isdigit():
            return f"NetSuite has no {label} with internal id {text} ({refreshed}), nor one with that {by}"
        return f"NetSuite has no {label} with the {by} '{text}' ({refreshed})"
