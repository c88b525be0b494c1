"""The sync admin by subject: records (list, page, replay), schedules, and the mapping coverage page.
Importing the modules registers their admin classes, which is what Django's autodiscovery needs."""

from sync.admin import coverage, records, schedules  # noqa: F401
