"""NetSuite account ids and the hosts derived from them; telling a production JAGGAER tenant apart."""

import re
from urllib.parse import urlsplit

# Digits, optionally a sandbox suffix; users paste either the realm form (1234567_SB1) or the host
# form (1234567-sb1), in any case. NetSuite spec section 1.
_ACCOUNT_ID = re.compile(r"^(?P<number>\d+)(?:[_-](?P<sandbox>sb)(?P<index>\d+))?$", re.IGNORECASE)

# JAGGAER names its non-production environments with these host prefixes (prep-reg02.api.jaggaer.com).
_JAGGAER_TEST_PREFIXES = ("prep", "test", "uat", "sandbox", "stage", "staging", "dev", "demo")


def normalise_account_id(raw: str) -> str:
    """`1234567_sb1` or `1234567-SB1` -> `1234567_SB1`; anything else is refused.

    A lower-case `_sb1` in a TBA realm fails with INVALID_LOGIN, so we store the one canonical form."""
    value = (raw or "").strip()
    match = _ACCOUNT_ID.match(value)
    if not match:
        raise ValueError(
            f"{value!r} is not a NetSuite account id: expected digits, optionally followed by _SB and a "
            "number (e.g. 1234567 or 1234567_SB1)."
        )
    if match["sandbox"]:
        return f"{match['number']}_SB{match['index']}"
    return match["number"]


def host_label(account_id: str) -> str:
    """The account's label in NetSuite host names: `1234567_SB1` -> `1234567-sb1`."""
    return account_id.lower().replace("_", "-")


def derived_base_url(account_id: str) -> str:
    return f"https://{host_label(account_id)}.suitetalk.api.netsuite.com"


def consent_base_url(*, account_id: str, base_url: str) -> str:
    """Where a person grants consent: NetSuite's UI host for a real account, else the configured
    server (a sandbox serves the consent page itself)."""
    if base_url.rstrip("/") == derived_base_url(account_id):
        return f"https://{host_label(account_id)}.app.netsuite.com"
    return base_url.rstrip("/")


def is_production_jaggaer_url(base_url: str) -> bool:
    """A JAGGAER host that is not one of its test environments (and not a local server)."""
    host = (urlsplit(base_url).hostname or "").lower()
    if not host.endswith("jaggaer.com"):
        return False
    return not host.split(".")[0].startswith(_JAGGAER_TEST_PREFIXES)
