"""The NetSuite sandbox server: the REST paths of spec sections 2 to 6 around the data set, strict about
authentication and concurrency, with faults on demand, push events (section 7) and a small unauthenticated
control API under /_sandbox/ for the demo and for tests in other processes."""

import functools
import inspect
import logging
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.clock import Clock
from sandbox.http import Request, Response, Router, json_response, wsgi_app
from sandbox.latency import Latency
from sandbox.netsuite import push
from sandbox.netsuite.auth import AUTH_CODE, M2M, TBA, InvalidLogin, NetSuiteAuth
from sandbox.netsuite.dataset import NetSuiteDataset
from sandbox.netsuite.errors import NetSuiteError
from sandbox.netsuite.faults import Faults, unexpected_error
from sandbox.netsuite.governance import ConcurrencyGovernor

logger = logging.getLogger(__name__)

REST = "/services/rest"
CONTROL_PREFIX = "/_sandbox/"
# The two paths a client reaches before it holds a token; everything else under REST needs one.
_PATHS_WITHOUT_LOGIN = re.compile(rf"^({REST}/auth/oauth2/v1/token|/app/login/oauth2/authorize\.nl)$", re.IGNORECASE)
REQUESTS_LOG_SIZE = 10_000

DEMO_M2M_CLIENT_ID = "sandbox-demo-m2m-client"
DEMO_CERTIFICATE_ID = "sandbox-demo-certificate"
DEMO_AUTH_CODE_CLIENT_ID = "sandbox-demo-auth-code-client"
# Where the connector's admin receives the consent redirect when it runs on its default address.
DEMO_REDIRECT_URI = "http://127.0.0.1:8000/credentials/netsuite/oauth/callback/"
DEMO_ALGORITHM = "PS256"

# The data set's mutations the control API may call by name.
MUTATIONS = frozenset({
    "create_vendor", "update_vendor", "create_purchase_order", "update_purchase_order",
    "update_purchase_order_line", "create_vendor_bill", "delete_record", "create_account", "set_inactive",
})


class LoggedRequest(NamedTuple):
    method: str
    path: str
    status: int
    auth: str | None  # the auth method that let it in; None when refused or not needed


@functools.cache
def _demo_secrets() -> dict[str, str]:
    """Made once per process, so that a reset keeps the demo's configured connection valid."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    pem = serialization.Encoding.PEM
    return {
        "private_key_pem": key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode("ascii"),
        "public_key_pem": key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo)
                          .decode("ascii"),
        "client_secret": secrets.token_hex(32),
        "refresh_token": secrets.token_urlsafe(48),
        # NetSuite's TBA keys and secrets are 64 hex characters.
        "consumer_key": secrets.token_hex(32),
        "consumer_secret": secrets.token_hex(32),
        "token_id": secrets.token_hex(32),
        "token_secret": secrets.token_hex(32),
    }


def _error_response(error: NetSuiteError) -> Response:
    return json_response(error.status, error.body(), error.headers if isinstance(error, InvalidLogin) else None)


def _query_int(request: Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise NetSuiteError(400, "INVALID_PARAMETER", f"Invalid value for the '{name}' parameter: {raw}.",
                            query_param=name) from None


class NetSuiteSandbox:
    def __init__(self, *, account_id: str = "1234567_SB1", dataset: NetSuiteDataset | None = None,
                 concurrency_limit: int = 5, latency: float = 0.0, clock: Clock | None = None) -> None:
        """`latency`: seconds every API request is held, in its concurrency slot, before it is answered, as a round
        trip to NetSuite takes (benchmarks use 0.15); see configure()."""
        self.clock = clock or (dataset.clock if dataset else Clock())
        self.account_id = account_id
        self.dataset = dataset or NetSuiteDataset(clock=self.clock)
        self.auth = NetSuiteAuth(account_id=account_id, clock=self.clock)
        self.governor = ConcurrencyGovernor(account_limit=concurrency_limit)
        self.faults = Faults(governor=self.governor, auth=self.auth)
        self.requests_log: deque[LoggedRequest] = deque(maxlen=REQUESTS_LOG_SIZE)
        self._concurrency_limit = concurrency_limit
        self._default_latency = latency
        self._latency = Latency(latency)
        self.suiteql_allowed = True
        self._stats_lock = threading.Lock()
        self._api_requests = 0
        self._api = self._api_routes()
        self._control = self._control_routes()
        self._register_demo_clients()

    # --- the Python control API ----------------------------------------------------------------------------

    def wsgi_app(self) -> Callable:
        return wsgi_app(self._handle)

    def reset(self) -> None:
        self.dataset.reset()
        self.clock.reset()
        self.auth.forget_everything()
        self.faults.clear()
        self.faults.injected.clear()
        self.faults.requests_seen = 0
        self.governor.account_limit = self._concurrency_limit
        self.governor.integration_limit = None
        self._latency.set(self._default_latency)
        self.suiteql_allowed = True
        self.reset_stats()
        self.requests_log.clear()
        self._register_demo_clients()

    def configure(self, *, latency: float | None = None, concurrency_limit: int | None = None,
                  suiteql_allowed: bool | None = None) -> None:
        """Changes the per-request latency, the account's concurrency limit and whether the role may run SuiteQL
        (a role without the SuiteAnalytics Workbook permission: SuiteQL answers 403, REST records still work)
        until the next reset(). A change of latency lets the requests held under the old one go at once."""
        if suiteql_allowed is not None:
            if not isinstance(suiteql_allowed, bool):
                raise ValueError("suiteql_allowed must be true or false")
            self.suiteql_allowed = suiteql_allowed
        if concurrency_limit is not None:
            if not isinstance(concurrency_limit, int) or concurrency_limit < 1:
                raise ValueError("concurrency_limit must be a whole number of at least 1")
            self.governor.account_limit = concurrency_limit
        if latency is not None:
            self._latency.set(latency)

    @property
    def peak_in_flight(self) -> int:
        """The governor's: the most API requests in flight at once, counting one refused for going over the limit."""
        return self.governor.peak_in_flight

    def stats(self) -> dict[str, float]:
        """What a benchmark reads: API requests (the token endpoint not included, refused ones included) and the
        peak in flight since reset() or reset_stats(), with the limit and latency in force."""
        with self._stats_lock:
            api_requests = self._api_requests
        return {"requests": api_requests, "in_flight": self.governor.in_flight, "peak_in_flight": self.peak_in_flight,
                "concurrency_limit": self.governor.effective_limit, "latency": self._latency.seconds}

    def reset_stats(self) -> None:
        """Counts requests and the peak in flight from now on."""
        with self._stats_lock:
            self._api_requests = 0
        self.governor.reset_peak()

    def register_m2m_client(self, *, client_id: str, certificate_id: str, public_key_pem: str) -> None:
        self.auth.register_m2m_client(client_id=client_id, certificate_id=certificate_id, public_key_pem=public_key_pem)

    def register_auth_code_client(self, *, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.auth.register_auth_code_client(client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri)

    def register_tba(self, *, consumer_key: str, consumer_secret: str, token_id: str, token_secret: str) -> None:
        self.auth.register_tba(consumer_key=consumer_key, consumer_secret=consumer_secret, token_id=token_id,
                               token_secret=token_secret)

    def issue_access_token(self) -> str:
        """A valid Bearer token of the demo M2M client, for tests of the endpoints behind the login."""
        return self.auth.issue_access_token(method=M2M, client_id=DEMO_M2M_CLIENT_ID)

    def issue_authorization_code(self, *, client_id: str, redirect_uri: str, code_challenge: str,
                                 scope: str = "rest_webservices") -> str:
        """The code the consent page would put in its redirect."""
        return self.auth.issue_authorization_code(client_id=client_id, redirect_uri=redirect_uri,
                                                  code_challenge=code_challenge, scopes=frozenset(scope.split()))

    def revoke_tokens(self) -> None:
        self.faults.revoke_tokens()

    def demo_credentials(self) -> dict[str, dict[str, str]]:
        """The built-in registrations, each exactly the `auth` object of configure_connection (operations spec)."""
        demo = _demo_secrets()
        return {
            M2M: {"method": M2M, "client_id": DEMO_M2M_CLIENT_ID, "certificate_id": DEMO_CERTIFICATE_ID,
                  "private_key_pem": demo["private_key_pem"], "algorithm": DEMO_ALGORITHM},
            AUTH_CODE: {"method": AUTH_CODE, "client_id": DEMO_AUTH_CODE_CLIENT_ID,
                        "client_secret": demo["client_secret"], "refresh_token": demo["refresh_token"]},
            TBA: {"method": TBA, "consumer_key": demo["consumer_key"], "consumer_secret": demo["consumer_secret"],
                  "token_id": demo["token_id"], "token_secret": demo["token_secret"]},
        }

    def send_push_event(self, *, url: str, secret: str, record_type: str, record_id: str, event_type: str,
                        event_id: str | None = None, occurred_at: str | None = None,
                        timestamp: int | None = None) -> requests.Response:
        return push.send_push_event(url=url, secret=secret, record_type=record_type, record_id=record_id,
                                    event_type=event_type, now=self.clock.now(), event_id=event_id,
                                    occurred_at=occurred_at, timestamp=timestamp)

    def _register_demo_clients(self) -> None:
        demo = _demo_secrets()
        self.auth.register_m2m_client(client_id=DEMO_M2M_CLIENT_ID, certificate_id=DEMO_CERTIFICATE_ID,
                                      public_key_pem=demo["public_key_pem"])
        self.auth.register_auth_code_client(client_id=DEMO_AUTH_CODE_CLIENT_ID, client_secret=demo["client_secret"],
                                            redirect_uri=DEMO_REDIRECT_URI)
        self.auth.register_refresh_token(client_id=DEMO_AUTH_CODE_CLIENT_ID, refresh_token=demo["refresh_token"])
        self.auth.register_tba(consumer_key=demo["consumer_key"], consumer_secret=demo["consumer_secret"],
                               token_id=demo["token_id"], token_secret=demo["token_secret"])

    # --- serving -------------------------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX):
            return self._control_answer(request)
        auth_method: str | None = None
        try:
            if _PATHS_WITHOUT_LOGIN.match(request.path):
                response = self._api.dispatch(request)
            else:
                self._count_request()
                auth_method = self.auth.authenticate(request)
                with self.governor.slot():
                    self._latency.hold()
                    self.faults.before_request()
                    try:
                        answer = self._api.dispatch(request)
                    except NetSuiteError as error:
                        # A broken-answer fault may stand in for an error too (a garbled 404, say).
                        answer = _error_response(error)
                    response = self.faults.after_request(request.path, answer)
        except NetSuiteError as error:
            response = _error_response(error)
        except Exception:
            # The client sees only NetSuite's opaque 500; the traceback stays in the sandbox's log.
            logger.exception("NetSuite sandbox failed on %s %s", request.method, request.path)
            response = _error_response(unexpected_error())
        self.requests_log.append(LoggedRequest(request.method, request.path, response.status, auth_method))
        return response

    def _count_request(self) -> None:
        with self._stats_lock:
            self._api_requests += 1

    def _api_routes(self) -> Router:
        # Record paths are case-insensitive on NetSuite (spec 1): purchaseOrder and purchaseorder both work.
        router = Router(case_insensitive=True)
        router.add("POST", f"{REST}/auth/oauth2/v1/token", self.auth.token_endpoint)
        router.add("GET", r"/app/login/oauth2/authorize\.nl", self.auth.authorize)
        router.add("POST", f"{REST}/query/v1/suiteql", self._suiteql)
        router.add("GET", f"{REST}/record/v1/(?P<record_type>[A-Za-z]+)/(?P<record_id>[^/]+)", self._get_record)
        router.add("GET", f"{REST}/record/v1/(?P<record_type>[A-Za-z]+)", self._list_records)
        router.add("GET", f"{REST}/system/v1/governanceLimits",
                   lambda request: json_response(200, self.governor.limits()))
        return router

    def _suiteql(self, request: Request) -> Response:
        if not self.suiteql_allowed:
            # What a role given REST Web Services but not SuiteAnalytics Workbook meets.
            raise NetSuiteError(403, "INSUFFICIENT_PERMISSION", (
                "Permission Violation: You need the 'SuiteAnalytics Workbook' permission to access this page. "
                "Please contact your account administrator."))
        prefer = {part.strip().lower() for part in request.headers.get("Prefer", "").split(",")}
        if "transient" not in prefer:
            raise NetSuiteError(400, "USER_ERROR", "SuiteQL queries require the header 'Prefer: transient'.")
        limit = _query_int(request, "limit", 1000)
        offset = _query_int(request, "offset", 0)
        try:
            body = request.json()
        except ValueError:
            body = None
        if not (isinstance(body, dict) and isinstance(body.get("q"), str)
                and isinstance(body.get("params", []), list)):
            raise NetSuiteError(400, "INVALID_CONTENT",
                                'Invalid content in the request body. Expected {"q": "<SuiteQL>", "params": [...]}.')
        return json_response(200, self.dataset.suiteql(query=body["q"], params=body.get("params"), limit=limit,
                                                       offset=offset, self_url=request.url))

    def _get_record(self, request: Request) -> Response:
        fields = request.query.get("fields")
        return json_response(200, self.dataset.get_record(
            record_type=request.params["record_type"], record_id=request.params["record_id"],
            expand=request.query.get("expandSubResources", "").lower() == "true",
            fields=[name.strip() for name in fields.split(",") if name.strip()] if fields else None,
            base_url=request.base_url,
        ))

    def _list_records(self, request: Request) -> Response:
        return json_response(200, self.dataset.list_records(
            record_type=request.params["record_type"], limit=_query_int(request, "limit", 1000),
            offset=_query_int(request, "offset", 0), base_url=request.base_url, q=request.query.get("q"),
        ))

    # --- the HTTP control API ------------------------------------------------------------------------------

    def _control_answer(self, request: Request) -> Response:
        try:
            return self._control.dispatch(request)
        except NetSuiteError as error:
            return _error_response(error)
        except (ValueError, TypeError, KeyError) as error:
            return json_response(400, {"error": str(error)})
        except Exception:
            logger.exception("NetSuite sandbox control call failed: %s %s", request.method, request.path)
            return json_response(500, {"error": "the control call failed; see the sandbox's log"})

    def _control_routes(self) -> Router:
        router = Router()
        router.add("POST", "/_sandbox/reset", self._reset_over_http)
        router.add("GET", "/_sandbox/clock", lambda request: json_response(200, {"now": self.clock.now()}))
        router.add("POST", "/_sandbox/clock", self._move_clock)
        router.add("POST", "/_sandbox/faults", self._add_fault)
        router.add("DELETE", "/_sandbox/faults", self._clear_faults)
        router.add("POST", "/_sandbox/mutations/(?P<name>[a-z_]+)", self._mutate)
        router.add("GET", "/_sandbox/counts", lambda request: json_response(200, self.dataset.counts()))
        router.add("GET", "/_sandbox/requests",
                   lambda request: json_response(200, [entry._asdict() for entry in self.requests_log]))
        router.add("GET", "/_sandbox/demo_credentials", lambda request: json_response(200, self.demo_credentials()))
        router.add("POST", "/_sandbox/push", self._push)
        router.add("POST", "/_sandbox/config", self._configure_over_http)
        router.add("GET", "/_sandbox/stats", lambda request: json_response(200, self.stats()))
        router.add("POST", "/_sandbox/stats/reset", self._reset_stats_over_http)
        return router

    def _reset_over_http(self, request: Request) -> Response:
        self.reset()
        return json_response(200, {"ok": True})

    def _configure_over_http(self, request: Request) -> Response:
        """{"latency": seconds, "concurrency_limit": n, "suiteql_allowed": false}, any of them."""
        self.configure(**self._json_object(request))
        return json_response(200, self.stats())

    def _reset_stats_over_http(self, request: Request) -> Response:
        self.reset_stats()
        return json_response(200, {"ok": True})

    def _clear_faults(self, request: Request) -> Response:
        self.faults.clear()
        return json_response(200, {"ok": True})

    @staticmethod
    def _json_object(request: Request) -> dict[str, Any]:
        payload = request.json() if request.body else {}
        if not isinstance(payload, dict):
            raise ValueError("the body must be a JSON object")
        return payload

    def _move_clock(self, request: Request) -> Response:
        """{"advance": seconds} or {"set": unix time}."""
        payload = self._json_object(request)
        if "set" in payload:
            self.clock.set(float(payload["set"]))
        else:
            self.clock.advance(float(payload["advance"]))
        return json_response(200, {"now": self.clock.now()})

    def _add_fault(self, request: Request) -> Response:
        """{"kind": "latency", "seconds": s, "count": n} and likewise timeout (seconds optional), server_error
        (count or "probability" optional), rate_limit_storm (count or probability, "status" 429 or 400),
        broken_answer ({"mode": m, "path": p}), revoke_tokens, concurrency_status ({"status": 400 or 429})."""
        payload = self._json_object(request)
        count = payload.get("count")
        count = None if count is None else int(count)
        probability = payload.get("probability")
        probability = None if probability is None else float(probability)
        kind = payload.get("kind")
        if kind == "latency":
            self.faults.add_latency(seconds=float(payload["seconds"]), count=count)
        elif kind == "timeout":
            seconds = {"seconds": float(payload["seconds"])} if "seconds" in payload else {}
            self.faults.add_timeouts(count=count, **seconds)
        elif kind == "server_error":
            self.faults.add_server_errors(count=count, probability=probability)
        elif kind == "rate_limit_storm":
            status = payload.get("status")
            self.faults.add_rate_limit_storm(count=count, probability=probability,
                                             status=None if status is None else int(status))
        elif kind == "broken_answer":
            self.faults.add_broken_answers(mode=str(payload["mode"]), count=count,
                                           **({"path": str(payload["path"])} if "path" in payload else {}))
        elif kind == "revoke_tokens":
            self.faults.revoke_tokens()
        elif kind == "concurrency_status":
            self.faults.answer_concurrency_with(status=int(payload["status"]))
        else:
            raise ValueError(f"unknown fault kind: {kind!r}")
        return json_response(200, {"ok": True})

    def _mutate(self, request: Request) -> Response:
        name = request.params["name"]
        if name not in MUTATIONS:
            raise ValueError(f"unknown mutation: {name}")
        mutation = getattr(self.dataset, name)
        bound = inspect.signature(mutation).bind(**self._json_object(request))
        return json_response(200, {"result": mutation(*bound.args, **bound.kwargs)})

    def _push(self, request: Request) -> Response:
        try:
            answer = self.send_push_event(**self._json_object(request))
        except requests.RequestException as error:
            return json_response(502, {"error": f"the push did not reach its receiver: {type(error).__name__}"})
        return json_response(200, {"status": answer.status_code})
