"""Settings → Sending domains as an org admin sees it: add a domain, read its record cards,
Check now through a real worker, choose the sending domain, rename the mailbox, delete."""
import re
from datetime import timedelta

import pytest

from portal.clock import utcnow
from portal.domains.lifecycle import run_domain_check
from portal.domains.models import SendingDomain
from portal.domains.records import dkim_value
from portal.extensions import db
from tests.domains.dns_server import split_255, txt
from tests.domains.factories import make_sending_domain, publish
from tests.domains.test_checks import other_public_key
from tests.factories import PASSWORD, make_org, make_user


@pytest.fixture
def org():
    return make_org("Acme", "acme")


@pytest.fixture
def admin(client, org):
    user = make_user("boss@example.com", org=org, role="admin")
    client.login("boss@example.com", PASSWORD)
    return user


def only_domain() -> SendingDomain:
    db.session.expire_all()
    return db.session.scalar(db.select(SendingDomain))


def test_the_page_says_mail_comes_from_the_platform_until_a_domain_is_verified(client, admin):
    page = client.get("/settings/domains").get_data(as_text=True)
    assert "Sending domains" in page and "No sending domain yet" in page
    assert "the platform's address" in page and 'id="domain-add"' in page


@pytest.mark.parametrize("typed, message", [
    ("https://example.com/", "Enter a domain name such as example.com"),
    ("co.uk", "public suffix"),
    ("", "Enter a domain name such as example.com"),
])
def test_a_bad_name_comes_back_as_the_form_with_its_error(client, admin, typed, message):
    response = client.post("/settings/domains", data={"name": typed}, htmx=True)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<form id="domain-add"') and message in body
    assert "<html" not in body and only_domain() is None


def test_adding_a_domain_opens_its_record_cards(client, admin):
    response = client.post("/settings/domains", data={"name": "Bücher.Example"}, htmx=True)
    domain = only_domain()
    assert response.headers["HX-Redirect"] == f"/settings/domains/{domain.id}"
    page = client.get(f"/settings/domains/{domain.id}").get_data(as_text=True)
    assert "bücher.example" in page and "xn--bcher-kva.example" in page
    assert page.count('class="card record-card"') == 5
    ownership = page[page.index('id="record-ownership"'):page.index('id="record-dkim"')]
    assert '<code id="record-ownership-host">@</code>' in ownership
    assert f"postroom-verification={domain.ownership_token}" in ownership
    assert 'data-copy="#record-ownership-value"' in ownership
    assert f'<code id="record-dkim-host">{domain.dkim_selector}._domainkey</code>' in page
    assert f"{domain.dkim_selector}._domainkey.xn--bcher-kva.example" in page
    assert "_dmarc.xn--bcher-kva.example.xn--bcher-kva.example" in page
    assert "0 of 3 required records found</strong> · last checked never" in page
    assert page.count(">not checked<") == 5
    assert "already has an SPF record" in page
    assert "SendGrid" not in page and "Resend" not in page and "PRIVATE KEY" not in page


def test_the_same_domain_twice_is_refused(client, admin, org):
    make_sending_domain(org, "acme.example.com")
    response = client.post("/settings/domains", data={"name": "ACME.example.com."}, htmx=True)
    assert response.status_code == 422
    assert "acme.example.com is already on the list" in response.get_data(as_text=True)


def test_check_now_shows_progress_then_refreshes_the_cards(client, admin, org, dns_server, drain):
    domain = make_sending_domain(org, "acme.example.com")
    wrong = dkim_value(other_public_key())
    publish(dns_server, domain, dkim=[(f"{domain.dkim_selector}._domainkey", "TXT",
                                       txt(*split_255(wrong)))])
    started = client.post(f"/settings/domains/{domain.id}/check", htmx=True)
    assert started.status_code == 200
    body = started.get_data(as_text=True)
    assert 'id="job-status"' in body and "Waiting for a worker" in body
    assert 'id="domain-panel" hx-swap-oob="true"' in body and ">Checking<" in body
    job_url = re.search(r'hx-get="(/jobs/[^"]+)"', body).group(1)

    drain()
    card = client.get(job_url, htmx=True).get_data(as_text=True)
    assert "2 of 3 required records found" in card
    refresh = re.search(r'hx-get="([^"]+)"\s+hx-trigger="load" hx-target="#domain-panel"', card)
    panel = client.get(refresh.group(1), htmx=True).get_data(as_text=True)
    assert panel.lstrip().startswith('<div id="domain-panel"') and "<html" not in panel
    dkim_card = panel[panel.index('id="record-dkim"'):panel.index('id="record-spf"')]
    assert ">mismatch<" in dkim_card and wrong in dkim_card and "Found:" in dkim_card
    assert "2 of 3 required records found</strong> · last checked just now" in panel
    assert ">Waiting for DNS<" in panel

    publish(dns_server, domain)
    client.post(f"/settings/domains/{domain.id}/check", htmx=True)
    drain()
    panel = client.get(f"/settings/domains/{domain.id}", htmx=True).get_data(as_text=True)
    assert ">Verified<" in panel and ">Sending<" in panel
    assert "comes from <strong>notifications@acme.example.com</strong>" in panel


def test_without_javascript_check_now_redirects_back(client, admin, org):
    domain = make_sending_domain(org, "acme.example.com")
    response = client.post(f"/settings/domains/{domain.id}/check")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/settings/domains/{domain.id}"


def test_a_second_verified_domain_is_used_on_a_click_and_revert_switches_back(client, admin,
                                                                               org):
    first = make_sending_domain(org, "one.example.com", verified=True)
    second = make_sending_domain(org, "two.example.com", verified=True)
    page = client.get(f"/settings/domains/{second.id}").get_data(as_text=True)
    assert "Use for sending" in page
    assert client.post(f"/settings/domains/{second.id}/activate").status_code == 303
    index = client.get("/settings/domains").get_data(as_text=True)
    assert "comes from <strong>notifications@two.example.com</strong>" in index
    assert "Switch back to one.example.com" in index
    client.post("/settings/domains/revert")
    index = client.get("/settings/domains").get_data(as_text=True)
    assert "comes from <strong>notifications@one.example.com</strong>" in index
    assert first.id != second.id


def test_activating_a_pending_domain_is_refused_with_a_message(client, admin, org):
    domain = make_sending_domain(org, "acme.example.com")
    client.post(f"/settings/domains/{domain.id}/activate")
    page = client.get(f"/settings/domains/{domain.id}").get_data(as_text=True)
    assert "Only a verified domain can send mail" in page


def test_renaming_the_mailbox(client, admin, org):
    domain = make_sending_domain(org, "acme.example.com", verified=True)
    bad = client.post(f"/settings/domains/{domain.id}/mailbox", data={"mailbox": "a b"},
                      htmx=True)
    assert bad.status_code == 422
    assert bad.get_data(as_text=True).lstrip().startswith('<form id="mailbox-form"')
    client.post(f"/settings/domains/{domain.id}/mailbox", data={"mailbox": "Billing"})
    assert only_domain().from_email == "billing@acme.example.com"
    page = client.get(f"/settings/domains/{domain.id}").get_data(as_text=True)
    assert "Default mailbox changed from notifications to billing." in page  # the timeline


def test_deleting_the_sending_domain_says_where_mail_will_come_from(client, admin, org):
    domain = make_sending_domain(org, "acme.example.com", verified=True)
    confirm = client.get(f"/settings/domains/{domain.id}/delete").get_data(as_text=True)
    assert "mail will come from the platform&#39;s address instead" in confirm
    response = client.post(f"/settings/domains/{domain.id}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/settings/domains"
    index = client.get("/settings/domains").get_data(as_text=True)
    assert "acme.example.com was deleted" in index and only_domain() is None


def test_turn_off_and_on_again(client, admin, org):
    domain = make_sending_domain(org, "acme.example.com", verified=True)
    client.post(f"/settings/domains/{domain.id}/deactivate")
    assert only_domain().status == "deactivated"
    page = client.get(f"/settings/domains/{domain.id}").get_data(as_text=True)
    assert "is turned off. The organisation&#39;s mail will come from the platform" in page
    client.post(f"/settings/domains/{domain.id}/activate")
    assert only_domain().status == "verified"  # its last check had found everything


def test_members_cannot_see_and_support_staff_only_read(client, org):
    domain = make_sending_domain(org, "acme.example.com")
    make_user("member@example.com", org=org, role="member")
    client.login("member@example.com", PASSWORD)
    assert client.get("/settings/domains").status_code == 403
    client.logout()
    make_user("support@example.com", support=True)
    client.login("support@example.com", PASSWORD)
    page = client.get(f"/settings/domains/{domain.id}").get_data(as_text=True)
    assert "postroom-verification=" in page and "Check now" not in page
    assert client.post(f"/settings/domains/{domain.id}/check").status_code == 403
    assert client.post("/settings/domains", data={"name": "x.example.com"}).status_code == 403


def test_a_failed_domain_offers_retry(client, admin, org, dns_server, drain):
    domain = make_sending_domain(org, "acme.example.com")
    dns_server.set_zone(domain.name, [])
    domain.window_started_at = utcnow() - timedelta(days=8)
    run_domain_check(domain.id)
    db.session.commit()
    page = client.get(f"/settings/domains/{domain.id}").get_data(as_text=True)
    assert ">Not verified<" in page and "DNS records were not found within 7 days." in page
    assert ">Retry<" in page
    client.post(f"/settings/domains/{domain.id}/check", htmx=True)
    assert only_domain().status == "verifying"
    drain()
    assert only_domain().status == "pending_dns"  # a new window: waiting again, not failed
