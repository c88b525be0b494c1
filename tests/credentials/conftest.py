"""Builders for connections against the sandboxes, and keys made once per test session."""

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from credentials.configuration import configure_connection
from credentials.models import JaggaerConnection, NetSuiteConnection


class KeyPair:
    def __init__(self, key: Any) -> None:
        self.private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode()
        self.public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="session")
def rsa_key() -> KeyPair:
    return KeyPair(rsa.generate_private_key(public_exponent=65537, key_size=3072))


@pytest.fixture(scope="session")
def ec_key() -> KeyPair:
    return KeyPair(ec.generate_private_key(ec.SECP256R1()))


def netsuite_json(sandbox: Any, method: str, *, name: str = "acme-netsuite", **overrides: Any) -> dict[str, Any]:
    """The configure_connection JSON for one of the sandbox's built-in registrations."""
    data = {"name": name, "system": "netsuite", "account_id": sandbox.app.account_id, "base_url": sandbox.url,
            "auth": sandbox.app.demo_credentials()[method], "timezone": "America/Los_Angeles",
            "webhook_secret": "whsec-acme-0a1b2c3d4e5f"}
    data.update(overrides)
    return data


def jaggaer_json(sandbox: Any, *, name: str = "acme-jaggaer", **overrides: Any) -> dict[str, Any]:
    data = {"name": name, "system": "jaggaer", "base_url": sandbox.url, "auth": sandbox.app.demo_credentials()}
    data.update(overrides)
    return data


def make_netsuite(sandbox: Any, method: str = "oauth2_client_credentials", **overrides: Any) -> NetSuiteConnection:
    connection = configure_connection(data=netsuite_json(sandbox, method, **overrides)).connection
    assert isinstance(connection, NetSuiteConnection)
    return connection


def make_jaggaer(sandbox: Any, **overrides: Any) -> JaggaerConnection:
    connection = configure_connection(data=jaggaer_json(sandbox, **overrides)).connection
    assert isinstance(connection, JaggaerConnection)
    return connection


def token_requests(netsuite: Any) -> int:
    return sum(1 for entry in netsuite.app.requests_log if entry.path.lower().endswith("/auth/oauth2/v1/token"))


def suiteql_one(session: Any, connection: NetSuiteConnection) -> Any:
    return session.post(f"{connection.rest_url}/query/v1/suiteql", params={"limit": 1},
                        json={"q": "SELECT id FROM subsidiary"}, headers={"Prefer": "transient"})
