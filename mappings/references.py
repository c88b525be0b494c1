"""The reference lists: what NetSuite and JAGGAER currently hold. The sync flows fetch them and store them
here; resolution, validation, the admin and the coverage page read them through one preloaded index."""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from credentials.models import ConnectionPair, JaggaerConnection, NetSuiteConnection
from mappings.models import (
    DEFAULT_DIMENSION_FIELDS,
    CodingKind,
    CodingMapping,
    CodingRule,
    JaggaerField,
    JaggaerValue,
    NetSuiteReference,
    NetSuiteReferenceList,
    PairCodingRule,
    describe_netsuite_code,
)
from mappings.signals import coding_available

# SQLite limits the parameters of one statement; a few hundred rows per INSERT stay well under it.
BATCH_SIZE = 500


def _netsuite_flag(value: Any) -> bool:
    """SuiteQL answers booleans as 'T'/'F'; REST and our own callers use JSON booleans."""
    if isinstance(value, str):
        return value.strip().upper() in {"T", "TRUE"}
    return bool(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@transaction.atomic
def store_netsuite_reference(
    *, connection: NetSuiteConnection, kind: CodingKind | str, rows: Iterable[Mapping[str, Any]]
) -> int:
    """Upserts NetSuite rows as SuiteQL returns them (`account`: id, acctnumber, fullname, accttype, isinactive,
    parent; classifications: id, name, fullname, parent, isinactive) and marks the list refreshed now. Rows
    not given are kept: flows read what changed since their cursor, and NetSuite inactivates rather than
    deletes codes in use. Returns the number of rows stored."""
    kind = CodingKind(kind)
    reference_list, _ = NetSuiteReferenceList.objects.update_or_create(
        connection=connection, kind=kind, defaults={"refreshed_at": timezone.now()}
    )
    entries = []
    for row in rows:
        fullname = _text(row.get("fullname"))
        entries.append(
            NetSuiteReference(
                reference_list=reference_list,
                netsuite_id=_text(row["id"]),
                number=_text(row.get("acctnumber")),
                # Accounts have no `name` column in SuiteQL; their own name is the last part of the full name,
                # which NetSuite builds as "Parent : Child".
                name=_text(row.get("name")) or fullname.rsplit(" : ", 1)[-1],
                fullname=fullname,
                account_type=_text(row.get("accttype")),
                inactive=_netsuite_flag(row.get("isinactive")),
                parent_id=_text(row.get("parent")),
            )
        )
    NetSuiteReference.objects.bulk_create(
        entries,
        update_conflicts=True,
        unique_fields=["reference_list", "netsuite_id"],
        update_fields=["number", "name", "fullname", "account_type", "inactive", "parent_id"],
        batch_size=BATCH_SIZE,
    )
    return len(entries)


@transaction.atomic
def store_jaggaer_fields(*, connection: JaggaerConnection, fields: Iterable[Mapping[str, Any]]) -> int:
    """Upserts the custom fields JAGGAER lists (`customField` items: name, label)."""
    stored = 0
    for item in fields:
        JaggaerField.objects.update_or_create(
            connection=connection, name=item["name"], defaults={"label": _text(item.get("label"))}
        )
        stored += 1
    return stored


@transaction.atomic
def store_jaggaer_values(
    *, connection: JaggaerConnection, field: str, values: Iterable[Mapping[str, Any]], complete: bool = True
) -> int:
    """Upserts a custom field's values as JAGGAER lists them (internalName, value, description, active) and
    marks the field refreshed now. `complete` says the values are the whole list (a read of every page), so a
    value JAGGAER no longer lists is no longer active; a flow recording only what it pushed passes False.

    Records waiting for a value that has now appeared are released. Returns the number of values stored."""
    custom_field, _ = JaggaerField.objects.get_or_create(connection=connection, name=field)
    was_active = set(custom_field.values.filter(active=True).values_list("internal_name", flat=True))
    entries = [
        JaggaerValue(
            field=custom_field,
            internal_name=_text(item["internalName"]),
            value=_text(item.get("value")),
            description=_text(item.get("description")),
            active=item.get("active", True) is not False,
        )
        for item in values
    ]
    JaggaerValue.objects.bulk_create(
        entries,
        update_conflicts=True,
        unique_fields=["field", "internal_name"],
        update_fields=["value", "description", "active"],
        batch_size=BATCH_SIZE,
    )
    if complete:
        listed = {entry.internal_name for entry in entries}
        custom_field.values.exclude(internal_name__in=listed).update(active=False)
    custom_field.values_refreshed_at = timezone.now()
    custom_field.save(update_fields=["values_refreshed_at"])
    appeared = {entry.internal_name for entry in entries if entry.active} - was_active
    if appeared:
        _announce_values_appeared(connection=connection, internal_names=appeared)
    return len(entries)


def _announce_values_appeared(*, connection: JaggaerConnection, internal_names: set[str]) -> None:
    """Announces every code that a new value could now resolve: explicit rows pointing at it and, under the
    same-number rule, codes whose number or internal id equals it. The field's kind is not known here (the
    field names are the connection's configuration), so a code of another kind with the same id may be
    announced too; its records are resolved again and wait again, which costs one resolution."""
    for pair in ConnectionPair.objects.filter(jaggaer=connection).select_related("netsuite"):
        codes: dict[str, set[str]] = {}
        for kind, netsuite_id in CodingMapping.objects.filter(
            pair=pair, status=CodingMapping.Status.CONFIRMED, jaggaer_value__in=internal_names
        ).values_list("kind", "netsuite_id"):
            codes.setdefault(kind, set()).add(netsuite_id)
        if coding_rule_of(pair) == CodingRule.SAME_NUMBER:
            for kind in CodingKind:
                codes.setdefault(kind, set()).update(internal_names)
            codes[CodingKind.GL_ACCOUNT].update(
                NetSuiteReference.objects.filter(
                    reference_list__connection=pair.netsuite,
                    reference_list__kind=CodingKind.GL_ACCOUNT,
                    number__in=internal_names,
                ).values_list("netsuite_id", flat=True)
            )
        reason = f"JAGGAER value now active: {', '.join(sorted(internal_names)[:5])}"
        for kind, netsuite_ids in codes.items():
            coding_available.send(sender=JaggaerValue, pair=pair, kind=kind, netsuite_ids=list(netsuite_ids),
                                  reason=reason, actor="")


def coding_rule_of(pair: ConnectionPair) -> CodingRule:
    rule = PairCodingRule.objects.filter(pair=pair).values_list("rule", flat=True).first()
    return CodingRule(rule or CodingRule.EXPLICIT_ONLY)


def dimension_fields_of(connection: JaggaerConnection) -> dict[str, str]:
    """The JAGGAER field of each kind for a connection: its own `dimension_fields` over the defaults."""
    return {**DEFAULT_DIMENSION_FIELDS, **(connection.dimension_fields or {})}


@dataclass(frozen=True)
class NetSuiteCode:
    number: str
    name: str
    inactive: bool


class ReferenceIndex:
    """Both reference lists of one pair, loaded once (a few queries, whatever the number of lookups) so that
    resolving thousands of lines or rendering an admin page makes no query per code."""

    def __init__(
        self,
        *,
        pair: ConnectionPair,
        dimension_fields: Mapping[str, str],
        netsuite_ids: Collection[str] | None = None,
        jaggaer_values: Collection[str] | None = None,
    ) -> None:
        """`netsuite_ids` and `jaggaer_values` restrict what is loaded, for a page that shows a few codes."""
        self.fields = {**DEFAULT_DIMENSION_FIELDS, **dimension_fields}
        self.netsuite_refreshed = dict(
            NetSuiteReferenceList.objects.filter(connection_id=pair.netsuite_id).values_list("kind", "refreshed_at")
        )
        netsuite_rows = NetSuiteReference.objects.filter(reference_list__connection_id=pair.netsuite_id)
        if netsuite_ids is not None:
            netsuite_rows = netsuite_rows.filter(netsuite_id__in=list(netsuite_ids))
        self._netsuite: dict[tuple[str, str], NetSuiteCode] = {
            (kind, netsuite_id): NetSuiteCode(number=number, name=name, inactive=inactive)
            for kind, netsuite_id, number, name, inactive in netsuite_rows.values_list(
                "reference_list__kind", "netsuite_id", "number", "name", "inactive"
            )
        }
        self.jaggaer_refreshed = dict(
            JaggaerField.objects.filter(
                connection_id=pair.jaggaer_id, name__in=set(self.fields.values()), values_refreshed_at__isnull=False
            ).values_list("name", "values_refreshed_at")
        )
        jaggaer_rows = JaggaerValue.objects.filter(
            field__connection_id=pair.jaggaer_id, field__name__in=list(self.jaggaer_refreshed)
        )
        if jaggaer_values is not None:
            jaggaer_rows = jaggaer_rows.filter(internal_name__in=list(jaggaer_values))
        self._jaggaer: dict[tuple[str, str], bool] = {
            (field, internal_name): active
            for field, internal_name, active in jaggaer_rows.values_list("field__name", "internal_name", "active")
        }

    def netsuite_code(self, kind: str, netsuite_id: str) -> NetSuiteCode | None:
        return self._netsuite.get((kind, netsuite_id))

    def netsuite_list_loaded(self, kind: str) -> bool:
        return kind in self.netsuite_refreshed

    def describe(self, kind: str, netsuite_id: str) -> str:
        code = self.netsuite_code(kind, netsuite_id) or NetSuiteCode(number="", name="", inactive=False)
        return describe_netsuite_code(kind=kind, netsuite_id=netsuite_id, number=code.number, name=code.name)

    def jaggaer_list_loaded(self, kind: str) -> bool:
        return self.fields[kind] in self.jaggaer_refreshed

    def jaggaer_value_active(self, kind: str, internal_name: str) -> bool | None:
        """True or False as of the last refresh; None when JAGGAER never listed it (or was never read)."""
        return self._jaggaer.get((self.fields[kind], internal_name))

    def same_number_value(self, kind: str, netsuite_id: str) -> str | None:
        """The JAGGAER value the same-number rule would pick, if NetSuite's list tells us enough to name it:
        a GL account's number (its internal id when it has none, as the gl_accounts flow creates it), a
        classification's internal id."""
        if kind != CodingKind.GL_ACCOUNT:
            return netsuite_id
        code = self.netsuite_code(kind, netsuite_id)
        if code is None:
            return None
        return code.number or netsuite_id

    def jaggaer_problem(self, kind: str, internal_name: str) -> str | None:
        """Why JAGGAER would refuse this value, as of the last refresh (None: it would take it, or the field
        was never read and we cannot tell)."""
        if not self.jaggaer_list_loaded(kind):
            return None
        active = self.jaggaer_value_active(kind, internal_name)
        if active is None:
            return "JAGGAER does not have it"
        if not active:
            return "it is inactive in JAGGAER"
        return None

    def jaggaer_warning(self, kind: str, internal_name: str) -> str | None:
        """The warning finance sees on a mapping row whose value JAGGAER would refuse."""
        problem = self.jaggaer_problem(kind, internal_name)
        if problem is None:
            return None
        field = self.fields[kind]
        return f"JAGGAER {field} value '{internal_name}': {problem} (last refresh); records using it wait until it is active"
