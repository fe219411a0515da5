"""DNS checks against a real authoritative server: what the admin published, what Postroom
finds, and the per-record verdict they get."""
import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.domains.lifecycle import result_of, run_domain_check
from portal.domains.records import dkim_value
from portal.extensions import db
from tests.domains.dns_server import split_255, txt
from tests.domains.factories import make_sending_domain, publish
from tests.factories import make_org

SPF_INCLUDE = "_spf.postroom.example.com"


@pytest.fixture
def domain(dns_server):
    return make_sending_domain(make_org("Acme", "acme"), "acme.example.com")


def check(domain):
    outcome = run_domain_check(domain.id)
    db.session.commit()
    return outcome


def statuses(domain):
    return {kind: result_of(domain, kind).status
            for kind in ("ownership", "dkim", "spf", "return_path", "dmarc")}


def other_public_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def test_all_records_right_verifies_the_domain(dns_server, domain):
    publish(dns_server, domain)
    outcome = check(domain)
    assert outcome["ok"] is True and outcome["status"] == "verified"
    assert outcome["message"] == "3 of 3 required records found"
    assert statuses(domain) == dict.fromkeys(statuses(domain), "ok")
    assert domain.verified_at is not None and domain.last_checked_at is not None


def test_nothing_published_yet_is_missing_not_failed(dns_server, domain):
    dns_server.set_zone(domain.name, [])
    outcome = check(domain)
    assert outcome["status"] == "pending_dns" and outcome["found"] == 0
    assert set(statuses(domain).values()) == {"missing"}


def test_a_dkim_record_with_another_key_is_a_mismatch_showing_what_was_found(dns_server,
                                                                             domain):
    wrong = dkim_value(other_public_key())
    publish(dns_server, domain, dkim=[(f"{domain.dkim_selector}._domainkey", "TXT",
                                       txt(*split_255(wrong)))])
    check(domain)
    result = result_of(domain, "dkim")
    assert result.status == "mismatch" and result.found == (wrong,)
    assert "different one" in result.message
    assert domain.status == "pending_dns"


def test_quoted_and_split_txt_values_are_joined_and_unquoted(dns_server, domain):
    # A panel that stores the quotes typed by the admin, and a key cut at odd places.
    value = dkim_value(domain.dkim_public_key)
    pieces = [value[:100], value[100:355], value[355:]]
    publish(dns_server, domain,
            ownership=[("@", "TXT", txt(f'"postroom-verification={domain.ownership_token}"'))],
            dkim=[(f"{domain.dkim_selector}._domainkey", "TXT", txt(*pieces))],
            spf=[("@", "TXT", txt('"v=spf1 ', f'include:{SPF_INCLUDE} ~all"'))])
    assert check(domain)["status"] == "verified"
    assert result_of(domain, "dkim").found == (value,)


def test_dkim_tags_with_other_spacing_and_no_trailing_semicolon_match(dns_server, domain):
    key = domain.dkim_public_key
    spaced = f"v=DKIM1 ;k = rsa;  p={key[:200]} {key[200:]}"
    publish(dns_server, domain, dkim=[(f"{domain.dkim_selector}._domainkey", "TXT",
                                       txt(*split_255(spaced)))])
    check(domain)
    assert result_of(domain, "dkim").status == "ok"


def test_two_dkim_records_at_the_selector_are_a_mismatch(dns_server, domain):
    selector = f"{domain.dkim_selector}._domainkey"
    publish(dns_server, domain, extra=[
        (selector, "TXT", txt(*split_255(dkim_value(other_public_key()))))])
    check(domain)
    result = result_of(domain, "dkim")
    assert result.status == "mismatch" and len(result.found) == 2
    assert "exactly one" in result.message


def test_two_spf_records_are_a_mismatch(dns_server, domain):
    publish(dns_server, domain, extra=[("@", "TXT", txt("v=spf1 include:other.example ~all"))])
    check(domain)
    result = result_of(domain, "spf")
    assert result.status == "mismatch" and len(result.found) == 2
    assert "only one SPF record" in result.message and "RFC 7208" in result.message
    assert domain.status == "pending_dns"


def test_an_spf_record_without_the_include_says_to_add_it(dns_server, domain):
    publish(dns_server, domain, spf=[("@", "TXT", txt("v=spf1 mx -all"))])
    check(domain)
    result = result_of(domain, "spf")
    assert result.status == "mismatch" and result.found == ("v=spf1 mx -all",)
    assert f"include:{SPF_INCLUDE}" in result.message and "second" in result.message


def test_the_include_reached_through_nested_includes_counts(dns_server, domain):
    dns_server.set_zone("mailhost.example.net", [
        ("_spf", "TXT", txt("v=spf1 ip4:192.0.2.1 include:_inner.mailhost.example.net -all")),
        ("_inner", "TXT", txt(f"v=spf1 include:{SPF_INCLUDE.upper()}. -all")),
    ])
    publish(dns_server, domain, spf=[
        ("@", "TXT", txt("v=spf1 mx include:_spf.mailhost.example.net ~all"))])
    check(domain)
    assert result_of(domain, "spf").status == "ok"


def test_an_include_beyond_ten_lookups_does_not_count(dns_server, domain):
    chain = [(f"_s{i}", "TXT", txt(f"v=spf1 a mx include:_s{i + 1}.chain.example.net -all"))
             for i in range(5)] + [("_s5", "TXT", txt(f"v=spf1 include:{SPF_INCLUDE} -all"))]
    dns_server.set_zone("chain.example.net", chain)
    publish(dns_server, domain, spf=[("@", "TXT", txt("v=spf1 include:_s0.chain.example.net "
                                                      "~all"))])
    check(domain)
    result = result_of(domain, "spf")
    assert result.status == "mismatch" and "10 DNS lookups" in result.message


def test_return_path_and_dmarc_are_recommended_only(dns_server, domain):
    publish(dns_server, domain, return_path=None, dmarc=None)
    assert check(domain)["status"] == "verified"
    assert result_of(domain, "return_path").status == "missing"
    assert result_of(domain, "dmarc").status == "missing"


def test_a_cname_target_is_compared_without_case_or_trailing_dot(dns_server, domain):
    publish(dns_server, domain, return_path=[
        ("bounces", "CNAME", "BOUNCES.Postroom.Example.com.")])
    check(domain)
    assert result_of(domain, "return_path").status == "ok"


def test_a_return_path_pointing_elsewhere_is_a_mismatch(dns_server, domain):
    publish(dns_server, domain, return_path=[("bounces", "CNAME", "bounces.elsewhere.example.")])
    check(domain)
    result = result_of(domain, "return_path")
    assert result.status == "mismatch" and result.found == ("bounces.elsewhere.example",)


def test_a_stopped_server_is_lookup_failed_not_missing(dns_server, domain):
    publish(dns_server, domain)
    dns_server.stop()
    outcome = check(domain)
    assert set(statuses(domain).values()) == {"lookup_failed"}
    assert outcome["status"] == "pending_dns"
    assert "not a problem with your records" in result_of(domain, "spf").message
