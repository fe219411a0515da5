"""DNS lookups for the domain checks: one resolver built from the settings, errors sorted into
"there is no such record" (the admin's to fix) and "the lookup failed" (ours to retry)."""
from __future__ import annotations

import ipaddress
import re
import socket

import dns.exception
import dns.nameserver
import dns.resolver


class LookupFailed(Exception):
    """SERVFAIL, REFUSED, a timeout or no usable resolver: nothing is known about the record."""


def parse_nameserver(entry: str) -> tuple[str, int]:
    """`host[:port]`, with IPv6 as `[::1]:5353` or bare `::1`; a host name is resolved once."""
    entry = entry.strip()
    host, port = entry, 53
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif entry.count(":") == 1:
        host, _, port_text = entry.partition(":")
        port = int(port_text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        host = socket.gethostbyname(host)
    return host, port


def build_resolver(config) -> dns.resolver.Resolver:
    """A resolver from POSTROOM_DNS_NAMESERVERS (else the system's), without a cache, so
    "Check now" sees what the servers answer now."""
    servers = config["POSTROOM_DNS_NAMESERVERS"]
    try:
        resolver = dns.resolver.Resolver(configure=not servers)
    except dns.resolver.NoResolverConfiguration as exc:
        raise LookupFailed("No DNS resolver is configured on this server") from exc
    if servers:
        try:
            resolver.nameservers = [dns.nameserver.Do53Nameserver(*parse_nameserver(entry))
                                    for entry in servers]
        except (ValueError, OSError) as exc:
            raise LookupFailed(f"POSTROOM_DNS_NAMESERVERS is not usable: {exc}") from exc
    resolver.timeout = config["POSTROOM_DNS_TIMEOUT"]
    resolver.lifetime = config["POSTROOM_DNS_LIFETIME"]
    resolver.cache = None
    return resolver


def clean_txt(text: str) -> str:
    """A TXT value as the admin meant it: surrounding quotes that a panel stored literally
    (`"v=spf1 …"`, or `"part one" "part two"` pasted whole) and outer whitespace removed."""
    text = text.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = re.sub(r'"\s*"', "", text[1:-1]).strip()
    return text


class DnsLookup:
    """TXT and CNAME answers for one check; each name is asked once per check."""

    def __init__(self, resolver: dns.resolver.Resolver):
        self.resolver = resolver
        self._answers: dict[tuple[str, str], list[str] | LookupFailed] = {}
        # After one lookup used its whole lifetime unanswered, the rest fail at once: a check
        # against resolvers that are down takes one lifetime, not one per record.
        self._unanswered: LookupFailed | None = None

    def txt(self, name: str) -> list[str]:
        """The TXT values at `name`, character-strings joined (255-byte splits undone)."""
        return self._ask(name, "TXT")

    def cname(self, name: str) -> list[str]:
        """The CNAME target at `name`, lower-case without the trailing dot (or nothing)."""
        return self._ask(name, "CNAME")

    def _ask(self, name: str, rdtype: str) -> list[str]:
        key = (name.lower().rstrip("."), rdtype)
        if key not in self._answers:
            try:
                self._answers[key] = self._resolve(*key)
            except LookupFailed as exc:
                self._answers[key] = exc
        answer = self._answers[key]
        if isinstance(answer, LookupFailed):
            raise LookupFailed(str(answer))
        return answer

    def _resolve(self, name: str, rdtype: str) -> list[str]:
        if self._unanswered is not None:
            raise LookupFailed(f"The DNS lookup of {name} was skipped: {self._unanswered}")
        try:
            answer = self.resolver.resolve(name + ".", rdtype)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.resolver.NoNameservers as exc:
            raise LookupFailed(f"The DNS servers answered with an error for {name}") from exc
        except dns.exception.Timeout as exc:
            self._unanswered = LookupFailed(f"the lookup of {name} timed out")
            raise LookupFailed(f"The DNS lookup of {name} timed out") from exc
        except dns.exception.DNSException as exc:
            raise LookupFailed(f"The DNS lookup of {name} failed") from exc
        if rdtype == "CNAME":
            return [rdata.target.to_text(omit_final_dot=True).lower() for rdata in answer]
        return [clean_txt(b"".join(rdata.strings).decode("utf-8", "replace"))
                for rdata in answer]
