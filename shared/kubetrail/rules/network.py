"""Source addresses of a request: which one to trust, and whether it is public.

`sourceIPs` lists, in order, the X-Forwarded-For addresses, X-Real-Ip, then the address of the
connection itself. Whoever sends the request writes the headers, so the leading entries can be
forged; the last entries were added by the API server and the proxies in front of it. The source
the pack uses is therefore the *last* public address of the list: the connection's own address
when it is public, else the nearest public hop a proxy in front of the API server reported.
A forged header can add a public address in front of it, never replace it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from kubetrail.events import AuditEvent

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_IP_CHARS = 64  # the longest IPv6 text form is 45 characters
MAX_SOURCE_IPS = 32  # more entries than any real proxy chain: look at the last ones only


def parse_ip(text: object) -> IPAddress | None:
    """The address `text` spells (IPv4-mapped IPv6 as IPv4), or None if it spells none."""
    if not isinstance(text, str) or not text or len(text) > MAX_IP_CHARS:
        return None
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_public_ip(text: object) -> bool:
    """`text` is an address routable on the internet (not private, loopback, link-local,
    shared CGNAT, documentation, reserved or multicast)."""
    ip = parse_ip(text)
    return ip is not None and ip.is_global and not ip.is_multicast


def last_public_ip(addresses: Iterable[str]) -> str | None:
    """The last public address of a sourceIPs list, in its canonical text form."""
    found: str | None = None
    for text in list(addresses)[-MAX_SOURCE_IPS:]:
        if is_public_ip(text):
            found = str(parse_ip(text))
    return found


def public_source_ip(event: AuditEvent) -> str | None:
    """The request's public source address (see the module doc), None if it has none."""
    return last_public_ip(event.source_ips)
