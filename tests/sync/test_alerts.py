"""Alerts: one mail when an incident opens, none while it stays open, a new one after it resolved."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from credentials.models import NetSuiteAuthMethod, NetSuiteConnection
from sync.models import AlertIncident, FlowSchedule, SyncRecord, SyncRun
from sync.operations.alerts import Kind, check_alerts, schedule_interval

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def alert_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALERT_EMAILS = ["integration@example.com"]
    settings.ALERT_FAILED_RECORDS = 3


def fail(pair, count: int, flow: str = "purchase_orders") -> None:
    start = SyncRecord.objects.filter(flow=flow).count()
    SyncRecord.objects.bulk_create(
        SyncRecord(pair=pair, flow=flow, netsuite_id=str(n), state=SyncRecord.State.FAILED,
                   last_error_message="VALIDATION: orderDate missing") for n in range(start, start + count))


def test_failures_over_the_threshold_send_one_mail_per_incident_not_per_record(pair):
    fail(pair, 2)
    assert check_alerts().opened == [] and mail.outbox == []

    fail(pair, 5, flow="vendor_bills")
    fail(pair, 1)  # purchase orders now at 3: a second incident
    check_alerts()
    check_alerts()  # still open: no further mail

    assert sorted(m.subject for m in mail.outbox) == [
        "[ml-connector] 3 purchase orders of acme-netsuite failed and need a person (threshold 3)",
        "[ml-connector] 5 vendor bills of acme-netsuite failed and need a person (threshold 3)"]
    assert mail.outbox[0].to == ["integration@example.com"]
    assert AlertIncident.objects.filter(resolved_at__isnull=True).count() == 2


def test_a_resolved_incident_that_happens_again_is_a_new_mail(pair):
    fail(pair, 3)
    check_alerts()
    SyncRecord.objects.filter(state=SyncRecord.State.FAILED).update(state=SyncRecord.State.DELIVERED)

    report = check_alerts()
    assert [i.kind for i in report.resolved] == [Kind.FAILURES] and len(mail.outbox) == 1

    SyncRecord.objects.update(state=SyncRecord.State.FAILED)
    check_alerts()
    assert len(mail.outbox) == 2 and AlertIncident.objects.count() == 2


def test_a_flow_that_has_not_succeeded_in_three_intervals_alerts_once(pair):
    FlowSchedule.objects.create(pair=pair, flow="vendors", every_minutes=10)
    now = timezone.now()
    SyncRun.objects.create(pair=pair, flow="vendors", started_at=now - timedelta(minutes=40),
                           finished_at=now - timedelta(minutes=39), succeeded=True)
    SyncRun.objects.create(pair=pair, flow="vendors", started_at=now - timedelta(minutes=5),
                           finished_at=now - timedelta(minutes=5), succeeded=False, message="NetSuite 503")

    check_alerts(now=now - timedelta(minutes=20))  # 19 minutes since the success: fine
    assert mail.outbox == []
    check_alerts(now=now)
    check_alerts(now=now + timedelta(minutes=5))

    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.startswith("[ml-connector] Vendors of acme-netsuite last succeeded at")
    assert "every 10 min" in mail.outbox[0].body


def test_a_failed_connection_test_and_an_expiring_refresh_token_each_alert(pair):
    NetSuiteConnection.objects.filter(pk=pair.netsuite_id).update(
        last_test_ok=False, last_test_result="NetSuite refused the token request: invalid_client")
    check_alerts()
    NetSuiteConnection.objects.filter(pk=pair.netsuite_id).update(
        last_test_ok=True, auth_method=NetSuiteAuthMethod.AUTHORIZATION_CODE,
        refresh_token_expires_at=timezone.now() + timedelta(hours=20))
    report = check_alerts()

    assert [i.kind for i in report.resolved] == [Kind.CONNECTION_TEST_FAILED]
    assert [m.subject for m in mail.outbox] == [
        "[ml-connector] NetSuite connection acme-netsuite failed its last test",
        "[ml-connector] The NetSuite refresh token of acme-netsuite expires at "
        f"{pair.netsuite.__class__.objects.get().refresh_token_expires_at:%Y-%m-%d %H:%M} UTC: "
        "a NetSuite administrator must consent again"]
    assert "invalid_client" in mail.outbox[0].body


def test_without_addresses_incidents_wait_and_are_mailed_once_addresses_are_set(pair, settings):
    settings.ALERT_EMAILS = []
    fail(pair, 3)
    call_command("send_alerts")
    assert mail.outbox == [] and AlertIncident.objects.get().notified_at is None

    settings.ALERT_EMAILS = ["ops@example.com"]
    call_command("send_alerts")
    call_command("send_alerts")

    assert [m.to for m in mail.outbox] == [["ops@example.com"]]


def test_a_cron_schedule_is_late_only_after_three_of_its_longest_gaps(pair):
    # Every 15 minutes from 06:00 to 20:45 on weekdays: the longest gap is the weekend, Friday 20:45 to Monday 06:00.
    schedule = FlowSchedule(pair=pair, flow="vendors", kind=FlowSchedule.Kind.CRON, cron="*/15 6-20 * * 1-5",
                            timezone="Europe/Berlin")

    assert schedule_interval(schedule, now=timezone.now()) == timedelta(hours=57, minutes=15)
