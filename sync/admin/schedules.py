"""The admin page of flow schedules: edited with the same checks as everywhere (sync.triggers.schedules), saved
with their next run computed."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from sync.models import FlowSchedule
from sync.triggers.schedules import describe, enqueue_run, save_schedule, validate_schedule

TIMING_FIELDS = ("kind", "every_minutes", "at_time", "weekday", "cron", "timezone")


class FlowScheduleForm(forms.ModelForm):
    class Meta:
        model = FlowSchedule
        fields = ("pair", "flow", "enabled", *TIMING_FIELDS, "catch_up")
        help_texts = {
            "timezone": "An IANA time zone such as Europe/Paris or America/New_York: daily, weekly and cron "
                        "times are wall-clock times there.",
            "catch_up": "What happens to runs missed while the worker was down.",
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        candidate = FlowSchedule(**{name: cleaned.get(name) for name in TIMING_FIELDS})
        try:
            validate_schedule(schedule=candidate)
        except ValidationError as invalid:
            for name, errors in invalid.error_dict.items():
                if name not in self.errors:  # a field that did not parse already says why
                    self.add_error(name, errors)
        return cleaned


class FlowScheduleAdmin(admin.ModelAdmin):
    form = FlowScheduleForm
    list_display = ("pair", "flow", "enabled", "timing", "catch_up", "next_run_at", "last_run_at", "last_success_at")
    list_filter = ("enabled", "flow", "kind")
    list_select_related = ("pair__netsuite", "pair__jaggaer")
    readonly_fields = ("next_run_at", "last_run_at", "last_success_at")
    actions = ["run_now"]

    @admin.display(description="when")
    def timing(self, schedule: FlowSchedule) -> str:
        return describe(schedule)

    def save_model(self, request: HttpRequest, obj: FlowSchedule, form: forms.ModelForm, change: bool) -> None:
        save_schedule(schedule=obj)

    @admin.action(description="Run the selected schedules now")
    def run_now(self, request: HttpRequest, queryset: QuerySet[FlowSchedule]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        for schedule_id in ids:
            enqueue_run(schedule_id=schedule_id)
        self.message_user(request, f"{len(ids)} run(s) handed to the worker; see Sync runs for their outcome.")


admin.site.register(FlowSchedule, FlowScheduleAdmin)
