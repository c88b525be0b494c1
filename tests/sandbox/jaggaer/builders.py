"""A J1P client over real HTTP and builders for the documents the JAGGAER sandbox tests send."""

from typing import Any

import requests

from sandbox.jaggaer.app import API


class J1pClient:
    """Real HTTP to the sandbox with a bearer token; paths are relative to /j1p/api/public."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(f"{self.base_url}{API}{path}", params=params, timeout=5)

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 5)
        return self.session.post(f"{self.base_url}{API}{path}", json=body, **kwargs)

    def results(self, path: str, body: Any) -> list[dict]:
        """The per-item results of a batch that was read (HTTP 200, returnCode 0)."""
        response = self.post(path, body)
        assert response.status_code == 200, response.text
        assert response.json()["returnCode"] == 0, response.json()
        return response.json()["resultList"]["result"]


def supplier(number: str, **fields: Any) -> dict[str, Any]:
    return {"supplierNumber": number, "name": f"Supplier {number}", "active": True, "currencyList": ["USD"],
            **fields}


def coding(**values: str) -> dict[str, Any]:
    return {"customFieldValueSet": [
        {"name": name, "customFieldValueList": {"customFieldValue": [{"internalName": value}]}}
        for name, value in values.items()
    ]}


def purchase_order(number: str, *, type: str = "new", revision: int = 0, supplier_number: str = "77",
                   lines: list[dict] | None = None, **header: Any) -> dict[str, Any]:
    return {
        "poHeader": {"poNumber": number, "type": type, "revisionNumber": revision, "orderDate": "2025-06-06",
                     "currency": "USD", "supplier": {"supplierNumber": supplier_number},
                     "total": {"currency": "USD", "value": "1250.50"}, **header},
        "poLineList": {"poLine": lines if lines is not None else [po_line(1)]},
    }


def po_line(number: int, *, quantity: str = "10", price: str = "125.05", **fields: Any) -> dict[str, Any]:
    return {"lineNumber": number, "description": "Paper", "quantity": quantity, "unitOfMeasure": "EA",
            "unitPrice": {"currency": "USD", "value": price}, **fields}


def invoice(number: str, *, supplier_number: str = "77", type: str = "new", lines: list[dict] | None = None,
            **header: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"header": {
        "supplierInvoiceNumber": number, "type": type, "invoiceType": "Invoice", "invoiceDate": "2025-06-10",
        "supplier": {"supplierNumber": supplier_number}, "total": {"currency": "USD", "value": "1250.50"}, **header,
    }}
    if lines is not None:
        document["lineList"] = {"invoiceLine": lines}
    return document


def errors_of(result: dict) -> list[tuple[str, str]]:
    return [(error["code"], error["message"]) for error in result["errorList"]["error"]]
