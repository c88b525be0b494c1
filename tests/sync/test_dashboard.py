"""The dashboard: per flow counts, runs and throughput, and stuck records grouped under the mapping that
would release them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sync.models import FlowSchedule, SyncRecord
from sync.operations.dashboard import flow_panels
from sync.operations.error_groups import error_groups
from tests.sync.test_console import po_waiting_for_gl_mapping

pytestmark = pytest.mark.django_db


def test_dashboard_groups_a_stuck_po_under_its_missing_mapping_with_the_link(pair, netsuite, jaggaer, admin_client):
    record = po_waiting_for_gl_mapping(pair=pair, netsuite=netsuite, jaggaer=jaggaer)
    next_run = timezone.now() + timedelta(minutes=15)
    FlowSchedule.objects.create(pair=pair, flow="purchase_orders", every_minutes=15, next_run_at=next_run)

    html = admin_client.get(reverse("sync:dashboard")).content.decode()

    assert "GL account 6100 Office Supplies (NetSuite id 8) unmapped" in html and "Purchase orders (1)" in html
    add_url = reverse("admin:mappings_codingmapping_add")
    assert f'href="{add_url}?pair={pair.pk}&amp;kind=gl_account&amp;netsuite_id=8">Map it</a>' in html
    [group] = error_groups()
    assert group.summary == "GL account 6100 Office Supplies (NetSuite id 8) unmapped: 1 PO"
    listing = admin_client.get(group.list_url)
    assert [r.pk for r in listing.context["cl"].result_list] == [record.pk]


def test_flow_panels_count_states_and_show_last_and_next_run_backlog_and_throughput(pair, netsuite, jaggaer):
    record = po_waiting_for_gl_mapping(pair=pair, netsuite=netsuite, jaggaer=jaggaer)
    SyncRecord.objects.filter(pk=record.pk).update(next_attempt_at=timezone.now() - timedelta(hours=2))
    next_run = timezone.now() + timedelta(minutes=15)
    FlowSchedule.objects.create(pair=pair, flow="purchase_orders", every_minutes=15, next_run_at=next_run)

    panel = next(p for p in flow_panels() if p.flow == "purchase_orders")

    all_pos = SyncRecord.objects.filter(flow="purchase_orders").count()
    assert panel.counts == {"delivered": all_pos - 1, "waiting_for_mapping": 1}
    assert panel.last_run is not None and panel.last_run.succeeded
    assert panel.next_run_at == next_run
    assert timedelta(hours=2) <= panel.backlog_age < timedelta(hours=2, minutes=1)
    assert panel.delivered_last_day == all_pos and panel.per_hour == round(all_pos / 24, 1)


def test_admin_index_links_to_the_dashboard(pair, admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()

    assert f'<a href="{reverse("sync:dashboard")}">Sync dashboard</a>' in html
    assert reverse("sync:reconciliation") in html


def test_dashboard_needs_a_login(client):
    answer = client.get(reverse("sync:dashboard"))

    assert answer.status_code == 302 and "/admin/login/" in answer["Location"]
