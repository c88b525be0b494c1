"""Why a connection could not authenticate, in words a finance administrator can act on."""

from enum import StrEnum


class Problem(StrEnum):
    UNREACHABLE = "host unreachable"
    BAD_CLIENT = "bad client id or secret"
    BAD_KEY = "bad certificate id or private key"
    BAD_TBA_TOKEN = "bad TBA keys or tokens"
    CLOCK_SKEW = "clock skew"
    WRONG_ACCOUNT = "wrong account id"
    NEEDS_CONSENT = "needs re-consent"
    REFUSED = "refused"


class ConnectionFailed(Exception):
    """Authentication or the first call failed. The message is safe to log and show: it never
    carries a secret, only what was tried and what to fix."""

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
