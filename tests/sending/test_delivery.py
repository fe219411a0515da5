"""Delivery through real SMTP servers: each route, fallback, retries, permanent failures."""
import base64
import email
from datetime import timedelta

import pytest

from portal.clock import utcnow
from portal.extensions import db
from portal.sending.models import Message
from portal.sending.sweeper import sweep
from tests.factories import make_user
from tests.sending.conftest import message_body, smtp_config_for


def send(client, api, **changes) -> str:
    response = client.post("/api/v1/messages", json=message_body(**changes), headers=api)
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def status_of(client, api, message_id) -> dict:
    return client.get(f"/api/v1/messages/{message_id}", headers=api).get_json()


def event_types(body) -> list[str]:
    return [event["type"] for event in body["events"]]


def test_platform_route_sends_from_the_platform_address_with_the_org_name(
        client, api, relay, drain):
    message_id = send(client, api)
    drain()
    body = status_of(client, api, message_id)
    assert body["status"] == "sent" and body["route"] == "platform"
    assert body["from"] == {"email": "no-reply@postroom.example.com", "name": "Acme Clinic"}
    assert event_types(body) == ["queued", "attempt", "sent"]
    [received] = relay.messages
    assert received.rcpt_tos == ["patient@example.com"]
    parsed = email.message_from_bytes(received.content)
    assert parsed["From"] == "Acme Clinic <no-reply@postroom.example.com>"
    assert parsed["Subject"] == "Your booking is confirmed"


def test_org_smtp_route_uses_the_configs_sender(client, api, org, relay, org_server, drain):
    smtp_config_for(org_server, org=org, from_email="bookings@acme.example.com")
    message_id = send(client, api)
    drain()
    body = status_of(client, api, message_id)
    assert body["status"] == "sent" and body["route"] == "org_smtp"
    assert body["from"]["email"] == "bookings@acme.example.com"
    assert len(org_server.messages) == 1 and relay.messages == []
    assert org_server.messages[0].authenticated


def test_security_mail_always_takes_the_platform(client, api, org, relay, org_server, drain):
    smtp_config_for(org_server, org=org)
    message_id = send(client, api, email_type="auth.magic_link")
    drain()
    body = status_of(client, api, message_id)
    assert body["route"] == "platform" and "allow-list" in body["route_reason"]
    assert len(relay.messages) == 1 and org_server.messages == []


def test_org_server_down_falls_back_once_to_the_platform_address(
        client, api, org, relay, org_server, drain):
    smtp_config_for(org_server, org=org, from_email="bookings@acme.example.com")
    org_server.stop()
    message_id = send(client, api)
    drain()
    body = status_of(client, api, message_id)
    assert body["status"] == "sent" and body["route"] == "platform"
    assert event_types(body) == ["queued", "attempt", "fallback", "attempt", "sent"]
    assert "org_smtp" in body["events"][1]["detail"]
    [received] = relay.messages
    # Never the org's address through the platform's server.
    assert received.mail_from == "no-reply@postroom.example.com"
    assert b"bookings@acme.example.com" not in received.content


def test_wrong_org_credentials_fall_back_too(client, api, org, relay, org_server, drain):
    smtp_config_for(org_server, org=org)
    from portal.smtp.models import SmtpConfiguration
    from portal.vault import encrypt
    config = db.session.scalar(db.select(SmtpConfiguration))
    config.password_encrypted = encrypt("rotated-elsewhere")
    db.session.commit()
    message_id = send(client, api)
    drain()
    body = status_of(client, api, message_id)
    assert "fallback" in event_types(body) and body["status"] == "sent"
    assert "not accepted" in body["events"][2]["detail"]


def test_a_refused_recipient_is_the_messages_failure_not_a_fallback(
        client, api, org, relay, smtp_server_factory, allow_smtp_port, drain):
    server = smtp_server_factory("starttls", refuse={"ghost@example.com"})
    allow_smtp_port(server.port)
    smtp_config_for(server, org=org)
    message_id = send(client, api, to=["ghost@example.com"])
    drain()
    body = status_of(client, api, message_id)
    assert body["status"] == "failed" and "fallback" not in event_types(body)
    assert "550" in body["error"]
    assert relay.messages == []


def test_a_4xx_is_retried_and_then_delivered(client, api, org, relay, smtp_server_factory,
                                             allow_smtp_port, drain):
    server = smtp_server_factory("starttls", defer={"busy@example.com": 1})
    allow_smtp_port(server.port)
    smtp_config_for(server, org=org)
    message_id = send(client, api, to=["busy@example.com"])
    drain()
    body = status_of(client, api, message_id)
    assert body["status"] == "deferred" and "451" in body["events"][-1]["detail"]
    message = db.session.scalar(db.select(Message))
    assert message.due_at > utcnow() + timedelta(seconds=40)  # about a minute, with jitter

    message.due_at = utcnow() - timedelta(seconds=1)  # the retry time has come
    db.session.commit()
    assert sweep()["queued"] == 1
    drain()
    body = status_of(client, api, message_id)
    assert body["status"] == "sent" and body["attempts"] == 2
    assert event_types(body) == ["queued", "attempt", "deferred", "attempt", "sent"]


def test_retries_stop_after_the_last_attempt(app, client, api, relay, drain):
    relay.stop()
    message_id = send(client, api)
    app.config["POSTROOM_SEND_MAX_ATTEMPTS"], original = 2, app.config[
        "POSTROOM_SEND_MAX_ATTEMPTS"]
    try:
        for _ in range(2):
            drain()
            db.session.execute(db.update(Message).values(due_at=utcnow()))
            db.session.commit()
            sweep()
    finally:
        app.config["POSTROOM_SEND_MAX_ATTEMPTS"] = original
    body = status_of(client, api, message_id)
    assert body["status"] == "failed" and body["attempts"] == 2
    assert "gave up after 2 attempts" in body["events"][-1]["detail"]


def test_personal_smtp_sends_as_the_member(client, api, org, relay, org_server, drain):
    ana = make_user("ana@acme.example.com", org=org)
    smtp_config_for(org_server, user=ana, from_email="ana@acme.example.com")
    message_id = send(client, api, as_user="ana@acme.example.com")
    drain()
    body = status_of(client, api, message_id)
    assert body["status"] == "sent" and body["route"] == "personal"
    assert org_server.messages[0].mail_from == "ana@acme.example.com"


def test_personal_smtp_down_fails_without_fallback(client, api, org, relay, org_server, drain):
    ana = make_user("ana@acme.example.com", org=org)
    smtp_config_for(org_server, user=ana, from_email="ana@acme.example.com")
    org_server.stop()
    message_id = send(client, api, as_user="ana@acme.example.com")
    drain()
    body = status_of(client, api, message_id)
    assert body["status"] in ("deferred", "failed")
    assert "fallback" not in event_types(body) and relay.messages == []


def test_member_without_personal_smtp_fails_at_once(client, api, org, relay, drain):
    make_user("ben@acme.example.com", org=org)
    message_id = send(client, api, as_user="ben@acme.example.com")
    drain()
    body = status_of(client, api, message_id)
    assert body["status"] == "failed" and "no enabled personal SMTP" in body["error"]
    assert relay.messages == []


def test_attachments_cc_and_headers_arrive_intact(client, api, relay, drain):
    pdf = bytes(range(256)) * 40
    send(client, api, cc=["office@example.com"], bcc=["audit@example.com"],
         headers={"X-Booking-Id": "B-42", "List-Unsubscribe": "<mailto:u@example.com>"},
         attachments=[{"filename": "invoice.pdf", "content_type": "application/pdf",
                       "content_base64": base64.b64encode(pdf).decode()}])
    drain()
    [received] = relay.messages
    assert sorted(received.rcpt_tos) == ["audit@example.com", "office@example.com",
                                         "patient@example.com"]
    parsed = email.message_from_bytes(received.content)
    assert parsed["Cc"] == "office@example.com" and parsed["Bcc"] is None
    assert parsed["X-Booking-Id"] == "B-42"
    [attachment] = [p for p in parsed.walk() if p.get_filename() == "invoice.pdf"]
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_payload(decode=True) == pdf


@pytest.mark.parametrize("subject", ["Grüße aus Köln", "予約の確認"])
def test_non_ascii_subjects_survive(client, api, relay, drain, subject):
    send(client, api, subject=subject)
    drain()
    parsed = email.message_from_bytes(relay.messages[0].content)
    decoded = str(email.header.make_header(email.header.decode_header(parsed["Subject"])))
    assert decoded == subject


def test_two_workers_never_send_one_message_twice(client, api, relay, drain):
    from portal.sending.claims import claim

    send(client, api)
    message = db.session.scalar(db.select(Message))
    assert claim(message.id) is True
    assert claim(message.id) is False  # the second worker finds it taken
    db.session.rollback()


def test_bodies_and_long_recipient_lists_survive_the_wire(client, api, relay, drain):
    text = "Grüße aus Köln — 25 € — " + "lange Zeile " * 40
    to = [f"patient{n}@example.com" for n in range(40)]
    send(client, api, to=to, text=text, html=f"<p>{text}</p>")
    drain()
    [received] = relay.messages
    assert all(len(line) <= 998 for line in received.content.split(b"\r\n"))
    parsed = email.message_from_bytes(received.content)
    assert [a.strip() for a in parsed["To"].replace("\r\n", "").split(",")] == to
    plain, html = [p for p in parsed.walk() if p.get_content_maintype() == "text"]
    assert plain.get_payload(decode=True).decode("utf-8") == text
    assert html.get_payload(decode=True).decode("utf-8") == f"<p>{text}</p>"


def test_a_job_out_of_time_hands_the_rest_back_to_the_queue(app, client, api, relay, drain):
    from portal.queue.services import get_queue
    from portal.sending.delivery import deliver_messages

    for n in range(3):
        send(client, api, to=[f"p{n}@example.com"])
    ids = db.session.scalars(db.select(Message.id).order_by(Message.id)).all()
    get_queue("send").empty()  # only a re-queue can bring them back now
    app.config["RQ_JOB_TIMEOUT"], original = 0, app.config["RQ_JOB_TIMEOUT"]
    try:
        with app.app_context():
            counts = deliver_messages(ids)  # a job whose time is already up
    finally:
        app.config["RQ_JOB_TIMEOUT"] = original
    assert counts["handed_back"] == 3 and relay.messages == []
    db.session.commit()
    assert set(db.session.scalars(db.select(Message.status))) == {"queued"}
    assert set(db.session.scalars(db.select(Message.attempts))) == {0}
    drain()  # the handed-back messages were queued again
    db.session.commit()
    assert set(db.session.scalars(db.select(Message.status))) == {"sent"}
