"""The error console's groups: failed, retrying and waiting records gathered by cause, so that one fix, one
replay or one "resolved" deals with all of them. A cause is the mapping a record waits for, the record it waits
for, or else its error code with its message normalised: the same problem met by other records (other document
numbers, ids, amounts, quoted values) reads the same and falls in one group. Selectors only: nothing here writes."""

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from credentials.models import ConnectionPair
from mappings.references import ReferenceIndex, dimension_fields_of
from sync.engine.blocking import codes_blocking_records
from sync.flows import FLOWS_IN_ORDER, flow_named
from sync.models import ErrorKind, MissingCoding, SyncEvent, SyncRecord, blocker_of
from sync.operations.dashboard import confirmed_mappings, mapping_link

State = SyncRecord.State
# What the console shows; a record in any of these states is in exactly one group (a record waiting for several
# codes is in the group of each).
PROBLEM_STATES = (State.FAILED, State.RETRYING, State.WAITING_FOR_MAPPING, State.WAITING_FOR_DEPENDENCY)

# Normalising ------------------------------------------------------------------------------------------------

# What varies between records that met the same problem. The patterns use only what PostgreSQL's and Python's
# regular expressions share, so that the record list can be filtered on a group with them (message_pattern).
_QUOTED = r"\"[^\"]*\"|“[^”]*”|'[^']*'"
_NUMBER = r"[0-9]+(?:[.,:/-][0-9]+)*"
QUOTED_VALUE = '"…"'
NUMBER = "<n>"
# A quote after a letter is an apostrophe ("can't"), not the start of a quoted value.
_VARYING = rf"(?P<quoted>(?<![A-Za-z0-9])(?:{_QUOTED}))|(?P<number>{_NUMBER})"
# Numbers that name the cause rather than the record: an HTTP status.
_KEPT = r"HTTP [0-9]{3}(?![0-9])"
# The engine adds this when it stops retrying (sync/engine/deliver.py): the cause is the same as while it retried.
_GAVE_UP = re.compile(r" \(gave up after [0-9]+ attempts\)$")
_GAVE_UP_PATTERN = r"( \(gave up after [0-9]+ attempts\))?"
NO_MESSAGE = "No error recorded"


def normalised_message(message: str, *, code: str = "") -> str:
    """The message with numbers as <n> and quoted values as "…" (except its error code and HTTP status), without
    the "gave up" note: the same for every record that met the same problem."""
    kept = f"{re.escape(code)}|{_KEPT}" if code else _KEPT
    varying = re.compile(f"(?P<kept>{kept})|{_VARYING}")
    return varying.sub(lambda found: found["kept"] or (QUOTED_VALUE if found["quoted"] else NUMBER),
                       _GAVE_UP.sub("", message.strip()))


def message_pattern(normalised: str) -> str:
    """A regular expression, for PostgreSQL as for Python, that the raw messages of a normalised one match."""
    pieces = []
    for part in re.split(f"({re.escape(QUOTED_VALUE)}|{re.escape(NUMBER)})", normalised):
        if part == QUOTED_VALUE:
            pieces.append(f"(?:{_QUOTED})")
        elif part == NUMBER:
            pieces.append(_NUMBER)
        else:
            # Backslash before punctuation means the character itself in both dialects.
            pieces.append(re.sub(r"([\\.^$*+?()\[\]{}|])", r"\\\1", part))
    return f"^{''.join(pieces)}{_GAVE_UP_PATTERN}$"


# Groups -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fix:
    """The page where the cause is fixed, and the permission that page needs."""

    text: str
    url: str
    permission: str


@dataclass
class ErrorGroup:
    """Records held back by one cause, on one connection pair."""

    key: str  # names the group in the console's forms (records_in)
    kind: str  # "mapping", "dependency" or "error"
    pair: ConnectionPair
    cause: str
    list_url: str = ""  # the record list filtered to the group
    code: str = ""  # the error code, when the cause does not say it already
    by_flow: dict[str, int] = field(default_factory=dict)
    by_state: dict[str, int] = field(default_factory=dict)
    oldest_since: datetime | None = None
    example: str = ""  # one record's own message, when the cause is normalised
    fix: Fix | None = None
    hint: str = ""

    @property
    def records(self) -> int:
        return sum(self.by_flow.values())

    @property
    def flows(self) -> list[tuple[str, int]]:
        """(flow label, records) in dependency order."""
        return [(flow_named(flow).flow.label, self.by_flow[flow]) for flow in FLOWS_IN_ORDER if flow in self.by_flow]

    @property
    def states(self) -> list[tuple[str, str, int]]:
        """(state, label, records) in lifecycle order."""
        return [(value, label, self.by_state[value]) for value, label in State.choices if value in self.by_state]

    @property
    def summary(self) -> str:
        """"GL account 6100 unmapped: 3 POs, 1 bill"."""
        counts = []
        for flow in FLOWS_IN_ORDER:
            if flow in self.by_flow:
                singular, plural = flow_named(flow).nouns
                counts.append(f"{self.by_flow[flow]} {singular if self.by_flow[flow] == 1 else plural}")
        return f"{self.cause}: {', '.join(counts)}"

    def add(self, *, flow: str, state: str, records: int, since: datetime | None) -> None:
        self.by_flow[flow] = self.by_flow.get(flow, 0) + records
        self.by_state[state] = self.by_state.get(state, 0) + records
        if since is not None and (self.oldest_since is None or since < self.oldest_since):
            self.oldest_since = since


def error_groups() -> list[ErrorGroup]:
    """Every failed, retrying and waiting record, grouped by cause: groups with failed records first, then the
    largest."""
    pairs = {pair.pk: pair for pair in ConnectionPair.objects.select_related("netsuite", "jaggaer")}
    groups = _message_groups(pairs) + _mapping_groups(pairs) + _dependency_groups(pairs)
    groups.sort(key=lambda group: (State.FAILED not in group.by_state, -group.records, group.cause))
    return groups


def group_named(key: str) -> ErrorGroup | None:
    return next((group for group in error_groups() if group.key == key), None)


def records_in(key: str) -> QuerySet[SyncRecord]:
    """The records of the group `key` names, as they are now (none for a key that names nothing)."""
    kind, _, rest = key.partition(":")
    pair_id, _, detail = rest.partition(":")
    if not pair_id.isdigit():
        return SyncRecord.objects.none()
    records = SyncRecord.objects.filter(pair_id=int(pair_id))
    if kind == "mapping":
        code_kind, _, netsuite_id = detail.partition(":")
        return records.filter(state=State.WAITING_FOR_MAPPING, missing_codings__kind=code_kind,
                              missing_codings__netsuite_id=netsuite_id)
    if kind == "dependency":
        return records.filter(state=State.WAITING_FOR_DEPENDENCY, blocked_by=detail)
    if kind == "error":
        digest, _, code = detail.partition(":")
        rows = records.filter(_has_no_specific_cause(), last_error_code=code).values_list("pk", "last_error_message")
        return SyncRecord.objects.filter(pk__in=[pk for pk, message in rows if _digest(message, code) == digest])
    return SyncRecord.objects.none()


def _digest(message: str, code: str) -> str:
    return hashlib.sha256(normalised_message(message, code=code).encode()).hexdigest()[:16]


def _since(record: str = "pk", prefix: str = "") -> Coalesce:
    """When a record's trouble began: the last time it became due (read or changed in NetSuite, replayed,
    released), whatever retries followed; its last change once those events are pruned."""
    became_due = SyncEvent.objects.filter(record=OuterRef(record), to_state=State.PENDING).order_by("-at").values("at")
    return Coalesce(Subquery(became_due[:1]), F(f"{prefix}updated_at"))


def _has_no_specific_cause() -> Q:
    """Records grouped by their error: failed and retrying ones, and waiting ones that name no code or record
    to wait for (JAGGAER refused a value the connector thought mapped)."""
    names_codes = Exists(MissingCoding.objects.filter(record=OuterRef("pk")))
    return (Q(state__in=[State.FAILED, State.RETRYING])
            | Q(state=State.WAITING_FOR_DEPENDENCY, blocked_by="")
            | (Q(state=State.WAITING_FOR_MAPPING) & ~Q(names_codes)))


def _record_list(**filters: str | int) -> str:
    return f"{reverse('admin:sync_syncrecord_changelist')}?{urlencode(filters)}"


# Connection errors are fixed on the JAGGAER connection's page (records only meet JAGGAER's errors: NetSuite's end
# the run, which the banner shows).
_CONNECTION_CODES = {"TRANSPORT", "BAD_ANSWER", "HTTP_401", "HTTP_403", "HTTP_407"}


def _fix_of_error(pair: ConnectionPair, kind: str, code: str) -> tuple[Fix | None, str]:
    if code in _CONNECTION_CODES:
        url = reverse("admin:credentials_jaggaerconnection_change", args=[pair.jaggaer_id])
        return (Fix("Check the JAGGAER connection", url, "credentials.change_jaggaerconnection"),
                f"An integration administrator checks the JAGGAER connection {pair.jaggaer.name}.")
    if kind == ErrorKind.MAPPING:
        return (Fix("Check the mappings", reverse("admin:mappings_codingmapping_changelist"),
                    "mappings.view_codingmapping"), "")
    if kind == ErrorKind.SOURCE_DATA:
        return None, "Correct it in NetSuite: the change is read and sent by itself."
    return None, ""


def _message_groups(pairs: dict[int, ConnectionPair]) -> list[ErrorGroup]:
    # Identical messages are counted by the database; only the distinct ones are normalised here.
    rows = (
        SyncRecord.objects.filter(_has_no_specific_cause()).annotate(since=_since())
        .values_list("pair", "flow", "state", "last_error_kind", "last_error_code", "last_error_message")
        .annotate(n=Count("id"), oldest=Min("since")).order_by("pair", "last_error_code", "last_error_message")
    )
    groups: dict[tuple[int, str, str], ErrorGroup] = {}
    for pair_id, flow, state, kind, code, message, n, oldest in rows:
        normalised = normalised_message(message, code=code)
        group = groups.get((pair_id, code, normalised))
        if group is None:
            fix, hint = _fix_of_error(pairs[pair_id], kind, code)
            group = groups[(pair_id, code, normalised)] = ErrorGroup(
                key=f"error:{pair_id}:{_digest(message, code)}:{code}", kind="error", pair=pairs[pair_id],
                cause=normalised or NO_MESSAGE, code="" if code in normalised else code,
                example=message if message.strip() != normalised else "", fix=fix, hint=hint)
        group.add(flow=flow, state=state, records=n, since=oldest)
    for (pair_id, code, normalised), group in groups.items():
        group.list_url = _record_list(pair__exact=pair_id, last_error_code__exact=code,
                                      state__in=",".join(group.by_state),
                                      last_error_message__regex=message_pattern(normalised))
    return list(groups.values())


def _mapping_groups(pairs: dict[int, ConnectionPair]) -> list[ErrorGroup]:
    codes: dict[int, dict[tuple[str, str], dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for code in codes_blocking_records():
        codes[code.pair_id][(code.kind, code.netsuite_id)][code.flow] = code.records
    oldest = {
        (pair_id, kind, netsuite_id): since
        for pair_id, kind, netsuite_id, since in MissingCoding.objects.filter(record__state=State.WAITING_FOR_MAPPING)
        .annotate(since=_since(record="record", prefix="record__"))
        .values_list("record__pair", "kind", "netsuite_id").annotate(oldest=Min("since")).order_by()
    }
    groups = []
    for pair_id, by_code in codes.items():
        pair = pairs[pair_id]
        references = ReferenceIndex(pair=pair, dimension_fields=dimension_fields_of(pair.jaggaer),
                                    netsuite_ids={netsuite_id for _, netsuite_id in by_code})
        confirmed = confirmed_mappings(pair_id, set(by_code))
        for (kind, netsuite_id), by_flow in by_code.items():
            confirmed_id = confirmed.get((kind, netsuite_id))
            text, url = mapping_link(pair_id=pair_id, kind=kind, netsuite_id=netsuite_id, confirmed_id=confirmed_id)
            group = ErrorGroup(
                key=f"mapping:{pair_id}:{kind}:{netsuite_id}", kind="mapping", pair=pair,
                cause=f"{references.describe(kind, netsuite_id)} unmapped",
                list_url=_record_list(pair__exact=pair_id, missing=f"{kind}:{netsuite_id}"),
                fix=Fix(text, url, "mappings.change_codingmapping" if confirmed_id else "mappings.add_codingmapping"),
                hint="Saving the mapping sends these records with the next delivery, with nothing else to do.")
            for flow, n in by_flow.items():
                group.add(flow=flow, state=State.WAITING_FOR_MAPPING, records=n,
                           since=oldest.get((pair_id, kind, netsuite_id)))
            groups.append(group)
    return groups


def _dependency_groups(pairs: dict[int, ConnectionPair]) -> list[ErrorGroup]:
    rows = (
        SyncRecord.objects.filter(state=State.WAITING_FOR_DEPENDENCY).exclude(blocked_by="").annotate(since=_since())
        .values_list("pair", "flow", "blocked_by").annotate(n=Count("id"), oldest=Min("since")).order_by()
    )
    groups: dict[tuple[int, str], ErrorGroup] = {}
    for pair_id, flow, blocked_by, n, oldest in rows:
        group = groups.get((pair_id, blocked_by))
        if group is None:
            group = groups[(pair_id, blocked_by)] = _dependency_group(pairs[pair_id], blocked_by)
        group.add(flow=flow, state=State.WAITING_FOR_DEPENDENCY, records=n, since=oldest)
    return list(groups.values())


def _dependency_group(pair: ConnectionPair, blocked_by: str) -> ErrorGroup:
    dep_flow, dep_id = blocker_of(blocked_by)
    blocker = SyncRecord.objects.filter(pair=pair, flow=dep_flow, netsuite_id=dep_id).only(
        "pk", "flow", "document_number", "netsuite_id", "label", "state").first()
    noun = flow_named(dep_flow).nouns[0] if dep_flow in FLOWS_IN_ORDER else dep_flow
    if blocker is None:
        cause = f"{noun} (NetSuite id {dep_id}) not read from NetSuite yet"
        fix = Fix("Look for it", _record_list(q=dep_id), "sync.view_syncrecord")
    else:
        cause = f"{noun} {blocker.label or blocker.document_number} {blocker.get_state_display().lower()}"
        fix = Fix("Open it", reverse("admin:sync_syncrecord_change", args=[blocker.pk]), "sync.view_syncrecord")
    return ErrorGroup(key=f"dependency:{pair.pk}:{blocked_by}", kind="dependency", pair=pair,
                      cause=f"Waiting for {cause}", fix=fix,
                      hint="They go out by themselves once that record is delivered.",
                      list_url=_record_list(pair__exact=pair.pk, state__exact=State.WAITING_FOR_DEPENDENCY,
                                            blocked_by=blocked_by))
