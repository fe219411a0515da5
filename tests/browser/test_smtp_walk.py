"""An org admin in a real browser: add an SMTP configuration against a local server, see the
test fail for a wrong password, fix it, see it pass, create it, and send a test email that
arrives in the server's inbox."""
import pytest
from playwright.sync_api import expect

from tests.smtp.servers import (  # noqa: F401  (fixtures)
    PASSWORD,
    USERNAME,
    smtp_certificates,
    smtp_server_factory,
    starttls_server,
)

pytestmark = pytest.mark.browser


def test_admin_adds_tests_fixes_creates_and_sends(runner, live_server, page, starttls_server,
                                                  allow_smtp_port, worker_process):
    allow_smtp_port(starttls_server.port)
    worker_process(POSTROOM_SMTP_ALLOW_PRIVATE="1", POSTROOM_SMTP_PORTS=str(starttls_server.port))
    assert runner.invoke(args=["seed-demo"]).exit_code == 0

    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("admin@demo.example.com")
    page.get_by_label("Password").fill("demo-admin-pass")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="SMTP").click()
    expect(page.get_by_text("Send the organisation's mail from its own server")).to_be_visible()
    page.get_by_role("link", name="Add SMTP configuration").click()

    page.get_by_label("SMTP host").fill("localhost")
    page.get_by_label("Security").select_option("starttls")
    page.get_by_label("Port").fill(str(starttls_server.port))
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_text("Private certificate authority").click()
    page.get_by_label("Trusted CA certificate (optional)").fill(starttls_server.ca_pem)

    test_button = page.get_by_role("button", name="Test connection")
    test_button.click()
    expect(page.locator("#smtp-test")).to_contain_text("not accepted", timeout=30000)

    page.get_by_label("Password").fill(PASSWORD)
    expect(page.locator("#smtp-test")).to_contain_text("test the connection again")
    test_button.click()
    expect(page.locator("#smtp-test .result.ok")).to_be_visible(timeout=30000)

    page.get_by_label("From address").fill("bookings@example.com")
    page.get_by_label("From name").fill("Demo Clinic Bookings")
    page.get_by_role("button", name="Create configuration").click()

    card = page.locator(".smtp-card", has_text="bookings@example.com")
    expect(card).to_contain_text("Primary")
    expect(page.get_by_text("bookings@example.com is set up.")).to_be_visible()
    card.get_by_role("button", name="Send test email").click()
    expect(card).to_contain_text("Test email sent to admin@demo.example.com", timeout=30000)

    [message] = starttls_server.messages
    assert message.rcpt_tos == ["admin@demo.example.com"]
    assert b"Demo Clinic Bookings" in message.content
