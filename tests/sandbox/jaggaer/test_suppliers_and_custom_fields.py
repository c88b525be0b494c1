"""Suppliers and custom-field values in the JAGGAER sandbox (spec sections 3 and 4)."""

from tests.sandbox.jaggaer.builders import errors_of, supplier


def _send_suppliers(api, *suppliers: dict) -> list[dict]:
    return api.results("/js/v1/suppliers", {"supplierList": {"supplier": list(suppliers)}})


def test_a_new_supplier_is_created_and_an_identical_resend_is_unchanged(api):
    first = _send_suppliers(api, supplier("77", email="ap@acme.example"))
    again = _send_suppliers(api, supplier("77", email="ap@acme.example"))
    changed = _send_suppliers(api, supplier("77", email="billing@acme.example"))

    assert first[0]["status"] == "Created" and first[0]["key"] == "77"
    assert again[0] == {"key": "77", "status": "Unchanged", "id": first[0]["id"]}
    assert changed[0] == {"key": "77", "status": "Updated", "id": first[0]["id"]}
    assert api.get("/js/v1/suppliers/77").json()["supplier"]["email"] == "billing@acme.example"


def test_reading_a_missing_supplier_answers_returncode_2_in_http_200(api):
    response = api.get("/js/v1/suppliers/404")

    assert response.status_code == 200
    assert response.json()["returnCode"] == 2
    assert response.json()["returnMessage"] == "Supplier not found"


def test_invalid_supplier_fields_fail_only_that_item_with_every_error_listed(api, jaggaer):
    results = _send_suppliers(
        api,
        supplier("1"),
        {"supplierNumber": 2, "active": "yes", "currencyList": ["usd"],
         "addressList": [{"type": "billing", "isoCountryCode": "USA"}]},
    )

    assert results[0]["status"] == "Created"
    assert results[1]["status"] == "Error" and "id" not in results[1]
    fields = {error["field"] for error in results[1]["errorList"]["error"]}
    assert fields == {"supplierNumber", "name", "active", "currencyList[0]", "addressList[0].type",
                      "addressList[0].isoCountryCode"}
    assert {code for code, _ in errors_of(results[1])} == {"VALIDATION"}
    assert list(jaggaer.app.suppliers) == ["1"]


def test_default_custom_fields_exist_without_values(api):
    body = api.get("/jcf/v1/customfields").json()

    assert [f["name"] for f in body["customFieldList"]["customField"]] == [
        "GLAccount", "CostCenter", "Class", "Location", "BusinessUnit"]
    assert {"name": "GLAccount", "label": "GL Account"} in body["customFieldList"]["customField"]
    assert api.get("/jcf/v1/customfields/GLAccount/values").json()["totRecords"] == 0


def test_custom_field_values_upsert_by_internal_name_and_deactivate(api):
    path = "/jcf/v1/customfields/GLAccount/values"
    created = api.results(path, {"customFieldValueList": {"customFieldValue": [
        {"internalName": "6100", "value": "6100", "description": "Office Supplies", "active": True},
        {"internalName": "6200", "value": "6200", "description": "Travel", "active": True},
    ]}})
    deactivated = api.results(path, {"customFieldValueList": {"customFieldValue": [
        {"internalName": "6200", "value": "6200", "description": "Travel", "active": False},
        {"internalName": "6100", "value": "6100", "description": "Office Supplies", "active": True},
    ]}})

    assert [r["status"] for r in created] == ["Created", "Created"]
    assert [r["status"] for r in deactivated] == ["Updated", "Unchanged"]
    active = api.get(path, flt="active==true").json()
    assert active["customFieldValueList"]["customFieldValue"] == [
        {"internalName": "6100", "value": "6100", "description": "Office Supplies", "active": True}]


def test_an_unknown_custom_field_refuses_the_whole_request_in_http_200(api):
    response = api.post("/jcf/v1/customfields/Project/values",
                        {"customFieldValueList": {"customFieldValue": [{"internalName": "P1", "value": "P1"}]}})

    assert response.status_code == 200
    assert response.json() == {"returnCode": 1, "returnMessage": "No custom field found for Project"}


def test_a_field_added_through_the_control_api_takes_values(api, jaggaer):
    jaggaer.app.add_custom_field(name="Project", label="Project")
    jaggaer.app.set_custom_field_value(field="Project", internal_name="P1", description="Pilot")

    values = api.get("/jcf/v1/customfields/Project/values").json()["customFieldValueList"]["customFieldValue"]

    assert values == [{"internalName": "P1", "value": "P1", "description": "Pilot", "active": True}]
