"""Records waiting for a mapping are released when the mapping is saved or the JAGGAER value appears; the
flows' identity proposals wait for finance."""

from mappings.identity import confirm_proposals, map_by_same_number, propose_identity_mappings
from mappings.models import CodingMapping, CodingRule, PairCodingRule
from sync.engine.releases import release_waiting_records
from sync.models import SyncRecord
from tests.mappings.conftest import load_gl_accounts, load_jaggaer_values, make_pair

WAITING = SyncRecord.State.WAITING_FOR_MAPPING
PENDING = SyncRecord.State.PENDING


def states(*records: SyncRecord) -> list[str]:
    return [SyncRecord.objects.get(pk=record.pk).state for record in records]


def test_saving_a_mapping_releases_only_the_records_waiting_for_that_code(pair, waiting_record) -> None:
    blocked = waiting_record(("gl_account", "123"))
    blocked_twice = waiting_record(("gl_account", "123"), ("department", "5"))
    other_code = waiting_record(("gl_account", "124"))
    same_id_other_kind = waiting_record(("department", "123"))
    other_pair = waiting_record(("gl_account", "123"), for_pair=make_pair())

    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100")

    assert states(blocked, blocked_twice, other_code, same_id_other_kind, other_pair) == [
        PENDING, PENDING, WAITING, WAITING, WAITING
    ]


def test_a_release_is_due_now_and_says_why_and_who_in_the_records_events(pair, waiting_record) -> None:
    from django.contrib.auth.models import User
    from django.utils import timezone

    record = waiting_record(("department", "5"))
    mapping = CodingMapping(pair=pair, kind="department", netsuite_id="5", jaggaer_value="CC-SALES")
    mapping._history_user = User.objects.create_user("fiona")
    mapping.save()

    record.refresh_from_db()
    assert record.state == PENDING and record.next_attempt_at <= timezone.now()
    event = record.events.get()
    assert (event.from_state, event.to_state, event.actor) == (WAITING, PENDING, "fiona")
    assert event.reason == "Mapping saved: Department 5 → CC-SALES"


def test_a_confirmed_row_supersedes_the_proposal_for_its_code(pair) -> None:
    propose_identity_mappings(pair=pair, kind="gl_account", values={"123": "6100", "124": "6200"})

    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6000")

    assert sorted(CodingMapping.objects.values_list("netsuite_id", "jaggaer_value", "status")) == [
        ("123", "6000", "confirmed"), ("124", "6200", "proposed")
    ]
    assert [h.history_type for h in CodingMapping.history.filter(jaggaer_value="6100").order_by("history_id")] == [
        "+", "-"
    ]


def test_a_proposal_releases_nothing_until_confirmed(pair, waiting_record) -> None:
    record = waiting_record(("gl_account", "123"))

    assert propose_identity_mappings(pair=pair, kind="gl_account", values={"123": "6100"}) == 1
    assert states(record) == [WAITING]

    confirmed = confirm_proposals(mappings=CodingMapping.objects.filter(pair=pair), acting_user=None)

    assert confirmed == 1
    assert states(record) == [PENDING]


def test_proposals_skip_codes_that_already_have_a_row(pair) -> None:
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="CUSTOM")

    created = propose_identity_mappings(pair=pair, kind="gl_account", values={"123": "6100", "124": "6200"})
    again = propose_identity_mappings(pair=pair, kind="gl_account", values={"124": "6200"})

    assert (created, again) == (1, 0)
    assert sorted(CodingMapping.objects.values_list("netsuite_id", "jaggaer_value", "status")) == [
        ("123", "CUSTOM", "confirmed"), ("124", "6200", "proposed")
    ]
    assert CodingMapping.history.filter(netsuite_id="124").count() == 1


def test_a_jaggaer_value_appearing_releases_records_mapped_to_it(pair, waiting_record) -> None:
    load_jaggaer_values(pair, "gl_account", "6300")
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100")
    record = waiting_record(("gl_account", "123"))  # waits: JAGGAER does not have 6100 yet
    unrelated = waiting_record(("gl_account", "999"))

    load_jaggaer_values(pair, "gl_account", "6300", "6100")

    assert states(record, unrelated) == [PENDING, WAITING]
    assert record.events.get().reason == "JAGGAER value now active: 6100"


def test_under_the_same_number_rule_a_new_value_releases_the_account_with_that_number(pair, waiting_record) -> None:
    PairCodingRule.objects.create(pair=pair, rule=CodingRule.SAME_NUMBER)
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"))
    load_jaggaer_values(pair, "gl_account", inactive=("6100",))
    record = waiting_record(("gl_account", "123"))

    load_jaggaer_values(pair, "gl_account", inactive=("6100",))
    assert states(record) == [WAITING]  # still inactive: nothing appeared

    load_jaggaer_values(pair, "gl_account", "6100")
    assert states(record) == [PENDING]


def test_a_complete_list_deactivates_values_jaggaer_no_longer_lists(pair) -> None:
    load_jaggaer_values(pair, "gl_account", "6100", "6200")
    load_jaggaer_values(pair, "gl_account", "6100")

    field = pair.jaggaer.custom_fields.get(name="GLAccount")
    assert dict(field.values.values_list("internal_name", "active")) == {"6100": True, "6200": False}
    assert field.values_refreshed_at is not None


def test_release_waiting_records_counts_what_it_released(pair, waiting_record) -> None:
    waiting_record(("class", "7"))
    waiting_record(("class", "7"))
    waiting_record(("class", "8"))

    assert release_waiting_records(pair=pair, kind="class", netsuite_ids=["7", "8"]) == 3
    assert release_waiting_records(pair=pair, kind="class", netsuite_ids=["7"]) == 0


def test_map_by_same_number_maps_only_codes_with_an_identical_active_value(pair, waiting_record) -> None:
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"), ("124", "6200", "Travel"), ("125", "6300", "Meals"))
    load_jaggaer_values(pair, "gl_account", "6100", "6300", inactive=("6200",))
    CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="125", jaggaer_value="MEALS")
    record = waiting_record(("gl_account", "123"))

    outcome = map_by_same_number(
        pair=pair, codes=[("gl_account", "123"), ("gl_account", "124"), ("gl_account", "125")], acting_user=None
    )

    assert (outcome.mapped, outcome.already_mapped, outcome.no_identical_value) == (1, 1, 1)
    assert CodingMapping.objects.get(netsuite_id="123").jaggaer_value == "6100"
    assert states(record) == [PENDING]


def test_under_the_same_number_rule_only_values_the_rule_would_not_pick_are_proposed(pair) -> None:
    PairCodingRule.objects.create(pair=pair, rule=CodingRule.SAME_NUMBER)
    load_gl_accounts(pair, ("123", "6100", "Office Supplies"), ("124", "", "Travel (no number)"))

    # 123 goes out as its number, which the rule picks anyway; 124 has no number, so its id was pushed.
    proposed = propose_identity_mappings(pair=pair, kind="gl_account", values={"123": "6100", "124": "124"})
    covered = propose_identity_mappings(pair=pair, kind="department", values={"5": "5"})

    assert (proposed, covered) == (0, 0)
    assert propose_identity_mappings(pair=pair, kind="gl_account", values={"123": "6100-OLD"}) == 1
    assert list(CodingMapping.objects.values_list("netsuite_id", "jaggaer_value")) == [("123", "6100-OLD")]
