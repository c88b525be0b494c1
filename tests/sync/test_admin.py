"""What finance and integration staff see of sync records in the admin."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from credentials.permissions import FINANCE
from sync.engine.run import sync_pass
from sync.models import SyncRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_client(client):
    user = User.objects.create_user("fiona", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=FINANCE))
    client.force_login(user)
    return client


def test_finance_sees_a_record_with_its_attempts_and_what_was_sent(pair, netsuite, jaggaer, finance_client):
    sync_pass(pair=pair, flows=["gl_accounts"])
    record = SyncRecord.objects.get(flow="gl_accounts", document_number="6100")

    listing = finance_client.get(reverse("admin:sync_syncrecord_changelist"), {"q": "6100"})
    page = finance_client.get(reverse("admin:sync_syncrecord_change", args=[record.pk]))

    assert listing.status_code == 200 and "Operating Expenses : Office Supplies" in listing.content.decode()
    html = page.content.decode()
    assert page.status_code == 200
    assert "Created in JAGGAER" in html and "&quot;internalName&quot;: &quot;6100&quot;" in html
    assert "Read from NetSuite" in html


def test_replay_from_the_admin_sends_the_next_revision(pair, netsuite, jaggaer, admin_client):
    sync_pass(pair=pair)
    record = SyncRecord.objects.filter(flow="purchase_orders").first()

    answer = admin_client.post(reverse("admin:sync_syncrecord_changelist"),
                               {"action": "replay_selected", "_selected_action": [record.pk], "confirm": "yes"}, follow=True)

    assert "Replayed. purchase_orders: 1 delivered" in answer.content.decode()
    assert jaggaer.app.purchase_orders[record.document_number]["poHeader"]["revisionNumber"] == 1


def test_finance_may_replay_records_but_not_change_them(pair, netsuite, jaggaer, finance_client):
    sync_pass(pair=pair)
    record = SyncRecord.objects.filter(flow="purchase_orders").first()
    changelist = reverse("admin:sync_syncrecord_changelist")

    preview = finance_client.post(changelist, {"action": "replay_selected", "_selected_action": [record.pk]})
    answer = finance_client.post(changelist, {"action": "replay_selected", "_selected_action": [record.pk],
                                              "confirm": "yes"}, follow=True)

    assert preview.status_code == 200 and "would be replayed" in preview.content.decode()
    assert "Replayed. purchase_orders: 1 delivered" in answer.content.decode()
    assert record.events.get(reason="Replay requested").actor == "fiona"
    assert jaggaer.app.purchase_orders[record.document_number]["poHeader"]["revisionNumber"] == 1
    user = User.objects.get(username="fiona")
    assert user.has_perm("sync.replay_syncrecord") and not user.has_perm("sync.change_syncrecord")


def test_a_replay_that_fails_again_is_reported_as_a_failure_with_each_reason(pair, netsuite, jaggaer,
                                                                              finance_client):
    sync_pass(pair=pair, flows=["gl_accounts", "classifications", "vendors"])
    jaggaer.app.add_fault(kind="batch_failure", return_code=1, message="Import rejected",
                          path="/j1p/api/public/jp/v1/purchaseorders")
    sync_pass(pair=pair, flows=["purchase_orders"])
    record = SyncRecord.objects.filter(flow="purchase_orders", state=SyncRecord.State.FAILED).first()

    answer = finance_client.post(reverse("admin:sync_syncrecord_changelist"),
                                 {"action": "replay_selected", "_selected_action": [record.pk], "confirm": "yes"},
                                 follow=True)

    shown = [(message.level_tag, message.message) for message in answer.context["messages"]]
    assert ("error", "Replayed. purchase_orders: 1 failed") in shown
    assert any(level == "error" and message.startswith(f"{record}: Failed: ") and "Import rejected" in message
               for level, message in shown)
