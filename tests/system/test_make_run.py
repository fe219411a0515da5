"""`make run` as a new user runs it: Redis, worker and web come up, the demo admin signs in,
the worker answers a job, and Ctrl-C stops everything."""
import http.cookiejar
import os
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")),
                    reason="make run uses the embedded SQLite database; covered in the SQLite pass")
def test_make_run_serves_the_product_end_to_end(tmp_path):
    output = _run_make_and_walk(tmp_path)
    assert "admin@demo.example.com / demo-admin-pass" in output
    assert "Postroom stopped." in output


def _run_make_and_walk(tmp_path) -> str:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL",
                                                            "SECRET_KEY", "POSTROOM_ENCRYPTION_KEYS",
                                                            "MAKEFLAGS", "MFLAGS")}
    env.update(POSTROOM_INSTANCE_PATH=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/run.db")
    with open(tmp_path / "make-run.log", "w+") as log:
        proc = subprocess.Popen(["make", "--no-print-directory", "run", f"PORT={port}"], cwd=ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(base, proc, log)
            jar = http.cookiejar.CookieJar()
            browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

            login_page = browser.open(f"{base}/login").read().decode()
            token = re.search(r'name="csrf-token" content="([^"]+)"', login_page).group(1)
            form = urllib.parse.urlencode({"csrf_token": token, "email": "admin@demo.example.com",
                                           "password": "demo-admin-pass"}).encode()
            dashboard = browser.open(f"{base}/login", data=form).read().decode()
            assert "Demo Clinic" in dashboard and "Check background worker" in dashboard
            # Signing in starts a new session, and with it a new CSRF token.
            token = re.search(r'name="csrf-token" content="([^"]+)"', dashboard).group(1)

            check = urllib.request.Request(f"{base}/system/worker-check", data=b"", method="POST",
                                           headers={"X-CSRFToken": token, "HX-Request": "true"})
            card = browser.open(check).read().decode()
            job_url = base + re.search(r'hx-get="(/jobs/[^"]+)"', card).group(1)
            for _ in range(100):
                card = browser.open(job_url).read().decode()
                if "answered at" in card:
                    break
                time.sleep(0.2)
            assert "answered at" in card, card
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                raise
        with pytest.raises(OSError):
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
        log.seek(0)
        return log.read()


def _wait_until_ready(base, proc, log, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"make run exited early:\n{log.read()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    log.seek(0)
    pytest.fail(f"/readyz never answered 200:\n{log.read()[-3000:]}")
