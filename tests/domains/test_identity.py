"""Which domain the organisation sends from: the first verified one by itself, later ones by
choice, Revert, fallbacks on delete or turn-off, and what the send pipeline gets to sign with."""
import dkim
import pytest

from portal.domains.lifecycle import run_domain_check
from portal.domains.lookup import DnsLookup, build_resolver
from portal.domains.services import (
    DomainError,
    activate_domain,
    active_domain,
    deactivate_domain,
    delete_domain,
    domain_for_from,
    previous_domain,
    removal_consequence,
    rename_mailbox,
    revert_identity,
    sending_identity,
)
from portal.extensions import db
from tests.domains.factories import make_sending_domain, publish
from tests.factories import make_org


@pytest.fixture
def org():
    return make_org("Acme", "acme")


def test_the_first_verified_domain_becomes_active_and_later_ones_wait_for_a_click(org):
    first = make_sending_domain(org, "one.example.com", verified=True)
    second = make_sending_domain(org, "two.example.com", verified=True)
    assert active_domain(org.id) == first and previous_domain(org.id) is None

    activate_domain(second)
    db.session.commit()
    assert active_domain(org.id) == second and previous_domain(org.id) == first
    assert sending_identity(org.id).from_email == "notifications@two.example.com"

    assert revert_identity(org.id) == first
    db.session.commit()
    assert active_domain(org.id) == first and previous_domain(org.id) == second


def test_only_a_verified_domain_can_be_activated(org):
    pending = make_sending_domain(org, "pending.example.com")
    with pytest.raises(DomainError, match="Only a verified domain"):
        activate_domain(pending)


def test_deleting_the_active_domain_falls_back_to_the_previous_one_then_the_platform(org):
    first = make_sending_domain(org, "one.example.com", verified=True)
    second = make_sending_domain(org, "two.example.com", verified=True)
    activate_domain(second)
    db.session.commit()

    assert removal_consequence(second) == ("The organisation's mail will come from "
                                           "notifications@one.example.com (the previous "
                                           "domain) instead.")
    delete_domain(second)
    db.session.commit()
    assert active_domain(org.id) == first and previous_domain(org.id) is None

    assert removal_consequence(first) == ("The organisation's mail will come from the "
                                          "platform's address instead.")
    delete_domain(first)
    db.session.commit()
    assert active_domain(org.id) is None and sending_identity(org.id) is None


def test_turning_off_the_active_domain_falls_back_too(org):
    first = make_sending_domain(org, "one.example.com", verified=True)
    second = make_sending_domain(org, "two.example.com", verified=True)
    activate_domain(second)
    deactivate_domain(second)
    db.session.commit()
    assert second.status == "deactivated" and active_domain(org.id) == first
    with pytest.raises(DomainError):
        revert_identity(org.id)  # the turned-off one is no one to switch back to


def test_the_identity_carries_the_decrypted_key_and_a_return_path_only_when_it_checked_ok(org):
    domain = make_sending_domain(org, "acme.example.com", verified=True)
    identity = sending_identity(org.id)
    assert identity.domain == "acme.example.com" and identity.mailbox == "notifications"
    assert identity.dkim_selector == domain.dkim_selector
    assert identity.dkim_private_key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert b"PRIVATE KEY" not in domain.dkim_private_key_encrypted.encode()
    assert identity.return_path == "bounces.acme.example.com"

    domain.check_results = {**domain.check_results, "return_path": {"status": "missing"}}
    db.session.commit()
    assert sending_identity(org.id).return_path is None


def test_a_renamed_mailbox_changes_the_from_address(org):
    domain = make_sending_domain(org, "acme.example.com", verified=True)
    assert rename_mailbox(domain, " Billing ") is True
    db.session.commit()
    assert sending_identity(org.id).from_email == "billing@acme.example.com"
    with pytest.raises(DomainError, match="letters, digits"):
        rename_mailbox(domain, "no spaces please")


def test_domain_for_from_knows_the_org_s_verified_domains_only(org):
    domain = make_sending_domain(org, "acme.example.com", verified=True)
    make_sending_domain(org, "pending.example.com")
    other = make_org("Other", "other")
    assert domain_for_from(org.id, "sales@ACME.example.com") == domain
    assert domain_for_from(org.id, "sales@pending.example.com") is None
    assert domain_for_from(org.id, "sales@sub.acme.example.com") is None
    assert domain_for_from(other.id, "sales@acme.example.com") is None
    assert domain_for_from(org.id, "not-an-address") is None


def test_a_message_signed_with_the_identity_verifies_against_the_published_key(app, dns_server,
                                                                               org):
    domain = make_sending_domain(org, "acme.example.com")
    publish(dns_server, domain)
    assert run_domain_check(domain.id)["status"] == "verified"
    db.session.commit()
    identity = sending_identity(org.id)
    message = (b"From: Acme <notifications@acme.example.com>\r\nTo: pat@example.org\r\n"
               b"Subject: Your booking\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
               b"Message-ID: <1@acme.example.com>\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: text/plain; charset=utf-8\r\n\r\nSee you on Monday.\r\n")
    signature = dkim.sign(message, identity.dkim_selector.encode(), identity.domain.encode(),
                          identity.dkim_private_key_pem, canonicalize=(b"relaxed", b"relaxed"),
                          include_headers=[b"from", b"to", b"subject", b"date", b"message-id",
                                           b"mime-version", b"content-type"])
    lookup = DnsLookup(build_resolver(app.config))

    def from_test_server(name: bytes, timeout: int = 5) -> bytes | None:
        values = lookup.txt(name.decode().rstrip("."))
        return values[0].encode() if values else None

    assert dkim.verify(signature + message, dnsfunc=from_test_server)
    assert not dkim.verify(signature + message.replace(b"Monday", b"Sunday"),
                           dnsfunc=from_test_server)
