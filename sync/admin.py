"""The operator's view of sync: records with their timeline of attempts and state changes, runs, and
the inbox of pushed events. Log tables are read-only; a replay goes through sync.replay."""

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from sync.models import SyncAttempt, SyncEvent, SyncRecord, SyncRun, WebhookEvent
from sync.replay import replay


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def pretty_json(value: Any) -> str:
    return format_html("<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


class SyncAttemptInline(ReadOnlyMixin, admin.TabularInline):
    model = SyncAttempt
    extra = 0
    fields = ("started_at", "action", "http_status", "result_status", "state_after", "message", "sent")
    readonly_fields = fields
    ordering = ("-started_at", "-id")
    verbose_name_plural = "attempts (newest first)"

    @admin.display(description="what was sent")
    def sent(self, attempt: SyncAttempt) -> str:
        return pretty_json(attempt.request) if attempt.request else "—"


class SyncEventInline(ReadOnlyMixin, admin.TabularInline):
    model = SyncEvent
    extra = 0
    fields = ("at", "from_state", "to_state", "reason", "actor")
    readonly_fields = fields
    ordering = ("-at", "-id")
    verbose_name_plural = "state changes (newest first)"


@admin.register(SyncRecord)
class SyncRecordAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("document_number", "flow", "state", "label", "short_error", "attempts", "next_attempt_at",
                    "updated_at")
    list_filter = ("flow", "state", "last_error_kind")
    search_fields = ("document_number", "=netsuite_id", "label", "=netsuite_entity")
    list_select_related = ("pair",)
    show_full_result_count = False
    ordering = ("-updated_at",)
    readonly_fields = ("pair", "flow", "netsuite_id", "document_number", "netsuite_entity", "label", "state",
                       "last_error_kind", "last_error_code", "last_error_message", "attempts", "next_attempt_at",
                       "netsuite_last_modified", "deleted_in_netsuite", "jaggaer_id", "jaggaer_revision",
                       "delivered_at", "payload_sha256", "delivered_sha256", "outcome_unknown", "payload_view",
                       "source_view")
    exclude = ("source", "payload", "claim_token", "claimed_until", "resend", "blocked_by", "source_sha256")
    inlines = [SyncAttemptInline, SyncEventInline]
    actions = ["replay_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SyncRecord]:
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            queryset = queryset.defer("source", "payload")
        return queryset

    @admin.display(description="why")
    def short_error(self, record: SyncRecord) -> str:
        return record.last_error_message[:120]

    @admin.display(description="last payload")
    def payload_view(self, record: SyncRecord) -> str:
        return pretty_json(record.payload) if record.payload else "—"

    @admin.display(description="as read from NetSuite")
    def source_view(self, record: SyncRecord) -> str:
        return pretty_json(record.source)

    @admin.action(description="Replay selected records now (current mappings, never duplicates)",
                  permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet[SyncRecord]) -> None:
        reports = replay(records=queryset, actor=request.user.get_username())
        summary = "; ".join(
            f"{flow}: " + ", ".join(f"{n} {state}" for state, n in sorted(report.counts.items()))
            for flow, report in reports.items()
        )
        self.message_user(request, f"Replayed. {summary}", messages.SUCCESS)

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("sync.change_syncrecord")


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("flow", "trigger", "started_at", "finished_at", "succeeded", "records_read", "records_changed",
                    "delivered", "netsuite_requests", "jaggaer_requests", "message")
    list_filter = ("flow", "trigger", "succeeded")
    show_full_result_count = False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("received_at", "connection_slug", "record_type", "record_id", "event_type", "status",
                    "http_status", "reason")
    list_filter = ("status", "record_type", "event_type")
    search_fields = ("=event_id", "=record_id")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEvent]:
        return super().get_queryset(request).defer("body")
