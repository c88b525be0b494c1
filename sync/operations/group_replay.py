""""Replay all" of an error-console group: queued for the worker (a large group would outlast a web request),
replayed a few records at a time through sync.operations.replay (which never duplicates anything in JAGGAER), its
progress saved after each step, and its outcome told as it is: how many were delivered, how many failed again."""

import logging

from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, When
from django.utils import timezone
from django_q.tasks import async_task

from sync.flows import FLOWS_IN_ORDER
from sync.models import GroupReplay, SyncRecord
from sync.operations.error_groups import PROBLEM_STATES, group_named, records_in
from sync.operations.replay import not_delivered, replay
from sync.remote.errors import failure_words

logger = logging.getLogger(__name__)
State = SyncRecord.State
Status = GroupReplay.Status
# Records replayed per step: the progress moves at least this often, and a worker stopped mid-way (its timeout, a
# restart) loses at most one step's bookkeeping; the records themselves are journaled as they go.
STEP = 20
# How a replayed record ended, in the console's words.
OUTCOME_WORDS: dict[str, str] = {
    State.DELIVERED: "delivered",
    State.FAILED: "failed again",
    State.RETRYING: "will be retried",
    State.WAITING_FOR_MAPPING: "waiting for a mapping",
    State.WAITING_FOR_DEPENDENCY: "waiting for another record",
    State.PENDING: "still due",
    State.RESOLVED: "resolved meanwhile",
}


class ReplayRefused(Exception):
    """Why "replay all" queued nothing, in words for the page."""


def queue_group_replay(*, key: str, actor: str) -> GroupReplay:
    """Queues the replay of the group's records as they are now, for the worker (task sync.tasks.replay_group)."""
    group = group_named(key)
    if group is None:
        raise ReplayRefused("That group has no record left to replay.")
    flow_order = Case(*[When(flow=flow, then=position) for position, flow in enumerate(FLOWS_IN_ORDER)],
                      output_field=IntegerField())
    # Dependencies first (vendors before their POs), so that a record of the group does not wait for another one.
    ids = list(records_in(key).order_by(flow_order, "pk").values_list("pk", flat=True))
    try:
        with transaction.atomic():
            queued = GroupReplay.objects.create(group_key=key, cause=group.summary, record_ids=ids,
                                                requested_by=actor, requested_at=timezone.now())
            # After the commit: a Redis queue could hand the task out before this row is visible.
            transaction.on_commit(lambda: async_task("sync.tasks.replay_group", queued.pk))
    except IntegrityError:
        raise ReplayRefused("That group is being replayed already: its progress is shown below.") from None
    return queued


def run_group_replay(*, replay_id: int) -> None:
    """The worker's part: replays the remaining records step by step, then says how each ended."""
    queued = GroupReplay.objects.get(pk=replay_id)
    if queued.status not in GroupReplay.UNFINISHED:
        return
    queued.status = Status.RUNNING
    queued.save(update_fields=["status"])
    try:
        while queued.done < queued.total:
            step = queued.record_ids[queued.done:queued.done + STEP]
            # A record that left the console meanwhile (delivered by a retry, resolved) is not sent again.
            replay(records=SyncRecord.objects.filter(pk__in=step, state__in=PROBLEM_STATES),
                   actor=queued.requested_by)
            outcome = dict(queued.outcome)
            left = not_delivered(step)
            delivered = str(State.DELIVERED)
            outcome[delivered] = outcome.get(delivered, 0) + len(step) - len(left)
            for record in left:
                outcome[record.state] = outcome.get(record.state, 0) + 1
            queued.outcome, queued.done = outcome, queued.done + len(step)
            queued.save(update_fields=["outcome", "done"])
    except Exception as exc:
        logger.warning("Replay %s stopped: %s", replay_id, failure_words(exc), exc_info=True)
        queued.status, queued.message = Status.CRASHED, failure_words(exc)
    else:
        queued.status = Status.FINISHED
    queued.finished_at = timezone.now()
    queued.save(update_fields=["status", "message", "finished_at"])


def progress_words(queued: GroupReplay) -> str:
    """"Replaying 40 of 120: 38 delivered, 2 failed again so far", and the like for each status."""
    outcome = ", ".join(f"{queued.outcome[state]} {words}" for state, words in OUTCOME_WORDS.items()
                        if queued.outcome.get(state))
    if queued.status == Status.QUEUED:
        return f"Waiting for the worker to replay {queued.total} records"
    if queued.status == Status.RUNNING:
        return f"Replaying {queued.done} of {queued.total}" + (f": {outcome} so far" if outcome else "")
    if queued.status == Status.CRASHED:
        return (f"Stopped after {queued.done} of {queued.total} by an error: {queued.message}"
                + (f". Until then: {outcome}" if outcome else ""))
    return f"Replayed {queued.total}: {outcome or 'nothing to send'}"
