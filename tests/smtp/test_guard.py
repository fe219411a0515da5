"""The SSRF guard: a tenant cannot point Postroom's workers at our own network."""
from __future__ import annotations

import ipaddress
import socket

import pytest

from portal.smtp.guard import HostRefused, check_host_syntax, check_port, resolve_host

DEFAULT_PORTS = frozenset({25, 465, 587, 2525})

INTERNAL_HOSTS = [
    "127.0.0.1", "10.0.0.1", "192.168.1.1", "172.16.0.1", "169.254.169.254", "::1", "fe80::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "0.0.0.0", "224.0.0.1", "metadata.google.internal",
    "localhost",
    # the same hosts in other clothes
    "100.100.100.200",        # Alibaba's metadata service, in the shared address space
    "2002:7f00:1::",          # 6to4 around 127.0.0.1
    "64:ff9b::a9fe:a9fe",     # NAT64 around 169.254.169.254
    "fd00:ec2::254",          # AWS metadata over IPv6
    "240.0.0.1",              # reserved
    "METADATA.google.internal.",
    "0x7f000001",             # the C resolver reads this as 127.0.0.1
]


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_internal_addresses_and_names_are_refused(host):
    with pytest.raises(HostRefused) as refused:
        resolve_host(host, 587, allow_private=False)
    assert str(refused.value) == "SMTP host must be a public address"


@pytest.mark.parametrize("host", ["8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
def test_public_literals_are_accepted_without_dns(host, monkeypatch):
    def no_dns(*args, **kwargs):
        raise AssertionError("an IP literal must not be looked up")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    addresses = resolve_host(host, 587, allow_private=False)
    assert [ipaddress.ip_address(a) for a in addresses] == [ipaddress.ip_address(host)]


def test_a_name_is_refused_when_any_of_its_addresses_is_internal(monkeypatch):
    # A tenant's DNS can mix a public address with an internal one.
    def answer(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
                for ip in ("93.184.215.14", "10.1.2.3")]

    monkeypatch.setattr(socket, "getaddrinfo", answer)
    with pytest.raises(HostRefused, match="public address"):
        resolve_host("smtp.tenant.example", 587, allow_private=False)


def test_a_public_name_returns_every_address_once_in_order(monkeypatch):
    def answer(host, port, *args, **kwargs):
        return [(family, socket.SOCK_STREAM, 6, "", (ip, port, *extra))
                for family, ip, extra in ((socket.AF_INET6, "2001:db8:1::25", (0, 0)),
                                          (socket.AF_INET, "93.184.215.14", ()),
                                          (socket.AF_INET, "93.184.215.14", ()))]

    monkeypatch.setattr(socket, "getaddrinfo", answer)
    # 2001:db8::/32 is documentation space, hence not public: allow_private lets it through.
    assert resolve_host("smtp.tenant.example", 587, allow_private=True) == [
        "2001:db8:1::25", "93.184.215.14"]


def test_allow_private_lets_a_local_relay_through():
    assert "127.0.0.1" in resolve_host("localhost", 25, allow_private=True)
    assert resolve_host("10.0.0.1", 25, allow_private=True) == ["10.0.0.1"]


@pytest.mark.parametrize("host", ["169.254.169.254", "metadata.google.internal",
                                  "::ffff:169.254.169.254"])
def test_metadata_service_stays_refused_even_when_private_hosts_are_allowed(host):
    with pytest.raises(HostRefused, match="cloud metadata"):
        resolve_host(host, 25, allow_private=True)


@pytest.mark.parametrize("host", ["exa mple.com", "http://x", "a..b", "", "-smtp.example.com",
                                  "smtp.example.com/", "127.1", "smtp_example.com",
                                  "a" * 64 + ".example.com", "[::1]"])
def test_malformed_hosts_are_refused_with_an_explanation(host):
    with pytest.raises(HostRefused, match="Enter a host name such as smtp.example.com"):
        resolve_host(host, 587, allow_private=True)
    with pytest.raises(HostRefused):
        check_host_syntax(host)


@pytest.mark.parametrize("host", ["smtp.example.com", "SMTP.Example.COM.", "10.0.0.1", "::1",
                                  "smtp.bücher.example"])
def test_well_formed_hosts_pass_the_syntax_check(host):
    check_host_syntax(host)


def test_unresolvable_name_is_left_to_the_caller_as_a_dns_error():
    with pytest.raises(socket.gaierror):
        resolve_host("no-such-host.invalid", 587, allow_private=False)


@pytest.mark.parametrize("port", sorted(DEFAULT_PORTS))
def test_standard_smtp_ports_are_allowed(port):
    check_port(port, DEFAULT_PORTS)


def test_other_ports_are_refused_unless_allowed():
    with pytest.raises(HostRefused) as refused:
        check_port(8025, DEFAULT_PORTS)
    assert str(refused.value) == "Port 8025 is not allowed; use one of 25, 465, 587, 2525"
    check_port(8025, DEFAULT_PORTS | {8025})
