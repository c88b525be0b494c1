"""What JAGGAER must hold after the soak, and what the soak's JAGGAER and audit trail are checked against.

The expected JAGGAER is the connector's own sync of NetSuite's data as it is at the end, run in this process
through a second pair, without a single fault, into a JAGGAER of its own: every field then follows from the
same mappings and payload builder as in production, from data read again from NetSuite. What differs by
nature (JAGGAER's ids and a PO's revision number, which counts its updates) is left out of the comparison."""

import copy
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from credentials.models import ConnectionPair
from mappings.models import CodingRule, PairCodingRule
from sandbox.http import RunningServer
from sandbox.jaggaer.app import JaggaerSandbox
from sync.engine.journal import content_hash
from sync.engine.run import sync_pass
from sync.models import Flow, SyncAttempt, SyncEvent, SyncRecord
from tests.chaos.traffic import Deleted
from tests.conftest import LiveSandbox
from tests.credentials.conftest import make_jaggaer, make_netsuite

State = SyncRecord.State
FINAL_STATES = (State.DELIVERED, State.SKIPPED)
# What JAGGAER's inspection log calls the objects each flow writes.
WRITE_KIND = {Flow.GL_ACCOUNTS: "custom_field_value", Flow.CLASSIFICATIONS: "custom_field_value",
              Flow.VENDORS: "supplier", Flow.PURCHASE_ORDERS: "purchase_order", Flow.VENDOR_BILLS: "invoice"}
REFERENCE_PASSES = 3
# How long before a worker is killed (or PostgreSQL goes down under it) a write may have been sent whose
# attempt it then could not record: the answer's way back and the recording, lookups of refused items included.
RECORDING_WINDOW = timedelta(seconds=10)


def reference_jaggaer(netsuite: LiveSandbox) -> JaggaerSandbox:
    """JAGGAER as a fault-free sync of NetSuite's current data leaves it."""
    app = JaggaerSandbox()
    app.configure(rate_per_second=1_000_000, max_in_flight=64)
    server = RunningServer(app.wsgi_app())
    try:
        jaggaer = LiveSandbox(app=app, server=server)
        pair = ConnectionPair.objects.create(netsuite=make_netsuite(netsuite, name="reference-netsuite"),
                                             jaggaer=make_jaggaer(jaggaer, name="reference-jaggaer"))
        PairCodingRule.objects.create(pair=pair, rule=CodingRule.SAME_NUMBER)
        # Bills whose PO waited for a mapping go out in the next pass, as in production.
        for _ in range(REFERENCE_PASSES):
            sync_pass(pair=pair, trigger="reference")
            if not SyncRecord.objects.filter(pair=pair).exclude(state__in=FINAL_STATES).exists():
                return app
        states = Counter(SyncRecord.objects.filter(pair=pair).values_list("state", flat=True))
        raise AssertionError(f"the fault-free reference sync did not deliver everything: {dict(states)}")
    finally:
        server.stop()


def _stripped(document: dict, *paths: tuple[str, ...]) -> dict:
    """The document without the fields at `paths` (each a tuple of keys)."""
    kept = copy.deepcopy(document)
    for path in paths:
        holder = kept
        for key in path[:-1]:
            holder = holder.get(key, {})
        holder.pop(path[-1], None)
    return kept


def holdings(app: JaggaerSandbox) -> dict[str, dict[Any, dict]]:
    """What JAGGAER holds, by object kind and natural key, without what differs by nature between two syncs."""
    values = {(name, internal): _stripped(value, ("id",))
              for name in ("GLAccount", "CostCenter", "Class", "Location", "BusinessUnit")
              for internal, value in app.custom_field_values(name).items()}
    return {
        "custom field value": values,
        "supplier": {number: _stripped(view, ("id",)) for number, view in app.suppliers.items()},
        "purchase order": {number: _stripped(po, ("id",), ("poHeader", "revisionNumber"))
                           for number, po in app.purchase_orders.items()},
        "invoice": {key: _stripped(invoice, ("id",)) for key, invoice in app.invoices.items()},
    }


@dataclass
class Comparison:
    lost: list[str] = field(default_factory=list)  # expected, and not in JAGGAER
    unexpected: list[str] = field(default_factory=list)  # in JAGGAER, and not expected
    different: list[str] = field(default_factory=list)  # in both, with a field that differs
    cancelled: int = 0  # deleted in NetSuite during the soak, and cancelled in JAGGAER
    checked: int = 0


def _first_difference(actual: Any, expected: Any, at: str = "") -> str:
    if isinstance(actual, dict) and isinstance(expected, dict):
        for key in sorted(set(actual) | set(expected), key=str):
            if actual.get(key) != expected.get(key):
                return _first_difference(actual.get(key), expected.get(key), f"{at}.{key}")
    if isinstance(actual, list) and isinstance(expected, list) and len(actual) == len(expected):
        for index, (mine, theirs) in enumerate(zip(actual, expected, strict=True)):
            if mine != theirs:
                return _first_difference(mine, theirs, f"{at}[{index}]")
    return f"{at or '.'}: {actual!r} instead of {expected!r}"


def compare(*, actual: JaggaerSandbox, expected: JaggaerSandbox, deleted: Iterable[Deleted]) -> Comparison:
    """Every object the reference holds must be in JAGGAER with equal fields, and nothing else may be, but
    for the POs deleted in NetSuite during the soak: cancelled if they had reached JAGGAER."""
    result = Comparison()
    mine, theirs = holdings(actual), holdings(expected)
    deleted_pos = {gone.document_number for gone in deleted if gone.record_type == "purchaseorder"}
    for kind, wanted in theirs.items():
        held = mine[kind]
        result.checked += len(wanted)
        result.lost += [f"{kind} {key}" for key in wanted if key not in held]
        result.different += [f"{kind} {key} {_first_difference(held[key], wanted[key])}"
                             for key in wanted if key in held and held[key] != wanted[key]]
        for key in held.keys() - wanted.keys():
            if kind == "purchase order" and key in deleted_pos and held[key]["poHeader"]["status"] == "Cancelled":
                result.cancelled += 1
            else:
                result.unexpected.append(f"{kind} {key}")
    return result


def created_twice(app: JaggaerSandbox) -> list[tuple[str, str]]:
    """(path, key) of the objects JAGGAER created more than once."""
    created = Counter((entry["path"], entry["key"]) for entry in app.received() if entry["status"] == "Created")
    return [key for key, count in created.items() if count > 1]


@dataclass
class Unaudited:
    """Writes JAGGAER received (applied or refused) that no SyncAttempt of the pair shows being sent."""

    cut_off: list[dict] = field(default_factory=list)  # sent just before their worker was killed or lost its database
    unexplained: list[dict] = field(default_factory=list)


def unaudited_writes(*, app: JaggaerSandbox, pair: ConnectionPair,
                     blackouts: Iterable[tuple[datetime, datetime]]) -> Unaudited:
    """Each item JAGGAER received is matched with an attempt whose request is that item, each attempt at most
    once. Where an item was received more often than attempts show it sent, the surplus is cut off if as many
    of its copies reached JAGGAER within RECORDING_WINDOW before a blackout (a kill, or PostgreSQL down) or
    during one, and unexplained otherwise."""
    sent: Counter[tuple[str, str]] = Counter()
    attempts = SyncAttempt.objects.filter(record__pair=pair).exclude(request=None)
    for flow, request in attempts.values_list("record__flow", "request").iterator(chunk_size=2000):
        item = request["value"] if WRITE_KIND[Flow(flow)] == "custom_field_value" else request
        sent[(WRITE_KIND[Flow(flow)], content_hash(item))] += 1
    received: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for entry in app.received():
        received[(entry["kind"], content_hash(entry["body"]))].append(entry)
    windows = [(start - RECORDING_WINDOW, end) for start, end in blackouts]
    result = Unaudited()
    for key, copies in received.items():
        surplus = len(copies) - sent[key]
        if surplus <= 0:
            continue
        cut_off = [entry for entry in copies
                   if any(start <= datetime.fromisoformat(entry["at"]) <= end for start, end in windows)]
        result.cut_off += cut_off[:surplus]
        result.unexplained += [entry for entry in copies if entry not in cut_off][:max(0, surplus - len(cut_off))]
    return result


def explain_unaudited(entries: list[dict], pair: ConnectionPair, *, limit: int = 5) -> str:
    """For the first unaudited writes, what the connector recorded about their records: what a person needs
    to find why no attempt shows the write."""
    lines = []
    for entry in entries[:limit]:
        flows = [flow for flow, kind in WRITE_KIND.items() if kind == entry["kind"]]
        record = SyncRecord.objects.filter(pair=pair, flow__in=flows, document_number=entry["key"]).first()
        lines.append(f"{entry['at']} {entry['kind']} {entry['key']} {entry['type']} {entry['status']} "
                     f"{entry['errors']}: record {record and (record.pk, record.state, record.netsuite_id)}")
        for attempt in SyncAttempt.objects.filter(record=record).order_by("started_at") if record else []:
            lines.append(f"    {attempt.started_at:%H:%M:%S.%f} {attempt.action} {attempt.result_status} "
                         f"{attempt.state_after} {attempt.error_code} sent {content_hash(attempt.request or {})[:8]}")
        lines.append(f"    this write {content_hash(entry['body'])[:8]}")
    return "\n".join(lines)


def explain_unfinished(pair: ConnectionPair, *, limit: int = 5) -> str:
    """The first records neither delivered nor skipped, with what they wait for and their last attempts."""
    lines = []
    for record in SyncRecord.objects.filter(pair=pair).exclude(state__in=FINAL_STATES).order_by("pk")[:limit]:
        lines.append(f"{record.flow} {record.netsuite_id} {record.document_number}: {record.state}, attempts "
                     f"{record.attempts}, due {record.next_attempt_at}, claimed until {record.claimed_until}, in JAGGAER "
                     f"{record.in_jaggaer}, blocked by {record.blocked_by!r}: {record.last_error_message[:300]}")
        flow, _, netsuite_id = record.blocked_by.partition(":")
        dependency = SyncRecord.objects.filter(pair=pair, flow=flow, netsuite_id=netsuite_id).first()
        if dependency:
            lines.append(f"    it waits for {dependency.flow} {dependency.netsuite_id} {dependency.document_number}: "
                         f"{dependency.state}, in JAGGAER {dependency.in_jaggaer}, deleted in NetSuite "
                         f"{dependency.deleted_in_netsuite}")
        for attempt in record.sync_attempts.order_by("-started_at")[:4]:
            lines.append(f"    {attempt.started_at:%H:%M:%S.%f} {attempt.action} {attempt.result_status} "
                         f"{attempt.state_after} {attempt.error_code} {attempt.message[:200]}")
    return "\n".join(lines)


def unfinished_records(pair: ConnectionPair) -> dict[str, int]:
    """Records neither delivered nor skipped, by state."""
    left = SyncRecord.objects.filter(pair=pair).exclude(state__in=FINAL_STATES)
    return dict(Counter(left.values_list("state", flat=True)))


def deliveries_without_attempt(pair: ConnectionPair) -> int:
    """Records that became delivered with no attempt in their audit event, or are delivered with no attempt
    that says so."""
    events = SyncEvent.objects.filter(record__pair=pair, to_state=State.DELIVERED, attempt__isnull=True).count()
    delivered = SyncRecord.objects.filter(pair=pair, state=State.DELIVERED)
    shown = SyncAttempt.objects.filter(record__pair=pair, state_after=State.DELIVERED).values("record_id")
    return events + delivered.exclude(pk__in=shown).count()
