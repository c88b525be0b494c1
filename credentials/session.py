"""The requests session the sync code uses: auth attached, a default timeout, and after a 401 from
a bearer token exactly one renewal and one retry."""

from typing import Any

import requests
from requests.auth import AuthBase

from credentials.tokens import SharedToken

DEFAULT_TIMEOUT = 60  # seconds per request unless the caller says otherwise


class BearerAuth(AuthBase):
    """The connection's current token from the shared cache, renewed ahead of expiry."""

    def __init__(self, tokens: SharedToken) -> None:
        self.tokens = tokens

    def token(self) -> str:
        return self.tokens.get()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request


class _ThisToken(BearerAuth):
    """The token a renewal just returned, for the one retry (even if it is already due for renewal)."""

    def __init__(self, tokens: SharedToken, token: str) -> None:
        super().__init__(tokens)
        self._token = token

    def token(self) -> str:
        return self._token


class ConnectionSession(requests.Session):
    """A session for one connection. Request auth (bearer or OAuth 1.0a) is computed per request, so
    every retry, here or by the caller, carries a fresh signature or the current token."""

    def __init__(self, *, auth: AuthBase, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        self.auth = auth
        self.timeout = timeout
        self.headers["Accept"] = "application/json"

    def load_token(self) -> None:
        """Puts a current bearer token in memory now (renewing it if due), in this thread: threads that send
        without the database (tokens.from_memory_only) then find it there."""
        if isinstance(self.auth, BearerAuth):
            self.auth.token()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        response = super().request(method, url, *args, **kwargs)
        if response.status_code == 401 and isinstance(self.auth, BearerAuth):
            sent = response.request.headers.get("Authorization", "").removeprefix("Bearer ")
            fresh = self.auth.tokens.renew(stale=sent)
            response = super().request(method, url, *args, **{**kwargs, "auth": _ThisToken(self.auth.tokens, fresh)})
        return response
