"""When flows run by themselves: the next run of a FlowSchedule, the catch-up policy for runs missed while
nothing was running, and the scheduled run itself (one at a time per flow of a pair).

django-q2 runs our periodic tasks (PERIODIC_TASKS, installed by migration 0003), among them, every
minute, the dispatcher, which enqueues a run for every schedule that is due, and the retry sweeper, which
delivers records whose next attempt has come without waiting for a pull. django-q2's own catch-up is
off: missed runs are the FlowSchedule's business."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from credentials.models import ConnectionPair
from sync.engine.deliver import due_records
from sync.engine.locks import LEASE, FlowBusy, flow_lease, lease_held
from sync.engine.run import Clients, deliver_flow, sync_pass
from sync.flows import FLOWS_IN_ORDER
from sync.models import FlowLock, FlowSchedule, SyncRecord, SyncRun

logger = logging.getLogger(__name__)
Kind = FlowSchedule.Kind

# django-q2 looks at its schedules every 30 seconds, so a dispatcher due every minute may start up to
# 90 seconds after a slot: a slot missed by less than this is late, not missed.
GRACE = timedelta(minutes=2)
MAX_EVERY_MINUTES = 7 * 24 * 60
SCHEDULED = "schedule"
RETRY_SWEEP = "retry_sweep"


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    func: str
    minutes: int


PERIODIC_TASKS = [
    PeriodicTask("Start due flow schedules", "sync.tasks.dispatch_due_schedules", 1),
    PeriodicTask("Deliver records whose retry is due", "sync.tasks.sweep_due_deliveries", 1),
    PeriodicTask("Process again push events whose retry is due", "sync.tasks.process_due_push_events", 1),
    PeriodicTask("Open, mail and resolve alerts", "sync.operations.alerts.send_alerts", 5),
    PeriodicTask("Prune old attempts and inbox events", "sync.operations.retention.prune_history_task", 24 * 60),
]


# Validation and next runs -------------------------------------------------------------------------

def validate_schedule(*, schedule: FlowSchedule) -> None:
    """Raises a ValidationError naming each field that does not fit the schedule's kind."""
    problems: dict[str, str] = {}
    try:
        ZoneInfo(schedule.timezone or "")
    except (ZoneInfoNotFoundError, ValueError):
        problems["timezone"] = (f"Unknown time zone {schedule.timezone!r}: use an IANA name such as "
                                "'Europe/Paris', 'America/New_York' or 'UTC'.")
    if schedule.kind == Kind.INTERVAL:
        if not schedule.every_minutes:
            problems["every_minutes"] = "Say every how many minutes the flow runs."
        elif schedule.every_minutes > MAX_EVERY_MINUTES:
            problems["every_minutes"] = f"At most {MAX_EVERY_MINUTES} minutes (a week); use a weekly schedule."
    if schedule.kind in (Kind.DAILY, Kind.WEEKLY) and schedule.at_time is None:
        problems["at_time"] = "Say at what time of day the flow runs."
    if schedule.kind == Kind.WEEKLY and schedule.weekday is None:
        problems["weekday"] = "Say on which day of the week the flow runs."
    if schedule.kind == Kind.CRON:
        expression = (schedule.cron or "").strip()
        if not expression:
            problems["cron"] = "Enter a cron expression, e.g. '*/15 6-20 * * 1-5'."
        elif len(expression.split()) != 5 or not croniter.is_valid(expression):
            problems["cron"] = (f"{expression!r} is not a valid cron expression: five fields, minute hour "
                                "day-of-month month day-of-week, e.g. '*/15 6-20 * * 1-5'.")
    if problems:
        raise ValidationError(problems)


def next_run_after(*, schedule: FlowSchedule, after: datetime) -> datetime:
    """The schedule's first slot strictly after `after`, in UTC. Times of day are wall-clock times in the
    schedule's time zone: a daily 09:00 in New York stays 09:00 there across daylight saving changes; a
    time that does not exist on the spring-forward day runs at the same distance after the change (02:30
    becomes 03:30), and one that happens twice on the fall-back day runs once, the first time."""
    zone = ZoneInfo(schedule.timezone)
    if schedule.kind == Kind.INTERVAL:
        # Counted in elapsed time from the epoch, so "every 15 minutes" means :00, :15, :30, :45 and stays
        # 15 real minutes apart across a daylight saving change.
        step = schedule.every_minutes * 60
        return datetime.fromtimestamp((int(after.timestamp()) // step + 1) * step, tz=UTC)
    if schedule.kind == Kind.CRON:
        found = croniter(schedule.cron.strip(), after.astimezone(zone)).get_next(datetime)
        return found.astimezone(UTC)
    local_day = after.astimezone(zone).date()
    for offset in range(9):
        day = local_day + timedelta(days=offset)
        if schedule.kind == Kind.WEEKLY and day.weekday() != schedule.weekday:
            continue
        candidate = datetime.combine(day, schedule.at_time, tzinfo=zone).astimezone(UTC)
        if candidate > after:
            return candidate
    raise AssertionError("a daily or weekly slot always falls within nine days")


def describe(schedule: FlowSchedule) -> str:
    """The schedule in words, as the admin list and the dashboard show it."""
    if schedule.kind == Kind.INTERVAL:
        return f"every {schedule.every_minutes} minutes"
    if schedule.kind == Kind.CRON:
        return f"cron '{schedule.cron}' ({schedule.timezone})"
    at = schedule.at_time.strftime("%H:%M") if schedule.at_time else "?"
    if schedule.kind == Kind.WEEKLY:
        return f"{schedule.get_weekday_display()}s at {at} ({schedule.timezone})"
    return f"daily at {at} ({schedule.timezone})"


def save_schedule(*, schedule: FlowSchedule, now: datetime | None = None) -> FlowSchedule:
    """Validates and saves the schedule with its next run computed from now (what the admin and the demo
    set-up call)."""
    validate_schedule(schedule=schedule)
    schedule.next_run_at = next_run_after(schedule=schedule, after=now or timezone.now())
    schedule.save()
    return schedule


def ensure_schedules(*, pair: ConnectionPair, every_minutes: int) -> list[FlowSchedule]:
    """Gives every flow of the pair that has no schedule one that runs every `every_minutes` minutes;
    schedules that exist are left as people set them. Returns the ones created."""
    existing = set(FlowSchedule.objects.filter(pair=pair).values_list("flow", flat=True))
    return [save_schedule(schedule=FlowSchedule(pair=pair, flow=flow, kind=Kind.INTERVAL, every_minutes=every_minutes))
            for flow in FLOWS_IN_ORDER if flow not in existing]


# The dispatcher ----------------------------------------------------------------------------------

@dataclass
class Dispatched:
    schedule_id: int
    started: bool  # False: the catch-up policy skipped missed runs
    missed_since: datetime
    next_run_at: datetime


def dispatch_due_schedules(*, now: datetime | None = None) -> list[Dispatched]:
    """Enqueues a run for every enabled schedule that is due, applying its catch-up policy, and moves its
    next run to the first slot after now. Rows are locked while deciding, so two dispatchers started at
    once enqueue each run once."""
    now = now or timezone.now()
    decisions = []
    with transaction.atomic():
        candidates = FlowSchedule.objects.select_for_update(skip_locked=True).filter(enabled=True).filter(
            Q(next_run_at__isnull=True) | Q(next_run_at__lte=now))
        for schedule in candidates.order_by("next_run_at", "pk"):
            try:
                validate_schedule(schedule=schedule)
            except ValidationError as invalid:
                # Saved around the admin's checks: one bad row must not stop every other schedule.
                logger.error("Schedule %s (id %s) cannot run: %s", schedule, schedule.pk, "; ".join(invalid.messages))
                continue
            if schedule.next_run_at is None:  # saved without a plan: its first run is its next slot
                FlowSchedule.objects.filter(pk=schedule.pk).update(
                    next_run_at=next_run_after(schedule=schedule, after=now))
                continue
            decision = _decide(schedule=schedule, now=now)
            FlowSchedule.objects.filter(pk=schedule.pk).update(next_run_at=decision.next_run_at)
            if decision.started:
                # After commit: a broker outside the database (Redis) must not start a run whose next_run_at
                # change could still roll back.
                transaction.on_commit(lambda pk=schedule.pk: enqueue_run(schedule_id=pk))
            else:
                logger.info("Schedule %s: runs missed since %s skipped (catch-up policy: skip); next run %s",
                            schedule, decision.missed_since, decision.next_run_at)
            decisions.append(decision)
    return decisions


def _decide(*, schedule: FlowSchedule, now: datetime) -> Dispatched:
    upcoming = next_run_after(schedule=schedule, after=now)
    if schedule.catch_up == FlowSchedule.CatchUp.ONCE:
        started = True  # however many slots were missed, one run now covers them
    else:
        started = next_run_after(schedule=schedule, after=now - GRACE) <= now  # the latest slot is merely late
    return Dispatched(schedule_id=schedule.pk, started=started, missed_since=schedule.next_run_at,
                      next_run_at=upcoming)


# Scheduled runs and the retry sweeper -----------------------------------------------------------

def enqueue_run(*, schedule_id: int) -> None:
    """Hands a run of the schedule to the worker (the dispatcher, and the admin's "Run now")."""
    async_task("sync.tasks.run_scheduled_flow", schedule_id)


def run_scheduled_flow(*, schedule_id: int) -> list[SyncRun]:
    """Pulls and delivers the schedule's flow while holding the flow's lease for the whole run. A run that
    finds the flow busy does nothing but say so in a SyncRun; a lease whose holder died expires after LEASE."""
    schedule = FlowSchedule.objects.select_related("pair__netsuite", "pair__jaggaer").filter(pk=schedule_id).first()
    if schedule is None:
        return []  # deleted after its run was enqueued
    started = timezone.now()
    FlowSchedule.objects.filter(pk=schedule.pk).update(last_run_at=started)
    try:
        with flow_lease(pair=schedule.pair, flow=schedule.flow):
            outcomes = sync_pass(pair=schedule.pair, flows=[schedule.flow], trigger=SCHEDULED)
    except FlowBusy:
        return [_record_busy(schedule=schedule, at=started)]
    if all(outcome.run.succeeded for outcome in outcomes):
        FlowSchedule.objects.filter(pk=schedule.pk).update(last_success_at=started)
    return [outcome.run for outcome in outcomes]


def sweep_due_deliveries() -> list[SyncRun]:
    """Delivers, for every pair and flow, the records whose next attempt has come, without pulling. A flow
    whose run is under way is left to that run, which delivers them too. The sweeper takes no lease: it
    must never make a scheduled run skip its pull, and claims keep two deliveries from sending a record
    twice."""
    now = timezone.now()
    runs = []
    for pair in ConnectionPair.objects.select_related("netsuite", "jaggaer").order_by("pk"):
        flows = [flow for flow in FLOWS_IN_ORDER if not lease_held(pair=pair, flow=flow)
                 and SyncRecord.objects.filter(due_records(pair=pair, flow=flow, now=now)).exists()]
        if flows:
            clients = Clients.for_pair(pair)
            runs.extend(deliver_flow(pair=pair, flow=flow, clients=clients, trigger=RETRY_SWEEP) for flow in flows)
    return runs


def _record_busy(*, schedule: FlowSchedule, at: datetime) -> SyncRun:
    lock = FlowLock.objects.filter(pair=schedule.pair, flow=schedule.flow).first()
    until = ""
    if lock and lock.holder:
        until = f" (lease held by {lock.holder} until {lock.expires_at:%Y-%m-%d %H:%M:%S %Z})"
    return SyncRun.objects.create(
        pair=schedule.pair, flow=schedule.flow, trigger=SCHEDULED, started_at=at, finished_at=timezone.now(),
        succeeded=None,
        message=f"Skipped: another run of this flow is under way{until}. A lease whose holder died expires "
                f"after {int(LEASE.total_seconds() // 60)} minutes.",
    )


# Installing the periodic tasks -------------------------------------------------------------------

def install_periodic_tasks(*, schedule_model: Any) -> None:
    """Creates the django-q2 schedules of PERIODIC_TASKS that are missing (an operator's edits to existing
    ones stay). `schedule_model` is django_q's Schedule, or its historical model in a migration."""
    for task in PERIODIC_TASKS:
        if not schedule_model.objects.filter(func=task.func).exists():
            schedule_model.objects.create(name=task.name, func=task.func, schedule_type=Schedule.MINUTES,
                                          minutes=task.minutes, repeats=-1, next_run=timezone.now())
