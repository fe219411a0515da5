"""Fixtures for the sending-domain tests: a real authoritative DNS server on loopback."""
from tests.domains.dns_server import dns_server, knot  # noqa: F401  (pytest finds them here)
