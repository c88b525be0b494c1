"""Which connection pair a command works on (operations.md): the only pair, or the one the operator names
with --netsuite NAME --jaggaer NAME when there are several."""

from django.core.management.base import CommandParser

from credentials.models import ConnectionPair


class PairSelectionError(ValueError):
    pass


def add_pair_arguments(parser: CommandParser) -> None:
    parser.add_argument("--netsuite", metavar="NAME", help="NetSuite connection (needed when there are several)")
    parser.add_argument("--jaggaer", metavar="NAME", help="JAGGAER connection (needed when there are several)")


def select_pair(*, netsuite: str | None, jaggaer: str | None) -> ConnectionPair:
    pairs = ConnectionPair.objects.select_related("netsuite", "jaggaer")
    if netsuite:
        pairs = pairs.filter(netsuite__name=netsuite)
    if jaggaer:
        pairs = pairs.filter(jaggaer__name=jaggaer)
    found = list(pairs[:2])
    if len(found) == 1:
        return found[0]
    named = " and ".join(
        f"{system} connection '{name}'" for system, name in (("NetSuite", netsuite), ("JAGGAER", jaggaer)) if name
    )
    if not found:
        raise PairSelectionError(
            f"no connection pair of {named}" if named else "no connection pair is configured (configure_connection)"
        )
    raise PairSelectionError("there are several connection pairs: name one with --netsuite NAME --jaggaer NAME")
