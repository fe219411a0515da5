"""A live server on loopback and Debian's Chromium driven by Playwright."""
import os
import shutil

import pytest

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def chromium_path():
    path = os.environ.get("POSTROOM_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.exit("Debian's chromium is not installed: run the suite with `make test`", 2)
    return path


@pytest.fixture
def page(chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS,
                                     headless=True)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15000)
        yield page
        page.screenshot(path=str(tmp_path / "last-page.png"), full_page=True)
        context.close()
        browser.close()

