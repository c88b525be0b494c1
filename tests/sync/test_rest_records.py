"""Read mode rest_records: the same flows read through NetSuite's REST record list and records, for roles that may
not run SuiteQL, landing in JAGGAER exactly what SuiteQL mode lands."""

from typing import Any

import pytest

from credentials.models import NetSuiteReadMode
from sync.engine.run import sync_pass
from sync.models import SyncCursor, SyncRecord

pytestmark = pytest.mark.django_db
State = SyncRecord.State
DIMENSION_FIELDS = ("GLAccount", "CostCenter", "Class", "Location", "BusinessUnit")


def rest_records(pair: Any) -> None:
    pair.netsuite.read_mode = NetSuiteReadMode.REST_RECORDS
    pair.netsuite.save()


def written(objects: dict) -> dict:
    """JAGGAER's objects without the ids JAGGAER assigns itself."""
    return {key: {name: value for name, value in body.items() if name != "id"} for key, body in objects.items()}


def landed(jaggaer: Any) -> dict:
    """What JAGGAER holds, as the connector wrote it."""
    return {
        "purchase_orders": written(jaggaer.app.purchase_orders),
        "suppliers": written(jaggaer.app.suppliers),
        "invoices": written(jaggaer.app.invoices),
        "values": {field: jaggaer.app.custom_field_values(field) for field in DIMENSION_FIELDS},
    }


def test_a_full_sync_through_rest_records_lands_in_jaggaer_exactly_what_suiteql_lands(pair, netsuite, jaggaer):
    sync_pass(pair=pair)
    through_suiteql = landed(jaggaer)
    jaggaer.app.reset()
    jaggaer.app.configure(rate_per_second=10_000, max_in_flight=16)
    SyncRecord.objects.all().delete()
    SyncCursor.objects.all().delete()
    rest_records(pair)
    netsuite.app.configure(suiteql_allowed=False)

    sync_pass(pair=pair)

    assert not SyncRecord.objects.exclude(state=State.DELIVERED).exists()
    through_rest = landed(jaggaer)
    assert through_rest["purchase_orders"] and through_rest["invoices"] and through_rest["suppliers"]
    for part in through_suiteql:
        for key in through_suiteql[part]:
            assert through_rest[part].get(key) == through_suiteql[part][key], (part, key)
        assert through_rest[part].keys() == through_suiteql[part].keys()
