"""A small WSGI toolkit shared by the NetSuite and JAGGAER sandbox servers: request parsing,
routing by method and path pattern, and a threaded server bound to 127.0.0.1."""

import json
import re
import socketserver
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class Headers(dict):
    """Request headers with case-insensitive lookup."""

    def __init__(self, items: dict[str, str]) -> None:
        super().__init__({k.lower(): v for k, v in items.items()})

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


@dataclass
class Request:
    method: str
    path: str
    query_string: str
    headers: Headers
    body: bytes
    scheme: str
    host: str
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route pattern

    @property
    def query(self) -> dict[str, str]:
        """First value of each query parameter."""
        return {k: v[0] for k, v in parse_qs(self.query_string, keep_blank_values=True).items()}

    @property
    def url(self) -> str:
        """The URL as the client addressed it (what OAuth signatures and JWT audiences name)."""
        base = f"{self.scheme}://{self.host}{self.path}"
        return f"{base}?{self.query_string}" if self.query_string else base

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}


@dataclass
class Response:
    """`body` as bytes is sent with its Content-Length; an iterable of bytes is streamed as it yields, without
    one (the answer ends when the iterable does), for answers that trickle in or never end."""

    status: int
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status=status,
        body=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


Handler = Callable[[Request], Response]


class HangUp(Exception):
    """Raised by a handler to end the connection without answering: the client sees it close before the first
    byte of an answer, as when a server crashes or a proxy drops the connection after the request was carried out."""


class Router:
    """Routes by method and a path regex with named groups; a WSGI application.

    `before` hooks run ahead of every handler (auth, governance, faults) and may answer instead."""

    def __init__(self, *, case_insensitive: bool = False) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._flags = re.IGNORECASE if case_insensitive else 0

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile(f"^{pattern}$", self._flags), handler))

    def dispatch(self, request: Request) -> Response:
        path_matched = False
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if not match:
                continue
            path_matched = True
            if method == request.method:
                request.params = match.groupdict()
                return handler(request)
        if path_matched:
            return json_response(405, {"error": "method not allowed"})
        return json_response(404, {"error": f"no route for {request.path}"})


def parse_environ(environ: dict[str, Any]) -> Request:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    headers = {key[5:].replace("_", "-"): value for key, value in environ.items() if key.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["Content-Length"] = environ["CONTENT_LENGTH"]
    return Request(
        method=environ["REQUEST_METHOD"].upper(),
        path=environ.get("PATH_INFO", "/"),
        query_string=environ.get("QUERY_STRING", ""),
        headers=Headers(headers),
        body=body,
        scheme=environ.get("wsgi.url_scheme", "http"),
        host=environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}",
    )


def wsgi_app(handle: Handler) -> Callable:
    """Turns `handle(Request) -> Response` into a WSGI application."""

    def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        try:
            response = handle(parse_environ(environ))
        except HangUp:
            # wsgiref takes this error for a client that went away: it writes nothing and closes the connection.
            raise ConnectionAbortedError("the sandbox hung up on purpose") from None
        reason = HTTPStatus(response.status).phrase
        headers = list(response.headers.items())
        body = response.body
        if isinstance(body, bytes):
            headers.append(("Content-Length", str(len(body))))
            body = [body]
        start_response(f"{response.status} {reason}", headers)
        return body

    return application


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


class RunningServer:
    """A sandbox server serving on 127.0.0.1 in a daemon thread."""

    def __init__(self, application: Callable, port: int = 0) -> None:
        self._server = make_server(
            "127.0.0.1", port, application, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"sandbox:{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
