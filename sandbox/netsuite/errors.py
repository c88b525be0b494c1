"""NetSuite's error body (spec section 5), raised anywhere in the sandbox and rendered by the app."""

from typing import Any

_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
           500: "Internal Server Error"}


class NetSuiteError(Exception):
    def __init__(self, status: int, code: str, detail: str, *, query_param: str | None = None,
                 path: str | None = None, title: str | None = None, top_level_code: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.query_param = query_param
        self.path = path
        self.title = title or _TITLES.get(status, "Error")
        self.top_level_code = top_level_code  # the 429 concurrency body carries one (spec section 6)

    def body(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"detail": self.detail, "o:errorCode": self.code}
        if self.query_param:
            detail["o:errorQueryParam"] = self.query_param
        if self.path:
            detail["o:errorPath"] = self.path
        body: dict[str, Any] = {
            "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
            "title": self.title,
            "status": self.status,
            "o:errorDetails": [detail],
        }
        if self.top_level_code:
            body["o:errorCode"] = self.top_level_code
        return body
