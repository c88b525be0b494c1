"""What the sync commands share: choosing the pair and flows, and turning failures into one clear line."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import CommandError, CommandParser

from credentials.errors import ConnectionFailed
from credentials.models import ConnectionPair
from credentials.pairs import PairSelectionError, add_pair_arguments, select_pair
from sync.engine.run import FlowOutcome
from sync.flows import FLOWS_IN_ORDER
from sync.models import Flow
from sync.remote.errors import RemoteError


def add_flow_arguments(parser: CommandParser, *, required: bool = False) -> None:
    add_pair_arguments(parser)
    parser.add_argument("--flow", action="append", choices=FLOWS_IN_ORDER, required=required,
                        help="A flow (repeatable); without it, all flows in dependency order.")


def chosen_pair(options: dict[str, Any]) -> ConnectionPair:
    try:
        return select_pair(netsuite=options.get("netsuite"), jaggaer=options.get("jaggaer"))
    except PairSelectionError as exc:
        raise CommandError(str(exc)) from None


@contextmanager
def plain_errors() -> Iterator[None]:
    """A command that cannot run says why in one line and exits non-zero; records that fail do not."""
    try:
        yield
    except ConnectionFailed as exc:
        raise CommandError(f"Cannot authenticate: {exc.message}") from None
    except RemoteError as exc:
        raise CommandError(str(exc)) from None


def summary_line(outcome: FlowOutcome) -> str:
    parts = [f"{Flow(outcome.flow).label}:"]
    if outcome.pulled is not None:
        pulled = outcome.pulled
        per_thousand = f", {pulled.netsuite_requests * 1000 / pulled.read:.0f} per 1,000 records" if pulled.read else ""
        parts.append(f"read {pulled.read} ({pulled.changed} new or changed, {pulled.deleted} deleted) in "
                     f"{pulled.netsuite_requests} NetSuite requests{per_thousand};")
    counts = ", ".join(f"{count} {state}" for state, count in sorted(outcome.delivered.counts.items()))
    parts.append(f"delivery: {counts or 'nothing due'}; {outcome.delivered.jaggaer_requests} JAGGAER requests")
    if outcome.note:
        parts.append(f"({outcome.note})")
    return " ".join(parts)


