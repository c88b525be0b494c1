"""Clients for a pair's two sides, authenticated by its connections."""

from django.conf import settings

from credentials.jaggaer_auth import jaggaer_session
from credentials.models import JaggaerConnection, NetSuiteConnection
from credentials.netsuite_auth import netsuite_session
from sync.concurrency import AccountGate
from sync.jaggaer_client import JaggaerClient
from sync.netsuite_client import NetSuiteClient


def netsuite_client(connection: NetSuiteConnection) -> NetSuiteClient:
    gate = AccountGate(account=connection.account_id, limit=connection.concurrency_limit,
                       lock_dir=settings.SYNC_LOCK_DIR)
    return NetSuiteClient(session=netsuite_session(connection=connection), rest_url=connection.rest_url, gate=gate)


def jaggaer_client(connection: JaggaerConnection) -> JaggaerClient:
    return JaggaerClient(session=jaggaer_session(connection=connection), base_url=connection.base_url)
