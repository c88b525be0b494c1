"""The operator's record list and record page: filters and search, why a record waits and the link that
releases it, and replays that show what they would send before sending it once."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from credentials.permissions import FINANCE
from mappings.models import JaggaerValue, NetSuiteReference
from sync.engine.run import sync_pass
from sync.models import SyncRecord
from sync.operations.error_groups import error_groups
from tests.sync.test_deliver import po_using_account

pytestmark = pytest.mark.django_db
State = SyncRecord.State
CHANGELIST = "admin:sync_syncrecord_changelist"


def po_waiting_for_gl_mapping(*, pair, netsuite, jaggaer) -> SyncRecord:
    """Everything delivered, then finance retires GL 6100 in JAGGAER and a PO coded to it (NetSuite account 8)
    changes: it waits for a mapping of account 8."""
    sync_pass(pair=pair)
    jaggaer.app.set_custom_field_value(field="GLAccount", internal_name="6100", description="Office Supplies",
                                       active=False)
    po = po_using_account(netsuite, "8")
    netsuite.app.dataset.update_purchase_order(po["id"], memo="Recoded after the GL clean-up")
    sync_pass(pair=pair, flows=["gl_accounts", "purchase_orders"])
    record = SyncRecord.objects.get(pair=pair, flow="purchase_orders", netsuite_id=po["id"])
    assert record.state == State.WAITING_FOR_MAPPING
    return record


def listed(answer) -> list[str]:
    return [str(record) for record in answer.context["cl"].result_list]


def test_record_page_shows_attempts_why_it_waits_and_the_link_that_releases_it(pair, netsuite, jaggaer, admin_client):
    record = po_waiting_for_gl_mapping(pair=pair, netsuite=netsuite, jaggaer=jaggaer)

    html = admin_client.get(reverse("admin:sync_syncrecord_change", args=[record.pk])).content.decode()

    assert "GL account 6100 Office Supplies (NetSuite id 8)" in html
    add_url = reverse("admin:mappings_codingmapping_add")
    assert f'href="{add_url}?pair={pair.pk}&amp;kind=gl_account&amp;netsuite_id=8">Map it</a>' in html
    # The timeline: the first delivery (sent and answered) and the wait, newest first.
    assert "Created in JAGGAER" in html and "HTTP 200 Created" in html
    assert html.index("has no JAGGAER GLAccount mapping") < html.index("Created in JAGGAER")
    host = pair.netsuite.host_label
    assert f"https://{host}.app.netsuite.com/app/accounting/transactions/purchord.nl?id={record.netsuite_id}" in html


def test_a_record_waiting_for_its_supplier_links_to_the_supplier_record(pair, netsuite, jaggaer, admin_client):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"])
    vendor = SyncRecord.objects.filter(flow="vendors").first()
    vendor.state, vendor.delivered_sha256, vendor.in_jaggaer = State.FAILED, "", False
    vendor.save()
    po_id = netsuite.app.dataset.create_purchase_order(vendor_id=vendor.netsuite_id,
                                                       lines=[{"account": 8, "amount": 40}])
    sync_pass(pair=pair, flows=["purchase_orders"])
    po = SyncRecord.objects.get(flow="purchase_orders", netsuite_id=po_id)
    assert po.state == State.WAITING_FOR_DEPENDENCY and po.blocked_by == f"vendors:{vendor.netsuite_id}"

    html = admin_client.get(reverse("admin:sync_syncrecord_change", args=[po.pk])).content.decode()

    vendor_url = reverse("admin:sync_syncrecord_change", args=[vendor.pk])
    assert f'<a class="release-link" href="{vendor_url}">{vendor}</a> (Failed) is delivered' in html
    # The vendor's other POs wait for it too: one group, one link to the record that releases them all.
    waiting = SyncRecord.objects.filter(flow="purchase_orders", blocked_by=po.blocked_by)
    [group] = [g for g in error_groups() if g.kind == "dependency"]
    assert group.summary == f"Waiting for vendor {vendor.label} failed: {waiting.count()} POs"
    assert group.fix.url == vendor_url and waiting.count() > 1
    assert sorted(listed(admin_client.get(group.list_url))) == sorted(str(r) for r in waiting)


def test_list_filters_by_flow_state_error_kind_and_age_and_searches_by_number_vendor_and_id(
        pair, netsuite, jaggaer, admin_client):
    waiting = po_waiting_for_gl_mapping(pair=pair, netsuite=netsuite, jaggaer=jaggaer)
    old = SyncRecord.objects.filter(flow="vendors").first()
    SyncRecord.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=10))
    url = reverse(CHANGELIST)

    by_state = admin_client.get(url, {"flow__exact": "purchase_orders", "state__exact": "waiting_for_mapping"})
    by_kind = admin_client.get(url, {"last_error_kind__exact": "mapping"})
    by_age = admin_client.get(url, {"age": "older"})
    by_code = admin_client.get(url, {"missing": "gl_account:8"})
    by_number = admin_client.get(url, {"q": waiting.document_number})
    by_netsuite_id = admin_client.get(url, {"q": waiting.netsuite_id, "flow__exact": "purchase_orders"})
    by_vendor_name = admin_client.get(url, {"q": waiting.label, "flow__exact": "purchase_orders"})

    assert listed(by_state) == listed(by_kind) == listed(by_code) == [str(waiting)]
    assert listed(by_age) == [str(old)]
    assert str(waiting) in listed(by_number)
    assert str(waiting) in listed(by_netsuite_id)
    others = SyncRecord.objects.filter(flow="purchase_orders").exclude(pk=waiting.pk)
    assert all(waiting.netsuite_id in str(r) for r in others if str(r) in listed(by_netsuite_id))
    vendor_pos = SyncRecord.objects.filter(flow="purchase_orders", netsuite_entity=waiting.netsuite_entity)
    assert sorted(listed(by_vendor_name)) == sorted(str(r) for r in vendor_pos)


def test_replay_preview_shows_the_payload_and_sends_nothing_until_confirmed(pair, netsuite, jaggaer, admin_client):
    sync_pass(pair=pair)
    record = SyncRecord.objects.filter(flow="purchase_orders", state=State.DELIVERED).first()
    writes = len(jaggaer.app.received("purchase_order"))
    form = {"action": "replay_selected", "_selected_action": [record.pk]}

    preview = admin_client.post(reverse(CHANGELIST), form)

    html = preview.content.decode()
    assert "Would send as update" in html and f"&quot;poNumber&quot;: &quot;{record.document_number}&quot;" in html
    assert "&quot;revisionNumber&quot;: 1" in html
    assert len(jaggaer.app.received("purchase_order")) == writes

    done = admin_client.post(reverse(CHANGELIST), {**form, "confirm": "yes"}, follow=True)

    assert "Replayed. purchase_orders: 1 delivered" in done.content.decode()
    sent = jaggaer.app.received("purchase_order")[writes:]
    assert [(entry["key"], entry["type"]) for entry in sent] == [(record.document_number, "update")]
    assert jaggaer.app.purchase_orders[record.document_number]["poHeader"]["revisionNumber"] == 1


def test_replay_everything_failed_in_the_filter_previews_then_replays_only_those(
        pair, netsuite, jaggaer, admin_client):
    sync_pass(pair=pair)
    pos = list(SyncRecord.objects.filter(flow="purchase_orders").order_by("pk")[:3])
    SyncRecord.objects.filter(pk__in=[pos[0].pk, pos[1].pk]).update(state=State.FAILED)
    SyncRecord.objects.filter(flow="vendors").update(state=State.FAILED)  # outside the filter
    writes = len(jaggaer.app.received())
    url = reverse("admin:sync_syncrecord_replay_failed") + "?flow__exact=purchase_orders"

    preview = admin_client.get(url)

    assert "2 records would be replayed now" in preview.content.decode()
    assert len(jaggaer.app.received()) == writes

    admin_client.post(url, {"confirm": "yes"})

    sent = jaggaer.app.received()[writes:]
    assert sorted(entry["key"] for entry in sent) == sorted([pos[0].document_number, pos[1].document_number])
    assert not SyncRecord.objects.filter(flow="purchase_orders", state=State.FAILED).exists()
    assert SyncRecord.objects.filter(flow="vendors", state=State.FAILED).exists()


def test_the_refresh_button_reads_both_reference_lists_whole(pair, netsuite, jaggaer, client):
    user = User.objects.create_user("frank", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=FINANCE))
    client.force_login(user)
    changelist = client.get(reverse("admin:mappings_codingmapping_changelist")).content.decode()
    assert "Refresh reference lists" in changelist

    answer = client.post(reverse("sync:refresh-references"), follow=True)

    assert "read 16 gl accounts, 23 classifications from NetSuite" in answer.content.decode()
    assert NetSuiteReference.objects.filter(reference_list__kind="gl_account").count() == 16
    assert JaggaerValue.objects.filter(field__name="GLAccount").count() == 16  # 6900 inactive, as in NetSuite
