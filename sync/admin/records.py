"""The operator's view of sync: records with their timeline of attempts and state changes, why each one waits
and what would release it, replays that are previewed before anything is sent, runs, and the inbox of pushed
events. Log tables are read-only; a replay goes through sync.operations.replay."""

import json
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from credentials.models import ConnectionPair
from sync.engine.decide import Preview, preview
from sync.models import AlertIncident, SyncAttempt, SyncEvent, SyncRecord, SyncRun, WebhookEvent
from sync.operations.dashboard import blocking_record, missing_codes_of, netsuite_url
from sync.operations.record_view import (
    ACTION_WORDS,
    STATE_WORDS,
    TRIGGER_WORDS,
    UNCHANGED_WARNING,
    moment,
    netsuite_moment,
    number_search,
    payload_summary,
    record_view,
    summary_of,
    unchanged_since_failure,
    words_for,
    zone_named,
)
from sync.operations.replay import not_delivered, replay

State = SyncRecord.State
# A preview page shows this many payloads; the confirm button still replays every chosen record.
REPLAY_PREVIEW_LIMIT = 50

# The admin index links to the dashboard and reconciliation pages (the template adds one box to Django's own).
admin.site.index_template = "admin/sync/index.html"
# Django's "View site" link goes to "/", which nothing serves: the console's dashboard is this site.
admin.site.site_url = reverse_lazy("sync:dashboard")
# The browser's time zone, reported by templates/admin/sync/syncrecord/user_time_zone.html.
TIME_ZONE_COOKIE = "tz"


def in_users_time_zone(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Renders the page with times in the reader's time zone. Rendering happens here, not after the view
    returns, because the zone is only active inside this block."""
    if isinstance(response, TemplateResponse) and not response.is_rendered:
        with timezone.override(zone_named(request.COOKIES.get(TIME_ZONE_COOKIE))):
            response.render()
    return response


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def pretty_json(value: Any) -> str:
    return format_html("<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


def folded_json(summary: str, value: Any) -> str:
    """A payload in the timeline, folded so that the attempts read as a list; one click shows it."""
    return format_html("<details><summary>{}</summary>{}</details>", summary, pretty_json(value))


class AuditInline(ReadOnlyMixin, admin.TabularInline):
    """A log table of the record page, with headings and the users' words."""

    extra = 0
    template = "admin/sync/syncrecord/audit_inline.html"


class SyncAttemptInline(AuditInline):
    model = SyncAttempt
    fields = ("when", "what_was_done", "outcome", "message", "sent", "answer")
    readonly_fields = fields
    ordering = ("-started_at", "-id")
    verbose_name_plural = "attempts (newest first): what was sent and what came back"

    @admin.display(description="when")
    def when(self, attempt: SyncAttempt) -> str:
        return moment(attempt.started_at)

    @admin.display(description="what was done")
    def what_was_done(self, attempt: SyncAttempt) -> str:
        return words_for(ACTION_WORDS, attempt.action)

    @admin.display(description="outcome")
    def outcome(self, attempt: SyncAttempt) -> str:
        return words_for(STATE_WORDS, attempt.state_after)

    @admin.display(description="what was sent")
    def sent(self, attempt: SyncAttempt) -> str:
        return folded_json("show what was sent", attempt.request) if attempt.request else "—"

    @admin.display(description="what came back")
    def answer(self, attempt: SyncAttempt) -> str:
        if attempt.http_status is None:
            return "nothing sent"
        head = format_html("HTTP {} {}", attempt.http_status, attempt.result_status)
        return folded_json(head, attempt.result) if attempt.result else head


class SyncEventInline(AuditInline):
    model = SyncEvent
    fields = ("when", "from_what", "to_what", "reason", "who")
    readonly_fields = fields
    ordering = ("-at", "-id")
    verbose_name_plural = "state changes (newest first)"

    @admin.display(description="when")
    def when(self, event: SyncEvent) -> str:
        return moment(event.at)

    @admin.display(description="from")
    def from_what(self, event: SyncEvent) -> str:
        return words_for(STATE_WORDS, event.from_state) or "—"

    @admin.display(description="to")
    def to_what(self, event: SyncEvent) -> str:
        return words_for(STATE_WORDS, event.to_state)

    @admin.display(description="who asked")
    def who(self, event: SyncEvent) -> str:
        return event.actor or "The connector"


class LastChangedFilter(admin.SimpleListFilter):
    """How long records have been in their current state (from updated_at)."""

    title = "last changed"
    parameter_name = "age"
    RANGES: dict[str, tuple[str, timedelta | None, timedelta | None]] = {
        "hour": ("within the last hour", None, timedelta(hours=1)),
        "day": ("1 to 24 hours ago", timedelta(hours=1), timedelta(days=1)),
        "week": ("1 to 7 days ago", timedelta(days=1), timedelta(days=7)),
        "older": ("more than 7 days ago", timedelta(days=7), None),
    }

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _, _) in self.RANGES.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[SyncRecord]) -> QuerySet[SyncRecord]:
        if self.value() not in self.RANGES:
            return queryset
        _, at_least, less_than = self.RANGES[self.value()]
        now = timezone.now()
        if at_least is not None:
            queryset = queryset.filter(updated_at__lte=now - at_least)
        if less_than is not None:
            queryset = queryset.filter(updated_at__gt=now - less_than)
        return queryset


def words_filter(field_name: str, words: dict[str, str]) -> type[admin.SimpleListFilter]:
    """A filter on a column of internal values, offered in the users' words. Its parameter is Django's own
    (`state__exact`), which links from elsewhere (the dashboard) use."""

    class WordsFilter(admin.SimpleListFilter):
        title = field_name
        parameter_name = f"{field_name}__exact"

        def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
            return list(words.items())

        def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
            return queryset.filter(**{field_name: self.value()}) if self.value() else queryset

    return WordsFilter


class MissingCodeFilter(admin.SimpleListFilter):
    """Records waiting for one NetSuite code ("kind:NetSuite id"): where the dashboard's groups lead."""

    title = "waiting for the mapping of"
    parameter_name = "missing"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        # Offered only once chosen from the dashboard: listing every code here would scan the table.
        value = request.GET.get(self.parameter_name, "")
        return [(value, value.replace(":", " "))] if ":" in value else []

    def queryset(self, request: HttpRequest, queryset: QuerySet[SyncRecord]) -> QuerySet[SyncRecord]:
        kind, _, netsuite_id = (self.value() or "").partition(":")
        if not netsuite_id:
            return queryset
        return queryset.filter(state=State.WAITING_FOR_MAPPING, missing_codings__kind=kind,
                               missing_codings__netsuite_id=netsuite_id)


@admin.register(SyncRecord)
class SyncRecordAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("document_number", "flow", "state_words", "document_date", "amount", "vendor", "short_error",
                    "attempts", "next_try", "last_changed")
    list_filter = ("flow", words_filter("state", STATE_WORDS), "last_error_kind", LastChangedFilter, MissingCodeFilter)
    # PO or bill number (tranId), account number or vendor name; vendor and record ids exactly; a number also
    # finds the documents of that amount or with a line on that GL account (get_search_results).
    search_fields = ("document_number", "label", "=netsuite_id", "=netsuite_entity")
    list_select_related = ("pair",)
    show_full_result_count = False
    # Facet counts would count every filter choice over the whole table: the dashboard shows those counts.
    show_facets = admin.ShowFacets.NEVER
    ordering = ("-updated_at",)
    change_list_template = "admin/sync/syncrecord/change_list.html"
    fieldsets = (
        (None, {"fields": ("state_words", "why_it_waits", "netsuite_link", "pair", "flow", "netsuite_id",
                           "document_number", "vendor", "netsuite_entity")}),
        ("What it is", {"fields": ("document_date", "amount", "lines")}),
        ("Last error", {"fields": ("last_error_kind", "last_error_code", "last_error_message", "attempts",
                                   "next_try", "last_send")}),
        ("In JAGGAER", {"fields": ("jaggaer_key", "accepted_revision", "delivered", "payload_view")}),
        ("From NetSuite", {"classes": ("collapse",), "fields": (
            "changed_in_netsuite", "deleted_in_netsuite_words", "source_view")}),
    )
    readonly_fields = ("pair", "flow", "netsuite_id", "document_number", "netsuite_entity", "vendor", "state_words",
                       "document_date", "amount", "lines", "last_error_kind", "last_error_code",
                       "last_error_message", "attempts", "next_try", "changed_in_netsuite", "deleted_in_netsuite_words",
                       "jaggaer_key", "accepted_revision", "delivered", "last_send", "payload_view",
                       "source_view", "why_it_waits", "netsuite_link")
    inlines = [SyncAttemptInline, SyncEventInline]
    actions = ["replay_selected"]

    def get_fieldsets(self, request: HttpRequest, obj: SyncRecord | None = None) -> list[tuple[str | None, dict]]:
        """An unknown outcome of the last send is said only when there is one: a "no" there reads as an error."""
        if obj is not None and obj.outcome_unknown:
            return list(self.fieldsets)
        return [(title, {**options, "fields": tuple(field for field in options["fields"] if field != "last_send")})
                for title, options in self.fieldsets]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SyncRecord]:
        queryset = super().get_queryset(request)
        if request.resolver_match and not request.resolver_match.url_name.endswith("change"):
            # The list reads a document's date, amount and currency from its source, not the whole of it.
            queryset = queryset.defer("payload")
        return queryset

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return in_users_time_zone(request, super().changelist_view(request, extra_context))

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        return in_users_time_zone(request, super().change_view(request, object_id, form_url, extra_context))

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[SyncRecord],
                           search_term: str) -> tuple[QuerySet[SyncRecord], bool]:
        """Numbers and names match anywhere in them; a number also matches a record's or vendor's NetSuite id
        exactly. Each condition is one that an index answers on a million rows (see the model's indexes)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(document_number__icontains=term) | Q(label__icontains=term)
        if term.isdigit():
            match |= Q(netsuite_id=term) | Q(netsuite_entity=term)
        return queryset.filter(match | (number_search(term) or Q(pk__in=[]))), False

    def get_urls(self) -> list[URLPattern]:
        return [
            path("replay-failed/", self.admin_site.admin_view(self.replay_failed_view), name="sync_syncrecord_replay_failed"),
            *super().get_urls(),
        ]

    @admin.display(description="why")
    def short_error(self, record: SyncRecord) -> str:
        return record.last_error_message[:120]

    @admin.display(description="state", ordering="state")
    def state_words(self, record: SyncRecord) -> str:
        return words_for(STATE_WORDS, record.state)

    @admin.display(description="date")
    def document_date(self, record: SyncRecord) -> str:
        day = summary_of(record).document_date
        return f"{day.day} {day:%b %Y}" if day else ""

    @admin.display(description="amount")
    def amount(self, record: SyncRecord) -> str:
        return summary_of(record).amount_text

    @admin.display(description="vendor or name")
    def vendor(self, record: SyncRecord) -> str:
        summary = summary_of(record)
        return summary.vendor or " ".join(part for part in (summary.number, summary.name) if part)

    @admin.display(description="lines")
    def lines(self, record: SyncRecord) -> str:
        return render_to_string("admin/sync/syncrecord/lines.html",
                                {"summary": record_view(record), "with_problems": True})

    @admin.display(description="next try", ordering="next_attempt_at")
    def next_try(self, record: SyncRecord) -> str:
        return moment(record.next_attempt_at)

    @admin.display(description="last changed", ordering="updated_at")
    def last_changed(self, record: SyncRecord) -> str:
        return moment(record.updated_at)

    @admin.display(description="delivered")
    def delivered(self, record: SyncRecord) -> str:
        return moment(record.delivered_at) or "—"

    @admin.display(description="last send")
    def last_send(self, record: SyncRecord) -> str:
        return "Unknown whether JAGGAER applied the last send: it is looked up in JAGGAER before it is sent again."

    @admin.display(description="JAGGAER id")
    def jaggaer_key(self, record: SyncRecord) -> str:
        return record.jaggaer_id or "—"

    @admin.display(description="JAGGAER revision")
    def accepted_revision(self, record: SyncRecord) -> str:
        return "—" if record.jaggaer_revision is None else str(record.jaggaer_revision)

    @admin.display(description="last changed in NetSuite")
    def changed_in_netsuite(self, record: SyncRecord) -> str:
        return netsuite_moment(record)

    @admin.display(description="deleted in NetSuite")
    def deleted_in_netsuite_words(self, record: SyncRecord) -> str:
        return "Yes" if record.deleted_in_netsuite else "No"

    @admin.display(description="last payload")
    def payload_view(self, record: SyncRecord) -> str:
        return folded_json("show the payload", record.payload) if record.payload else "—"

    @admin.display(description="as read from NetSuite")
    def source_view(self, record: SyncRecord) -> str:
        return pretty_json(record.source)

    @admin.display(description="in NetSuite")
    def netsuite_link(self, record: SyncRecord) -> str:
        url = netsuite_url(record)
        return format_html('<a class="netsuite-link" href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    @admin.display(description="why it waits, and what releases it")
    def why_it_waits(self, record: SyncRecord) -> SafeString | str:
        if record.state == State.WAITING_FOR_MAPPING:
            codes = missing_codes_of(record)
            if not codes:
                return record.last_error_message
            items = format_html_join("", '<li>{} <a class="release-link" href="{}">{}</a></li>',
                                     ((code.description, code.link_url, code.link_text) for code in codes))
            return format_html("No JAGGAER value for these NetSuite codes; saving their mapping sends it at once:"
                               '<ul class="missing-codes">{}</ul>', items)
        if record.state == State.WAITING_FOR_DEPENDENCY:
            blocker = blocking_record(record)
            if blocker is None:
                return format_html("{} It goes out by itself once that record is read and delivered.",
                                   record.last_error_message)
            return format_html('{} It goes out by itself once <a class="release-link" href="{}">{}</a> ({}) is delivered.',
                               record.last_error_message, reverse("admin:sync_syncrecord_change", args=[blocker.pk]),
                               blocker, blocker.get_state_display())
        if record.state == State.RETRYING:
            return format_html("{} Tried again by itself at {}.", record.last_error_message,
                               moment(record.next_attempt_at) or "the next sync")
        if record.state == State.FAILED:
            return format_html("{} It needs a person: fix the cause, then replay it.", record.last_error_message)
        if record.state == State.PENDING:
            return "Due: it goes out with the next delivery of its flow."
        return "It is not waiting."

    # Replay ------------------------------------------------------------------------------------------

    @admin.action(description="Replay selected records (preview first; never duplicates)", permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet[SyncRecord]) -> HttpResponse | None:
        if request.POST.get("confirm") == "yes":
            self._replay(request, queryset)
            return None
        hidden = [("action", "replay_selected"), *[("_selected_action", str(pk)) for pk in
                                                    queryset.values_list("pk", flat=True)]]
        return self._preview_page(request, queryset, title="Replay the selected records?", hidden=hidden,
                                  form_action=reverse("admin:sync_syncrecord_changelist"))

    def replay_failed_view(self, request: HttpRequest) -> HttpResponse:
        """Every failed record that the current filters and search select, previewed, then replayed."""
        if not self.has_replay_permission(request):
            raise PermissionDenied
        changelist_url = reverse("admin:sync_syncrecord_changelist")
        query = request.GET.urlencode()
        failed = self.get_changelist_instance(request).get_queryset(request).filter(state=State.FAILED)
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            self._replay(request, failed)
            return HttpResponseRedirect(f"{changelist_url}?{query}" if query else changelist_url)
        return self._preview_page(request, failed, title="Replay every failed record in this filter?", hidden=[],
                                  form_action=f"{request.path}?{query}" if query else request.path,
                                  cancel_url=f"{changelist_url}?{query}" if query else changelist_url)

    def _replay(self, request: HttpRequest, queryset: QuerySet[SyncRecord]) -> None:
        chosen = list(queryset.values_list("pk", flat=True))
        reports = replay(records=SyncRecord.objects.filter(pk__in=chosen), actor=request.user.get_username())
        if not reports:
            self.message_user(request, "Nothing to replay.", messages.WARNING)
            return
        summary = "; ".join(
            f"{flow}: " + ", ".join(f"{n} {state}" for state, n in sorted(report.counts.items()))
            for flow, report in reports.items()
        )
        # In the colour of what happened: a record that failed again is no success, and says why.
        left = not_delivered(chosen)
        failed = any(record.state == SyncRecord.State.FAILED for record in left)
        level = messages.ERROR if failed else messages.WARNING if left else messages.SUCCESS
        self.message_user(request, f"Replayed. {summary}", level)
        for record in left:
            self.message_user(request, f"{record}: {record.get_state_display()}: {record.last_error_message}",
                              messages.ERROR if record.state == SyncRecord.State.FAILED else messages.WARNING)

    def _preview_page(self, request: HttpRequest, queryset: QuerySet[SyncRecord], *, title: str,
                      hidden: list[tuple[str, str]], form_action: str, cancel_url: str = "") -> HttpResponse:
        total = queryset.count()
        chosen = list(SyncRecord.objects.filter(pk__in=queryset.values("pk")).select_related(
            "pair__jaggaer").order_by("pk")[:REPLAY_PREVIEW_LIMIT])
        return in_users_time_zone(request, TemplateResponse(request, "admin/sync/syncrecord/replay_preview.html", {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "total": total,
            "previews": [{"record": item.record, "reason": item.reason,
                          "summary": payload_summary(item.record, item.payload),
                          "warning": UNCHANGED_WARNING if unchanged_since_failure(item.record, item.payload) else "",
                          "payload": json.dumps(item.payload, indent=2, ensure_ascii=False) if item.payload else ""}
                         for item in replay_previews(chosen)],
            "hidden": hidden,
            "form_action": form_action,
            "cancel_url": cancel_url or reverse("admin:sync_syncrecord_changelist"),
        }))

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("sync.replay_syncrecord")


def replay_previews(records: list[SyncRecord]) -> list[Preview]:
    """What replaying these records would send now, through the current mappings; sends nothing."""
    groups: dict[tuple[int, str], list[SyncRecord]] = defaultdict(list)
    for record in records:
        groups[(record.pair_id, record.flow)].append(record)
    pairs = ConnectionPair.objects.select_related("netsuite", "jaggaer").in_bulk({pair_id for pair_id, _ in groups})
    found: list[Preview] = []
    for (pair_id, flow), members in groups.items():
        # A replay resends even unchanged content (the engine's `resend`); the preview shows it that way.
        for record in members:
            record.resend = True
        found.extend(preview(pair=pairs[pair_id], flow=flow, records=members))
    return found


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("flow", "started_by", "started", "finished", "succeeded", "records_read", "records_changed",
                    "delivered", "netsuite_requests", "jaggaer_requests", "message")
    list_filter = ("flow", words_filter("trigger", TRIGGER_WORDS), "succeeded")
    show_full_result_count = False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return in_users_time_zone(request, super().changelist_view(request, extra_context))

    @admin.display(description="started by", ordering="trigger")
    def started_by(self, run: SyncRun) -> str:
        return words_for(TRIGGER_WORDS, run.trigger)

    @admin.display(description="started", ordering="started_at")
    def started(self, run: SyncRun) -> str:
        return moment(run.started_at)

    @admin.display(description="finished", ordering="finished_at")
    def finished(self, run: SyncRun) -> str:
        return moment(run.finished_at)


class RateLimitedFilter(admin.SimpleListFilter):
    """Refused rows whose source went on to be answered 429: where a flood or a misconfigured script shows."""

    title = "later refusals counted (429)"
    parameter_name = "rate_limited"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> QuerySet[WebhookEvent]:
        if self.value() == "yes":
            return queryset.filter(refusals_counted__gt=0)
        if self.value() == "no":
            return queryset.filter(refusals_counted=0)
        return queryset


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("received_at", "connection_slug", "record_type", "record_id", "event_type", "status",
                    "http_status", "reason", "client_ip", "refusals_counted")
    # Addresses are too many to list as filter choices: searching one exactly finds its rows instead.
    list_filter = ("status", RateLimitedFilter, "record_type", "event_type")
    search_fields = ("=event_id", "=record_id", "=client_ip")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEvent]:
        return super().get_queryset(request).defer("body")


@admin.register(AlertIncident)
class AlertIncidentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("opened_at", "kind", "key", "message", "notified_at", "resolved_at")
    list_filter = ("kind", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("key", "message")
