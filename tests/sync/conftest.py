"""A connection pair against the two sandboxes, coded by the same-number rule unless a test says
otherwise, and helpers to read what JAGGAER received."""

from typing import Any

import pytest

from credentials.jaggaer_auth import jaggaer_session
from credentials.models import ConnectionPair
from credentials.netsuite_auth import netsuite_session
from mappings.models import CodingRule, PairCodingRule
from sync.engine.run import Clients
from sync.remote.jaggaer_client import JaggaerClient
from sync.remote.netsuite_client import NetSuiteClient
from tests.credentials.conftest import make_jaggaer, make_netsuite
from tests.sync.helpers import use_xml_transport


@pytest.fixture
def jaggaer_transport() -> str:
    """How the pair reaches JAGGAER: parametrize a test over it, `@pytest.mark.parametrize("jaggaer_transport",
    ["j1p", "xml"])`, to run it over the J1P API and over the XML imports."""
    return "j1p"


@pytest.fixture
def pair(netsuite: Any, jaggaer: Any, tmp_path: Any, settings: Any, jaggaer_transport: str) -> ConnectionPair:
    # Real limits would make a full sync wait out 1-second Retry-Afters; the rate limit has its own tests.
    jaggaer.app.configure(rate_per_second=10_000, max_in_flight=16)
    settings.SYNC_LOCK_DIR = tmp_path / "locks"
    make_netsuite(netsuite)
    make_jaggaer(jaggaer)
    found = ConnectionPair.objects.select_related("netsuite", "jaggaer").get()
    PairCodingRule.objects.create(pair=found, rule=CodingRule.SAME_NUMBER)
    if jaggaer_transport == "xml":
        use_xml_transport(found, jaggaer)
    return found


@pytest.fixture
def clients(pair) -> Clients:
    """The pair's clients without the waits between retries."""
    return Clients(
        netsuite=NetSuiteClient(session=netsuite_session(connection=pair.netsuite), rest_url=pair.netsuite.rest_url,
                                sleep=lambda seconds: None),
        jaggaer=JaggaerClient(session=jaggaer_session(connection=pair.jaggaer), base_url=pair.jaggaer.base_url,
                              sleep=lambda seconds: None),
    )
