"""`manage.py qcluster` for the chaos soak, with the connector's recovery times after a crash scaled down to
CHAOS_RECOVERY_SECONDS, so that what a killed worker held is taken over within the soak: a run's flow lease
(30 minutes), a delivery's claim on its records (10 minutes), a push event taken for processing (10 minutes),
and the wait before an accepted push event whose task was lost is processed again (5 minutes). Nothing else
changes: the cluster forks its workers, which inherit these values.

    python -m tests.chaos.worker      (from the project root, with the environment of a worker host)"""

import os
from datetime import timedelta


def scale_recovery_times(seconds: float) -> None:
    from sync.engine import deliver, locks
    from sync.triggers import push

    scaled = {(locks, "LEASE"): timedelta(seconds=seconds), (deliver, "CLAIM_SECONDS"): seconds,
              (deliver, "CLAIM_RENEW_SECONDS"): seconds / 5, (push, "TAKEN_FOR"): timedelta(seconds=seconds),
              (push, "UNPROCESSED_AFTER"): timedelta(seconds=seconds)}
    for (module, name), value in scaled.items():
        # Refuse to run with the real times if a name moves: the soak would then wait out 30 minutes.
        if not hasattr(module, name):
            raise RuntimeError(f"{module.__name__}.{name} is gone: tests/chaos/worker.py cannot scale it down")
        setattr(module, name, value)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "connector_project.settings")
    import django

    django.setup()
    scale_recovery_times(float(os.environ["CHAOS_RECOVERY_SECONDS"]))
    from django.core.management import call_command

    call_command("qcluster")


if __name__ == "__main__":
    main()
