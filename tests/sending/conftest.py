"""Fixtures for the send pipeline: real SMTP servers as the platform relay and the org's own."""
import pytest

from tests.factories import make_api_key, make_org, make_smtp_config
from tests.smtp.servers import (  # noqa: F401  (fixtures)
    PASSWORD,
    USERNAME,
    smtp_certificates,
    smtp_server_factory,
    starttls_server,
)


@pytest.fixture
def org():
    return make_org("Acme Clinic", "acme")


@pytest.fixture
def api(org):
    _, secret = make_api_key(org, scopes=["send", "read"])
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def relay(app, smtp_server_factory):
    """The platform's SMTP relay: a plain local server, set as POSTROOM_PLATFORM_SMTP_URL."""
    server = smtp_server_factory("none")
    original = app.config["POSTROOM_PLATFORM_SMTP_URL"]
    app.config["POSTROOM_PLATFORM_SMTP_URL"] = f"smtp+plain://127.0.0.1:{server.port}"
    yield server
    app.config["POSTROOM_PLATFORM_SMTP_URL"] = original


@pytest.fixture
def org_server(smtp_server_factory, allow_smtp_port):
    """The org's own STARTTLS server with AUTH (private CA)."""
    server = smtp_server_factory("starttls")
    allow_smtp_port(server.port)
    return server


def smtp_config_for(server, **kwargs):
    return make_smtp_config(host=server.host, port=server.port, security="starttls",
                            username=USERNAME, password=PASSWORD, ca_pem=server.ca_pem,
                            **kwargs)


def message_body(**changes):
    body = {"email_type": "booking.scheduled", "to": ["patient@example.com"],
            "subject": "Your booking is confirmed", "text": "See you on Monday.",
            "html": "<p>See you on <b>Monday</b>.</p>"}
    body.update(changes)
    return body


@pytest.fixture(autouse=True)
def close_smtp_pool(smtp_server_factory):
    """Workers keep SMTP sessions open; close them before the test's servers stop."""
    from portal.sending.providers.smtp import POOL

    yield
    POOL.close_all()
