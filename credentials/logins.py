"""The admin login, throttled: after ADMIN_LOGIN_ATTEMPTS failed logins for one username, or from one address,
within ADMIN_LOGIN_WINDOW_SECONDS, every further attempt is refused, even one with the right password (otherwise
guessing would only go on more slowly), until the window has passed.

The failures are FailedLogin rows, so every web process and host sees the same count; attempts racing each
other may record a few failures beyond the limit, never an unbounded number of guesses. A refused attempt
checks no password and is not recorded, so the lock lifts as soon as fewer than ADMIN_LOGIN_ATTEMPTS failures
remain within the window, however often the locked-out person tries meanwhile.
The staff accounts live in django.contrib.auth; this module sits in credentials because that app already
decides who may do what (credentials/permissions.py) and has the migrations a model needs."""

import logging
import math
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from connector_project.callers import caller_address, rate_limit_source
from credentials.models import FailedLogin

logger = logging.getLogger(__name__)


def login_refusal(*, username: str, client_ip: str, now: datetime | None = None) -> str | None:
    """Why a login for `username` from `client_ip` is refused before any password is checked, or None."""
    now = now or timezone.now()
    limit = settings.ADMIN_LOGIN_ATTEMPTS
    window = timedelta(seconds=settings.ADMIN_LOGIN_WINDOW_SECONDS)
    recent = FailedLogin.objects.filter(at__gt=now - window).order_by("-at")
    sources = [Q(username=_canonical(username))] + ([Q(client_ip=client_ip)] if client_ip else [])
    unlocks = []
    for source in sources:
        newest = list(recent.filter(source).values_list("at", flat=True)[:limit])
        if len(newest) >= limit:  # locked until the oldest of these leaves the window
            unlocks.append(newest[-1] + window)
    if not unlocks:
        return None
    minutes = max(1, math.ceil((max(unlocks) - now).total_seconds() / 60))
    return (f"Too many failed logins for this username or from this address: logins are refused for "
            f"{minutes} more minute{'s' if minutes != 1 else ''}, even with the right password. "
            "Ask an Integration admin if you have forgotten your password.")


def record_failed_login(*, username: str, client_ip: str, now: datetime | None = None) -> None:
    """Counts one failed login (never the password); failures older than the window are dropped on the way."""
    now = now or timezone.now()
    window = timedelta(seconds=settings.ADMIN_LOGIN_WINDOW_SECONDS)
    FailedLogin.objects.filter(at__lte=now - window).delete()
    failure = FailedLogin.objects.create(username=_canonical(username), client_ip=client_ip, at=now)
    if login_refusal(username=username, client_ip=client_ip, now=now):
        logger.warning("Admin logins refused for a while after repeated failures: %s", failure)


def client_address(request: HttpRequest | None) -> str:
    """The caller as the throttle counts it, grouped as the webhook's refusal limit groups callers."""
    return rate_limit_source(caller_address(request)) if request is not None else ""


def _canonical(username: str) -> str:
    max_length = FailedLogin._meta.get_field("username").max_length
    return username.strip().lower()[:max_length]


class ThrottledLoginForm(AdminAuthenticationForm):
    """The admin login form with the throttle in front of the password check."""

    def clean(self) -> dict[str, Any]:
        # The raw field: a username the field refuses (too long) still counts against its address.
        username = str(self.data.get("username", ""))
        address = client_address(self.request)
        refusal = login_refusal(username=username, client_ip=address)
        if refusal:
            raise ValidationError(refusal, code="throttled")
        try:
            return super().clean()
        except ValidationError:
            record_failed_login(username=username, client_ip=address)
            raise
