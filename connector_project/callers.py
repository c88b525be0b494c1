"""Who is calling, as the rate limits count callers: the webhook's limit on refused pushes and the admin's
login throttle. Both count a caller by address, so both must see the real client behind a reverse proxy;
otherwise the proxy's own address would be everybody's, and a stranger's failures would lock out everyone."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def caller_address(request: HttpRequest) -> str:
    """The caller's IP address: REMOTE_ADDR, or, when CLIENT_ADDRESS_HEADER names the header a reverse proxy
    in front of the connector writes (X-Forwarded-For), the address that proxy appended last. Only the last
    one: whatever comes before it was sent by the caller, who could write anything there."""
    header = settings.CLIENT_ADDRESS_HEADER
    if header:
        forwarded = request.headers.get(header, "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "")


def rate_limit_source(address: str) -> str:
    """The caller as a rate limit counts it. An IPv6 client usually holds a whole /64 and could rotate through
    it, so that network is the source; an IPv4-mapped address is the IPv4 address it maps; "" when `address`
    is no IP address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)
