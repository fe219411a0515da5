"""What counts as a domain name: normalised the way people type them, refused with a clear
message otherwise."""
import pytest

from portal.domains.names import (
    DOMAIN_HINT,
    DomainNameError,
    normalise_domain,
    normalise_mailbox,
    relative_host,
    unicode_name,
)


@pytest.mark.parametrize("typed, stored", [
    ("example.com", "example.com"),
    ("  Example.COM.  ", "example.com"),
    ("mail.example.co.uk", "mail.example.co.uk"),
    ("bücher.example", "xn--bcher-kva.example"),
    ("MÜNCHEN.de", "xn--mnchen-3ya.de"),
    ("a-b.example.com", "a-b.example.com"),
    ("x" * 63 + ".com", "x" * 63 + ".com"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
])
def test_names_are_normalised(typed, stored):
    assert normalise_domain(typed) == stored


@pytest.mark.parametrize("typed", [
    "", "   ", "localhost", "com", ".com", "example..com", "-example.com", "example-.com",
    "exa_mple.com", "x" * 64 + ".com", ("a" * 60 + ".") * 5 + "com", "192.0.2.1", "[2001:db8::1]",
    "2001:db8::1", "example.123",
])
def test_malformed_names_get_the_clear_message(typed):
    with pytest.raises(DomainNameError) as caught:
        normalise_domain(typed)
    assert str(caught.value).startswith(DOMAIN_HINT) and caught.value.field == "name"


@pytest.mark.parametrize("typed", ["https://example.com", "example.com/path",
                                   "example.com:25", "mail@example.com", "http://example.com/"])
def test_schemes_paths_ports_and_addresses_are_refused(typed):
    with pytest.raises(DomainNameError, match="no https://, path, port or address"):
        normalise_domain(typed)


@pytest.mark.parametrize("suffix", ["co.uk", "com.au", "github.io", "CO.UK."])
def test_a_bare_public_suffix_is_refused(suffix):
    with pytest.raises(DomainNameError, match="public suffix"):
        normalise_domain(suffix)


def test_total_length_is_at_most_253():
    label = "a" * 63
    assert len(normalise_domain(f"{label}.{label}.{label}.{'b' * 57}.com")) == 253
    with pytest.raises(DomainNameError):
        normalise_domain(f"{label}.{label}.{label}.{'b' * 58}.com")


def test_idn_names_are_shown_in_their_own_letters():
    assert unicode_name("xn--bcher-kva.example") == "bücher.example"
    assert unicode_name("example.com") == "example.com"


def test_hosts_are_relative_with_at_for_the_apex():
    assert relative_host("example.com", "example.com") == "@"
    assert relative_host("pr-abc123._domainkey.example.com", "example.com") == \
        "pr-abc123._domainkey"


@pytest.mark.parametrize("typed, ok", [("notifications", True), ("No-Reply", True),
                                       ("billing.team", True), ("a", True), ("", False),
                                       ("two words", False), (".dot", False), ("a..b", False),
                                       ("x@y", False), ("a" * 65, False)])
def test_mailboxes(typed, ok):
    if ok:
        assert normalise_mailbox(typed) == typed.lower()
    else:
        with pytest.raises(DomainNameError):
            normalise_mailbox(typed)
