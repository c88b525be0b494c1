"""JAGGAER client credentials (Keycloak): credentials in the form body, tokens renewed when 90% of
`expires_in` has passed and once more on a 401 (JAGGAER spec section 1)."""

from credentials.errors import ConnectionFailed, Problem
from credentials.models import JaggaerConnection
from credentials.session import BearerAuth, ConnectionSession
from credentials.tokens import IssuedToken, SharedToken, TokenRefusal, request_token


def jaggaer_session(*, connection: JaggaerConnection) -> ConnectionSession:
    return ConnectionSession(auth=BearerAuth(JaggaerToken(connection=connection)))


class JaggaerToken(SharedToken):
    renew_fraction = 0.9

    def __init__(self, *, connection: JaggaerConnection) -> None:
        super().__init__(owner={"jaggaer": connection})
        self.connection = connection

    def fetch(self) -> IssuedToken:
        answer = request_token(
            url=self.connection.token_url,
            data={"grant_type": "client_credentials", "client_id": self.connection.client_id,
                  "client_secret": self.connection.client_secret},
            explain=_explain,
        )
        return IssuedToken.from_answer(answer)


def _explain(refusal: TokenRefusal) -> ConnectionFailed:
    if refusal.status == 401 or refusal.error in {"unauthorized_client", "invalid_client"}:
        return ConnectionFailed(Problem.BAD_CLIENT, (
            "JAGGAER refused the client id or client secret (unauthorized_client): copy both again from "
            "the JAGGAER integration client."
        ))
    if refusal.status == 404:
        return ConnectionFailed(Problem.REFUSED, (
            "JAGGAER has no token endpoint at this base URL (HTTP 404): check the base URL."
        ))
    code = refusal.error or f"HTTP {refusal.status}"
    return ConnectionFailed(Problem.REFUSED, f"JAGGAER's token endpoint refused the request ({code}).")
