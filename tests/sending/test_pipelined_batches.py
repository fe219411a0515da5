"""A send job's messages go out over one SMTP session, pipelined across messages: each one's
own failure stays its own, and a lost session costs only the message that was in flight."""
import email

import pytest

from portal.extensions import db
from portal.sending.models import Message
from tests.sending.conftest import message_body, smtp_config_for

PATIENTS = [f"patient{n}@example.com" for n in range(1, 5)]


@pytest.fixture
def platform_relay(app, smtp_server_factory):
    """Start the platform relay with the given options (see start_smtp_server)."""
    original = app.config["POSTROOM_PLATFORM_SMTP_URL"]

    def start(**options):
        server = smtp_server_factory("none", **options)
        app.config["POSTROOM_PLATFORM_SMTP_URL"] = f"smtp+plain://127.0.0.1:{server.port}"
        return server

    yield start
    app.config["POSTROOM_PLATFORM_SMTP_URL"] = original


def send_batch(client, api, recipients) -> list[str]:
    items = [message_body(to=[address], subject=f"Booking for {address}")
             for address in recipients]
    response = client.post("/api/v1/messages/batch", json={"messages": items}, headers=api)
    assert response.status_code == 202
    return [result["id"] for result in response.get_json()["data"]]


def outcomes(client, api, ids) -> list[tuple[str, str | None]]:
    bodies = [client.get(f"/api/v1/messages/{i}", headers=api).get_json() for i in ids]
    return [(body["status"], body["error"]) for body in bodies]


def received_by(server) -> list[str]:
    return [address for message in server.messages for address in message.rcpt_tos]


def test_a_batch_arrives_whole_and_in_order_over_one_session(client, api, platform_relay,
                                                             drain):
    relay = platform_relay()
    ids = send_batch(client, api, PATIENTS)
    drain()
    assert [status for status, _ in outcomes(client, api, ids)] == ["sent"] * 4
    assert received_by(relay) == PATIENTS and relay.handler.sessions == 1
    subjects = [email.message_from_bytes(m.content)["Subject"] for m in relay.messages]
    assert subjects == [f"Booking for {address}" for address in PATIENTS]


@pytest.mark.parametrize("refusal, reply", [
    ("refuse", "550 5.1.1 No such mailbox here"),  # at RCPT
    # at the end of data, which went out with the next message's MAIL/RCPT/DATA in one write
    ("reject_data", "554 5.6.0 Message content rejected"),
])
def test_a_message_refused_mid_batch_fails_alone(client, api, platform_relay, drain, refusal,
                                                 reply):
    relay = platform_relay(**{refusal: {PATIENTS[1]}})
    ids = send_batch(client, api, PATIENTS)
    drain()
    results = outcomes(client, api, ids)
    assert [status for status, _ in results] == ["sent", "failed", "sent", "sent"]
    assert reply in results[1][1]
    assert received_by(relay) == [PATIENTS[0], *PATIENTS[2:]]
    assert relay.handler.sessions == 1


def test_a_session_lost_mid_batch_retries_the_message_in_flight_and_sends_the_rest(
        client, api, platform_relay, drain):
    relay = platform_relay(hang_up_on_data={PATIENTS[1]})
    ids = send_batch(client, api, PATIENTS)
    drain()
    results = outcomes(client, api, ids)
    assert [status for status, _ in results] == ["sent", "deferred", "sent", "sent"]
    assert "connection" in results[1][1].lower()
    assert received_by(relay) == [PATIENTS[0], *PATIENTS[2:]]
    assert relay.handler.sessions == 2  # the rest went on over a new session
    lost = db.session.scalar(db.select(Message).where(Message.public_id == ids[1]))
    assert lost.due_at is not None and lost.attempts == 1  # its retry is scheduled


def test_a_batch_for_a_down_org_server_falls_back_whole_to_the_platform(
        client, api, org, relay, org_server, drain):
    smtp_config_for(org_server, org=org, from_email="bookings@acme.example.com")
    org_server.stop()
    ids = send_batch(client, api, PATIENTS)
    drain()
    bodies = [client.get(f"/api/v1/messages/{i}", headers=api).get_json() for i in ids]
    assert {(body["status"], body["route"]) for body in bodies} == {("sent", "platform")}
    assert all([event["type"] for event in body["events"]] ==
               ["queued", "attempt", "fallback", "attempt", "sent"] for body in bodies)
    assert received_by(relay) == PATIENTS and relay.handler.sessions == 1
    assert {m.mail_from for m in relay.messages} == {"no-reply@postroom.example.com"}
