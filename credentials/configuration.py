"""Creating and updating connections from the operations contract's JSON, all or nothing, and
pairing them when the choice is obvious."""

import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from credentials.models import (
    NETSUITE_AUTH_FIELDS,
    NETSUITE_OPTIONAL_AUTH_FIELDS,
    AccessToken,
    ConnectionPair,
    JaggaerConnection,
    JaggaerTransport,
    NetSuiteAuthMethod,
    NetSuiteConnection,
    NetSuiteReadMode,
    default_dimension_fields,
)

_NETSUITE_KEYS = {"name", "system", "account_id", "base_url", "auth", "concurrency_limit", "timezone", "webhook_secret",
                  "read_mode"}
_JAGGAER_KEYS = {"name", "system", "base_url", "auth", "dimension_fields", "allow_production_with_sandbox",
                 "transport", "xml"}
_JAGGAER_XML_KEYS = {"identity", "shared_secret"}
_JAGGAER_AUTH = {"oauth2_client_credentials": ("client_id", "client_secret")}
_ALL_NETSUITE_AUTH_FIELDS = sorted({f for fields in (*NETSUITE_AUTH_FIELDS.values(),
                                                     *NETSUITE_OPTIONAL_AUTH_FIELDS.values()) for f in fields})


class ConfigurationError(Exception):
    """Bad input, worded as one line that names the offending field; nothing was saved."""


@dataclass(frozen=True)
class Configured:
    connection: NetSuiteConnection | JaggaerConnection
    created: bool
    pair: ConnectionPair | None  # set when this call created the pair


def parse_connection_json(text: str, *, source: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
        ) from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{source} must hold one JSON object describing a connection.")
    return data


def configure_connection(*, data: dict[str, Any]) -> Configured:
    """Creates or updates (by `name`) the connection `data` describes."""
    system = data.get("system")
    if system not in ("netsuite", "jaggaer"):
        raise ConfigurationError(f"system: must be \"netsuite\" or \"jaggaer\", not {system!r}.")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigurationError("name: required (a slug such as acme-netsuite).")
    model, keys, apply = {"netsuite": (NetSuiteConnection, _NETSUITE_KEYS, _apply_netsuite),
                          "jaggaer": (JaggaerConnection, _JAGGAER_KEYS, _apply_jaggaer)}[system]
    _refuse_unknown(data, keys, prefix="")
    with transaction.atomic():
        connection = model.objects.filter(name=name).first()
        created = connection is None
        connection = connection or model(name=name)
        apply(connection, data)
        _full_clean(connection)
        connection.save()
        AccessToken.objects.filter(**{system: connection}).delete()  # credentials may have changed
        for pair in connection.pairs.all():
            _full_clean(pair)
        return Configured(connection=connection, created=created, pair=_pair_if_obvious())


def _apply_netsuite(connection: NetSuiteConnection, data: dict[str, Any]) -> None:
    connection.account_id = _text(data, "account_id", required=True)
    connection.base_url = _text(data, "base_url")
    connection.timezone = _text(data, "timezone") or connection.timezone
    if "webhook_secret" in data:  # absent: keep the stored one, so a re-configure does not break push
        connection.webhook_secret = _text(data, "webhook_secret")
    if "concurrency_limit" in data:
        limit = data["concurrency_limit"]
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ConfigurationError("concurrency_limit: must be a whole number of at least 1.")
        connection.concurrency_limit = limit
    if "read_mode" in data:  # absent: keep the stored mode
        mode = data["read_mode"]
        if mode not in NetSuiteReadMode.values:
            raise ConfigurationError(f"read_mode: must be \"suiteql\" or \"rest_records\" (for a role without "
                                     f"SuiteAnalytics Workbook), not {mode!r}.")
        connection.read_mode = mode
    auth = _auth(data)
    method = auth.get("method")
    if method not in NETSUITE_AUTH_FIELDS:
        raise ConfigurationError(
            f"auth.method: unknown auth method {method!r}; use one of {', '.join(NETSUITE_AUTH_FIELDS)}."
        )
    allowed = (*NETSUITE_AUTH_FIELDS[method], *NETSUITE_OPTIONAL_AUTH_FIELDS.get(method, ()))
    _refuse_unknown(auth, {"method", *allowed}, prefix="auth.")
    connection.auth_method = method
    # Settings of another method are cleared, so that no stale secret stays behind.
    for field in _ALL_NETSUITE_AUTH_FIELDS:
        setattr(connection, field, _text(auth, field, prefix="auth.") if field in allowed else "")
    if method == NetSuiteAuthMethod.AUTHORIZATION_CODE:
        connection.needs_consent = not connection.refresh_token
        connection.refresh_token_expires_at = None


def _apply_jaggaer(connection: JaggaerConnection, data: dict[str, Any]) -> None:
    connection.base_url = _text(data, "base_url", required=True)
    auth = _auth(data)
    method = auth.get("method")
    if method not in _JAGGAER_AUTH:
        raise ConfigurationError(
            f"auth.method: unknown auth method {method!r}; JAGGAER uses oauth2_client_credentials."
        )
    _refuse_unknown(auth, {"method", *_JAGGAER_AUTH[method]}, prefix="auth.")
    connection.client_id = _text(auth, "client_id", prefix="auth.", required=True)
    connection.client_secret = _text(auth, "client_secret", prefix="auth.", required=True)
    dimensions = data.get("dimension_fields", {})
    if not isinstance(dimensions, dict):
        raise ConfigurationError("dimension_fields: must be an object such as {\"gl_account\": \"GLAccount\"}.")
    connection.dimension_fields = {**default_dimension_fields(), **dimensions}
    allow = data.get("allow_production_with_sandbox", False)
    if not isinstance(allow, bool):
        raise ConfigurationError("allow_production_with_sandbox: must be true or false.")
    connection.allow_production_with_sandbox = allow
    _apply_jaggaer_transport(connection, data)


def _apply_jaggaer_transport(connection: JaggaerConnection, data: dict[str, Any]) -> None:
    """`transport` ("j1p" or "xml") and, for XML, `xml` {identity, shared_secret}. The OAuth client stays
    required either way: invoices, custom-field values and reads by key have no XML route."""
    transport = data.get("transport", JaggaerTransport.J1P)
    if transport not in JaggaerTransport.values:
        raise ConfigurationError(f"transport: must be \"j1p\" or \"xml\", not {transport!r}.")
    xml = data.get("xml", {})
    if not isinstance(xml, dict):
        raise ConfigurationError("xml: must be an object such as {\"identity\": \"...\", \"shared_secret\": \"...\"}.")
    _refuse_unknown(xml, _JAGGAER_XML_KEYS, prefix="xml.")
    connection.transport = transport
    connection.xml_identity = _text(xml, "identity", prefix="xml.", required=transport == JaggaerTransport.XML)
    # Absent: keep the stored secret (a re-configure need not repeat it), unless none is stored yet.
    if "shared_secret" in xml or transport == JaggaerTransport.XML and not connection.xml_shared_secret:
        connection.xml_shared_secret = _text(xml, "shared_secret", prefix="xml.",
                                             required=transport == JaggaerTransport.XML)


def _pair_if_obvious() -> ConnectionPair | None:
    """With exactly one connection on each side and no pair yet, they form the pair."""
    if ConnectionPair.objects.exists() or NetSuiteConnection.objects.count() != 1 \
            or JaggaerConnection.objects.count() != 1:
        return None
    pair = ConnectionPair(netsuite=NetSuiteConnection.objects.get(), jaggaer=JaggaerConnection.objects.get())
    _full_clean(pair)
    pair.save()
    return pair


def _auth(data: dict[str, Any]) -> dict[str, Any]:
    auth = data.get("auth")
    if not isinstance(auth, dict):
        raise ConfigurationError("auth: required, an object with \"method\" and that method's settings.")
    return auth


def _text(data: dict[str, Any], key: str, *, prefix: str = "", required: bool = False) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ConfigurationError(f"{prefix}{key}: must be a string.")
    if required and not value.strip():
        raise ConfigurationError(f"{prefix}{key}: required.")
    return value.strip() if key != "private_key_pem" else value


def _refuse_unknown(data: dict[str, Any], allowed: set[str], *, prefix: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigurationError(
            f"{prefix}{unknown[0]}: unknown setting; expected one of {', '.join(sorted(allowed))}."
        )


def _full_clean(instance: NetSuiteConnection | JaggaerConnection | ConnectionPair) -> None:
    """Model validation, reported as the JSON field that holds the bad value."""
    try:
        instance.full_clean(validate_unique=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        if field in _ALL_NETSUITE_AUTH_FIELDS or (isinstance(instance, JaggaerConnection)
                                                  and field in ("client_id", "client_secret")):
            field = f"auth.{field}"
        elif field in ("xml_identity", "xml_shared_secret"):
            field = f"xml.{field.removeprefix('xml_')}"
        elif field == "auth_method":
            field = "auth.method"
        label = "" if field == "__all__" else f"{field}: "
        raise ConfigurationError(f"{label}{' '.join(messages)}") from None
