"""The control and inspection API that tests in other processes and the demo use (/_sandbox/)."""

import requests

from tests.sandbox.jaggaer.builders import purchase_order, supplier


def test_received_lists_every_write_in_order_with_its_result(api, jaggaer):
    api.results("/js/v1/suppliers", {"supplierList": {"supplier": [supplier("77"), supplier("77")]}})
    api.results("/jp/v1/purchaseorders", {"purchaseOrderList": {"purchaseOrder": [
        purchase_order("PO1"), purchase_order("PO1")]}})

    received = requests.get(f"{jaggaer.url}/_sandbox/received", timeout=5).json()
    orders = requests.get(f"{jaggaer.url}/_sandbox/received", params={"kind": "purchase_order"}, timeout=5).json()

    assert [(r["seq"], r["kind"], r["key"], r["status"]) for r in received] == [
        (1, "supplier", "77", "Created"), (2, "supplier", "77", "Unchanged"),
        (3, "purchase_order", "PO1", "Created"), (4, "purchase_order", "PO1", "Error")]
    assert [(r["type"], r["errors"]) for r in orders] == [("new", []), ("new", ["DUPLICATE"])]
    assert orders[0]["body"] == purchase_order("PO1")
    assert orders[0]["path"] == "/j1p/api/public/jp/v1/purchaseorders" and orders[0]["method"] == "POST"


def test_counts_report_objects_writes_and_requests(api, jaggaer):
    api.results("/js/v1/suppliers", {"supplierList": {"supplier": [supplier("1"), supplier("2")]}})
    api.get("/js/v1/suppliers/1")

    counts = requests.get(f"{jaggaer.url}/_sandbox/counts", timeout=5).json()

    assert counts["suppliers"] == 2
    assert counts["writes"] == 2
    assert counts["requests"] == 2


def test_faults_clock_and_reset_over_http(api, jaggaer):
    control = f"{jaggaer.url}/_sandbox"
    api.results("/js/v1/suppliers", {"supplierList": {"supplier": [supplier("1")]}})

    added = requests.post(f"{control}/faults", json={"kind": "server_error", "count": 1}, timeout=5)
    faulted = api.get("/js/v1/suppliers")
    bad_fault = requests.post(f"{control}/faults", json={"kind": "gremlins"}, timeout=5)
    requests.post(f"{control}/clock", json={"advance": 301}, timeout=5)
    expired = api.get("/js/v1/suppliers")
    requests.post(f"{control}/reset", timeout=5)

    assert added.status_code == 200 and added.json()[0]["kind"] == "server_error"
    assert faulted.status_code == 500
    assert bad_fault.status_code == 400
    assert expired.status_code == 401
    assert jaggaer.app.counts()["suppliers"] == 0
    assert jaggaer.app.received() == []


def test_reset_keeps_the_demo_client_and_the_default_fields_only(jaggaer):
    before = jaggaer.app.demo_credentials()
    jaggaer.app.add_custom_field(name="Project", label="Project")
    jaggaer.app.set_custom_field_value(field="GLAccount", internal_name="6100")

    jaggaer.app.reset()

    assert jaggaer.app.demo_credentials() == before
    assert jaggaer.app.counts()["custom_field_values"] == 0
    fields = requests.get(f"{jaggaer.url}/j1p/api/public/jcf/v1/customfields", timeout=5,
                          headers={"Authorization": f"Bearer {jaggaer.app.issue_access_token()}"}).json()
    assert [f["name"] for f in fields["customFieldList"]["customField"]] == [
        "GLAccount", "CostCenter", "Class", "Location", "BusinessUnit"]
