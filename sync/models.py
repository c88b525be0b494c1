"""What the connector remembers about every record it moves."""

from django.db import models


class Flow(models.TextChoices):
    """Flows in dependency order (operations contract)."""

    GL_ACCOUNTS = "gl_accounts", "GL accounts"
    CLASSIFICATIONS = "classifications", "Classifications"
    VENDORS = "vendors", "Vendors"
    PURCHASE_ORDERS = "purchase_orders", "Purchase orders"
    VENDOR_BILLS = "vendor_bills", "Vendor bills"


class ErrorKind(models.TextChoices):
    MAPPING = "mapping", "Missing mapping"
    DEPENDENCY = "dependency", "Waiting for a dependency"
    SOURCE_DATA = "source_data", "Bad data from NetSuite"
    REJECTED = "rejected", "Rejected by JAGGAER"
    REMOTE = "remote", "JAGGAER or network problem"


def blocker_key(flow: str, netsuite_id: str) -> str:
    """SyncRecord.blocked_by of a record that waits for this one (one text column, so that it can be filtered
    and grouped on)."""
    return f"{flow}:{netsuite_id}"


def blocker_of(blocked_by: str) -> tuple[str, str]:
    """(flow, NetSuite id) of a blocked_by value; ("", "") for none."""
    flow, _, netsuite_id = blocked_by.partition(":")
    return (flow, netsuite_id) if netsuite_id else ("", "")


class SyncRecord(models.Model):
    """One NetSuite record on its way to JAGGAER, for one connection pair and flow.

    Lifecycle: pending -> delivered | skipped (payload unchanged since the last delivery)
    | waiting_for_mapping (coding without a JAGGAER value; released when the mapping or value appears)
    | waiting_for_dependency (its supplier or PO is not delivered yet) | retrying (a retryable error;
    due again at next_attempt_at) | failed (permanent, or retries exhausted: needs a person).
    A failed, retrying or waiting record that a person marks resolved (with a note, kept in its events) is
    resolved: nobody sends it or counts it as a problem any more.
    A changed NetSuite record, a replay or a released mapping puts it back to pending."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        WAITING_FOR_MAPPING = "waiting_for_mapping", "Waiting for mapping"
        WAITING_FOR_DEPENDENCY = "waiting_for_dependency", "Waiting for dependency"
        RETRYING = "retrying", "Retrying"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (unchanged)"
        RESOLVED = "resolved", "Resolved by a person"

    pair = models.ForeignKey("credentials.ConnectionPair", on_delete=models.PROTECT, related_name="sync_records")
    flow = models.CharField(max_length=32, choices=Flow.choices)
    netsuite_id = models.CharField("NetSuite internal id", max_length=64)
    state = models.CharField(max_length=32, choices=State.choices, default=State.PENDING)

    # What people search by.
    document_number = models.CharField(
        max_length=200, blank=True, db_index=True,
        help_text="PO number / bill number (tranId), account number or vendor name: the JAGGAER natural key.",
    )
    netsuite_entity = models.CharField("NetSuite vendor id", max_length=64, blank=True, db_index=True)
    label = models.CharField(max_length=400, blank=True)

    # What we read from NetSuite, normalised; the payload is rebuilt from it through the current mappings.
    source = models.JSONField(default=dict)
    source_sha256 = models.CharField(max_length=64, blank=True)
    netsuite_last_modified = models.CharField(
        max_length=19, blank=True, help_text="As NetSuite rendered it, in the account's time zone."
    )
    deleted_in_netsuite = models.BooleanField(default=False)

    # Delivery.
    attempts = models.PositiveIntegerField(default=0, help_text="Tries since the record last changed.")
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    payload = models.JSONField(null=True, blank=True, help_text="The canonical payload last built.")
    payload_sha256 = models.CharField(max_length=64, blank=True)
    delivered_sha256 = models.CharField(max_length=64, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    outcome_unknown = models.BooleanField(
        default=False, help_text="The last send timed out or failed mid-way: look it up before resending."
    )
    resend = models.BooleanField(default=False, help_text="Replay asked: send even if unchanged since delivery.")
    in_jaggaer = models.BooleanField(
        "in JAGGAER", default=False,
        help_text="JAGGAER holds a version of it (delivered, or found there after a lost answer): changes go as updates.",
    )
    blocked_by = models.CharField(
        max_length=100, blank=True, db_index=True, help_text="flow:NetSuite id of the record this one waits for."
    )
    jaggaer_id = models.CharField(max_length=100, blank=True)
    jaggaer_revision = models.IntegerField(null=True, blank=True, help_text="Last PO revision JAGGAER accepted.")

    last_error_kind = models.CharField(max_length=32, choices=ErrorKind.choices, blank=True)
    last_error_code = models.CharField(max_length=100, blank=True)
    last_error_message = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pair", "flow", "netsuite_id"], name="sync_record_unique_source"),
        ]
        # Sending records again is finance's daily work; changing them by hand is nobody's.
        permissions = [("replay_syncrecord", "Can replay sync records")]
        indexes = [
            models.Index(fields=["state", "flow"], name="sync_record_state_flow"),
            models.Index(fields=["pair", "flow", "state", "next_attempt_at"], name="sync_record_due"),
            # The record list's default order and its error-kind filter, fast at a million rows.
            models.Index(fields=["updated_at", "id"], name="sync_record_recent"),
            models.Index(fields=["last_error_kind"], name="sync_record_error_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_flow_display()} {self.document_number or self.netsuite_id}"


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


class SyncAttempt(models.Model):
    """One try at delivering a record: what was sent (no secrets: payloads never hold any), what came
    back, and the mapping rows used."""

    record = models.ForeignKey(SyncRecord, on_delete=models.CASCADE, related_name="sync_attempts")
    started_at = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    action = models.CharField(max_length=32, help_text="new, update, cancel, upsert, lookup or build.")
    request = models.JSONField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    result_status = models.CharField(max_length=32, blank=True, help_text="JAGGAER's per-item status.")
    result = models.JSONField(null=True, blank=True)
    state_after = models.CharField(max_length=32, choices=SyncRecord.State.choices)
    error_code = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    mappings_used = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]


class SyncEvent(models.Model):
    """Every state change of a record, written in the same transaction as the change."""

    record = models.ForeignKey(SyncRecord, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    from_state = models.CharField(max_length=32, blank=True)
    to_state = models.CharField(max_length=32)
    reason = models.TextField()
    attempt = models.ForeignKey(SyncAttempt, null=True, blank=True, on_delete=models.SET_NULL)
    actor = models.CharField(max_length=150, blank=True, help_text="Who asked (a replay), else the sync itself.")

    class Meta:
        ordering = ["-at", "-id"]


class SyncCursor(models.Model):
    """How far a flow has read NetSuite, as (lastmodifieddate, id) in the account's time zone. It moves only
    in the transaction that records what it covers."""

    pair = models.ForeignKey("credentials.ConnectionPair", on_delete=models.CASCADE, related_name="cursors")
    flow = models.CharField(max_length=32, choices=Flow.choices)
    stream = models.CharField(max_length=32, default="records",
                              help_text="records, lines (line-only edits) or deletions.")
    last_modified = models.CharField(max_length=19, blank=True)
    last_id = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pair", "flow", "stream"], name="sync_cursor_unique"),
        ]


class SyncRun(models.Model):
    """One pass of one flow: what it read, what it delivered, how many NetSuite requests it cost."""

    pair = models.ForeignKey("credentials.ConnectionPair", on_delete=models.CASCADE, related_name="runs")
    flow = models.CharField(max_length=32, choices=Flow.choices)
    trigger = models.CharField(max_length=32, default="sync_now")
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    succeeded = models.BooleanField(null=True)
    records_read = models.PositiveIntegerField(default=0)
    records_changed = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    netsuite_requests = models.PositiveIntegerField(default=0)
    jaggaer_requests = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]


class WebhookEvent(models.Model):
    """The inbox of pushed NetSuite events (spec section 7): every request to the webhook lands here before
    it is answered, accepted or not, so that nothing pushed is lost and every refusal can be explained.
    An accepted event is only a hint: processing re-reads the record from NetSuite. Only accepted events keep
    their whole body; others keep its start, size and SHA-256. Refusals beyond the rate limit of their source
    (client address or connection slug) are answered 429 and counted on the source's latest refused row
    instead of each being stored."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", "Accepted, not processed yet"
        PROCESSED = "processed", "Processed"
        DUPLICATE = "duplicate", "Repeated eventId (ignored)"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Processing failed"

    received_at = models.DateTimeField(db_index=True)
    connection = models.ForeignKey(
        "credentials.NetSuiteConnection", null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    connection_slug = models.CharField(max_length=100, help_text="As it came in the URL.")
    event_id = models.CharField(max_length=100, blank=True, db_index=True)
    record_type = models.CharField(max_length=40, blank=True)
    record_id = models.CharField(max_length=64, blank=True)
    event_type = models.CharField(max_length=20, blank=True)
    occurred_at = models.CharField(max_length=40, blank=True)
    client_ip = models.CharField(
        "client address", max_length=50, blank=True,
        help_text="Who sent it: the IPv4 address, or the IPv6 /64 network (one client may rotate through it).",
    )
    body = models.TextField(
        blank=True, help_text="The raw body of an accepted event; only its first KiB for other requests.",
    )
    body_size = models.PositiveIntegerField(
        null=True, blank=True, help_text="Bytes sent (as announced by Content-Length when the body was too large).",
    )
    body_sha256 = models.CharField("body SHA-256", max_length=64, blank=True,
                                   help_text="Of the whole body (of its first 64 KiB when larger).")
    status = models.CharField(max_length=20, choices=Status.choices)
    http_status = models.PositiveSmallIntegerField()
    reason = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    refusals_counted = models.PositiveIntegerField(
        "later refusals (429)", default=0,
        help_text="Refused requests from the same source answered 429 after this one: counted here, not stored.",
    )
    last_counted_at = models.DateTimeField(null=True, blank=True, help_text="When the last of them came.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Failed processing attempts.")
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When a failed event is processed again (empty: not again).",
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # A repeated eventId is recorded as a duplicate, never accepted twice.
            models.UniqueConstraint(
                fields=["connection", "event_id"], condition=models.Q(status__in=["accepted", "processed", "failed"]),
                name="webhook_event_accepted_once",
            ),
        ]
        indexes = [
            # The refusal rate limit counts a source's recent refused rows on every refusal.
            models.Index(fields=["client_ip", "received_at"], condition=models.Q(status="rejected"),
                         name="webhook_event_refused_by_ip"),
            models.Index(fields=["connection_slug", "received_at"], condition=models.Q(status="rejected"),
                         name="webhook_event_refused_by_slug"),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id} ({self.get_status_display()})"


class FlowLock(models.Model):
    """At most one pull of a flow per pair at a time, across processes. The lease expires, so a worker
    that died holding it blocks the flow for at most one lease."""

    pair = models.ForeignKey("credentials.ConnectionPair", on_delete=models.CASCADE, related_name="flow_locks")
    flow = models.CharField(max_length=32, choices=Flow.choices)
    holder = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pair", "flow"], name="flow_lock_unique")]


class FlowSchedule(models.Model):
    """When a flow of a pair runs by itself (django-q2 runs it; this row is what people edit)."""

    class Kind(models.TextChoices):
        INTERVAL = "interval", "Every N minutes"
        DAILY = "daily", "Daily at a time"
        WEEKLY = "weekly", "Weekly on a day at a time"
        CRON = "cron", "Cron expression"

    class CatchUp(models.TextChoices):
        ONCE = "once", "Run once for all missed runs"
        SKIP = "skip", "Skip missed runs; wait for the next one"

    pair = models.ForeignKey("credentials.ConnectionPair", on_delete=models.CASCADE, related_name="schedules")
    flow = models.CharField(max_length=32, choices=Flow.choices)
    enabled = models.BooleanField(default=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INTERVAL)
    every_minutes = models.PositiveIntegerField(null=True, blank=True, help_text="For 'every N minutes'.")
    at_time = models.TimeField(null=True, blank=True, help_text="For daily and weekly, in the time zone below.")
    weekday = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=[(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"),
                                        (4, "Friday"), (5, "Saturday"), (6, "Sunday")])
    cron = models.CharField(max_length=100, blank=True, help_text="Five fields, e.g. '*/15 6-20 * * 1-5'.")
    timezone = models.CharField(max_length=64, default="UTC")
    catch_up = models.CharField(max_length=8, choices=CatchUp.choices, default=CatchUp.ONCE)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pair", "flow"], name="flow_schedule_unique")]

    def __str__(self) -> str:
        return f"{self.pair} {self.get_flow_display()} ({self.get_kind_display()})"


class AlertIncident(models.Model):
    """One problem worth a person's attention; one mail when it opens, not one per record."""

    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=200, help_text="What it is about, e.g. pair:flow or a connection name.")
    message = models.TextField()
    opened_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], condition=models.Q(resolved_at__isnull=True),
                                    name="alert_incident_one_open"),
        ]


class GroupReplay(models.Model):
    """"Replay all" of one group of the error console, run by the worker (not in the web request) so that a
    large group neither times out nor holds a web process: its progress and its outcome, as the page shows them.

    Lifecycle: queued -> running -> finished | crashed (the reason in `message`). A worker that died mid-way
    leaves it running; django-q2 hands the task out again and it goes on from `done`."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        CRASHED = "crashed", "Stopped by an error"

    UNFINISHED = (Status.QUEUED, Status.RUNNING)

    group_key = models.CharField(max_length=300, help_text="The console group replayed (one replay at a time each).")
    cause = models.TextField(help_text="The group's cause as the console showed it.")
    record_ids = models.JSONField(default=list, help_text="The group's records when replay was asked, in send order.")
    requested_by = models.CharField(max_length=150)
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0, help_text="Records replayed so far.")
    outcome = models.JSONField(
        default=dict, blank=True, help_text="Replayed records by the state they ended in (delivered, failed ...).")
    message = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # Two "replay all" clicks on one group queue one replay.
            models.UniqueConstraint(fields=["group_key"], condition=models.Q(status__in=["queued", "running"]),
                                    name="group_replay_one_at_a_time"),
        ]

    @property
    def total(self) -> int:
        return len(self.record_ids)

    def __str__(self) -> str:
        return f"Replay of {self.total} records ({self.get_status_display()})"
