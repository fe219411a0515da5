"""Helpers for driving the SMTP wizard through the test client, as a person would."""
from __future__ import annotations

import re

from tests.smtp.servers import PASSWORD, USERNAME


def connection_form(server, security="starttls", **changes) -> dict:
    data = {"host": server.host, "port": str(server.port), "security": security,
            "username": USERNAME, "password": PASSWORD, "ca_pem": server.ca_pem,
            "from_email": "bookings@example.com", "from_name": "Acme Bookings"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def run_test(client, drain, data, url="/settings/smtp/new/test") -> str:
    """Press "Test connection", let the worker run, and return the finished card's HTML."""
    started = client.post(url, data=data, htmx=True)
    assert started.status_code == 200, started.data[:500]
    job_url = re.search(rb'hx-get="(/jobs/[^"]+)"', started.data).group(1).decode()
    drain()
    return client.get(job_url, htmx=True).data.decode()


def token_in(card: str) -> str | None:
    match = re.search(r'name="test_token" value="([^"]+)"', card)
    return match.group(1) if match else None
