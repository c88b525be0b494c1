"""Who we are on each side: one connection per NetSuite account and per JAGGAER tenant, and the pairs
that records flow between.

Every secret lives in an encrypted field (django-encrypted-model-fields, keys in FIELD_ENCRYPTION_KEY),
is left out of the change history, and is never rendered back by the admin."""

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from encrypted_model_fields.fields import EncryptedCharField, EncryptedTextField
from simple_history.models import HistoricalRecords

from credentials.accounts import derived_base_url, host_label, is_production_jaggaer_url, normalise_account_id


class NetSuiteAuthMethod(models.TextChoices):
    CLIENT_CREDENTIALS = "oauth2_client_credentials", "OAuth 2.0 client credentials (certificate)"
    AUTHORIZATION_CODE = "oauth2_authorization_code", "OAuth 2.0 authorization code"
    TBA = "tba", "Token-based authentication (OAuth 1.0a)"


class NetSuiteReadMode(models.TextChoices):
    SUITEQL = "suiteql", "SuiteQL"
    # For roles given REST Web Services but not SuiteAnalytics Workbook, which SuiteQL needs.
    REST_RECORDS = "rest_records", "REST records"


class JaggaerTransport(models.TextChoices):
    J1P = "j1p", "J1P REST API"
    # The XML imports (TSMSupplierXMLImport, POXMLImport) that some tenants have instead of J1P.
    XML = "xml", "XML imports"


class JwtAlgorithm(models.TextChoices):
    """What NetSuite accepts for the client-credentials assertion; RS256 is refused by NetSuite."""

    PS256 = "PS256"
    PS384 = "PS384"
    PS512 = "PS512"
    ES256 = "ES256"
    ES384 = "ES384"
    ES512 = "ES512"


# Fields whose values must never leave the database in clear text: history, admin and logs skip them.
NETSUITE_SECRET_FIELDS = (
    "private_key_pem", "client_secret", "refresh_token", "pkce_verifier",
    "consumer_key", "consumer_secret", "token_id", "token_secret", "webhook_secret",
)
JAGGAER_SECRET_FIELDS = ("client_secret", "xml_shared_secret")

# Which settings each NetSuite auth method needs (operations contract, `auth` objects).
NETSUITE_AUTH_FIELDS: dict[str, tuple[str, ...]] = {
    NetSuiteAuthMethod.CLIENT_CREDENTIALS: ("client_id", "certificate_id", "private_key_pem", "algorithm"),
    NetSuiteAuthMethod.AUTHORIZATION_CODE: ("client_id", "client_secret"),
    NetSuiteAuthMethod.TBA: ("consumer_key", "consumer_secret", "token_id", "token_secret"),
}
NETSUITE_OPTIONAL_AUTH_FIELDS: dict[str, tuple[str, ...]] = {
    NetSuiteAuthMethod.AUTHORIZATION_CODE: ("refresh_token", "redirect_uri"),
}


def default_dimension_fields() -> dict[str, str]:
    """JAGGAER custom field per NetSuite dimension (JAGGAER contract, section 3)."""
    return {"gl_account": "GLAccount", "department": "CostCenter", "class": "Class", "location": "Location",
            "subsidiary": "BusinessUnit"}


class ConnectionTestResult(models.Model):
    """What the last "Test connection" found, shown in the admin and by check_connections."""

    last_tested_at = models.DateTimeField("last tested", null=True, blank=True, editable=False)
    last_test_ok = models.BooleanField("last test passed", null=True, editable=False)
    last_test_result = models.TextField("last test result", blank=True, editable=False)

    class Meta:
        abstract = True


class NetSuiteConnection(ConnectionTestResult):
    name = models.SlugField(max_length=100, unique=True, help_text="Also the slug of the webhook URL.")
    account_id = models.CharField(max_length=40, help_text="As NetSuite shows it, e.g. 1234567 or 1234567_SB1.")
    base_url = models.URLField(
        blank=True, help_text="Derived from the account id unless it points at a sandbox server."
    )
    auth_method = models.CharField(
        max_length=32, choices=NetSuiteAuthMethod.choices, default=NetSuiteAuthMethod.CLIENT_CREDENTIALS
    )
    client_id = models.CharField("client id", max_length=255, blank=True,
                                 help_text="The integration record's client id (OAuth 2.0 methods).")
    certificate_id = models.CharField("certificate id", max_length=255, blank=True,
                                      help_text="The id NetSuite gave the uploaded certificate (client credentials).")
    algorithm = models.CharField(max_length=8, choices=JwtAlgorithm.choices, blank=True,
                                 help_text="PS* for an RSA key, ES* for an EC key of the matching curve.")
    private_key_pem = EncryptedTextField("private key (PEM)", blank=True)
    client_secret = EncryptedCharField("client secret", max_length=500, blank=True)
    refresh_token = EncryptedTextField("refresh token", blank=True)
    refresh_token_expires_at = models.DateTimeField("refresh token expires", null=True, blank=True, editable=False)
    needs_consent = models.BooleanField(
        "needs re-consent", default=False, editable=False,
        help_text="The refresh token expired or was refused: a NetSuite administrator must consent again.",
    )
    redirect_uri = models.URLField("redirect URI", blank=True,
                                   help_text="Consent callback registered on the integration record "
                                             "(authorization code).")
    consent_state = models.CharField(max_length=64, blank=True, editable=False)
    pkce_verifier = EncryptedCharField(max_length=200, blank=True, editable=False)
    consumer_key = EncryptedCharField("consumer key", max_length=500, blank=True)
    consumer_secret = EncryptedCharField("consumer secret", max_length=500, blank=True)
    token_id = EncryptedCharField("token id", max_length=500, blank=True)
    token_secret = EncryptedCharField("token secret", max_length=500, blank=True)
    concurrency_limit = models.PositiveSmallIntegerField(
        null=True, blank=True,
        help_text="Requests in flight at once for this account, shared by all workers. Empty: the integration's "
        "limit NetSuite reports (governanceLimits), else 2.",
    )
    reported_concurrency_limit = models.PositiveSmallIntegerField(
        "limit NetSuite reports", null=True, blank=True, editable=False,
        help_text="integrationConcurrencyLimit from NetSuite's governanceLimits, read once when first needed.",
    )
    timezone = models.CharField(max_length=64, default="America/Los_Angeles",
                                help_text="The account's time zone; SuiteQL compares dates in it.")
    webhook_secret = EncryptedCharField("webhook secret", max_length=500, blank=True,
                                        help_text="Shared with the SuiteScript that pushes record changes.")
    read_mode = models.CharField(
        "read mode", max_length=16, choices=NetSuiteReadMode.choices, default=NetSuiteReadMode.SUITEQL,
        help_text="How records are read: SuiteQL, or REST records for a role without SuiteAnalytics Workbook.",
    )

    history = HistoricalRecords(excluded_fields=[*NETSUITE_SECRET_FIELDS, "consent_state"])

    class Meta:
        verbose_name = "NetSuite connection"

    def __str__(self) -> str:
        return self.name

    @property
    def realm(self) -> str:
        """The account id as TBA's realm wants it (`1234567_SB1`)."""
        return self.account_id

    @property
    def host_label(self) -> str:
        return host_label(self.account_id)

    @property
    def rest_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/services/rest"

    @property
    def token_url(self) -> str:
        return f"{self.rest_url}/auth/oauth2/v1/token"

    @property
    def is_sandbox_account(self) -> bool:
        return "_SB" in self.account_id

    def clean(self) -> None:
        from credentials.keys import check_private_key

        errors: dict[str, str] = {}
        try:
            self.account_id = normalise_account_id(self.account_id)
        except ValueError as exc:
            errors["account_id"] = str(exc)
        if not self.base_url and "account_id" not in errors:
            self.base_url = derived_base_url(self.account_id)
        self.base_url = self.base_url.rstrip("/")
        if self.auth_method not in NETSUITE_AUTH_FIELDS:
            errors["auth_method"] = (f"Unknown auth method {self.auth_method!r}; "
                                     f"use one of {', '.join(NETSUITE_AUTH_FIELDS)}.")
        else:
            for field in NETSUITE_AUTH_FIELDS[self.auth_method]:
                if not getattr(self, field):
                    errors[field] = f"Required for {self.get_auth_method_display()}."
        if self.auth_method == NetSuiteAuthMethod.CLIENT_CREDENTIALS and self.private_key_pem and self.algorithm:
            problem = check_private_key(pem=self.private_key_pem, algorithm=self.algorithm)
            if problem:
                errors["private_key_pem"] = problem
        if not _is_time_zone(self.timezone):
            errors["timezone"] = f"Unknown time zone {self.timezone!r}; use an IANA name such as America/Los_Angeles."
        if self.concurrency_limit is not None and self.concurrency_limit < 1:
            errors["concurrency_limit"] = "Must be at least 1."
        if errors:
            raise ValidationError(errors)


class JaggaerConnection(ConnectionTestResult):
    name = models.SlugField(max_length=100, unique=True)
    base_url = models.URLField(help_text="Token endpoint and API share it, e.g. https://prep-reg02.api.jaggaer.com")
    client_id = models.CharField("client id", max_length=255, default="")
    client_secret = EncryptedCharField("client secret", max_length=500, default="")
    dimension_fields = models.JSONField(
        default=default_dimension_fields,
        help_text="JAGGAER custom field per NetSuite dimension: gl_account, department, class, location, subsidiary.",
    )
    allow_production_with_sandbox = models.BooleanField(
        "allow a NetSuite sandbox account with this production tenant", default=False,
        help_text="Normally refused so that test data never reaches a live JAGGAER tenant.",
    )
    transport = models.CharField(
        max_length=8, choices=JaggaerTransport.choices, default=JaggaerTransport.J1P,
        help_text="How suppliers and purchase orders are sent: the J1P REST API, or JAGGAER's XML imports.",
    )
    xml_identity = models.CharField("XML identity", max_length=255, blank=True,
                                    help_text="Identity in the header of each XML import (XML transport).")
    xml_shared_secret = EncryptedCharField("XML shared secret", max_length=500, blank=True,
                                           help_text="SharedSecret in the header of each XML import (XML transport).")

    history = HistoricalRecords(excluded_fields=list(JAGGAER_SECRET_FIELDS))

    class Meta:
        verbose_name = "JAGGAER connection"

    def __str__(self) -> str:
        return self.name

    @property
    def token_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/auth/realms/J1p-integrations/protocol/openid-connect/token"

    @property
    def is_production(self) -> bool:
        return is_production_jaggaer_url(self.base_url)

    def clean(self) -> None:
        self.base_url = (self.base_url or "").rstrip("/")
        fields = self.dimension_fields
        expected = set(default_dimension_fields())
        if not isinstance(fields, dict) or set(fields) != expected or not all(
            isinstance(value, str) and value for value in fields.values()
        ):
            raise ValidationError({"dimension_fields": (
                f"Must name a JAGGAER custom field for each of {', '.join(sorted(expected))}, and nothing else."
            )})


class ConnectionPair(models.Model):
    """Records flow from the NetSuite side to the JAGGAER side of a pair; mappings, cursors and sync
    records all belong to one pair."""

    netsuite = models.ForeignKey(NetSuiteConnection, on_delete=models.PROTECT, related_name="pairs")
    jaggaer = models.ForeignKey(JaggaerConnection, on_delete=models.PROTECT, related_name="pairs")

    class Meta:
        verbose_name = "connection pair"
        constraints = [
            models.UniqueConstraint(fields=["netsuite", "jaggaer"], name="connection_pair_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.netsuite.name} → {self.jaggaer.name}"

    def clean(self) -> None:
        if (self.netsuite_id and self.jaggaer_id and self.netsuite.is_sandbox_account
                and self.jaggaer.is_production and not self.jaggaer.allow_production_with_sandbox):
            raise ValidationError(
                f"NetSuite account {self.netsuite.account_id} is a sandbox but {self.jaggaer.base_url} is a "
                f"production JAGGAER tenant; set allow_production_with_sandbox on {self.jaggaer.name} "
                "if that is intended."
            )


class AccessToken(models.Model):
    """The current access token of one connection, shared by every process through the database.

    The row is the lock: whoever renews holds `select_for_update` on it, so many workers cause one
    token request per renewal."""

    netsuite = models.OneToOneField(NetSuiteConnection, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="access_token")
    jaggaer = models.OneToOneField(JaggaerConnection, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="access_token")
    token = EncryptedTextField(blank=True)
    obtained_at = models.DateTimeField(null=True)
    renew_at = models.DateTimeField(null=True, help_text="Renewed ahead of expiry from this moment on.")
    expires_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(netsuite__isnull=False, jaggaer__isnull=True)
                | models.Q(netsuite__isnull=True, jaggaer__isnull=False),
                name="access_token_one_connection",
            ),
        ]

    def __str__(self) -> str:
        return f"access token of {self.netsuite or self.jaggaer}"


class EncryptionCanary(models.Model):
    """A known value encrypted with the newest FIELD_ENCRYPTION_KEY.

    A wrong key does not make django-encrypted-model-fields fail: it hands back the ciphertext as if
    it were the secret. Decrypting this row at start-up catches that before ciphertext is sent as a
    password. The fingerprint (a short hash, not the key) names the key that can read the data."""

    ciphertext = models.TextField()
    key_fingerprint = models.CharField(max_length=16)
    written_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"encryption canary (key {self.key_fingerprint})"


class FailedLogin(models.Model):
    """One refused admin login: the username tried and the address it came from, never what was typed as the
    password. These rows are the login throttle's count (credentials/logins.py); the database holds them so that
    every web process sees the same count."""

    username = models.CharField(max_length=150, help_text="As typed, lower-cased; the account may not exist.")
    client_ip = models.CharField("client address", max_length=50, blank=True,
                                 help_text="The IPv4 address, or the IPv6 /64 network (one client may rotate "
                                           "through it).")
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "failed admin login"
        indexes = [
            models.Index(fields=["username", "at"], name="failed_login_by_username"),
            models.Index(fields=["client_ip", "at"], name="failed_login_by_address"),
        ]

    def __str__(self) -> str:
        return f"failed login as {self.username!r} from {self.client_ip or 'an unknown address'}"


def _is_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True
