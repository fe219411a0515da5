"""The Python client, as an app would use it: against the real app on loopback, and against a
scripted stub server where retries and Retry-After need a misbehaving server."""
import ast
import base64
import socket
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from portal.client import (
    AuthError,
    Conflict,
    NotFound,
    Postroom,
    PostroomError,
    TransportError,
    ValidationError,
    attachment,
    retry_after_seconds,
)
from portal.extensions import db
from portal.sending.models import Message
from tests.factories import make_api_key, make_org

ROOT = Path(__file__).resolve().parents[2]
CLIENT_FILE = ROOT / "portal" / "client.py"
ACCEPTED = (202, {}, {"id": "msg_stub", "status": "queued"})
BUSY = {"error": {"code": "unavailable", "message": "Try again shortly."}}


def booking(**changes):
    fields = {"email_type": "booking.scheduled", "to": "patient@example.com",
              "subject": "Your booking is confirmed", "text": "See you on Monday."}
    fields.update(changes)
    return fields


@pytest.fixture
def org():
    return make_org("Acme Clinic", "acme")


@pytest.fixture
def postroom(live_server, org):
    _, secret = make_api_key(org, scopes=["send", "read"])
    return Postroom(live_server, secret)


def test_a_sent_message_gets_an_id_and_is_in_the_delivery_log(postroom):
    accepted = postroom.send(**booking(
        html="<p>See you on <b>Monday</b>.</p>", cc=["front-desk@example.com"],
        tags=["booking"], metadata={"booking_id": 42},
        attachments=[attachment("booking.ics", "text/calendar", b"BEGIN:VCALENDAR")]))
    assert accepted["status"] == "queued" and accepted["id"].startswith("msg_")

    message = postroom.get(accepted["id"])
    assert message["id"] == accepted["id"] and message["status"] == "queued"
    assert message["to"] == ["patient@example.com"]
    assert message["subject"] == "Your booking is confirmed"
    assert message["tags"] == ["booking"] and message["metadata"] == {"booking_id": 42}
    assert [event["type"] for event in message["events"]] == ["queued"]
    stored = db.session.scalar(db.select(Message))
    assert base64.b64decode(stored.request["attachments"][0]["content_base64"]) == \
        b"BEGIN:VCALENDAR"


def test_the_same_idempotency_key_gives_the_same_message_and_another_body_conflicts(postroom):
    first = postroom.send(**booking(), idempotency_key="booking-17")
    assert postroom.send(**booking(), idempotency_key="booking-17") == first
    with pytest.raises(Conflict) as caught:
        postroom.send(**booking(subject="Changed"), idempotency_key="booking-17")
    assert caught.value.status == 409 and caught.value.field == "Idempotency-Key"
    assert db.session.scalar(db.select(db.func.count()).select_from(Message)) == 1


@pytest.mark.parametrize("changes,field", [
    ({"to": "not-an-address"}, "to"),
    ({"text": None}, "text"),
    ({"attachments": [attachment("../etc/passwd", "text/plain", b"x")]},
     "attachments[0].filename"),
    ({"headers": {"Bcc": "spy@example.com"}}, "headers.Bcc"),
])
def test_bad_input_raises_validation_error_naming_the_field(postroom, changes, field):
    with pytest.raises(ValidationError) as caught:
        postroom.send(**booking(**changes))
    assert caught.value.status == 422 and caught.value.code == "invalid"
    assert caught.value.field == field and caught.value.message
    assert field in str(caught.value)


def test_a_wrong_key_raises_auth_error(live_server):
    with pytest.raises(AuthError) as caught:
        Postroom(live_server, "pr_00000000_" + "x" * 43).get("msg_anything")
    assert caught.value.status == 401 and caught.value.code == "unauthorized"


def test_a_key_without_the_scope_raises_auth_error(live_server, org):
    _, secret = make_api_key(org, scopes=["read"])
    with pytest.raises(AuthError) as caught:
        Postroom(live_server, secret).send(**booking())
    assert caught.value.status == 403 and caught.value.code == "missing_scope"


def test_an_unknown_message_raises_not_found(postroom):
    with pytest.raises(NotFound) as caught:
        postroom.get("msg_" + "0" * 24)
    assert caught.value.status == 404


def test_a_batch_accepts_the_good_messages_and_reports_the_bad(postroom):
    results = postroom.send_batch([
        booking(), booking(to=["nobody"]), booking(**{"from": {"name": "Acme Clinic"}})])
    assert [result["index"] for result in results] == [0, 1, 2]
    assert results[0]["id"].startswith("msg_") and results[0]["status"] == "queued"
    assert results[1]["error"]["field"] == "to" and "id" not in results[1]
    assert results[2]["id"].startswith("msg_")
    assert postroom.get(results[2]["id"])["subject"] == "Your booking is confirmed"


def test_a_platform_key_names_the_org(live_server, org):
    _, secret = make_api_key(None, scopes=["send", "read"])
    postroom = Postroom(live_server, secret, org="acme")
    accepted = postroom.send(**booking(), from_={"name": "Acme Clinic"})
    assert postroom.get(accepted["id"])["id"] == accepted["id"]
    assert postroom.send_batch([booking()])[0]["status"] == "queued"
    with pytest.raises(ValidationError) as caught:
        Postroom(live_server, secret).send(**booking())
    assert caught.value.field == "org"


def test_a_503_is_retried_after_retry_after_with_the_same_idempotency_key(stub_server):
    url, server = stub_server([(503, {"Retry-After": "1"}, BUSY), ACCEPTED])
    postroom = Postroom(url, "pr_test", org="acme")
    assert postroom.send(**booking(), from_="bookings@acme.example.com") == {
        "id": "msg_stub", "status": "queued"}

    first, second = server.requests
    assert first.path == second.path == "/api/v1/messages"
    key = first.headers["idempotency-key"]
    assert second.headers["idempotency-key"] == key and uuid.UUID(key).version == 4
    assert first.body == second.body == {
        **booking(), "from": {"email": "bookings@acme.example.com"}, "org": "acme"}
    assert second.at - first.at >= 1.0
    postroom.send(**booking())
    assert server.requests[2].headers["idempotency-key"] != key  # a new call, a new key


def test_a_429_without_retry_after_backs_off_and_gives_up_after_max_retries(stub_server):
    url, server = stub_server([(429, {}, {"error": {"code": "rate_limited",
                                                    "message": "Slow down."}})])
    postroom = Postroom(url, "pr_test", max_retries=2)
    postroom.backoff_seconds = 0.05
    with pytest.raises(PostroomError) as caught:
        postroom.send(**booking(), idempotency_key="mine")
    assert caught.value.status == 429 and caught.value.code == "rate_limited"
    assert len(server.requests) == 3
    assert {r.headers["idempotency-key"] for r in server.requests} == {"mine"}
    waits = [b.at - a.at for a, b in zip(server.requests, server.requests[1:])]
    assert waits[1] > waits[0] >= 0.04  # exponential


def test_a_retry_after_longer_than_the_client_waits_is_raised_at_once(stub_server):
    url, server = stub_server([(503, {"Retry-After": "3600"}, BUSY)])
    with pytest.raises(PostroomError) as caught:
        Postroom(url, "pr_test").get("msg_x")
    assert caught.value.retry_after == 3600 and len(server.requests) == 1


def test_an_error_from_something_other_than_postroom_still_raises_the_right_class(stub_server):
    url, _ = stub_server([(404, {}, None)])
    with pytest.raises(NotFound) as caught:
        Postroom(url, "pr_test").get("msg_x")
    assert caught.value.code == "http_404"


def test_a_dropped_connection_retries_a_send_but_not_a_batch(stub_server):
    url, server = stub_server([(None, {}, None), ACCEPTED])
    postroom = Postroom(url, "pr_test")
    postroom.backoff_seconds = 0.01
    assert postroom.send(**booking())["id"] == "msg_stub"
    assert len(server.requests) == 2

    url, server = stub_server([(None, {}, None), (202, {}, {"data": []})])
    with pytest.raises(TransportError) as caught:
        Postroom(url, "pr_test").send_batch([booking()])
    assert len(server.requests) == 1 and not caught.value.unsent  # it may have arrived


def test_an_unreachable_server_raises_transport_error_after_the_retries():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the client connects: refused
    postroom = Postroom(f"http://127.0.0.1:{port}", "pr_test", max_retries=2, timeout=2)
    postroom.backoff_seconds = 0.01
    with pytest.raises(TransportError) as caught:
        postroom.send_batch([booking()])  # refused never arrived: safe to retry even a batch
    assert caught.value.unsent and caught.value.status is None
    assert isinstance(caught.value.__cause__, OSError)


def test_retry_after_is_seconds_or_an_http_date():
    now = datetime(2026, 11, 24, 10, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("7", now) == 7
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True),
                               now) == 30
    assert retry_after_seconds("Tue, 24 Nov 2026 09:00:00 GMT", now) == 0  # already past
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None) is None


def test_the_base_url_must_be_http_and_the_key_stays_out_of_repr():
    with pytest.raises(ValueError):
        Postroom("file:///etc/passwd", "pr_secret")
    postroom = Postroom("https://postroom.example.com/", "pr_secret")
    assert postroom.api_url == "https://postroom.example.com/api/v1"
    assert Postroom("https://postroom.example.com/api/v1", "k").api_url == postroom.api_url
    assert "pr_secret" not in repr(postroom)


def test_the_client_file_uses_the_standard_library_only():
    tree = ast.parse(CLIENT_FILE.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
    # Loaded on its own (copied into an app), it pulls in neither Flask nor the portal.
    code = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location("
            f"'postroom_client', {str(CLIENT_FILE)!r}); "
            "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); "
            "assert 'flask' not in sys.modules and 'portal' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_importing_portal_client_does_not_import_flask():
    result = subprocess.run(
        [sys.executable, "-c", "import portal.client, sys; assert 'flask' not in sys.modules"],
        cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
