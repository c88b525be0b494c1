"""Alerts by e-mail: problems worth a person's attention, one mail per incident and none while it stays open.

Each check names the incidents that hold now, by (kind, key). An incident that holds and is not open yet is
opened and mailed; an open one that no longer holds is resolved, so that the next time it happens is a new
incident with a new mail. Mail uses Django's mail settings and goes to ALERT_EMAILS."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from croniter import croniter
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.urls import reverse
from django.utils import timezone

from credentials.models import ConnectionPair, JaggaerConnection, NetSuiteAuthMethod, NetSuiteConnection
from sync.models import AlertIncident, Flow, FlowSchedule, SyncRecord, SyncRun

logger = logging.getLogger(__name__)


class Kind:
    FAILURES = "failed_records"
    FLOW_NOT_SUCCEEDING = "flow_not_succeeding"
    CONNECTION_TEST_FAILED = "connection_test_failed"
    REFRESH_TOKEN_EXPIRING = "refresh_token_expiring"


@dataclass
class AlertReport:
    opened: list[AlertIncident] = field(default_factory=list)
    resolved: list[AlertIncident] = field(default_factory=list)
    mailed: int = 0


def check_alerts(*, now: datetime | None = None) -> AlertReport:
    """Opens, mails and resolves incidents; the worker runs it on a schedule (task: sync.operations.alerts.send_alerts)."""
    now = now or timezone.now()
    holding: dict[tuple[str, str], str] = {}
    for check in (_failed_records, _flows_not_succeeding, _failed_connection_tests, _expiring_refresh_tokens):
        holding.update(check(now))
    report = AlertReport()
    with transaction.atomic():
        open_incidents = {(i.kind, i.key): i for i in AlertIncident.objects.select_for_update().filter(resolved_at__isnull=True)}
        for key, incident in open_incidents.items():
            if key not in holding:
                incident.resolved_at = now
                incident.save(update_fields=["resolved_at"])
                report.resolved.append(incident)
        for (kind, key), message in holding.items():
            if (kind, key) not in open_incidents:
                report.opened.append(AlertIncident.objects.create(kind=kind, key=key, message=message, opened_at=now))
    report.mailed = _mail_unnotified(now)
    return report


def send_alerts() -> None:
    """The django-q2 task: schedule `sync.operations.alerts.send_alerts` every few minutes."""
    report = check_alerts()
    logger.info("Alerts: %d opened, %d resolved, %d mailed", len(report.opened), len(report.resolved), report.mailed)


def _mail_unnotified(now: datetime) -> int:
    """One mail per incident not mailed yet. Without ALERT_EMAILS they wait (shown in the admin), and go out
    once addresses are set; a mail that fails is tried again on the next run."""
    if not settings.ALERT_EMAILS:
        return 0
    mailed = 0
    for incident in AlertIncident.objects.filter(resolved_at__isnull=True, notified_at__isnull=True).order_by("pk"):
        try:
            send_mail(subject=f"[ml-connector] {incident.message.splitlines()[0][:150]}",
                      message=f"{incident.message}\n\nOpened at {incident.opened_at:%Y-%m-%d %H:%M} UTC. You get no "
                              "further mail about it until it is resolved and happens again.",
                      from_email=None, recipient_list=settings.ALERT_EMAILS)
        except OSError as exc:
            logger.warning("Could not mail alert %s (%s): %s", incident.kind, incident.key, exc)
            continue
        AlertIncident.objects.filter(pk=incident.pk).update(notified_at=now)
        mailed += 1
    return mailed


def _failed_records(now: datetime) -> dict[tuple[str, str], str]:
    rows = (SyncRecord.objects.filter(state=SyncRecord.State.FAILED).values_list("pair", "pair__netsuite__name", "flow")
            .annotate(n=Count("id")).order_by())
    return {
        (Kind.FAILURES, f"{pair_id}:{flow}"):
            f"{n} {flow.replace('_', ' ')} of {name} failed and need a person (threshold {settings.ALERT_FAILED_RECORDS})"
        for pair_id, name, flow, n in rows if n >= settings.ALERT_FAILED_RECORDS
    }


def schedule_interval(schedule: FlowSchedule, *, now: datetime) -> timedelta | None:
    """How often the schedule means the flow to run."""
    if schedule.kind == FlowSchedule.Kind.INTERVAL:
        return timedelta(minutes=schedule.every_minutes) if schedule.every_minutes else None
    if schedule.kind == FlowSchedule.Kind.DAILY:
        return timedelta(days=1)
    if schedule.kind == FlowSchedule.Kind.WEEKLY:
        return timedelta(weeks=1)
    if schedule.kind == FlowSchedule.Kind.CRON and croniter.is_valid(schedule.cron):
        # The longest gap between runs over a week of the expression ("6-20 on weekdays" has long nights).
        runs = croniter(schedule.cron, now.astimezone(ZoneInfo(schedule.timezone)))
        first = previous = runs.get_next(datetime)
        longest = timedelta(0)
        for _ in range(7 * 24 * 60):  # at most one run a minute for a week
            current = runs.get_next(datetime)
            longest = max(longest, current - previous)
            if current - first > timedelta(weeks=1):
                break
            previous = current
        return longest or None
    return None


def _flows_not_succeeding(now: datetime) -> dict[tuple[str, str], str]:
    runs = {
        (row["pair"], row["flow"]): row
        for row in SyncRun.objects.values("pair", "flow").annotate(
            first=Min("started_at"), succeeded=Max("finished_at", filter=Q(succeeded=True))).order_by()
    }
    found = {}
    for schedule in FlowSchedule.objects.filter(enabled=True).select_related("pair__netsuite"):
        interval = schedule_interval(schedule, now=now)
        run = runs.get((schedule.pair_id, schedule.flow))
        # Never run yet: nothing has failed to happen until a run has been tried.
        if interval is None or run is None:
            continue
        since = max(filter(None, [schedule.last_success_at, run["succeeded"]]), default=run["first"])
        if now - since > settings.ALERT_MISSED_INTERVALS * interval:
            last = "has never succeeded" if since == run["first"] and not run["succeeded"] else (
                f"last succeeded at {since:%Y-%m-%d %H:%M} UTC")
            found[(Kind.FLOW_NOT_SUCCEEDING, f"{schedule.pair_id}:{schedule.flow}")] = (
                f"{schedule.get_flow_display()} of {schedule.pair.netsuite.name} {last}; it is scheduled "
                f"{schedule.get_kind_display().lower()} ({_duration(interval)})")
    return found


def _duration(interval: timedelta) -> str:
    minutes = int(interval.total_seconds() // 60)
    return f"every {minutes} min" if minutes < 120 else f"every {minutes / 60:g} h"


def _failed_connection_tests(now: datetime) -> dict[tuple[str, str], str]:
    found = {}
    for system, model in (("NetSuite", NetSuiteConnection), ("JAGGAER", JaggaerConnection)):
        for connection in model.objects.filter(last_test_ok=False):
            # The stored test result is written for people and holds no secrets (credentials.diagnosis).
            found[(Kind.CONNECTION_TEST_FAILED, f"{system.lower()}:{connection.name}")] = (
                f"{system} connection {connection.name} failed its last test"
                f"\n\n{connection.last_test_result[:2000]}")
    return found


def _expiring_refresh_tokens(now: datetime) -> dict[tuple[str, str], str]:
    soon = now + timedelta(hours=settings.ALERT_REFRESH_TOKEN_HOURS)
    connections = NetSuiteConnection.objects.filter(
        auth_method=NetSuiteAuthMethod.AUTHORIZATION_CODE, refresh_token_expires_at__lte=soon)
    return {
        (Kind.REFRESH_TOKEN_EXPIRING, connection.name): (
            f"The NetSuite refresh token of {connection.name} expires at "
            f"{connection.refresh_token_expires_at:%Y-%m-%d %H:%M} UTC: a NetSuite administrator must consent again")
        for connection in connections
    }


@dataclass(frozen=True)
class ConsoleWarning:
    """One line of the banner on every console page: what is wrong, since when, why, and where it is fixed."""

    what: str
    detail: str = ""
    at: datetime | None = None
    link_text: str = ""
    link_url: str = ""
    permission: str = ""  # the link is shown to those who have it


def console_warnings() -> list[ConsoleWarning]:
    """Connections whose last test failed, open alerts and flows whose last run failed, with the reason. Read
    live, not from the alert check's schedule: a connection fixed a minute ago is not shown as failing."""
    found = []
    for system, model in (("NetSuite", NetSuiteConnection), ("JAGGAER", JaggaerConnection)):
        for connection in model.objects.filter(last_test_ok=False).order_by("name"):
            opts = model._meta
            found.append(ConsoleWarning(
                what=f"{system} connection {connection.name} failed its last test",
                # The stored test result is written for people and holds no secrets (credentials.diagnosis).
                detail=connection.last_test_result.strip().splitlines()[0][:300] if connection.last_test_result else "",
                at=connection.last_tested_at, link_text="Open the connection",
                link_url=reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[connection.pk]),
                permission=f"{opts.app_label}.change_{opts.model_name}"))
    # Failed connection tests are shown above as they are now.
    for incident in AlertIncident.objects.filter(resolved_at__isnull=True).exclude(
            kind=Kind.CONNECTION_TEST_FAILED).order_by("opened_at"):
        found.append(ConsoleWarning(what=incident.message.splitlines()[0][:300], at=incident.opened_at,
                                    link_text="Alerts", link_url=reverse("admin:sync_alertincident_changelist"),
                                    permission="sync.view_alertincident"))
    for pair in ConnectionPair.objects.select_related("netsuite", "jaggaer").order_by("pk"):
        for flow, label in Flow.choices:
            run = SyncRun.objects.filter(pair=pair, flow=flow).exclude(succeeded=None).order_by("-started_at").first()
            if run is not None and not run.succeeded:
                query = urlencode({"flow__exact": flow, "succeeded__exact": 0})
                found.append(ConsoleWarning(
                    what=f"The last run of {label.lower()} ({pair}) failed", detail=run.message[:300],
                    at=run.finished_at, link_text="Runs",
                    link_url=f"{reverse('admin:sync_syncrun_changelist')}?{query}", permission="sync.view_syncrun"))
    return found
