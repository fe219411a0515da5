"""Mail from an org's verified domain: its address, its DKIM signature (checked against the key
the test DNS server publishes), its return path; and the refusals around it."""
import email

import dkim
import dns.resolver

from portal.extensions import db
from portal.sending.models import Message
from tests.domains.dns_server import dns_server, knot  # noqa: F401  (fixtures)
from tests.domains.factories import make_sending_domain, publish
from tests.sending.conftest import message_body


def _resolver_for(nameserver: str):
    host, _, port = nameserver.partition(":")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port = [host], int(port or 53)

    def get_txt(name, timeout=5):
        answer = resolver.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
        return b"".join(b"".join(r.strings) for r in answer)

    return get_txt


def test_verified_domain_mail_is_signed_and_verifies_against_published_dns(
        client, api, org, relay, dns_server, drain):
    domain = make_sending_domain(org, "mail.acme.example.com", verified=True)
    publish(dns_server, domain)
    created = client.post("/api/v1/messages", json=message_body(), headers=api)
    drain()
    body = client.get(f"/api/v1/messages/{created.get_json()['id']}", headers=api).get_json()
    assert body["status"] == "sent" and body["from"]["email"] == "notifications@mail.acme.example.com"
    assert "DKIM d=mail.acme.example.com" in body["events"][1]["detail"]

    [received] = relay.messages
    parsed = email.message_from_bytes(received.content)
    assert parsed["DKIM-Signature"] and "d=mail.acme.example.com" in parsed["DKIM-Signature"]
    assert dkim.verify(received.content, dnsfunc=_resolver_for(dns_server.nameserver))
    tampered = received.content.replace(b"See you on Monday", b"See you on Friday")
    assert not dkim.verify(tampered, dnsfunc=_resolver_for(dns_server.nameserver))
    # The return-path record checked ok, so bounces come back to the platform.
    assert received.mail_from.endswith("@bounces.mail.acme.example.com")


def test_a_from_on_the_verified_domain_is_used_and_signed(client, api, org, relay, drain):
    make_sending_domain(org, "mail.acme.example.com", verified=True)
    client.post("/api/v1/messages", headers=api, json=message_body(
        **{"from": {"email": "billing@mail.acme.example.com", "name": "Acme Billing"}}))
    drain()
    parsed = email.message_from_bytes(relay.messages[0].content)
    assert parsed["From"] == "Acme Billing <billing@mail.acme.example.com>"
    assert "d=mail.acme.example.com" in parsed["DKIM-Signature"]


def test_a_from_on_an_unverified_domain_is_refused_not_sent_unsigned(client, api, org):
    make_sending_domain(org, "pending.acme.example.com", verified=False)
    response = client.post("/api/v1/messages", headers=api, json=message_body(
        **{"from": {"email": "hello@pending.acme.example.com"}}))
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "from.email"
    assert db.session.scalar(db.select(db.func.count()).select_from(Message)) == 0
