"""Flow schedules: when they run next (in their own time zone), what happens to runs missed during an
outage, one run of a flow at a time, and the retry sweeper. Runs go through django-q2 in this process
(its sync mode), against the sandboxes."""

import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django_q.conf import Conf
from django_q.models import Schedule

from mappings.models import CodingRule, PairCodingRule
from sync.engine.deliver import Deliveries
from sync.engine.locks import LEASE
from sync.engine.run import sync_pass
from sync.models import FlowLock, FlowSchedule, SyncRecord, SyncRun
from sync.triggers.schedules import (
    PERIODIC_TASKS,
    dispatch_due_schedules,
    install_periodic_tasks,
    next_run_after,
    run_scheduled_flow,
    save_schedule,
    sweep_due_deliveries,
    validate_schedule,
)

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
Kind = FlowSchedule.Kind


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def unsaved(**fields: object) -> FlowSchedule:
    return FlowSchedule(**{"flow": "vendors", "timezone": "UTC", **fields})


@pytest.fixture
def worker_in_process(monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks):
    """Enqueued tasks run at once, through django-q2's worker code, when the dispatcher's transaction commits."""
    monkeypatch.setattr(Conf, "SYNC", True)
    return django_capture_on_commit_callbacks


# Next runs ---------------------------------------------------------------------------------------

def test_every_n_minutes_runs_on_the_quarter_hours_and_stays_real_minutes_apart_across_dst():
    schedule = unsaved(kind=Kind.INTERVAL, every_minutes=15, timezone="America/New_York")
    assert next_run_after(schedule=schedule, after=at("2026-05-04T10:07:12+00:00")) == at("2026-05-04T10:15:00+00:00")
    assert next_run_after(schedule=schedule, after=at("2026-05-04T10:15:00+00:00")) == at("2026-05-04T10:30:00+00:00")
    # 01:45 EST on the spring-forward night: the next run is 15 minutes later, which the clocks call 03:00 EDT.
    assert next_run_after(schedule=schedule, after=at("2026-03-08T01:45:00-05:00")) == at("2026-03-08T03:00:00-04:00")


def test_daily_time_stays_at_the_same_wall_clock_time_across_a_dst_change():
    schedule = unsaved(kind=Kind.DAILY, at_time=time(9, 0), timezone="America/New_York")
    before = next_run_after(schedule=schedule, after=at("2026-03-07T10:00:00-05:00"))
    after = next_run_after(schedule=schedule, after=before)
    assert before == at("2026-03-08T09:00:00-04:00") == at("2026-03-08T13:00:00+00:00")
    assert after == at("2026-03-09T13:00:00+00:00")
    assert next_run_after(schedule=schedule, after=at("2026-03-06T08:59:00-05:00")) == at("2026-03-06T14:00:00+00:00")


def test_a_daily_time_that_the_dst_change_skips_or_repeats_runs_once():
    skipped = unsaved(kind=Kind.DAILY, at_time=time(2, 30), timezone="America/New_York")
    # 02:30 does not exist on 8 March 2026 in New York: the run comes at 03:30 EDT, then 02:30 again next day.
    first = next_run_after(schedule=skipped, after=at("2026-03-08T00:00:00-05:00"))
    assert first == at("2026-03-08T03:30:00-04:00")
    assert next_run_after(schedule=skipped, after=first) == at("2026-03-09T02:30:00-04:00")

    repeated = unsaved(kind=Kind.DAILY, at_time=time(1, 30), timezone="America/New_York")
    # 01:30 happens twice on 1 November 2026: only the first one runs.
    first = next_run_after(schedule=repeated, after=at("2026-11-01T00:00:00-04:00"))
    assert first == at("2026-11-01T01:30:00-04:00")
    assert next_run_after(schedule=repeated, after=first) == at("2026-11-02T01:30:00-05:00")


def test_weekly_runs_on_its_day_at_its_time_in_its_time_zone():
    schedule = unsaved(kind=Kind.WEEKLY, weekday=0, at_time=time(6, 0), timezone="Europe/Paris")
    # Wednesday 25 March 2026 -> Monday 30 March, the first Monday of summer time (UTC+2).
    assert next_run_after(schedule=schedule, after=at("2026-03-25T12:00:00+00:00")) == at("2026-03-30T04:00:00+00:00")
    # Monday 06:00 Paris itself is not "after" it; a minute before is.
    assert next_run_after(schedule=schedule, after=at("2026-03-30T05:59:00+02:00")) == at("2026-03-30T06:00:00+02:00")
    assert next_run_after(schedule=schedule, after=at("2026-03-30T06:00:00+02:00")) == at("2026-04-06T06:00:00+02:00")


def test_cron_is_read_in_the_schedules_time_zone_across_the_end_of_summer_time():
    schedule = unsaved(kind=Kind.CRON, cron="30 8 * * 1-5", timezone="Europe/Berlin")
    friday = next_run_after(schedule=schedule, after=at("2026-10-23T00:00:00+02:00"))
    assert friday == at("2026-10-23T06:30:00+00:00")  # 08:30 CEST
    assert next_run_after(schedule=schedule, after=friday) == at("2026-10-26T07:30:00+00:00")  # Monday, 08:30 CET


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"kind": Kind.CRON, "cron": "*/15 6-20 * *"}, "cron", "not a valid cron expression"),
    ({"kind": Kind.CRON, "cron": "61 * * * *"}, "cron", "not a valid cron expression"),
    ({"kind": Kind.CRON, "cron": ""}, "cron", "Enter a cron expression"),
    ({"kind": Kind.INTERVAL}, "every_minutes", "every how many minutes"),
    ({"kind": Kind.DAILY}, "at_time", "what time of day"),
    ({"kind": Kind.WEEKLY, "at_time": time(6)}, "weekday", "which day of the week"),
    ({"kind": Kind.INTERVAL, "every_minutes": 5, "timezone": "Europe/Parisss"}, "timezone", "Unknown time zone"),
])
def test_a_schedule_that_cannot_run_is_refused_with_a_message_on_the_field(fields, field, words):
    with pytest.raises(ValidationError) as refused:
        validate_schedule(schedule=unsaved(**fields))
    assert list(refused.value.error_dict) == [field]
    assert words in " ".join(refused.value.message_dict[field])


def test_the_admin_form_shows_the_schedules_problems_and_saves_a_good_one_with_its_next_run(pair, admin_client):
    url = "/admin/sync/flowschedule/add/"
    form = {"pair": pair.pk, "flow": "vendors", "enabled": "on", "kind": "cron", "cron": "every monday",
            "timezone": "Mars/Olympus", "catch_up": "once"}
    page = admin_client.post(url, form)
    assert page.status_code == 200
    assert "is not a valid cron expression" in page.content.decode()
    assert "Unknown time zone" in page.content.decode()
    assert not FlowSchedule.objects.exists()

    admin_client.post(url, {**form, "cron": "0 6 * * 1", "timezone": "Europe/Paris"})
    schedule = FlowSchedule.objects.get()
    local = schedule.next_run_at.astimezone(ZoneInfo("Europe/Paris"))
    assert (local.weekday(), local.time()) == (0, time(6, 0))
    assert "cron &#x27;0 6 * * 1&#x27; (Europe/Paris)" in admin_client.get("/admin/sync/flowschedule/").content.decode()


# Missed runs -------------------------------------------------------------------------------------

def hourly(pair, flow: str, catch_up: str, *, missed_since: datetime) -> FlowSchedule:
    schedule = FlowSchedule.objects.create(pair=pair, flow=flow, kind=Kind.INTERVAL, every_minutes=60,
                                           catch_up=catch_up, next_run_at=missed_since)
    return schedule


def scheduled_runs(flow: str) -> list[SyncRun]:
    return list(SyncRun.objects.filter(trigger="schedule", flow=flow))


def test_after_a_three_hour_outage_catch_up_once_runs_once_and_skip_waits_for_the_next_slot(
        pair, worker_in_process):
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    now = hour + timedelta(minutes=30)  # the worker comes back at :30, three hours after its last run
    once = hourly(pair, "gl_accounts", FlowSchedule.CatchUp.ONCE, missed_since=hour - timedelta(hours=2))
    skip = hourly(pair, "classifications", FlowSchedule.CatchUp.SKIP, missed_since=hour - timedelta(hours=2))

    with worker_in_process(execute=True):
        dispatch_due_schedules(now=now)

    assert [run.succeeded for run in scheduled_runs("gl_accounts")] == [True]
    assert scheduled_runs("classifications") == []
    once.refresh_from_db()
    skip.refresh_from_db()
    assert once.next_run_at == skip.next_run_at == hour + timedelta(hours=1)
    assert once.last_success_at is not None and skip.last_run_at is None

    with worker_in_process(execute=True):
        dispatch_due_schedules(now=now + timedelta(minutes=10))  # nothing is due before the next slot
    with worker_in_process(execute=True):
        dispatch_due_schedules(now=hour + timedelta(hours=1, seconds=70))  # the next slot, a little late
    assert len(scheduled_runs("gl_accounts")) == 2
    assert [run.succeeded for run in scheduled_runs("classifications")] == [True]
    skip.refresh_from_db()
    assert skip.next_run_at == hour + timedelta(hours=2)
    assert skip.last_success_at is not None


def test_a_disabled_schedule_does_not_run(pair, worker_in_process):
    schedule = hourly(pair, "vendors", FlowSchedule.CatchUp.ONCE, missed_since=datetime.now(UTC) - timedelta(hours=1))
    FlowSchedule.objects.filter(pk=schedule.pk).update(enabled=False)
    with worker_in_process(execute=True):
        assert dispatch_due_schedules() == []
    assert scheduled_runs("vendors") == []


# One run at a time -------------------------------------------------------------------------------

def test_a_run_that_finds_the_flow_running_is_skipped_and_says_so_and_a_dead_holders_lease_expires(pair):
    schedule = save_schedule(schedule=FlowSchedule(pair=pair, flow="gl_accounts", kind=Kind.INTERVAL, every_minutes=5))
    FlowLock.objects.create(pair=pair, flow="gl_accounts", holder="worker-7:4242:dead",
                            expires_at=datetime.now(UTC) + LEASE - timedelta(seconds=1))

    [skipped] = run_scheduled_flow(schedule_id=schedule.pk)
    assert skipped.succeeded is None
    assert "Skipped: another run of this flow is under way (lease held by worker-7:4242:dead" in skipped.message
    assert not SyncRecord.objects.filter(flow="gl_accounts").exists()

    with time_machine.travel(datetime.now(UTC) + LEASE):
        [ran] = run_scheduled_flow(schedule_id=schedule.pk)
    assert ran.succeeded is True and ran.delivered > 0
    assert FlowLock.objects.get(pair=pair, flow="gl_accounts").holder == ""
    schedule.refresh_from_db()
    assert schedule.last_success_at == schedule.last_run_at


def test_a_scheduled_run_holds_the_lease_through_its_delivery(pair, monkeypatch):
    schedule = save_schedule(schedule=FlowSchedule(pair=pair, flow="gl_accounts", kind=Kind.INTERVAL, every_minutes=5))
    holders_while_delivering = []

    finish = Deliveries.finish

    def delivering(deliveries):
        holders_while_delivering.append(FlowLock.objects.get(pair=pair, flow="gl_accounts").holder)
        return finish(deliveries)

    monkeypatch.setattr(Deliveries, "finish", delivering)
    [run] = run_scheduled_flow(schedule_id=schedule.pk)

    assert run.succeeded and run.delivered > 0
    assert len(holders_while_delivering) == 1 and holders_while_delivering[0] != ""
    assert FlowLock.objects.get(pair=pair, flow="gl_accounts").holder == ""


# The retry sweeper -------------------------------------------------------------------------------

def test_the_sweeper_delivers_due_retries_without_reading_netsuite_unless_a_run_is_under_way(pair, netsuite, jaggaer):
    jaggaer.app.add_fault(kind="server_error", path="/j1p/api/public/jcf/v1/customfields/GLAccount/values",
                          method="POST")
    sync_pass(pair=pair, flows=["gl_accounts"])
    retrying = SyncRecord.objects.filter(flow="gl_accounts", state=SyncRecord.State.RETRYING)
    assert retrying.exists() and not jaggaer.app.custom_field_values("GLAccount")
    jaggaer.app.clear_faults()

    assert sweep_due_deliveries() == []  # not due yet
    netsuite_requests = len(netsuite.app.requests_log)
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=2)):
        FlowLock.objects.filter(pair=pair, flow="gl_accounts").update(
            holder="worker-2:77:running", expires_at=datetime.now(UTC) + LEASE)
        assert sweep_due_deliveries() == []  # left to the run under way
        FlowLock.objects.filter(pair=pair, flow="gl_accounts").update(holder="", expires_at=None)
        [run] = sweep_due_deliveries()

    assert run.trigger == "retry_sweep" and run.succeeded
    assert run.delivered == len(jaggaer.app.custom_field_values("GLAccount")) > 0
    assert not SyncRecord.objects.filter(flow="gl_accounts").exclude(state=SyncRecord.State.DELIVERED).exists()
    assert len(netsuite.app.requests_log) == netsuite_requests


# Installation and the demo -----------------------------------------------------------------------

def test_migrations_install_the_dispatcher_and_the_sweeper_every_minute_and_each_task_once():
    installed = {schedule.func: schedule for schedule in Schedule.objects.all()}
    for func in ("sync.tasks.dispatch_due_schedules", "sync.tasks.sweep_due_deliveries"):
        assert (installed[func].schedule_type, installed[func].minutes) == (Schedule.MINUTES, 1)
    assert Conf.CATCH_UP is False
    install_periodic_tasks(schedule_model=Schedule)
    assert sorted(Schedule.objects.values_list("func", flat=True)) == sorted(task.func for task in PERIODIC_TASKS)


def test_setup_demo_prepares_the_pair_and_running_it_again_changes_nothing(pair, tmp_path):
    PairCodingRule.objects.filter(pair=pair).update(rule=CodingRule.EXPLICIT_ONLY)
    password_file = tmp_path / "admin_password"
    call_command("setup_demo", "--admin-password-file", str(password_file))
    FlowSchedule.objects.filter(flow="vendors").update(every_minutes=30)  # an operator's change
    call_command("setup_demo", "--admin-password-file", str(password_file))

    assert PairCodingRule.objects.get(pair=pair).rule == CodingRule.SAME_NUMBER
    assert User.objects.get(username="admin").check_password(password_file.read_text().strip())
    schedules = {schedule.flow: schedule for schedule in FlowSchedule.objects.filter(pair=pair)}
    assert {flow: s.every_minutes for flow, s in schedules.items()} == {
        "gl_accounts": 5, "classifications": 5, "vendors": 30, "purchase_orders": 5, "vendor_bills": 5}
    assert all(s.enabled and s.next_run_at for s in schedules.values())
    assert Schedule.objects.filter(func="sync.tasks.dispatch_due_schedules").count() == 1


@pytest.mark.parametrize(("broker", "expected"), [
    ("orm", {"orm": "default"}),
    ("redis://127.0.0.1:6390/2", {"redis": "redis://127.0.0.1:6390/2"}),
])
def test_the_worker_uses_the_orm_broker_unless_q_broker_names_redis(broker, expected):
    shown = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; import django; django.setup(); "
                               "print({k: v for k, v in settings.Q_CLUSTER.items() if k in ('orm', 'redis')})"],
        cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "connector_project.settings", "Q_BROKER": broker},
        capture_output=True, text=True, timeout=60, check=True)
    assert shown.stdout.strip() == repr(expected)
