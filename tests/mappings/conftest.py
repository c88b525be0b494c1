"""Builders for mapping tests: a connection pair and the reference lists as the sync flows would store
them (SuiteQL rows for NetSuite, JAGGAER custom-field values)."""

from collections.abc import Callable
from itertools import count

import pytest

from credentials.models import ConnectionPair, JaggaerConnection, NetSuiteConnection
from mappings.models import DEFAULT_DIMENSION_FIELDS
from mappings.references import store_jaggaer_values, store_netsuite_reference

_numbers = count(1)


def make_pair(name: str | None = None) -> ConnectionPair:
    name = name or f"acme{next(_numbers)}"
    netsuite = NetSuiteConnection.objects.create(
        name=f"{name}-netsuite", account_id="1234567_SB1", base_url="http://127.0.0.1:9"
    )
    jaggaer = JaggaerConnection.objects.create(name=f"{name}-jaggaer", base_url="http://127.0.0.1:9")
    return ConnectionPair.objects.create(netsuite=netsuite, jaggaer=jaggaer)


def load_gl_accounts(pair: ConnectionPair, *accounts: tuple[str, str, str]) -> None:
    """(internal id, acctnumber, fullname) triples, as SuiteQL answers `account`."""
    store_netsuite_reference(
        connection=pair.netsuite,
        kind="gl_account",
        rows=[
            {"id": id_, "acctnumber": number, "fullname": name, "accttype": "Expense", "isinactive": "F"}
            for id_, number, name in accounts
        ],
    )


def load_classifications(pair: ConnectionPair, kind: str, *values: tuple[str, str]) -> None:
    """(internal id, name) pairs, as SuiteQL answers department, classification, location, subsidiary."""
    store_netsuite_reference(
        connection=pair.netsuite,
        kind=kind,
        rows=[{"id": id_, "name": name, "fullname": name, "isinactive": "F"} for id_, name in values],
    )


def load_jaggaer_values(pair: ConnectionPair, kind: str, *values: str, inactive: tuple[str, ...] = ()) -> None:
    """The whole list of the kind's JAGGAER field: active values, then inactive ones."""
    store_jaggaer_values(
        connection=pair.jaggaer,
        field=DEFAULT_DIMENSION_FIELDS[kind],
        values=[{"internalName": v, "value": v, "description": f"value {v}", "active": True} for v in values]
        + [{"internalName": v, "value": v, "description": f"value {v}", "active": False} for v in inactive],
    )


@pytest.fixture
def pair(db: None) -> ConnectionPair:
    return make_pair()


@pytest.fixture
def waiting_record(pair: ConnectionPair) -> Callable[..., object]:
    """Creates a vendor bill record waiting for the given (kind, netsuite_id) codes."""
    from sync.models import MissingCoding, SyncRecord

    ids = count(1000)

    def build(*codes: tuple[str, str], for_pair: ConnectionPair | None = None) -> SyncRecord:
        record = SyncRecord.objects.create(
            pair=for_pair or pair,
            flow="vendor_bills",
            netsuite_id=str(next(ids)),
            state=SyncRecord.State.WAITING_FOR_MAPPING,
        )
        for kind, netsuite_id in codes:
            MissingCoding.objects.create(record=record, kind=kind, netsuite_id=netsuite_id)
        return record

    return build


def make_finance_user(username: str = "fiona", password: str | None = None):
    """A staff member of the Finance group (no usable password unless given: hashing one is slow). The group
    and its permissions come from the credentials app's migrations; the mappings permissions are added here
    too so these tests do not depend on that order."""
    from django.contrib.auth.models import Group, Permission, User

    user = User.objects.create_user(username=username, password=password, is_staff=True)
    finance, _ = Group.objects.get_or_create(name="Finance")
    finance.permissions.add(*Permission.objects.filter(content_type__app_label="mappings"))
    user.groups.add(finance)
    return user


@pytest.fixture
def finance_client(client, db: None):
    client.force_login(make_finance_user())
    return client
