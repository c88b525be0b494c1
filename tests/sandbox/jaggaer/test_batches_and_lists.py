"""The envelope every write and list shares: batch refusals, size limits, paging and flt (spec section 2)."""

from tests.sandbox.jaggaer.builders import invoice, purchase_order, supplier


def test_malformed_json_is_a_400(api):
    response = api.post("/js/v1/suppliers", None, data=b"{not json", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["returnCode"] != 0


def test_a_batch_of_the_wrong_shape_is_refused_whole_inside_http_200(api, jaggaer):
    response = api.post("/js/v1/suppliers", {"supplierList": {"supplier": [supplier("1"), "two"]}})

    assert response.status_code == 200
    assert response.json()["returnCode"] == 1
    assert "resultList" not in response.json()
    assert jaggaer.app.counts()["suppliers"] == 0


def test_batches_over_the_limit_are_413_and_nothing_is_applied(api, jaggaer):
    at_limit = api.post("/js/v1/suppliers", {"supplierList": {"supplier": [supplier(str(n)) for n in range(100)]}})
    suppliers_over = api.post("/js/v1/suppliers",
                              {"supplierList": {"supplier": [supplier(f"x{n}") for n in range(101)]}})
    orders_over = api.post("/jp/v1/purchaseorders",
                           {"purchaseOrderList": {"purchaseOrder": [purchase_order(f"PO{n}") for n in range(51)]}})
    invoices_over = api.post("/ji/v1/invoices",
                             {"invoiceList": {"invoice": [invoice(f"INV{n}") for n in range(51)]}})

    assert at_limit.status_code == 200
    assert [r.status_code for r in (suppliers_over, orders_over, invoices_over)] == [413, 413, 413]
    assert jaggaer.app.counts()["suppliers"] == 100


def test_a_batch_level_failure_in_http_200_applies_nothing(api, jaggaer):
    jaggaer.app.add_fault(kind="batch_failure", count=1)

    refused = api.post("/js/v1/suppliers", {"supplierList": {"supplier": [supplier("1"), supplier("2")]}})
    accepted = api.post("/js/v1/suppliers", {"supplierList": {"supplier": [supplier("3")]}})

    assert refused.status_code == 200 and refused.json()["returnCode"] != 0
    assert "resultList" not in refused.json()
    assert accepted.json()["returnCode"] == 0
    assert list(jaggaer.app.suppliers) == ["3"]


def test_paging_walks_to_the_end_with_one_based_start(api):
    api.results("/js/v1/suppliers", {"supplierList": {"supplier": [supplier(f"{n:02}") for n in range(60)]}})

    seen, start, pages = [], 1, 0
    while pages < 10:
        page = api.get("/js/v1/suppliers", start=start).json()
        pages += 1
        if page["returnedRecords"] == 0:
            break
        assert page["totRecords"] == 60 and page["startAt"] == start
        seen += [s["supplierNumber"] for s in page["supplierList"]["supplier"]]
        start += page["returnedRecords"]

    assert seen == [f"{n:02}" for n in range(60)]
    assert pages == 4  # 25 + 25 + 10, then the empty page past the end
    assert start - 1 == 60


def test_limit_outside_1_to_100_and_a_start_below_1_are_400(api):
    statuses = [api.get("/js/v1/suppliers", **params).status_code
                for params in ({"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"start": 0})]

    assert statuses == [400, 400, 400, 400]
    assert api.get("/js/v1/suppliers", limit=100).status_code == 200


def test_flt_combines_equality_and_at_least_conditions(api):
    api.results("/js/v1/suppliers", {"supplierList": {"supplier": [
        supplier("5", active=True), supplier("12", active=False), supplier("20", active=True)]}})

    body = api.get("/js/v1/suppliers", flt="active==true;supplierNumber>=10").json()

    assert [s["supplierNumber"] for s in body["supplierList"]["supplier"]] == ["20"]
    assert body["totRecords"] == 1


def test_flt_on_an_unknown_field_or_without_an_operator_is_400(api):
    assert api.get("/js/v1/suppliers", flt="colour==red").status_code == 400
    assert api.get("/js/v1/suppliers", flt="name").status_code == 400


def test_invoices_filter_by_supplier_invoice_number_and_supplier(api):
    api.results("/js/v1/suppliers", {"supplierList": {"supplier": [supplier("77"), supplier("78")]}})
    api.results("/ji/v1/invoices", {"invoiceList": {"invoice": [
        invoice("INV-889"), invoice("INV-889", supplier_number="78"), invoice("INV-890")]}})

    body = api.get("/ji/v1/invoices", flt="supplierInvoiceNumber==INV-889;supplierNumber==77").json()

    [found] = body["invoiceList"]["invoice"]
    assert (found["header"]["supplierInvoiceNumber"], found["header"]["supplier"]["supplierNumber"]) == (
        "INV-889", "77")
