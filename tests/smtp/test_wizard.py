"""Settings → SMTP: test the connection for real, then create; edit; send a test email."""
import pytest

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.smtp.models import SmtpConfiguration
from tests.factories import PASSWORD as LOGIN_PASSWORD
from tests.factories import make_org, make_user
from tests.smtp.servers import PASSWORD, USERNAME
from tests.smtp.wizard import connection_form, run_test, token_in


@pytest.fixture
def admin(client):
    org = make_org("Acme")
    user = make_user("boss@example.com", org=org, role="admin")
    client.login("boss@example.com", LOGIN_PASSWORD)
    return user


@pytest.fixture
def server(starttls_server, allow_smtp_port):
    allow_smtp_port(starttls_server.port)
    return starttls_server


def test_empty_state_explains_the_feature(client, admin):
    page = client.get("/settings/smtp").data
    assert b"Send the organisation's mail from its own server" in page
    assert b"Add SMTP configuration" in page


def test_passed_test_then_create_makes_the_first_config_primary(client, admin, server, drain):
    data = connection_form(server)
    card = run_test(client, drain, data)
    assert "✔" in card and "STARTTLS" in card
    token = token_in(card)
    assert token

    created = client.post("/settings/smtp", data={**data, "test_token": token})
    assert created.status_code == 303
    page = client.get("/settings/smtp").data.decode()
    assert "Acme Bookings &lt;bookings@example.com&gt;" in page and "Primary" in page
    assert f"localhost:{server.port}" in page

    config = db.session.scalar(db.select(SmtpConfiguration))
    assert config.is_primary and config.last_test_code == "ok"
    assert PASSWORD not in (config.password_encrypted or "")
    assert USERNAME not in (config.username_encrypted or "")
    assert server.messages == []  # a connection test sends no mail
    actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert "smtp.tested" in actions and "smtp.created" in actions


def test_create_without_a_passed_test_is_refused(client, admin, server):
    response = client.post("/settings/smtp", data=connection_form(server), htmx=True)
    assert response.status_code == 422
    assert b"Test the connection first" in response.data
    assert db.session.scalar(db.select(db.func.count()).select_from(SmtpConfiguration)) == 0


def test_a_pass_for_other_settings_cannot_be_reused(client, admin, server, drain):
    data = connection_form(server)
    token = token_in(run_test(client, drain, data))
    crafted = {**data, "password": "another-password", "test_token": token}
    response = client.post("/settings/smtp", data=crafted)
    assert response.status_code == 422
    assert b"Test the connection first" in response.data


def test_a_forged_pass_is_refused(client, admin, server):
    response = client.post("/settings/smtp",
                           data={**connection_form(server), "test_token": "forged.token.value"})
    assert response.status_code == 422


def test_wrong_password_fails_the_test_with_a_plain_message(client, admin, server, drain):
    card = run_test(client, drain, connection_form(server, password="wrong-password"))
    assert "✘" in card and "auth_failed" in card
    assert "not accepted" in card
    assert token_in(card) is None
    assert "wrong-password" not in card


def test_missing_ca_fails_tls_and_says_why(client, admin, server, drain):
    card = run_test(client, drain, connection_form(server, ca_pem=""))
    assert "tls_failed" in card and "untrusted issuer" in card


def test_a_port_outside_the_allowed_list_is_refused_before_any_job(client, admin, server):
    response = client.post("/settings/smtp/new/test", htmx=True,
                           data=connection_form(server, port="8025"))
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#smtp-form"
    assert b"Port 8025 is not allowed" in response.data


def test_line_breaks_in_the_from_name_are_refused(client, admin, server, drain):
    data = connection_form(server, from_name="Acme\r\nBcc: victim@example.com")
    token = token_in(run_test(client, drain, data))
    response = client.post("/settings/smtp", data={**data, "test_token": token})
    assert response.status_code == 422
    assert db.session.scalar(db.select(db.func.count()).select_from(SmtpConfiguration)) == 0


def test_different_from_domain_warns_but_does_not_refuse(client, admin, server, drain):
    data = connection_form(server, from_email="hello@other-domain.com")
    token = token_in(run_test(client, drain, data))
    response = client.post("/settings/smtp", data={**data, "test_token": token,
                                                   "from_name": ""}, htmx=True)
    assert b"the server may reject or rewrite it" in response.data
    assert client.post("/settings/smtp", data={**data, "test_token": token}).status_code == 303


def _create(client, drain, server, **changes):
    data = connection_form(server, **changes)
    token = token_in(run_test(client, drain, data))
    assert client.post("/settings/smtp", data={**data, "test_token": token}).status_code == 303
    return db.session.scalar(db.select(SmtpConfiguration).filter_by(
        from_email=data["from_email"]))


def test_edit_keeps_credentials_when_left_blank_and_needs_no_retest_for_sender(
        client, admin, server, drain):
    config = _create(client, drain, server)
    form = client.get(f"/settings/smtp/{config.id}/edit").data.decode()
    assert "Leave blank to keep the saved password" in form
    assert PASSWORD not in form and USERNAME not in form

    edited = connection_form(server, username="", password="", ca_pem="",
                             from_name="Acme Team")
    assert client.post(f"/settings/smtp/{config.id}", data=edited).status_code == 303
    db.session.refresh(config)
    assert config.from_name == "Acme Team" and config.ca_pem == server.ca_pem.strip()

    moved = {**edited, "port": "2525"}
    refused = client.post(f"/settings/smtp/{config.id}", data=moved)
    assert refused.status_code == 422 and b"Test the connection first" in refused.data

    # A re-test with blank credentials and CA uses the stored ones, and passes.
    card = run_test(client, drain, edited, url=f"/settings/smtp/{config.id}/test")
    assert "✔" in card


def test_send_test_email_arrives_in_the_admins_inbox(client, admin, server, drain):
    config = _create(client, drain, server)
    started = client.post(f"/settings/smtp/{config.id}/send-test", htmx=True)
    assert b"Waiting for a worker" in started.data
    drain()
    job = started.data.decode().split('hx-get="')[1].split('"')[0]
    card = client.get(job, htmx=True).data.decode()
    assert "Test email sent to boss@example.com" in card
    [message] = server.messages
    assert message.rcpt_tos == ["boss@example.com"]
    assert message.mail_from == "bookings@example.com"
    assert b"Subject: Postroom test email" in message.content


def test_test_again_records_the_outcome_on_the_card(client, admin, server, drain):
    config = _create(client, drain, server)
    server.stop()  # the server went away since
    started = client.post(f"/settings/smtp/{config.id}/retest", htmx=True)
    assert started.status_code == 200
    drain()
    page = client.get("/settings/smtp").data.decode()
    assert "Nothing accepted the connection" in page
    db.session.refresh(config)
    assert config.last_test_code == "connection_refused"
