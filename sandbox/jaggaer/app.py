"""The JAGGAER sandbox server (spec /work/shared/spec/jaggaer.md): a Keycloak-style token endpoint,
the J1P REST API for custom fields, suppliers, purchase orders and invoices, per-client rate limits,
faults on demand, and a control and inspection API under /_sandbox/ for tests and the demo."""

import copy
import hmac
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Collection
from typing import Any

from sandbox.broken import broken
from sandbox.clock import Clock
from sandbox.http import HangUp, Request, Response, Router, json_response, wsgi_app
from sandbox.jaggaer.documents import JaggaerData, Outcome
from sandbox.jaggaer.faults import (
    BATCH_FAILURE,
    BROKEN_ANSWER,
    DROP_AFTER_WRITE,
    LATENCY,
    MAINTENANCE,
    MAX_PAUSE_SECONDS,
    RATE_LIMIT,
    SERVER_ERROR,
    TIMEOUT_AFTER_WRITE,
    Fault,
    FaultPlan,
)
from sandbox.jaggaer.listing import ListQueryError, list_page, parse_list_query
from sandbox.jaggaer.rate_limits import RateLimiter
from sandbox.jaggaer.xml_imports import ROUTES as XML_ROUTES
from sandbox.jaggaer.xml_imports import (
    MessageRefused,
    XmlRoute,
    answer,
    counts,
    parse_message,
    unreadable,
    with_status,
)
from sandbox.latency import Latency

TOKEN_PATH = "/auth/realms/J1p-integrations/protocol/openid-connect/token"
API = "/j1p/api/public"
# The built-in client of the demo and the tests; fixed so that saved demo connections keep working.
DEMO_CLIENT_ID = "ml-connector-demo"
DEMO_CLIENT_SECRET = "jaggaer-sandbox-demo-secret"
# The built-in Identity and SharedSecret of the XML imports (docs/jaggaer-xml.md).
DEMO_XML_IDENTITY = "ml-connector-demo"
DEMO_XML_SHARED_SECRET = "jaggaer-sandbox-demo-xml-secret"
# The rate limiter's client for the XML imports, which carry no token.
XML_CLIENT = "xml-imports"
BATCH_LIMIT = 100
DOCUMENT_BATCH_LIMIT = 50  # purchase orders and invoices (spec section 2)
WRITE_KINDS = ("supplier", "purchase_order", "invoice", "custom_field_value")

SUPPLIER_FILTERS = ("supplierNumber", "name", "legalName", "doingBusinessAs", "active", "email", "phone",
                    "taxIdentificationNumber", "externalId", "id")
CUSTOM_FIELD_FILTERS = ("name", "label")
CUSTOM_FIELD_VALUE_FILTERS = ("internalName", "value", "description", "active")
INVOICE_FILTERS = ("supplierInvoiceNumber", "supplierNumber", "poNumber", "invoiceType", "invoiceDate", "dueDate",
                   "externalId", "status", "id")


def _api_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    # Every JSON answer of the API carries the envelope, also HTTP-level refusals (spec section 2).
    return json_response(status, {"returnCode": 1, "returnMessage": message}, headers)


def _keycloak_error(status: int, error: str, description: str | None = None) -> Response:
    body = {"error": error} if description is None else {"error": error, "error_description": description}
    return json_response(status, body)


def _no_custom_field(name: str) -> Response:
    return json_response(200, {"returnCode": 1, "returnMessage": f"No custom field found for {name}"})


def _fault_answer(fault: Fault) -> Response | None:
    """The answer a fault gives instead of the real one, if it is that kind of fault."""
    if fault.kind == SERVER_ERROR:
        return _api_error(500, "Internal server error")
    if fault.kind == MAINTENANCE:
        return _api_error(503, "Service unavailable: scheduled maintenance", {"Retry-After": str(fault.retry_after)})
    if fault.kind == RATE_LIMIT:
        return _api_error(429, "Too many requests", {"Retry-After": str(fault.retry_after)})
    if fault.kind == BATCH_FAILURE:
        return json_response(200, {"returnCode": fault.return_code, "returnMessage": fault.message})
    return None


class JaggaerSandbox:
    def __init__(self, *, clock: Clock | None = None, token_lifetime: int = 300,
                 rate_per_second: float = 10, max_in_flight: int = 4, latency: float = 0.0) -> None:
        """`latency`: seconds every API request is held before it is answered, keeping its in-flight slot as a
        round trip to the real JAGGAER does (benchmarks use 0.1); see configure()."""
        self.clock = clock or Clock()
        self._initial_limits = {"token_lifetime": token_lifetime, "rate_per_second": rate_per_second,
                                "max_in_flight": max_in_flight, "latency": Latency.checked(latency)}
        self._lock = threading.RLock()
        self._latency = Latency(latency)
        self._faults = FaultPlan(clock=self.clock)
        self._limits = RateLimiter(clock=self.clock, rate_per_second=rate_per_second, max_in_flight=max_in_flight)
        self._wake = threading.Event()
        self._api = self._api_routes()
        self._control = self._control_routes()
        self.reset()

    # Python control API

    def wsgi_app(self) -> Callable:
        return wsgi_app(self.handle)

    def reset(self) -> None:
        self.clear_faults()
        with self._lock:
            self._data = JaggaerData()
            self._clients = {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET}
            self._xml_identities = {DEMO_XML_IDENTITY: DEMO_XML_SHARED_SECRET}
            self._tokens: dict[str, tuple[str, float]] = {}
            self._received: list[dict[str, Any]] = []
            self._counters: Counter[str] = Counter()
            self.token_lifetime: int = self._initial_limits["token_lifetime"]
        self._latency.set(self._initial_limits["latency"])
        self._limits.reset(rate_per_second=self._initial_limits["rate_per_second"],
                           max_in_flight=self._initial_limits["max_in_flight"])
        self.clock.reset()

    def configure(self, *, token_lifetime: int | None = None, rate_per_second: float | None = None,
                  max_in_flight: int | None = None, latency: float | None = None) -> None:
        """Changes lifetimes, limits and the per-request latency until the next reset(). A change of latency lets
        the requests held under the old one go at once."""
        if token_lifetime is not None:
            self.token_lifetime = token_lifetime
        if latency is not None:
            self._latency.set(latency)
        if rate_per_second is not None or max_in_flight is not None:
            self._limits.reset(
                rate_per_second=self._limits.rate_per_second if rate_per_second is None else rate_per_second,
                max_in_flight=self._limits.max_in_flight if max_in_flight is None else max_in_flight,
            )

    def register_client(self, *, client_id: str, client_secret: str) -> None:
        with self._lock:
            self._clients[client_id] = client_secret

    def register_xml_identity(self, *, identity: str, shared_secret: str) -> None:
        with self._lock:
            self._xml_identities[identity] = shared_secret

    def demo_xml_credentials(self) -> dict[str, str]:
        """The `xml` object of a connection's JSON (credentials/configuration.py) that the XML imports accept."""
        return {"identity": DEMO_XML_IDENTITY, "shared_secret": DEMO_XML_SHARED_SECRET}

    def demo_credentials(self) -> dict[str, str]:
        return {"method": "oauth2_client_credentials", "client_id": DEMO_CLIENT_ID,
                "client_secret": DEMO_CLIENT_SECRET}

    def issue_access_token(self, client_id: str | None = None) -> str:
        client_id = client_id or DEMO_CLIENT_ID
        with self._lock:
            if client_id not in self._clients:
                raise ValueError(f"no client '{client_id}' is registered")
            token = secrets.token_urlsafe(32)
            self._tokens[token] = (client_id, self.clock.now() + self.token_lifetime)
            return token

    def add_custom_field(self, *, name: str, label: str) -> None:
        with self._lock:
            self._data.add_custom_field(name=name, label=label)

    def set_custom_field_value(self, *, field: str, internal_name: str, value: str | None = None,
                               description: str = "", active: bool = True) -> None:
        with self._lock:
            if field not in self._data.custom_fields:
                raise ValueError(f"No custom field found for {field}")
            outcome = self._data.upsert_custom_field_value(field, {
                "internalName": internal_name, "value": value or internal_name, "description": description,
                "active": active,
            })
        if outcome.status == "Error":
            raise ValueError(outcome.errors)

    def add_fault(self, *, kind: str, **options: Any) -> None:
        """See faults.Fault for the options (count, seconds, retry_after, return_code, message, path, method,
        mode, status, probability, for_seconds)."""
        self._faults.add(Fault(kind=kind, **options))

    def seed_faults(self, seed: int) -> None:
        """Which requests meet the faults added with a probability follows from this seed (and from the order
        in which requests arrive)."""
        self._faults.seed(seed)

    def faults_injected(self) -> dict[str, int]:
        """How many answers each kind of fault changed since the last reset()."""
        with self._lock:
            return {name.removeprefix("fault:"): count for name, count in self._counters.items()
                    if name.startswith("fault:")}

    def clear_faults(self) -> None:
        """Also releases the requests that latency and timeout faults are holding."""
        self._faults.clear()
        self._wake.set()
        self._wake = threading.Event()

    def received(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy([entry for entry in self._received if kind is None or entry["kind"] == kind])

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "suppliers": len(self._data.suppliers),
                "purchase_orders": len(self._data.purchase_orders),
                "invoices": len(self._data.invoices),
                "custom_field_values": sum(len(f["values"]) for f in self._data.custom_fields.values()),
                "writes": len(self._received),
                "requests": self._counters["requests"],
                "token_requests": self._counters["token_requests"],
                "rate_limited": self._counters["rate_limited"],
            }

    @property
    def peak_in_flight(self) -> int:
        """The most API requests one client had in flight at once since reset() or reset_stats(), counting one
        refused for going over max_in_flight (so it exceeds the limit exactly when a client sent too many)."""
        return self._limits.peak_in_flight

    def stats(self) -> dict[str, float]:
        """What a benchmark reads: API requests (token requests not included, refused ones included) and the
        peak in flight since reset() or reset_stats(), with the limits and latency in force."""
        with self._lock:
            requests_made = self._counters["requests"]
        return {"requests": requests_made, "in_flight": self._limits.in_flight, "peak_in_flight": self.peak_in_flight,
                "max_in_flight": self._limits.max_in_flight, "rate_per_second": self._limits.rate_per_second,
                "latency": self._latency.seconds}

    def reset_stats(self) -> None:
        """Counts requests and the peak in flight from now on (also what counts() reports as requests)."""
        with self._lock:
            self._counters["requests"] = 0
        self._limits.reset_peak()

    @property
    def suppliers(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {number: self._data.supplier_view(number) for number in self._data.suppliers}

    @property
    def purchase_orders(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._data.purchase_orders)

    @property
    def invoices(self) -> dict[tuple[str, str], dict[str, Any]]:
        """By (supplierNumber, supplierInvoiceNumber), the pair JAGGAER keeps unique."""
        with self._lock:
            return copy.deepcopy(self._data.invoices)

    def custom_field_values(self, field: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._data.custom_fields[field]["values"])

    # Request pipeline

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_sandbox/"):
            return self._control.dispatch(request)
        if request.path == TOKEN_PATH:
            self._count("token_requests")
            return self._with_faults(request, self._token)
        self._count("requests")
        if request.path in XML_ROUTES:
            # The XML imports authenticate inside the message, not with a token.
            return self._admitted(XML_CLIENT, request, self._xml_import)
        client_id = self._client_of(request)
        if client_id is None:
            return _api_error(401, "Missing, invalid or expired access token",
                              {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return self._admitted(client_id, request, self._api.dispatch)

    def _admitted(self, client_id: str, request: Request, answer: Callable[[Request], Response]) -> Response:
        admission = self._limits.enter(client_id)
        if isinstance(admission, int):
            self._count("rate_limited")
            return _api_error(429, "Too many requests", {"Retry-After": str(admission)})
        try:
            self._latency.hold()  # holding its in-flight slot
            return self._with_faults(request, answer)
        finally:
            self._limits.leave(admission)

    def _count(self, name: str) -> None:
        with self._lock:
            self._counters[name] += 1

    def _pause(self, seconds: float) -> None:
        self._wake.wait(min(seconds, MAX_PAUSE_SECONDS))

    def _with_faults(self, request: Request, answer: Callable[[Request], Response]) -> Response:
        faults = self._faults.take(method=request.method, path=request.path)
        for fault in faults:
            if fault.kind == LATENCY:
                self._count(f"fault:{fault.kind}")
                self._pause(fault.seconds)
        for fault in faults:
            refusal = _fault_answer(fault)
            if fault.kind == BATCH_FAILURE and request.path in XML_ROUTES:
                # The XML imports' own way of refusing a whole message: nothing applied (seen status 500).
                refusal = unreadable(XML_ROUTES[request.path], attempted=0, errors=[fault.message])
            if refusal is not None:
                if fault.kind == RATE_LIMIT:
                    self._count("rate_limited")
                self._count(f"fault:{fault.kind}")
                return refusal
        response = answer(request)
        for fault in faults:
            if fault.kind in (TIMEOUT_AFTER_WRITE, BROKEN_ANSWER, DROP_AFTER_WRITE):
                self._count(f"fault:{fault.kind}")
            if fault.kind == TIMEOUT_AFTER_WRITE:
                self._pause(fault.seconds)
            elif fault.kind == BROKEN_ANSWER and fault.mode == "status" and request.path in XML_ROUTES:
                response = with_status(response, fault.status)
            elif fault.kind == BROKEN_ANSWER:
                response = broken(response, fault.mode, status=fault.status)
            elif fault.kind == DROP_AFTER_WRITE:
                raise HangUp
        return response

    def _client_of(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        with self._lock:
            entry = self._tokens.get(token.strip())
        if entry is None or self.clock.now() >= entry[1]:
            return None
        return entry[0]

    # Token endpoint (spec section 1)

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return _keycloak_error(405, "invalid_request", "HTTP method not allowed")
        # The contract takes client credentials from the form body only.
        if request.headers.get("Authorization", "").lower().startswith("basic "):
            return _keycloak_error(401, "unauthorized_client", "Invalid client or Invalid client credentials")
        is_form = request.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
        form = request.form() if is_form else {}
        grant_type = form.get("grant_type")
        if not grant_type:
            return _keycloak_error(400, "invalid_request", "Missing form parameter: grant_type")
        if grant_type != "client_credentials":
            return _keycloak_error(400, "unsupported_grant_type")
        client_id = form.get("client_id", "")
        with self._lock:
            known_secret = self._clients.get(client_id)
        if known_secret is None or not hmac.compare_digest(known_secret, form.get("client_secret", "")):
            return _keycloak_error(401, "unauthorized_client", "Invalid client or Invalid client credentials")
        return json_response(200, {
            "access_token": self.issue_access_token(client_id),
            "expires_in": self.token_lifetime,
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": "",
        })

    # API (spec sections 2 to 6)

    def _api_routes(self) -> Router:
        router = Router()
        router.add("GET", f"{API}/jcf/v1/customfields", self._list_custom_fields)
        router.add("GET", f"{API}/jcf/v1/customfields/(?P<name>[^/]+)/values", self._list_custom_field_values)
        router.add("POST", f"{API}/jcf/v1/customfields/(?P<name>[^/]+)/values", self._write_custom_field_values)
        router.add("GET", f"{API}/js/v1/suppliers", self._list_suppliers)
        router.add("POST", f"{API}/js/v1/suppliers", self._write_suppliers)
        router.add("GET", f"{API}/js/v1/suppliers/(?P<number>.+)", self._get_supplier)
        router.add("POST", f"{API}/jp/v1/purchaseorders", self._write_purchase_orders)
        router.add("GET", f"{API}/jp/v1/purchaseorders/(?P<number>.+)", self._get_purchase_order)
        router.add("GET", f"{API}/ji/v1/invoices", self._list_invoices)
        router.add("POST", f"{API}/ji/v1/invoices", self._write_invoices)
        router.add("GET", f"{API}/ji/v1/invoices/(?P<id>[^/]+)", self._get_invoice)
        return router

    @staticmethod
    def _list(request: Request, *, rows: list[dict], fields: Collection[str], list_name: str, item_name: str,
              filter_values: Callable[[dict], dict] = lambda row: row) -> Response:
        try:
            query = parse_list_query(request.query, fields=fields)
        except ListQueryError as error:
            return _api_error(400, str(error))
        return json_response(200, list_page(rows=rows, query=query, filter_values=filter_values,
                                            list_name=list_name, item_name=item_name))

    @staticmethod
    def _one(name: str, found: dict | None, missing: str) -> Response:
        if found is None:
            return json_response(200, {"returnCode": 2, "returnMessage": missing})
        return json_response(200, {"returnCode": 0, "returnMessage": "", name: found})

    def _write_batch(self, request: Request, *, kind: str, list_name: str, item_name: str, limit: int,
                     apply: Callable[[dict], Outcome]) -> Response:
        try:
            payload = request.json()
        except ValueError:
            return _api_error(400, "Malformed JSON body")
        holder = payload.get(list_name) if isinstance(payload, dict) else None
        items = holder.get(item_name) if isinstance(holder, dict) else None
        if isinstance(items, list) and len(items) > limit:
            return _api_error(413, f"At most {limit} items per request, got {len(items)}")
        if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
            # A batch we cannot read is refused whole: returnCode 1, no results, nothing applied.
            return json_response(200, {"returnCode": 1, "returnMessage":
                                       f'Malformed batch: expected {{"{list_name}": {{"{item_name}": [objects]}}}}'})
        outcomes = self._applied(request, kind, items, apply)
        return json_response(200, {"returnCode": 0, "returnMessage": "",
                                   "resultList": {"result": [outcome.result() for outcome in outcomes]}})

    def _applied(self, request: Request, kind: str, items: list[dict], apply: Callable[[dict], Outcome]) -> list[Outcome]:
        """Applies the items of one request and logs each in received(), whichever transport carried them."""
        with self._lock:
            outcomes = [apply(item) for item in items]
            for item, outcome in zip(items, outcomes, strict=True):
                self._received.append({
                    "seq": len(self._received) + 1,
                    "at": self.clock.utcnow().isoformat(),
                    "method": request.method,
                    "path": request.path,
                    "kind": kind,
                    "key": outcome.key,
                    "type": outcome.type,
                    "status": outcome.status,
                    "errors": [error["code"] for error in outcome.errors],
                    "body": copy.deepcopy(item),
                })
        return outcomes

    # XML imports (docs/jaggaer-xml.md)

    def _xml_import(self, request: Request) -> Response:
        route = XML_ROUTES[request.path]
        if request.method != "POST":
            return answer(route, code=405, text="Method not allowed: POST the message")
        try:
            root, objects = parse_message(route, request.body)
        except MessageRefused as refusal:
            return unreadable(route, attempted=0, errors=[str(refusal)])
        message_id = (root.findtext("Header/MessageId") or "").strip()
        identity = (root.findtext("Header/Authentication/Identity") or "").strip()
        secret = root.findtext("Header/Authentication/SharedSecret") or ""
        with self._lock:
            known = self._xml_identities.get(identity)
        if known is None or not hmac.compare_digest(known.encode(), secret.encode()):
            return answer(route, code=401, message_id=message_id,
                          text="Authentication failed: unknown Identity or wrong SharedSecret")
        if len(objects) > (BATCH_LIMIT if route.kind == "supplier" else DOCUMENT_BATCH_LIMIT):
            return unreadable(route, attempted=len(objects), errors=[f"At most {BATCH_LIMIT} documents per message"])
        outcomes = self._applied(request, route.kind, [route.read(found) for found in objects], self._xml_apply(route))
        refused = [(outcome.key, [error["message"] for error in outcome.errors])
                   for outcome in outcomes if outcome.status == "Error"]
        completed = len(outcomes) - len(refused)
        said = ("Success " if not refused else "Completed with errors ") + counts(len(outcomes), completed)
        return answer(route, code=406 if refused else 200, text=said, refused=refused, message_id=message_id)

    def _xml_apply(self, route: XmlRoute) -> Callable[[dict], Outcome]:
        if route.kind == "supplier":
            return self._data_call("upsert_supplier")

        def purchase_order(item: dict) -> Outcome:
            header = item["poHeader"]
            if header["type"] not in ("update", "cancel"):
                return Outcome(key=header["poNumber"], status="Error", type=header["type"], errors=[{
                    "code": "VALIDATION", "field": "POHeader.type",
                    "message": f"POHeader type {header['type']!r} is not update or cancel"}])
            if header["type"] == "update" and header["poNumber"] not in self._data.purchase_orders:
                header["type"] = "new"  # the import's update is an upsert: what it creates is a new PO
            return self._data.apply_purchase_order(item)
        return purchase_order

    def _list_custom_fields(self, request: Request) -> Response:
        with self._lock:
            rows = [{"name": f["name"], "label": f["label"]} for f in self._data.custom_fields.values()]
        return self._list(request, rows=rows, fields=CUSTOM_FIELD_FILTERS, list_name="customFieldList",
                          item_name="customField")

    def _list_custom_field_values(self, request: Request) -> Response:
        name = request.params["name"]
        with self._lock:
            field = self._data.custom_fields.get(name)
            rows = None if field is None else [
                {k: v for k, v in value.items() if k != "id"} for value in field["values"].values()
            ]
        if rows is None:
            return _no_custom_field(name)
        return self._list(request, rows=rows, fields=CUSTOM_FIELD_VALUE_FILTERS, list_name="customFieldValueList",
                          item_name="customFieldValue")

    def _write_custom_field_values(self, request: Request) -> Response:
        name = request.params["name"]
        with self._lock:
            known = name in self._data.custom_fields
        if not known:
            return _no_custom_field(name)
        return self._write_batch(
            request, kind="custom_field_value", list_name="customFieldValueList", item_name="customFieldValue",
            limit=BATCH_LIMIT, apply=lambda item: self._data.upsert_custom_field_value(name, item))

    def _list_suppliers(self, request: Request) -> Response:
        with self._lock:
            rows = [self._data.supplier_view(number) for number in self._data.suppliers]
        return self._list(request, rows=rows, fields=SUPPLIER_FILTERS, list_name="supplierList",
                          item_name="supplier")

    def _write_suppliers(self, request: Request) -> Response:
        return self._write_batch(request, kind="supplier", list_name="supplierList", item_name="supplier",
                                 limit=BATCH_LIMIT, apply=self._data_call("upsert_supplier"))

    def _get_supplier(self, request: Request) -> Response:
        number = request.params["number"]
        with self._lock:
            found = self._data.supplier_view(number) if number in self._data.suppliers else None
        return self._one("supplier", found, "Supplier not found")

    def _write_purchase_orders(self, request: Request) -> Response:
        return self._write_batch(request, kind="purchase_order", list_name="purchaseOrderList",
                                 item_name="purchaseOrder", limit=DOCUMENT_BATCH_LIMIT,
                                 apply=self._data_call("apply_purchase_order"))

    def _get_purchase_order(self, request: Request) -> Response:
        with self._lock:
            found = copy.deepcopy(self._data.purchase_orders.get(request.params["number"]))
        return self._one("purchaseOrder", found, "Purchase order not found")

    def _list_invoices(self, request: Request) -> Response:
        with self._lock:
            rows = copy.deepcopy(list(self._data.invoices.values()))
        return self._list(request, rows=rows, fields=INVOICE_FILTERS, list_name="invoiceList", item_name="invoice",
                          filter_values=lambda invoice: {**invoice["header"], "id": invoice["id"],
                                                         "supplierNumber": invoice["header"]["supplier"]["supplierNumber"]})

    def _write_invoices(self, request: Request) -> Response:
        return self._write_batch(request, kind="invoice", list_name="invoiceList", item_name="invoice",
                                 limit=DOCUMENT_BATCH_LIMIT, apply=self._data_call("apply_invoice"))

    def _get_invoice(self, request: Request) -> Response:
        with self._lock:
            found = copy.deepcopy(self._data.invoice_by_id(request.params["id"]))
        return self._one("invoice", found, "Invoice not found")

    def _data_call(self, method: str) -> Callable[[dict], Outcome]:
        # Looked up per call: reset() replaces the data object behind the routes.
        return lambda item: getattr(self._data, method)(item)

    # Control and inspection API (no auth; the servers bind 127.0.0.1 only)

    def _control_routes(self) -> Router:
        router = Router()
        router.add("GET", "/_sandbox/received", lambda r: json_response(200, self.received(r.query.get("kind"))))
        router.add("GET", "/_sandbox/counts", lambda r: json_response(200, self.counts()))
        router.add("GET", "/_sandbox/stats", lambda r: json_response(200, self.stats()))
        router.add("POST", "/_sandbox/stats/reset", lambda r: self._control_call(r, lambda body: self.reset_stats()))
        router.add("POST", "/_sandbox/reset", self._control_reset)
        router.add("GET", "/_sandbox/faults", lambda r: json_response(200, self._faults.describe()))
        router.add("POST", "/_sandbox/faults", self._control_add_fault)
        router.add("DELETE", "/_sandbox/faults", self._control_clear_faults)
        router.add("POST", "/_sandbox/clock", self._control_clock)
        router.add("POST", "/_sandbox/config", self._control_config)
        router.add("POST", "/_sandbox/clients", self._control_client)
        router.add("POST", "/_sandbox/customfields", self._control_custom_field)
        return router

    @staticmethod
    def _control_call(request: Request, call: Callable[[dict], Any]) -> Response:
        try:
            body = request.json() if request.body else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            answer = call(body)
        except (ValueError, TypeError) as error:
            return json_response(400, {"error": str(error)})
        return json_response(200, answer if answer is not None else {"ok": True})

    def _control_reset(self, request: Request) -> Response:
        return self._control_call(request, lambda body: self.reset())

    def _control_add_fault(self, request: Request) -> Response:
        """Body: a fault ({"kind": ..., "count": ..., ...}) to add, or {"clear": true}."""
        def add(body: dict) -> list[dict]:
            if body.get("clear"):
                self.clear_faults()
            else:
                self.add_fault(**body)
            return self._faults.describe()
        return self._control_call(request, add)

    def _control_clear_faults(self, request: Request) -> Response:
        return self._control_call(request, lambda body: self.clear_faults())

    def _control_clock(self, request: Request) -> Response:
        def advance(body: dict) -> dict:
            if "advance" not in body:
                raise ValueError('expected {"advance": seconds}')
            self.clock.advance(float(body["advance"]))
            return {"now": self.clock.utcnow().isoformat()}
        return self._control_call(request, advance)

    def _control_config(self, request: Request) -> Response:
        return self._control_call(request, lambda body: self.configure(**body))

    def _control_client(self, request: Request) -> Response:
        return self._control_call(request, lambda body: self.register_client(**body))

    def _control_custom_field(self, request: Request) -> Response:
        return self._control_call(request, lambda body: self.add_custom_field(**body))
