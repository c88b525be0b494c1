"""The physical limit of this machine for the purchase-order transfer: the simplest script that does the same work
as `backfill --flow purchase_orders` (requests and threads at the APIs' limits, no database, no audit trail).

    .venv/bin/python bench/raw_baseline.py [--pos 5000] [--latency realistic|zero]

It starts the sandboxes in a process of their own (`manage.py run_sandbox`, 127.0.0.1, free ports) with that
many purchase orders, creates in JAGGAER what the orders refer to (suppliers and GL account values; not timed),
then times the transfer: SuiteQL pages of order headers keyed by id, their lines (one query per page of
headers, further pages of lines fetched at once by offset), the JAGGAER order JSON in the contract's minimal
shape (section 8), POSTed in batches of 50. At most 5 NetSuite and 4 JAGGAER requests are in flight.
bench/backfill.py runs it with `--attach` against its own sandboxes, beside the connector. Prints figures;
asserts nothing."""

import argparse
import json
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.environment import (  # noqa: E402
    PROFILES,
    Profile,
    Sandboxes,
    Transfer,
    add_transfer_arguments,
    figures,
    measured,
    workspace,
)

PAGE = 1000  # SuiteQL's largest page
BATCH = 50  # JAGGAER's largest purchase-order batch (contract section 2)
SUITEQL = "/services/rest/query/v1/suiteql"
PURCHASE_ORDERS = "/j1p/api/public/jp/v1/purchaseorders"
JAGGAER_TOKEN = "/auth/realms/J1p-integrations/protocol/openid-connect/token"
HEADERS_QUERY = (
    "SELECT t.id, t.tranid, TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate, t.entity, cur.symbol AS currency, "
    "t.foreigntotal, t.memo FROM transaction t LEFT JOIN currency cur ON cur.id = t.currency "
    "WHERE t.type = 'PurchOrd' AND t.id > ? ORDER BY t.id"
)
LINES_QUERY = (
    "SELECT tl.transaction, tl.id, tl.linesequencenumber, tl.memo, tl.quantity, tl.rate, tl.foreignamount, "
    "a.acctnumber FROM transactionline tl LEFT JOIN account a ON a.id = tl.expenseaccount "
    "WHERE tl.transaction IN ({ids}) AND tl.mainline = 'F' AND tl.taxline = 'F' ORDER BY tl.transaction, tl.id"
)
PAGES_AHEAD = 8  # header pages read ahead of delivery: bounds memory when JAGGAER is the slower side


class Api:
    """One side: a bearer token (renewed on a 401) and at most `limit` requests in flight, one HTTP session per
    thread."""

    def __init__(self, *, base_url: str, limit: int, login: Callable[[], str]) -> None:
        self.base_url = base_url
        self.slots = threading.BoundedSemaphore(limit)
        self._login = login
        self._token = login()
        self._local = threading.local()

    def post(self, path: str, body: Any, *, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        for _ in range(5):
            session = self._local.__dict__.setdefault("session", requests.Session())
            with self.slots:
                answer = session.post(f"{self.base_url}{path}", json=body, timeout=300,
                                      headers={"Authorization": f"Bearer {self._token}", **(headers or {})}, **kwargs)
            if answer.status_code == 401:
                self._token = self._login()
                continue
            answer.raise_for_status()
            return answer.json()
        raise RuntimeError(f"{path}: still refused after a new login")


def netsuite_api(sandboxes: Sandboxes, limit: int) -> Api:
    demo = requests.get(f"{sandboxes.netsuite_url}/_sandbox/demo_credentials", timeout=60).json()
    client = demo["oauth2_authorization_code"]

    def login() -> str:
        answer = requests.post(f"{sandboxes.netsuite_url}/services/rest/auth/oauth2/v1/token", timeout=60,
                               auth=(client["client_id"], client["client_secret"]),
                               data={"grant_type": "refresh_token", "refresh_token": client["refresh_token"]})
        answer.raise_for_status()
        return answer.json()["access_token"]

    return Api(base_url=sandboxes.netsuite_url, limit=limit, login=login)


def jaggaer_api(sandboxes: Sandboxes, limit: int) -> Api:
    auth = sandboxes.jaggaer["auth"]

    def login() -> str:
        answer = requests.post(f"{sandboxes.jaggaer_url}{JAGGAER_TOKEN}", timeout=60, data={
            "grant_type": "client_credentials", "client_id": auth["client_id"], "client_secret": auth["client_secret"]})
        answer.raise_for_status()
        return answer.json()["access_token"]

    return Api(base_url=sandboxes.jaggaer_url, limit=limit, login=login)


def suiteql(netsuite: Api, query: str, params: list | None = None, offset: int = 0) -> dict:
    return netsuite.post(SUITEQL, {"q": query, "params": params or []}, params={"limit": PAGE, "offset": offset},
                         headers={"Prefer": "transient"})


def all_rows(netsuite: Api, query: str) -> list[dict]:
    rows: list[dict] = []
    while True:
        page = suiteql(netsuite, query, offset=len(rows))
        rows += page["items"]
        if not page["hasMore"]:
            return rows


def prepare_jaggaer(*, netsuite: Api, jaggaer: Api) -> None:
    """What the orders refer to: every vendor as a supplier and every GL account number as a GLAccount value."""
    vendors = all_rows(netsuite, "SELECT v.id, v.companyname, v.entityid FROM vendor v ORDER BY v.id")
    for start in range(0, len(vendors), 100):
        jaggaer.post("/j1p/api/public/js/v1/suppliers", {"supplierList": {"supplier": [
            {"supplierNumber": v["id"], "name": v.get("companyname") or v["entityid"], "active": True}
            for v in vendors[start:start + 100]]}})
    accounts = all_rows(netsuite, "SELECT a.id, a.acctnumber FROM account a WHERE a.acctnumber IS NOT NULL ORDER BY a.id")
    for start in range(0, len(accounts), 100):
        jaggaer.post("/j1p/api/public/jcf/v1/customfields/GLAccount/values", {"customFieldValueList": {
            "customFieldValue": [{"internalName": a["acctnumber"], "value": a["acctnumber"], "active": True}
                                 for a in accounts[start:start + 100]]}})


def purchase_order(header: dict, lines: list[dict]) -> dict:
    """The contract's section 8, minimal: header, lines with their GL account; an expense line without a quantity
    goes as one unit at its amount."""
    currency = header.get("currency", "USD")
    po_lines = []
    for line in lines:
        quantity = line.get("quantity")
        po_line = {"lineNumber": int(line["linesequencenumber"]), "quantity": quantity or "1",
                   "unitPrice": {"currency": currency, "value": line.get("rate") if quantity else line["foreignamount"]}}
        if line.get("memo"):
            po_line["description"] = line["memo"]
        if line.get("acctnumber"):
            po_line["customFieldValueSetList"] = {"customFieldValueSet": [{"name": "GLAccount", "customFieldValueList": {
                "customFieldValue": [{"internalName": line["acctnumber"]}]}}]}
        po_lines.append(po_line)
    po_header = {"poNumber": header["tranid"], "type": "new", "revisionNumber": 0, "orderDate": header["trandate"],
                 "currency": currency, "supplier": {"supplierNumber": header["entity"]}, "externalId": header["id"],
                 "total": {"currency": currency, "value": header.get("foreigntotal", "0")}}
    if header.get("memo"):
        po_header["notes"] = header["memo"]
    return {"poHeader": po_header, "poLineList": {"poLine": po_lines}}


def transfer(*, netsuite: Api, jaggaer: Api, netsuite_limit: int, jaggaer_limit: int, result: Transfer) -> None:
    counting = threading.Lock()
    ahead = threading.BoundedSemaphore(PAGES_AHEAD)

    def send(orders: list[dict]) -> None:
        answer = jaggaer.post(PURCHASE_ORDERS, {"purchaseOrderList": {"purchaseOrder": orders}})
        statuses = [item["status"] for item in answer["resultList"]["result"]]
        with counting:
            result.created += statuses.count("Created")

    def deliver_page(headers: list[dict]) -> None:
        try:
            query = LINES_QUERY.format(ids=", ".join(header["id"] for header in headers))
            first = suiteql(netsuite, query)
            more = [more_lines.submit(suiteql, netsuite, query, None, offset)
                    for offset in range(PAGE, first["totalResults"], PAGE)]
            lines: dict[str, list[dict]] = {}
            for row in first["items"] + [row for page in more for row in page.result()["items"]]:
                lines.setdefault(row["transaction"], []).append(row)
            orders = [purchase_order(header, lines.get(header["id"], [])) for header in headers]
            for sent in [deliveries.submit(send, orders[n:n + BATCH]) for n in range(0, len(orders), BATCH)]:
                sent.result()
        finally:
            ahead.release()

    with (ThreadPoolExecutor(PAGES_AHEAD) as pages, ThreadPoolExecutor(netsuite_limit) as more_lines,
          ThreadPoolExecutor(jaggaer_limit) as deliveries):
        jobs: list[Future] = []
        last_id = 0
        while True:
            page = suiteql(netsuite, HEADERS_QUERY, [last_id])
            if not page["items"]:
                break
            result.purchase_orders += len(page["items"])
            ahead.acquire()
            jobs.append(pages.submit(deliver_page, page["items"]))
            if not page["hasMore"]:
                break
            last_id = int(page["items"][-1]["id"])
        for job in jobs:
            job.result()


def run(sandboxes: Sandboxes, profile: Profile) -> Transfer:
    """Prepares JAGGAER, then times the transfer."""
    netsuite, jaggaer = netsuite_api(sandboxes, profile.netsuite_limit), jaggaer_api(sandboxes, profile.jaggaer_limit)
    prepare_jaggaer(netsuite=netsuite, jaggaer=jaggaer)
    with measured(Transfer(), sandboxes) as result:
        transfer(netsuite=netsuite, jaggaer=jaggaer, netsuite_limit=profile.netsuite_limit,
                 jaggaer_limit=profile.jaggaer_limit, result=result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_transfer_arguments(parser)
    parser.add_argument("--attach", type=Path, metavar="DIR",
                        help="use the sandboxes whose connection files are in DIR instead of starting them")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    options = parser.parse_args()
    profile = PROFILES[options.latency]
    if options.attach:
        result = run(Sandboxes.attach(options.attach), profile)
    else:
        with workspace("raw") as workdir:
            print(f"{profile.describe()}; building {options.pos:,} purchase orders in the sandbox ...")
            sandboxes = Sandboxes.start(profile=profile, purchase_orders=options.pos, vendors=options.vendors,
                                        workdir=workdir)
            try:
                result = run(sandboxes, profile)
            finally:
                sandboxes.stop()
    if options.json:
        print(json.dumps(asdict(result)))
    else:
        print("\n".join(figures({"bare script": result}, profile)))


if __name__ == "__main__":
    main()
