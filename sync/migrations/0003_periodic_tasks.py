"""Installs django-q2's periodic tasks (sync.triggers.schedules.PERIODIC_TASKS): the schedule dispatcher, the retry
sweeper, alerts and retention."""

from django.db import migrations


def install(apps, schema_editor):  # noqa: ANN001 - the signature RunPython calls
    from sync.triggers.schedules import install_periodic_tasks

    install_periodic_tasks(schedule_model=apps.get_model("django_q", "Schedule"))


def uninstall(apps, schema_editor):  # noqa: ANN001
    from sync.triggers.schedules import PERIODIC_TASKS

    apps.get_model("django_q", "Schedule").objects.filter(func__in=[task.func for task in PERIODIC_TASKS]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("sync", "0002_schedules_and_alerts"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
