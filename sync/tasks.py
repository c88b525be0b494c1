"""django-q2 tasks: thin wrappers that take ids."""

from sync.push import process_event


def process_webhook_event(event_id: int) -> None:
    process_event(event_id=event_id)
