"""Clients for a pair's two sides, authenticated by its connections."""

import logging

import requests

from credentials.errors import ConnectionFailed
from credentials.jaggaer_auth import jaggaer_session
from credentials.models import JaggaerConnection, JaggaerTransport, NetSuiteConnection
from credentials.netsuite_auth import netsuite_session
from sync.remote.jaggaer_client import JaggaerClient
from sync.remote.jaggaer_xml import JaggaerXmlClient
from sync.remote.netsuite_client import NetSuiteClient
from sync.remote.request_gate import request_gate

logger = logging.getLogger(__name__)

FALLBACK_CONCURRENCY = 2  # NetSuite spec section 6: the integration's limit, else 2


def netsuite_client(connection: NetSuiteConnection) -> NetSuiteClient:
    session = netsuite_session(connection=connection)
    limit = connection.concurrency_limit or connection.reported_concurrency_limit or (
        lambda: _reported_limit(connection, session))
    gate = request_gate(account=connection.account_id, limit=limit)
    return NetSuiteClient(session=session, rest_url=connection.rest_url, gate=gate)


def _reported_limit(connection: NetSuiteConnection, session: requests.Session) -> int:
    """The integration's own concurrency limit as NetSuite reports it, remembered on the connection; the
    fallback when NetSuite reserves none for it or cannot say."""
    try:
        # NetSuite counts this request against the limit like any other. It holds slot 0, which the account's
        # gate has whatever the limit turns out to be.
        with request_gate(account=connection.account_id, limit=1).slot():
            response = session.get(f"{connection.rest_url}/system/v1/governanceLimits", timeout=30)
        reported = response.json().get("integrationConcurrencyLimit") if response.ok else None
    except (requests.RequestException, ValueError, AttributeError, ConnectionFailed) as exc:
        logger.info("NetSuite governance limits unreadable for %s (%s); using %d", connection.name,
                    type(exc).__name__, FALLBACK_CONCURRENCY)
        return FALLBACK_CONCURRENCY
    if not isinstance(reported, int) or reported < 1:
        return FALLBACK_CONCURRENCY
    connection.reported_concurrency_limit = reported
    connection.save(update_fields=["reported_concurrency_limit"])
    return reported


def jaggaer_client(connection: JaggaerConnection) -> JaggaerClient:
    """The J1P client, or for the XML transport the client that sends suppliers and POs as XML imports (and
    everything without an XML route through J1P, with the same OAuth client)."""
    session = jaggaer_session(connection=connection)
    if connection.transport == JaggaerTransport.XML:
        return JaggaerXmlClient(session=session, base_url=connection.base_url, identity=connection.xml_identity,
                                shared_secret=connection.xml_shared_secret)
    return JaggaerClient(session=session, base_url=connection.base_url)
