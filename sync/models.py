"""What the connector remembers about every record it moves."""

from django.db import models


class Flow(models.TextChoices):
    """Flows in dependency order (operations contract)."""

    GL_ACCOUNTS = "gl_accounts", "GL accounts"
    CLASSIFICATIONS = "classifications", "Classifications"
    VENDORS = "vendors", "Vendors"
    PURCHASE_ORDERS = "purchase_orders", "Purchase orders"
    VENDOR_BILLS = "vendor_bills", "Vendor bills"


class SyncRecord(models.Model):
    """One NetSuite record on its way to JAGGAER, for one connection pair and flow.

    Lifecycle: pending -> delivered | skipped (payload unchanged since the last delivery)
    | waiting_for_mapping (coding without a JAGGAER value; released when the mapping or value appears)
    | waiting_for_dependency (its supplier or PO is not delivered yet) | retrying (a retryable error;
    due again at next_attempt_at) | failed (permanent, or retries exhausted: needs a person)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        WAITING_FOR_MAPPING = "waiting_for_mapping", "Waiting for mapping"
        WAITING_FOR_DEPENDENCY = "waiting_for_dependency", "Waiting for dependency"
        RETRYING = "retrying", "Retrying"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (unchanged)"

    pair = models.ForeignKey("credentials.ConnectionPair", on_delete=models.PROTECT, related_name="sync_records")
    flow = models.CharField(max_length=32, choices=Flow.choices)
    netsuite_id = models.CharField("NetSuite internal id", max_length=64)
    state = models.CharField(max_length=32, choices=State.choices, default=State.PENDING)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pair", "flow", "netsuite_id"], name="sync_record_unique_source"),
        ]
        indexes = [models.Index(fields=["state", "flow"], name="sync_record_state_flow")]

    def __str__(self) -> str:
        return f"{self.get_flow_display()} {self.netsuite_id}"


class MissingCoding(models.Model):
    """A NetSuite code on a waiting record that has no JAGGAER value yet: what the coverage page counts
    and what a newly saved mapping releases."""

    record = models.ForeignKey(SyncRecord, on_delete=models.CASCADE, related_name="missing_codings")
    kind = models.CharField(max_length=32)  # a mappings.CodingKind value
    netsuite_id = models.CharField("NetSuite internal id", max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "kind", "netsuite_id"], name="missing_coding_unique"),
        ]
        indexes = [models.Index(fields=["kind", "netsuite_id"], name="missing_coding_code")]
