"""The SSRF guard: which SMTP hosts and ports a tenant may make Postroom connect to.

Tenants type an SMTP host into a form and a worker inside our network connects to it, so a
host that points back inside (loopback, private ranges, the cloud metadata service) would let
anyone probe or talk to our infrastructure. The host is resolved once, every address is
checked, and the transport connects only to the addresses returned here, so a DNS answer that
changes between the check and the connection (rebinding) cannot slip through.
"""
from __future__ import annotations

import ipaddress
import re
import socket

PUBLIC_ONLY = "SMTP host must be a public address"
METADATA_ONLY = "SMTP host must not be a cloud metadata address"

# The metadata services hand out instance credentials, so they stay refused even when a
# deployment allows private relays (allow_private is for an on-premises relay, never these).
METADATA_NAMES = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog",
    "instance-data", "instance-data.ec2.internal",
})
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle
    "169.254.170.2",    # AWS ECS task metadata
    "100.100.100.200",  # Alibaba Cloud
    "fd00:ec2::254",    # AWS over IPv6
))

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z", re.IGNORECASE)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class HostRefused(ValueError):
    """The host or port may not be used for an SMTP connection; str(exc) says why."""


def check_port(port: int, allowed: frozenset[int]) -> None:
    """Refuse a port outside the allowed set, naming the ports that are allowed."""
    if isinstance(port, bool) or not isinstance(port, int) or port not in allowed:
        choices = ", ".join(str(p) for p in sorted(allowed))
        raise HostRefused(f"Port {port} is not allowed; use one of {choices}")


def check_host_syntax(host: str) -> None:
    """Refuse a host that is neither a valid host name nor an IP literal (no DNS, no policy)."""
    if _ip_literal(host) is None:
        _valid_hostname(host)


def resolve_host(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Resolve once (getaddrinfo, TCP) and return the IP addresses (v4, v6) to try, in order.

    Raises HostRefused when the host is not a valid host name or IP literal, or when the host
    itself or ANY resolved address is loopback, private, link-local, multicast, unspecified,
    reserved, an IPv4-mapped/6to4/NAT64 form of those, or a cloud metadata address or name
    (those stay refused even with allow_private). socket.gaierror propagates when the name
    does not resolve.
    """
    literal = _ip_literal(host)
    if literal is None:
        name = _valid_hostname(host)
        if name in METADATA_NAMES:
            raise HostRefused(METADATA_ONLY if allow_private else PUBLIC_ONLY)
        if not allow_private and (name == "localhost" or name.endswith(".localhost")):
            raise HostRefused(PUBLIC_ONLY)
        addresses = _resolve(host, port)
    else:
        addresses = [literal]
    for address in addresses:
        _check_address(address, allow_private=allow_private)
    return [str(address) for address in addresses]


def _resolve(host: str, port: int) -> list[IPAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    seen: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if address not in seen:
            seen.append(address)
    return seen


def _check_address(address: IPAddress, *, allow_private: bool) -> None:
    if _unwrap(address) in METADATA_ADDRESSES or address in METADATA_ADDRESSES:
        raise HostRefused(METADATA_ONLY if allow_private else PUBLIC_ONLY)
    if not allow_private and not _is_public(address):
        raise HostRefused(PUBLIC_ONLY)


def _unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address hidden inside an IPv4-mapped, 6to4 or NAT64 IPv6 address, if any."""
    if address.version == 4:
        return address
    embedded = address.ipv4_mapped or address.sixtofour
    if embedded is None and any(address in net for net in _NAT64):
        embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return embedded or address


def _is_public(address: IPAddress) -> bool:
    # These IPv6 forms reach the embedded IPv4 host, so that host is what must be public.
    address = _unwrap(address)
    # is_global alone lets multicast through, and its private ranges differ between Python
    # patch releases, so every property is asked.
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_multicast or address.is_unspecified or address.is_reserved
        or (address.version == 6 and address.is_site_local)
    )


def _ip_literal(host: str) -> IPAddress | None:
    if not isinstance(host, str):  # ip_address() would take an int as an address
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _valid_hostname(host: str) -> str:
    """The host name in lower case without a trailing dot, or HostRefused if it is not one."""
    invalid = HostRefused("Enter a host name such as smtp.example.com, or an IP address")
    if not isinstance(host, str) or not host:
        raise invalid
    try:
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        raise invalid from None
    name = ascii_host.lower().removesuffix(".")
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise invalid
    # An all-numeric last label is no top-level domain: it is an address in a form the C
    # resolver still accepts ("127.1", "0x7f.1"), which people should write as an IP.
    if labels[-1].isdigit():
        raise invalid
    return name
