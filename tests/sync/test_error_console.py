"""The dashboard's error console, as finance uses it: failed, retrying and waiting records grouped by cause with
their counts, flows, age and fix; "replay all" queued for the worker with its honest outcome; "mark resolved" with
a note kept in each record's history; and the banner of open alerts, failing connections and failed runs on every
console page. Real sandboxes and PostgreSQL; the worker's part is done by django-q2's own worker code."""

from dataclasses import dataclass
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from credentials.diagnosis import check_connection
from credentials.permissions import FINANCE
from sync.engine.run import sync_pass
from sync.models import AlertIncident, GroupReplay, SyncEvent, SyncRecord
from sync.operations.alerts import Kind, check_alerts
from sync.operations.error_groups import error_groups, records_in
from sync.remote.errors import NetSuiteError
from tests.sync.helpers import netsuite_rows
from tests.sync.test_console import po_waiting_for_gl_mapping
from tests.sync.test_secrets import run_queued_tasks

pytestmark = pytest.mark.django_db
State = SyncRecord.State
PO_PATH = "/j1p/api/public/jp/v1/purchaseorders"
NO_ACCOUNT = "Line <n> of PO<n> has no GL account (expense account)"
UNKNOWN_CURRENCY = 'The purchase order PO<n> has an unknown currency (id "…")'
SERVER_ERROR = "JAGGAER HTTP 500 HTTP_500: Internal server error"
UNREACHABLE = "JAGGAER no response TRANSPORT: JAGGAER could not be reached (ConnectionError)"
UNMAPPED = "GL account 6100 Office Supplies (NetSuite id 8) unmapped"


@dataclass
class Causes:
    """One PO waiting for a mapping, and pairs of POs that failed or are retrying for one cause each."""

    waiting: SyncRecord
    no_account: list[SyncRecord]
    unknown_currency: list[SyncRecord]
    server_error: list[SyncRecord]
    unreachable: list[SyncRecord]


def po_records(netsuite_ids: list[str]) -> list[SyncRecord]:
    return list(SyncRecord.objects.filter(flow="purchase_orders", netsuite_id__in=netsuite_ids).order_by("pk"))


@pytest.fixture
def causes(pair, netsuite, jaggaer, settings) -> Causes:
    # Retries far enough away that each sync below sends only what it changed.
    settings.SYNC_RETRY_BASE_SECONDS = settings.SYNC_RETRY_CAP_SECONDS = 3600
    waiting = po_waiting_for_gl_mapping(pair=pair, netsuite=netsuite, jaggaer=jaggaer)
    on_account_8 = {row["id"] for row in netsuite_rows(
        netsuite, "SELECT DISTINCT transaction AS id FROM transactionline WHERE expenseaccount = 8")}
    pos = [row["id"] for row in netsuite_rows(
        netsuite, "SELECT id FROM transaction WHERE type = 'PurchOrd' AND status = 'B' ORDER BY id")
        if row["id"] not in on_account_8]
    dataset = netsuite.app.dataset
    for po_id in pos[0:2]:
        dataset.update_purchase_order_line(po_id, 1, account=None)
    dataset.update_purchase_order(pos[2], currency=98)
    dataset.update_purchase_order(pos[3], currency=99)
    for po_id in pos[4:6]:
        dataset.update_purchase_order(po_id, memo="Sent while JAGGAER answers 500")
    jaggaer.app.add_fault(kind="server_error", path=PO_PATH, method="POST")
    sync_pass(pair=pair, flows=["purchase_orders"])
    jaggaer.app.clear_faults()
    for po_id in pos[6:8]:
        dataset.update_purchase_order(po_id, memo="Sent while the line drops")
    jaggaer.app.add_fault(kind="drop_after_write", path=PO_PATH, count=1)
    sync_pass(pair=pair, flows=["purchase_orders"])
    jaggaer.app.clear_faults()
    found = Causes(waiting=waiting, no_account=po_records(pos[0:2]), unknown_currency=po_records(pos[2:4]),
                   server_error=po_records(pos[4:6]), unreachable=po_records(pos[6:8]))
    assert {r.state for r in found.no_account + found.unknown_currency} == {State.FAILED}
    assert {r.state for r in found.server_error + found.unreachable} == {State.RETRYING}
    return found


def finance_user(username: str = "fiona") -> User:
    user = User.objects.create_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name=FINANCE))
    return user


@pytest.fixture
def finance_client(client):
    client.force_login(finance_user())
    return client


def group_row(html: str, cause: str) -> str:
    """The dashboard's table row of one group."""
    html = unescape(html)
    start = html.index(f'<span class="cause-text">{cause}</span>')
    return html[html.rindex("<tr", 0, start):html.index("</tr>", start)]


def group_of(cause: str):
    [group] = [group for group in error_groups() if group.cause == cause]
    return group


def test_the_dashboard_groups_failed_retrying_and_waiting_records_by_cause_with_counts_flows_and_fixes(
        causes, pair, admin_client):
    html = admin_client.get(reverse("sync:dashboard")).content.decode()

    assert [group.cause for group in error_groups()] == [
        NO_ACCOUNT, UNKNOWN_CURRENCY, SERVER_ERROR, UNREACHABLE, UNMAPPED]  # failed ones first
    no_account = group_row(html, NO_ACCOUNT)
    assert "2 records" in no_account and "2 failed" in no_account and "Purchase orders (2)" in no_account
    assert any(f"e.g. Line 1 of {r.document_number} has no GL account" in no_account for r in causes.no_account)
    assert "Correct it in NetSuite" in no_account and "fix-link" not in no_account
    server_error = group_row(html, SERVER_ERROR)
    assert "2 retrying" in server_error and "Purchase orders (2)" in server_error
    unreachable = group_row(html, UNREACHABLE)
    connection_url = reverse("admin:credentials_jaggaerconnection_change", args=[pair.jaggaer_id])
    assert f'<a class="fix-link" href="{connection_url}">Check the JAGGAER connection</a>' in unreachable
    unmapped = group_row(html, UNMAPPED)
    add_url = reverse("admin:mappings_codingmapping_add")
    assert f'href="{add_url}?pair={pair.pk}&kind=gl_account&netsuite_id=8">Map it</a>' in unmapped
    assert "1 waiting for mapping" in unmapped
    assert all(f"Replay all {n}" in row for row, n in [(no_account, 2), (server_error, 2), (unmapped, 1)])
    assert "Nothing is waiting" not in html
    # The flows table counts the failed and retrying POs too.
    panel = html[html.index('<tr data-flow="purchase_orders">'):]
    assert 'class="count failed"' in panel and "state__exact=failed\">4</a>" in panel
    assert "state__exact=retrying\">4</a>" in panel


def test_each_group_opens_exactly_its_records_in_the_record_list(causes, admin_client):
    groups = error_groups()
    assert len(groups) == 5

    for group in groups:
        listed = admin_client.get(group.list_url).context["cl"].result_list

        assert sorted(record.pk for record in listed) == sorted(records_in(group.key).values_list("pk", flat=True))
        assert len(listed) == group.records
    assert list(records_in(group_of(NO_ACCOUNT).key).order_by("pk")) == causes.no_account


def test_open_alerts_failing_connections_and_a_failed_run_show_on_every_console_page(
        causes, pair, netsuite, settings, finance_client):
    settings.ALERT_FAILED_RECORDS = 4
    # An administrator's "Test connection" after JAGGAER's client secret was rotated, and a run that NetSuite
    # answers with a proxy's error page.
    pair.jaggaer.client_secret = "rotated-elsewhere"
    pair.jaggaer.save()
    check_connection(connection=pair.jaggaer)
    netsuite.app.faults.add_broken_answers(mode="html")
    with pytest.raises(NetSuiteError):
        sync_pass(pair=pair, flows=["vendors"])
    check_alerts()
    pages = [reverse("sync:dashboard"), reverse("sync:reconciliation"), reverse("admin:mappings_unmappedcode_changelist"),
             reverse("admin:sync_syncrecord_changelist"), reverse("admin:mappings_codingmapping_changelist"),
             reverse("admin:sync_syncrun_changelist")]

    for url in pages:
        html = finance_client.get(url).content.decode()
        banner = html[html.index('<ul id="console-banner"'):html.index("</ul>", html.index('id="console-banner"'))]

        assert f"JAGGAER connection {pair.jaggaer.name} failed its last test" in banner, url
        assert "JAGGAER refused the client id or client secret" in banner, url
        assert "4 purchase orders of" in banner and "failed and need a person" in banner, url
        assert "The last run of vendors" in banner and "NetSuite answered with" in banner, url
        # Finance never sees connections: the fault is named, the connection page is not linked.
        assert "Open the connection" not in banner, url
    dashboard = finance_client.get(reverse("sync:dashboard")).content.decode()
    assert '<tr class="run-failure" data-flow="vendors"><td colspan="11">Its last run failed: ' in dashboard


def test_the_login_page_and_staff_without_the_sync_see_no_banner(pair, client, admin_client):
    type(pair.netsuite).objects.filter(pk=pair.netsuite.pk).update(last_test_ok=False)
    assert "console-banner" in admin_client.get(reverse("admin:index")).content.decode()

    assert "console-banner" not in client.get(reverse("admin:login")).content.decode()
    client.force_login(User.objects.create_user("stranger", is_staff=True))
    assert "console-banner" not in client.get(reverse("admin:index")).content.decode()


def test_replay_all_is_queued_for_the_worker_and_the_dashboard_then_says_what_was_delivered(
        causes, jaggaer, finance_client, django_capture_on_commit_callbacks):
    writes, queued = len(jaggaer.app.received("purchase_order")), OrmQ.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        answer = finance_client.post(reverse("sync:replay-group"), {"group": group_of(SERVER_ERROR).key}, follow=True)

    # Queued, not sent from the web request.
    html = answer.content.decode()
    assert "Replay of 2 records queued" in html and "Waiting for the worker to replay 2 records" in html
    assert len(jaggaer.app.received("purchase_order")) == writes and OrmQ.objects.count() == queued + 1
    assert "Being replayed" in group_row(html, SERVER_ERROR)

    run_queued_tasks()

    html = finance_client.get(reverse("sync:dashboard")).content.decode()
    assert "Replayed 2: 2 delivered" in html
    assert {r.state for r in SyncRecord.objects.filter(pk__in=[r.pk for r in causes.server_error])} == {State.DELIVERED}
    assert sorted(entry["key"] for entry in jaggaer.app.received("purchase_order")[writes:]) == sorted(
        r.document_number for r in causes.server_error)
    assert f'<span class="cause-text">{SERVER_ERROR}</span>' not in html
    assert SyncEvent.objects.filter(record=causes.server_error[0], reason="Replay requested", actor="fiona").exists()


def test_a_replay_that_fails_again_says_so(causes, finance_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(reverse("sync:replay-group"), {"group": group_of(NO_ACCOUNT).key})
    run_queued_tasks()

    html = finance_client.get(reverse("sync:dashboard")).content.decode()

    assert "Replayed 2: 2 failed again" in html
    assert "2 failed" in group_row(html, NO_ACCOUNT)


def test_a_second_replay_of_a_group_being_replayed_is_refused(causes, finance_client,
                                                               django_capture_on_commit_callbacks):
    key, queued = group_of(SERVER_ERROR).key, OrmQ.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(reverse("sync:replay-group"), {"group": key})
        again = finance_client.post(reverse("sync:replay-group"), {"group": key}, follow=True)

    assert "That group is being replayed already" in again.content.decode()
    assert GroupReplay.objects.count() == 1 and OrmQ.objects.count() == queued + 1


def test_a_running_replay_shows_how_far_it_is(causes, finance_client):
    GroupReplay.objects.create(group_key="error:1:x:y", cause="Some cause: 120 POs", record_ids=list(range(1, 121)),
                               requested_by="fiona", requested_at=timezone.now(), status=GroupReplay.Status.RUNNING,
                               done=40, outcome={"delivered": 38, "failed": 2})

    html = finance_client.get(reverse("sync:dashboard")).content.decode()
    progress = finance_client.get(reverse("sync:replay-progress", args=[GroupReplay.objects.get().pk])).json()

    assert "Replaying 40 of 120: 38 delivered, 2 failed again so far" in html
    assert progress == {"status": "running", "done": 40, "total": 120, "finished": False,
                        "text": "Replaying 40 of 120: 38 delivered, 2 failed again so far"}


def test_mark_resolved_keeps_the_note_who_and_when_in_each_record_history_and_the_group_leaves(
        causes, finance_client, admin_client, settings):
    settings.ALERT_FAILED_RECORDS = 3  # the 4 failed POs would alert; the 2 left after this do not
    note = "Entered by hand in JAGGAER by AP, ticket FIN-311"
    before = timezone.now()

    answer = finance_client.post(reverse("sync:resolve-group"), {"group": group_of(UNKNOWN_CURRENCY).key,
                                                                  "note": note}, follow=True)

    html = answer.content.decode()
    assert "Marked 2 records resolved." in html and UNKNOWN_CURRENCY.replace('"', "&quot;") not in html
    for record in causes.unknown_currency:
        record.refresh_from_db()
        event = record.events.first()
        assert record.state == State.RESOLVED and record.next_attempt_at is None
        assert (event.from_state, event.to_state, event.actor) == (State.FAILED, State.RESOLVED, "fiona")
        assert event.reason == f"Marked resolved: {note}" and event.at >= before
    page = admin_client.get(reverse("admin:sync_syncrecord_change", args=[causes.unknown_currency[0].pk]))
    assert note in page.content.decode() and "fiona" in page.content.decode()
    assert not AlertIncident.objects.filter(pk__in=[i.pk for i in check_alerts().opened], kind=Kind.FAILURES)


def test_mark_resolved_needs_a_note(causes, finance_client):
    answer = finance_client.post(reverse("sync:resolve-group"), {"group": group_of(NO_ACCOUNT).key, "note": "  "},
                                 follow=True)

    assert "the note is kept with each record" in answer.content.decode()
    assert not SyncRecord.objects.filter(state=State.RESOLVED).exists()


def test_without_the_replay_permission_there_are_no_buttons_and_posts_are_refused(causes, client):
    reader = User.objects.create_user("reader", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_syncrecord"))
    client.force_login(reader)
    key = group_of(NO_ACCOUNT).key

    html = unescape(client.get(reverse("sync:dashboard")).content.decode())
    replay = client.post(reverse("sync:replay-group"), {"group": key})
    resolve = client.post(reverse("sync:resolve-group"), {"group": key, "note": "no"})

    assert NO_ACCOUNT in html and "Replay all" not in html and "Mark resolved" not in html
    assert replay.status_code == resolve.status_code == 403
    assert not GroupReplay.objects.exists() and not SyncRecord.objects.filter(state=State.RESOLVED).exists()


def test_nothing_is_waiting_only_when_nothing_failed_retries_or_waits(pair, netsuite, jaggaer, finance_client):
    sync_pass(pair=pair)
    assert "Nothing is waiting" in finance_client.get(reverse("sync:dashboard")).content.decode()
    record = SyncRecord.objects.filter(flow="vendors").first()
    SyncRecord.objects.filter(pk=record.pk).update(state=State.FAILED, last_error_code="HTTP_400",
                                                   last_error_message="JAGGAER HTTP 400 HTTP_400: Bad request")

    html = finance_client.get(reverse("sync:dashboard")).content.decode()

    assert "Nothing is waiting" not in html
    assert "1 failed" in group_row(html, "JAGGAER HTTP 400 HTTP_400: Bad request")


def test_a_record_being_sent_is_not_marked_resolved(causes, finance_client):
    busy, free = causes.server_error
    SyncRecord.objects.filter(pk=busy.pk).update(claim_token="held", claimed_until=timezone.now() + timedelta(minutes=5))

    answer = finance_client.post(reverse("sync:resolve-group"), {"group": group_of(SERVER_ERROR).key,
                                                                  "note": "Sent by hand"}, follow=True)

    assert "Marked 1 record resolved; 1 being sent at that moment were left as they are." in answer.content.decode()
    assert SyncRecord.objects.get(pk=busy.pk).state == State.RETRYING
    assert SyncRecord.objects.get(pk=free.pk).state == State.RESOLVED


def test_a_resolved_record_that_changes_in_netsuite_is_sent_again(causes, pair, netsuite, finance_client):
    finance_client.post(reverse("sync:resolve-group"), {"group": group_of(NO_ACCOUNT).key, "note": "Fixed later"})
    fixed = causes.no_account[0]
    netsuite.app.dataset.update_purchase_order_line(fixed.netsuite_id, 1, account=9)

    sync_pass(pair=pair, flows=["purchase_orders"])

    assert SyncRecord.objects.get(pk=fixed.pk).state == State.DELIVERED
    assert SyncRecord.objects.get(pk=causes.no_account[1].pk).state == State.RESOLVED


def test_a_replay_stopped_by_an_error_says_where_and_why(causes, pair, jaggaer, finance_client,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(reverse("sync:replay-group"), {"group": group_of(SERVER_ERROR).key})
    # Meanwhile the client secret is rotated in JAGGAER only, and JAGGAER forgets the tokens it gave.
    pair.jaggaer.client_secret = "rotated-elsewhere"
    pair.jaggaer.save()
    jaggaer.app.reset()

    run_queued_tasks()

    html = finance_client.get(reverse("sync:dashboard")).content.decode()
    assert "Stopped after 0 of 2 by an error: JAGGAER" in html
    assert GroupReplay.objects.get().status == GroupReplay.Status.CRASHED
