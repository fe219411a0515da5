"""A person in a real browser: sign in as the demo admin, create an API key, see it once,
revoke it — and the key stops working."""
import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def api_status(base: str, secret: str) -> int:
    request = urllib.request.Request(f"{base}/api/v1/org",
                                     headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_demo_admin_creates_sees_once_and_revokes_an_api_key(runner, live_server, page):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0

    page.goto(f"{live_server}/")
    expect(page).to_have_url(f"{live_server}/login?next=%2F")
    page.get_by_label("Email").fill("admin@demo.example.com")
    page.get_by_label("Password").fill("demo-admin-pass")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Demo Clinic")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="API keys").click()
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    page.get_by_label("Name").fill("booking service")
    page.get_by_label("read — Read delivery logs and jobs").check()
    page.get_by_role("button", name="Create key").click()

    secret_box = page.locator("#new-key-secret")
    expect(secret_box).to_be_visible()
    expect(page.get_by_text("not shown again")).to_be_visible()
    secret = secret_box.inner_text().strip()
    assert secret.startswith("pr_")
    assert api_status(live_server, secret) == 200

    page.reload()
    expect(page.locator("#key-list")).to_contain_text("booking service")
    assert secret not in page.content()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("#key-list")).to_contain_text("revoked")
    expect(page.get_by_text("is revoked")).to_be_visible()
    assert api_status(live_server, secret) == 401


def test_invalid_form_is_swapped_in_place_with_the_error(runner, live_server, page):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("admin@demo.example.com")
    page.get_by_label("Password").fill("wrong-password-here")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Email or password is incorrect.")).to_be_visible()
    expect(page.locator("#login-form")).to_have_count(1)
