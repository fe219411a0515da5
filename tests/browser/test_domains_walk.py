"""An org admin in a real browser: add a sending domain, copy its records from the cards into
the (real, local) DNS server, press Check now, see what is still wrong, fix the zone, press
Check now again and watch the status turn verified — the checks run in a real worker."""
import pytest
from playwright.sync_api import expect

from tests.domains.dns_server import dns_server, knot, split_255, txt  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

DOMAIN = "demo-clinic.example.com"


def test_admin_adds_a_domain_publishes_its_records_and_sees_it_verified(
        runner, live_server, page, dns_server, worker_process):
    worker_process(POSTROOM_DNS_NAMESERVERS=dns_server.nameserver, POSTROOM_DNS_TIMEOUT="1",
                   POSTROOM_DNS_LIFETIME="2")
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    dns_server.set_zone(DOMAIN, [])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])

    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("admin@demo.example.com")
    page.get_by_label("Password").fill("demo-admin-pass")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link",
                                                               name="Sending domains").click()
    expect(page.get_by_text("No sending domain yet")).to_be_visible()

    page.get_by_label("Domain").fill("https://demo-clinic.example.com/")
    page.get_by_role("button", name="Add domain").click()
    expect(page.locator("#domain-add .error")).to_contain_text(
        "Enter a domain name such as example.com")
    page.get_by_label("Domain").fill(DOMAIN)
    page.get_by_role("button", name="Add domain").click()
    expect(page.locator("#domain-status")).to_have_text("Waiting for DNS")
    expect(page.locator("#domain-summary")).to_contain_text("0 of 3 required records found")

    dkim = page.locator("#record-dkim")
    dkim.get_by_role("button", name="Copy").last.click()
    expect(dkim.get_by_role("button", name="Copied")).to_be_visible()
    dkim_value = page.evaluate("navigator.clipboard.readText()")
    assert dkim_value.startswith("v=DKIM1; k=rsa; p=")

    def card_text(kind, part):
        return page.locator(f"#record-{kind}-{part}").inner_text().strip()

    # The admin's first try: ownership and DKIM, but SPF forgotten.
    published = [(card_text("ownership", "host"), "TXT", txt(card_text("ownership", "value"))),
                 (card_text("dkim", "host"), "TXT", txt(*split_255(dkim_value)))]
    dns_server.set_zone(DOMAIN, published)
    page.get_by_role("button", name="Check now").click()
    expect(page.locator("#domain-summary")).to_contain_text("2 of 3 required records found",
                                                            timeout=30000)
    expect(page.locator("#record-spf")).to_contain_text("missing")
    expect(page.locator("#domain-status")).to_have_text("Waiting for DNS")

    dns_server.set_zone(DOMAIN, published + [
        (card_text("spf", "host"), "TXT", txt(card_text("spf", "value")))])
    page.get_by_role("button", name="Check now").click()
    expect(page.locator("#domain-status")).to_have_text("Verified", timeout=30000)
    expect(page.locator("#domain-summary")).to_contain_text("3 of 3 required records found")
    expect(page.locator("#domain-state")).to_contain_text(
        "The organisation's mail comes from notifications@demo-clinic.example.com")
    expect(page.locator("#domain-timeline")).to_contain_text("verified")
