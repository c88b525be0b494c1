"""Storing the reference lists the sync flows read from NetSuite."""

from mappings.models import NetSuiteReference, NetSuiteReferenceList
from mappings.references import store_netsuite_reference


def test_accounts_are_stored_from_suiteql_rows_and_named_by_their_own_name(pair) -> None:
    store_netsuite_reference(connection=pair.netsuite, kind="gl_account", rows=[
        {"id": 8, "acctnumber": "6100", "fullname": "Operating Expenses : Office Supplies", "accttype": "Expense",
         "isinactive": "F", "parent": 7},
        {"id": 9, "acctnumber": "6900", "fullname": "Old", "accttype": "Expense", "isinactive": "T", "parent": None},
    ])

    office = NetSuiteReference.objects.get(netsuite_id="8")
    assert (office.number, office.name, office.fullname, office.parent_id, office.inactive) == (
        "6100", "Office Supplies", "Operating Expenses : Office Supplies", "7", False
    )
    assert NetSuiteReference.objects.get(netsuite_id="9").inactive
    assert str(office) == "GL account 6100 Office Supplies (NetSuite id 8)"


def test_a_later_read_updates_changed_rows_keeps_the_others_and_moves_the_refresh_time(pair) -> None:
    store_netsuite_reference(connection=pair.netsuite, kind="department", rows=[
        {"id": "5", "name": "Sales", "fullname": "Sales", "isinactive": "F"},
        {"id": "6", "name": "R&D", "fullname": "R&D", "isinactive": "F"},
    ])
    first = NetSuiteReferenceList.objects.get().refreshed_at

    store_netsuite_reference(connection=pair.netsuite, kind="department", rows=[
        {"id": "5", "name": "Sales EU", "fullname": "Sales EU", "isinactive": "T"},
    ])

    assert sorted(NetSuiteReference.objects.values_list("netsuite_id", "name", "inactive")) == [
        ("5", "Sales EU", True), ("6", "R&D", False)
    ]
    assert NetSuiteReferenceList.objects.get().refreshed_at > first
