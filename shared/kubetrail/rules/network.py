"""Source addresses of a request: which one to trust, and whether it is public.

`sourceIPs` lists, in order, the X-Forwarded-For addresses, X-Real-Ip, then the address of the
connection itself. Whoever sends the request writes the headers, so the leading entries can be
forged; the last entries were added by the API server and the proxies in front of it. The source
the pack uses is therefore the *last* public address of the list: the connection's own address
when it is public, else the nearest public hop a proxy in front of the API server reported.
A forged header can add a public address in front of it, never replace it.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, repeat
from typing import Any

from kubetrail.events import AuditEvent

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_IP_CHARS = 64  # the longest IPv6 text form is 45 characters
MAX_SOURCE_IPS = 32  # more entries than any real proxy chain: look at the last ones only
# Texts that are never a public address, whatever follows: a well-formed IPv4 address in 10/8,
# 127/8, 0/8, 169.254/16, 192.168/16, 172.16/12 or 100.64/10, or no address at all (an IPv6
# text cannot start with `<digits>.`). One C-level startswith answers nearly every request.
_NEVER_PUBLIC = ("10.", "127.", "0.", "169.254.", "192.168.",
                 *(f"172.{i}." for i in range(16, 32)), *(f"100.{i}." for i in range(64, 128)))


def parse_ip(text: object) -> IPAddress | None:
    """The address `text` spells (IPv4-mapped IPv6 as IPv4), or None if it spells none."""
    if not isinstance(text, str) or not text or len(text) > MAX_IP_CHARS or "%" in text:
        return None  # a zone (`fe80::1%eth0`) names a local link, never an internet address
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
    if not isinstance(text, str) or text.startswith(_NEVER_PUBLIC):
        return False  # the fast answer for the addresses nearly every request comes from
    return _is_public(text)


@functools.lru_cache(maxsize=4096)
def _is_public(text: str) -> bool:
    ip = parse_ip(text)
    return ip is not None and ip.is_global and not ip.is_multicast


def public_flags(texts: Sequence[Any]) -> list[bool]:
    """is_public_ip of each text; one C-level pass when every one starts like a never-public
    address (the usual batch), else one call each."""
    try:
        if all(map(str.startswith, texts, repeat(_NEVER_PUBLIC))):
            return [False] * len(texts)
    except TypeError:  # a text that is not a str (None: no address): ask each one
        pass
    return list(map(is_public_ip, texts))


def last_public_ip(addresses: Iterable[str]) -> str | None:
    """The last public address of a sourceIPs list, in its canonical text form."""
    found: str | None = None
    addresses = addresses if isinstance(addresses, list | tuple) else list(addresses)
    for text in addresses[-MAX_SOURCE_IPS:]:
        if is_public_ip(text):
            found = str(parse_ip(text))
    return found


def public_source_ip(event: AuditEvent) -> str | None:
    """The request's public source address (see the module doc), None if it has none."""
    return last_public_ip(event.source_ips)


def shown_source(event: AuditEvent) -> str:
    """The public source for a title, saying when it is not the connection's own address: a
    forwarded-for value that the connection (a private address the caller may be) reported, so a
    reader never takes a header any client can write for the address that connected."""
    found = public_source_ip(event)
    if found is None:
        return "<unknown>"
    last = event.source_ips[-1] if event.source_ips else None
    if last is None or str(parse_ip(last)) == found:
        return found
    return f"{found}, as forwarded by {cut_address(last)}"


def cut_address(text: str) -> str:
    """An address as shown in a title, cut to a length no real address exceeds."""
    return text if len(text) <= MAX_IP_CHARS else text[:MAX_IP_CHARS] + "…"


# Every text parse_ip accepts is made of these characters only (no zone: see parse_ip).
IP_CHARS = "0123456789abcdefABCDEF:."
_IP_RUN = re.compile(rb"(?<![0-9A-Fa-f:.])[0-9A-Fa-f:.]*[.:][0-9A-Fa-f:.]*(?![0-9A-Fa-f:.])")


def text_has_public_ip(text: bytes) -> bool:
    """Some maximal run of address characters in `text` is a public address. A JSON string that
    holds one is delimited by quotes (or escaped quotes), so its address is such a run, unless a
    \\u escape spells one of its characters (the caller checks escapes)."""
    return any(len(run) <= MAX_IP_CHARS and is_public_ip(run.decode("ascii"))
               for run in _IP_RUN.findall(text))


class PublicSourceIPs:
    """The value of `Requires: {source_ips: [public]}`: membership means "these sourceIPs have a
    public address" (public_source_ip), for the engine (an AuditEvent's tuple) and the prefilter
    (a light event's list or None) alike."""

    def __contains__(self, addresses: Any) -> bool:
        if not isinstance(addresses, list | tuple):
            return False
        if len(addresses) == 1:  # the usual case: no proxy in front of the API server
            return is_public_ip(addresses[0])
        return last_public_ip(addresses) is not None

    def isdisjoint(self, values: Iterable[Any]) -> bool:
        """No value holds a public address. First one C-level pass over every address of the
        lists: when each starts like a never-public address, none is public (a value that is not
        a list never is)."""
        values = values if isinstance(values, list | tuple) else list(values)
        try:
            if all(map(str.startswith, chain.from_iterable(filter(None, values)),
                       repeat(_NEVER_PUBLIC))):
                return True
        except TypeError:  # a value that is not a list of strings: ask each one
            pass
        return not any(map(self.__contains__, values))

    def __iter__(self) -> Iterator[str]:
        return iter(("public",))  # as the YAML spells it (listings, JSON)

    def __repr__(self) -> str:
        return "PublicSourceIPs()"


PUBLIC_SOURCE_IPS = PublicSourceIPs()
