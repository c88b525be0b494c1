"""django-q2's entry points: each calls the one function of the module that owns the work."""

from sync.operations.group_replay import run_group_replay
from sync.triggers import schedules
from sync.triggers.push import process_due_events, process_event


def process_webhook_event(event_id: int) -> None:
    process_event(event_id=event_id)


def process_due_push_events() -> None:
    process_due_events()


def dispatch_due_schedules() -> None:
    schedules.dispatch_due_schedules()


def run_scheduled_flow(schedule_id: int) -> None:
    schedules.run_scheduled_flow(schedule_id=schedule_id)


def sweep_due_deliveries() -> None:
    schedules.sweep_due_deliveries()


def replay_group(replay_id: int) -> None:
    run_group_replay(replay_id=replay_id)
