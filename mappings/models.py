"""How NetSuite coding (GL account, department, class, location, subsidiary) becomes JAGGAER custom-field
values: the reference lists read from both systems, and the mapping rows finance staff maintain."""

from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from credentials.models import default_dimension_fields


class CodingKind(models.TextChoices):
    """The NetSuite codes a line or header carries; also the `kind` column of the mapping CSV and the keys of
    a JAGGAER connection's `dimension_fields`."""

    GL_ACCOUNT = "gl_account", "GL account"
    DEPARTMENT = "department", "Department"
    CLASS = "class", "Class"
    LOCATION = "location", "Location"
    SUBSIDIARY = "subsidiary", "Subsidiary"


# The JAGGAER custom field that carries each kind unless a JAGGAER connection names another: the JAGGAER
# connection owns these defaults (jaggaer.md section 3; operations.md `dimension_fields`).
DEFAULT_DIMENSION_FIELDS: dict[str, str] = default_dimension_fields()


class NetSuiteReferenceList(models.Model):
    """One NetSuite list (accounts, departments, ...) of one connection, as last read by a sync flow."""

    connection = models.ForeignKey(
        "credentials.NetSuiteConnection", on_delete=models.CASCADE, related_name="reference_lists"
    )
    kind = models.CharField(max_length=32, choices=CodingKind.choices)
    refreshed_at = models.DateTimeField("last refreshed")

    class Meta:
        verbose_name = "NetSuite reference list"
        constraints = [
            models.UniqueConstraint(fields=["connection", "kind"], name="netsuite_reference_list_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.connection} {self.get_kind_display()}"


class NetSuiteReference(models.Model):
    """A NetSuite GL account or classification value (subsidiary, department, class, location)."""

    reference_list = models.ForeignKey(NetSuiteReferenceList, on_delete=models.CASCADE, related_name="entries")
    netsuite_id = models.CharField("NetSuite internal id", max_length=64)
    number = models.CharField(
        max_length=64, blank=True, help_text="The account number (acctnumber); empty for classifications."
    )
    name = models.CharField(max_length=400)
    fullname = models.CharField(max_length=400, blank=True)
    account_type = models.CharField(max_length=64, blank=True, help_text="NetSuite accttype, GL accounts only.")
    inactive = models.BooleanField(default=False)
    parent_id = models.CharField("parent internal id", max_length=64, blank=True)

    class Meta:
        verbose_name = "NetSuite code"
        constraints = [
            models.UniqueConstraint(fields=["reference_list", "netsuite_id"], name="netsuite_reference_unique"),
        ]
        indexes = [models.Index(fields=["number"], name="netsuite_reference_number")]

    def __str__(self) -> str:
        return describe_netsuite_code(
            kind=self.reference_list.kind, netsuite_id=self.netsuite_id, number=self.number, name=self.name
        )


def describe_netsuite_code(*, kind: str, netsuite_id: str, number: str = "", name: str = "") -> str:
    """The way finance reads a code: "GL account 6100 Office Supplies (NetSuite id 123)"."""
    words = [CodingKind(kind).label, number, name, f"(NetSuite id {netsuite_id})"]
    return " ".join(word for word in words if word)


class JaggaerField(models.Model):
    """A JAGGAER custom field (GLAccount, CostCenter, ...) of one connection; integrations only fill its values."""

    connection = models.ForeignKey(
        "credentials.JaggaerConnection", on_delete=models.CASCADE, related_name="custom_fields"
    )
    name = models.CharField(max_length=100)
    label = models.CharField(max_length=200, blank=True)
    values_refreshed_at = models.DateTimeField(
        "values last refreshed", null=True, blank=True, help_text="Empty until its values were read once."
    )

    class Meta:
        verbose_name = "JAGGAER custom field"
        constraints = [models.UniqueConstraint(fields=["connection", "name"], name="jaggaer_field_unique")]

    def __str__(self) -> str:
        return f"{self.connection} {self.name}"


class JaggaerValue(models.Model):
    """One value of a JAGGAER custom field; documents name it by `internal_name`."""

    field = models.ForeignKey(JaggaerField, on_delete=models.CASCADE, related_name="values")
    internal_name = models.CharField("internalName", max_length=200)
    value = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=400, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "JAGGAER value"
        constraints = [models.UniqueConstraint(fields=["field", "internal_name"], name="jaggaer_value_unique")]

    def __str__(self) -> str:
        return f"{self.internal_name} {self.description}".strip()


class CodingRule(models.TextChoices):
    """What happens when a NetSuite code has no explicit mapping row (jaggaer.md section 8)."""

    EXPLICIT_ONLY = "explicit_only", "Explicit mappings only"
    SAME_NUMBER = "explicit_then_same_number", "Explicit mappings, then the same number"


class PairCodingRule(models.Model):
    """The per-pair fallback; a pair without a row uses explicit mappings only, so that nothing is coded
    without finance having confirmed it."""

    pair = models.OneToOneField("credentials.ConnectionPair", on_delete=models.CASCADE, related_name="coding_rule")
    rule = models.CharField(
        max_length=32,
        choices=CodingRule.choices,
        default=CodingRule.EXPLICIT_ONLY,
        help_text="Same number: a GL account goes to the JAGGAER value equal to its account number, a "
        "department, class, location or subsidiary to the value equal to its NetSuite internal id, when "
        "that value exists and is active in JAGGAER.",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "coding rule"

    def __str__(self) -> str:
        return f"{self.pair}: {self.get_rule_display()}"


class CodingMapping(models.Model):
    """NetSuite internal id -> JAGGAER custom-field value, for one pair and kind.

    Lifecycle: proposed (created by the gl_accounts/classifications flows as an identity row; not used
    until confirmed) -> confirmed (used by resolution). Effective dates: `valid_from` and `valid_to` are both
    inclusive days (a remap from April is "valid to 31 March" on the old row and "valid from 1 April" on the
    new one); empty means open-ended. Rows of the same key never overlap."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed (needs confirming)"
        CONFIRMED = "confirmed", "Confirmed"

    pair = models.ForeignKey("credentials.ConnectionPair", on_delete=models.PROTECT, related_name="mappings")
    kind = models.CharField(max_length=32, choices=CodingKind.choices)
    netsuite_id = models.CharField("NetSuite internal id", max_length=64)
    jaggaer_value = models.CharField(
        "JAGGAER value", max_length=200, help_text="The internalName of the value in the JAGGAER custom field."
    )
    valid_from = models.DateField(null=True, blank=True, help_text="First day it applies (empty: always).")
    valid_to = models.DateField(null=True, blank=True, help_text="Last day it applies, inclusive (empty: no end).")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONFIRMED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "mapping"
        ordering = ["pair", "kind", "netsuite_id", "valid_from"]
        constraints = [
            # Only confirmed rows: a proposal gives way to the confirmed row that save() puts in its place.
            models.UniqueConstraint(
                fields=["pair", "kind", "netsuite_id"],
                condition=models.Q(valid_from__isnull=True, status="confirmed"),
                name="coding_mapping_unique_open_start",
            ),
            models.UniqueConstraint(
                fields=["pair", "kind", "netsuite_id", "valid_from"],
                condition=models.Q(status="confirmed"),
                name="coding_mapping_unique_start",
            ),
            models.UniqueConstraint(
                fields=["pair", "kind", "netsuite_id"],
                condition=models.Q(status="proposed"),
                name="coding_mapping_one_proposal",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True)
                | models.Q(valid_to__isnull=True)
                | models.Q(valid_from__lte=models.F("valid_to")),
                name="coding_mapping_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        """In finance's words: "GL account 6900 Trade Shows (old) → 6000", the internal id only when NetSuite's
        list does not know the code (yet)."""
        code = NetSuiteReference.objects.filter(
            reference_list__connection_id=self.pair.netsuite_id, reference_list__kind=self.kind,
            netsuite_id=self.netsuite_id,
        ).values_list("number", "name").first()
        words = " ".join(part for part in code if part) if code else ""
        return f"{self.get_kind_display()} {words or self.netsuite_id} → {self.jaggaer_value}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.status == self.Status.CONFIRMED:
            # A confirmed row supersedes the flows' proposals for its code, which would otherwise stand in its way.
            superseded = CodingMapping.objects.filter(
                pair_id=self.pair_id, kind=self.kind, netsuite_id=self.netsuite_id, status=self.Status.PROPOSED
            ).exclude(pk=self.pk)
            for proposal in superseded:
                proposal._history_user = getattr(self, "_history_user", None)
                proposal.delete()
        super().save(*args, **kwargs)

    def applies_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)

    def overlaps(self, other: "CodingMapping") -> bool:
        starts_before_other_ends = self.valid_from is None or other.valid_to is None or self.valid_from <= other.valid_to
        ends_after_other_starts = self.valid_to is None or other.valid_from is None or other.valid_from <= self.valid_to
        return starts_before_other_ends and ends_after_other_starts


class UnmappedCode(NetSuiteReference):
    """The admin index's entry to the coverage page (NetSuite codes in use without a usable mapping)."""

    class Meta:
        proxy = True
        verbose_name = "coverage: unmapped code"
        verbose_name_plural = "coverage: unmapped codes"
