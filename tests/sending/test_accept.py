"""Accepting mail over the API: validation, idempotency, batches, the delivery log."""
import base64

import pytest

from portal.extensions import db
from portal.queue.services import get_queue
from portal.sending.models import Message
from tests.factories import make_api_key, make_org
from tests.sending.conftest import message_body


def test_accepted_message_is_logged_before_it_is_queued(client, api):
    response = client.post("/api/v1/messages", json=message_body(), headers=api)
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued" and body["id"].startswith("msg_")
    message = db.session.scalar(db.select(Message))
    assert message.public_id == body["id"] and message.status == "queued"
    assert [e.kind for e in message.events] == ["queued"]
    assert get_queue("send").count == 1


@pytest.mark.parametrize("changes,field", [
    ({"to": ["not-an-address"]}, "to"),
    ({"to": []}, "to"),
    ({"to": [f"p{n}@example.com" for n in range(51)]}, "to"),
    ({"cc": "x@@example.com"}, "cc"),
    ({"subject": "Hello\r\nBcc: victim@example.com"}, "subject"),
    ({"subject": "x" * 999}, "subject"),
    ({"text": None, "html": None}, "text"),
    ({"headers": {"From": "ceo@bank.example.com"}}, "headers.From"),
    ({"headers": {"Bcc": "spy@example.com"}}, "headers.Bcc"),
    ({"headers": {"X-Campaign": "a\r\nBcc: spy@example.com"}}, "headers.X-Campaign"),
    ({"attachments": [{"filename": "a.pdf", "content_type": "application/pdf",
                       "content_base64": "%%%"}]}, "attachments[0].content_base64"),
    ({"attachments": [{"filename": "../etc/passwd", "content_type": "text/plain",
                       "content_base64": ""}]}, "attachments[0].filename"),
    ({"email_type": "Booking Scheduled"}, "email_type"),
    ({"surprise": True}, "surprise"),
    ({"as_user": "stranger@example.com"}, "as_user"),
    ({"tags": ["x" * 65]}, "tags"),
])
def test_invalid_fields_are_422_with_the_field_and_nothing_is_stored(client, api, changes,
                                                                     field):
    response = client.post("/api/v1/messages", json=message_body(**changes), headers=api)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["field"] == field
    assert db.session.scalar(db.select(db.func.count()).select_from(Message)) == 0


def test_total_size_limit(app, client, api):
    app.config["POSTROOM_MAX_MESSAGE_BYTES"], original = 1000, app.config[
        "POSTROOM_MAX_MESSAGE_BYTES"]
    try:
        big = base64.b64encode(b"x" * 2000).decode()
        response = client.post("/api/v1/messages", headers=api, json=message_body(
            attachments=[{"filename": "a.bin", "content_type": "application/octet-stream",
                          "content_base64": big}]))
    finally:
        app.config["POSTROOM_MAX_MESSAGE_BYTES"] = original
    assert response.status_code == 422
    assert "the limit is 1000" in response.get_json()["error"]["message"]


def test_idempotency_key_replays_and_conflicts(client, api):
    headers = {**api, "Idempotency-Key": "booking-42-confirmation"}
    first = client.post("/api/v1/messages", json=message_body(), headers=headers)
    again = client.post("/api/v1/messages", json=message_body(), headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.get_json()["id"] == again.get_json()["id"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Message)) == 1
    assert get_queue("send").count == 1  # nothing new was queued
    other = client.post("/api/v1/messages", json=message_body(subject="Changed"),
                        headers=headers)
    assert other.status_code == 409
    assert other.get_json()["error"]["field"] == "Idempotency-Key"


def test_batch_accepts_the_good_items_and_explains_the_bad(client, api):
    response = client.post("/api/v1/messages/batch", headers=api, json={"messages": [
        message_body(), message_body(to=["broken"]), message_body(subject="Second")]})
    assert response.status_code == 202
    results = response.get_json()["data"]
    assert [("id" in r, "error" in r) for r in results] == [(True, False), (False, True),
                                                             (True, False)]
    assert results[1]["error"]["field"] == "to"
    assert db.session.scalar(db.select(db.func.count()).select_from(Message)) == 2
    assert client.post("/api/v1/messages/batch", headers=api,
                       json={"messages": [message_body()] * 501}).status_code == 422


def test_platform_key_names_the_org(client, org):
    _, secret = make_api_key(None, scopes=["send"])
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.post("/api/v1/messages", json=message_body(), headers=headers
                       ).get_json()["error"]["field"] == "org"
    response = client.post("/api/v1/messages", json=message_body(org="acme"), headers=headers)
    assert response.status_code == 202
    assert db.session.scalar(db.select(Message.org_id)) == org.id


def test_read_key_cannot_send_and_send_key_cannot_list(client, org):
    _, reader = make_api_key(org, scopes=["read"])
    _, sender = make_api_key(org, scopes=["send"])
    assert client.post("/api/v1/messages", json=message_body(),
                       headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    assert client.get("/api/v1/messages",
                      headers={"Authorization": f"Bearer {sender}"}).status_code == 403


def test_log_filters_and_keyset_pages(client, api):
    for n in range(5):
        client.post("/api/v1/messages", headers=api, json=message_body(
            to=[f"p{n}@example.com"], email_type="invoice.sent" if n % 2 else "workflow"))
    page = client.get("/api/v1/messages?limit=2", headers=api).get_json()
    assert len(page["data"]) == 2 and page["data"][0]["to"] == ["p4@example.com"]
    rest = client.get(f"/api/v1/messages?limit=10&cursor={page['next_cursor']}",
                      headers=api).get_json()
    assert [m["to"][0] for m in rest["data"]] == ["p2@example.com", "p1@example.com",
                                                  "p0@example.com"]
    assert rest["next_cursor"] is None
    invoices = client.get("/api/v1/messages?email_type=invoice.sent", headers=api).get_json()
    assert {m["to"][0] for m in invoices["data"]} == {"p1@example.com", "p3@example.com"}
    one = client.get("/api/v1/messages?recipient=P3@example.com", headers=api).get_json()
    assert [m["to"][0] for m in one["data"]] == ["p3@example.com"]
    assert client.get("/api/v1/messages?status=lost", headers=api).status_code == 422
    assert client.get("/api/v1/messages?since=yesterday", headers=api).status_code == 422
    future = client.get("/api/v1/messages?since=2999-01-01T00:00:00Z", headers=api).get_json()
    assert future["data"] == []


def test_another_orgs_message_is_404(client, api):
    _, other_key = make_api_key(make_org(), scopes=["send"])
    created = client.post("/api/v1/messages", json=message_body(),
                          headers={"Authorization": f"Bearer {other_key}"}).get_json()
    assert client.get(f"/api/v1/messages/{created['id']}", headers=api).status_code == 404
    assert client.get("/api/v1/messages", headers=api).get_json()["data"] == []


def test_a_from_address_that_is_not_ours_is_refused(client, api):
    response = client.post("/api/v1/messages", headers=api, json=message_body(
        **{"from": {"email": "ceo@bank.example.com", "name": "Bank"}}))
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "from.email"
    named = client.post("/api/v1/messages", headers=api,
                        json=message_body(**{"from": {"name": "Acme Front Desk"}}))
    assert named.status_code == 202  # a display name alone is always fine


def test_two_requests_with_one_key_at_once_give_one_message(client, api, monkeypatch):
    from portal.sending import accept

    headers = {**api, "Idempotency-Key": "booking-43-confirmation"}
    first = client.post("/api/v1/messages", json=message_body(), headers=headers)
    # The second request looks for the key before the first one has committed: it finds
    # nothing, and its own write then meets the first one's row.
    real_replay, calls = accept._replay, []

    def replay_racing_the_first(*args):
        calls.append(args)
        return None if len(calls) == 1 else real_replay(*args)

    monkeypatch.setattr(accept, "_replay", replay_racing_the_first)
    second = client.post("/api/v1/messages", json=message_body(), headers=headers)
    assert second.status_code == 202
    assert second.get_json()["id"] == first.get_json()["id"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Message)) == 1
    assert get_queue("send").count == 1  # nothing new was queued
