"""The SendGrid and Resend adapters against a real local HTTP server: the JSON they send, the
ids they bring back, and how every kind of failure is classified."""
import base64
import socket
import ssl
import time
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import format_datetime
from urllib.error import URLError

import pytest

from portal.sending.providers.base import (
    MESSAGE,
    PERMANENT,
    SENT,
    SERVER,
    TRANSIENT,
    Attachment,
    OutgoingMessage,
)
from portal.sending.providers.http_errors import HttpReply, outcome_for_error, retry_after
from portal.sending.providers.resend import ResendProvider
from portal.sending.providers.sendgrid import SendGridProvider
from tests.providers.servers import ERROR_400_TEXT, RESEND_KEY, SENDGRID_KEY

PDF = b"%PDF-1.4\n\x00\xff binary \x01\x02 bytes\n"


def outgoing(**changes) -> OutgoingMessage:
    fields = dict(
        message_id="msg_01hx7k2m9q", from_email="bookings@acme.example", from_name="Acme Bookings",
        to=["ana@example.com", "ben@example.com"], cc=["cat@example.com"],
        bcc=["audit@acme.example"], reply_to=["help@acme.example"],
        subject="Your booking is confirmed", text="See you on Friday.",
        html="<p>See you on <b>Friday</b>.</p>", headers={"X-Booking": "B-1042"},
        attachments=[Attachment("booking.pdf", "application/pdf", PDF)],
        tags=["booking", "confirmation"])
    fields.update(changes)
    return OutgoingMessage(**fields)


def sendgrid(api, key=SENDGRID_KEY, **kwargs):
    return SendGridProvider(key, base_url=api.url if hasattr(api, "url") else api, **kwargs)


def resend(api, key=RESEND_KEY, **kwargs):
    return ResendProvider(key, base_url=api.url if hasattr(api, "url") else api, **kwargs)


ADAPTERS = {"sendgrid": sendgrid, "resend": resend}


# --- what each adapter sends -------------------------------------------------------------

def test_sendgrid_sends_the_documented_v3_json(provider_api):
    outcome = sendgrid(provider_api).send(outgoing())

    assert outcome.status == SENT and outcome.code == "ok"
    request = provider_api.last("/v3/mail/send")
    assert request.method == "POST"
    assert request.headers["Authorization"] == f"Bearer {SENDGRID_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    body = request.json
    assert body["personalizations"] == [{
        "to": [{"email": "ana@example.com"}, {"email": "ben@example.com"}],
        "cc": [{"email": "cat@example.com"}], "bcc": [{"email": "audit@acme.example"}]}]
    assert body["from"] == {"email": "bookings@acme.example", "name": "Acme Bookings"}
    assert body["reply_to"] == {"email": "help@acme.example"}
    assert "reply_to_list" not in body
    assert body["subject"] == "Your booking is confirmed"
    assert body["content"] == [{"type": "text/plain", "value": "See you on Friday."},
                               {"type": "text/html", "value": "<p>See you on <b>Friday</b>.</p>"}]
    [attachment] = body["attachments"]
    assert base64.b64decode(attachment["content"]) == PDF
    assert attachment == {"content": attachment["content"], "filename": "booking.pdf",
                          "type": "application/pdf", "disposition": "attachment"}
    assert body["headers"] == {"X-Booking": "B-1042"}
    assert body["categories"] == ["booking", "confirmation"]
    assert body["custom_args"] == {"postroom_id": "msg_01hx7k2m9q"}


def test_sendgrid_id_comes_from_the_x_message_id_header(provider_api):
    outcome = sendgrid(provider_api).send(outgoing())
    assert outcome.sent and outcome.provider_message_id.startswith("sg-")
    assert outcome.provider_message_id in outcome.detail


def test_sendgrid_several_reply_to_addresses_use_reply_to_list(provider_api):
    sendgrid(provider_api).send(outgoing(reply_to=["a@acme.example", "b@acme.example"]))
    body = provider_api.last("/v3/mail/send").json
    assert "reply_to" not in body
    assert body["reply_to_list"] == [{"email": "a@acme.example"}, {"email": "b@acme.example"}]


def test_sendgrid_names_each_address_once_and_omits_what_is_empty(provider_api):
    message = outgoing(to=["ana@example.com"], cc=["ANA@example.com", "cat@example.com"],
                       bcc=["cat@example.com"], reply_to=[], html=None, headers={},
                       attachments=[], tags=[], from_name=None)
    assert sendgrid(provider_api).send(message).sent
    body = provider_api.last("/v3/mail/send").json
    # SendGrid refuses a personalization that names one address twice.
    assert body["personalizations"] == [{"to": [{"email": "ana@example.com"}],
                                         "cc": [{"email": "cat@example.com"}]}]
    assert body["from"] == {"email": "bookings@acme.example"}
    assert body["content"] == [{"type": "text/plain", "value": "See you on Friday."}]
    for absent in ("reply_to", "reply_to_list", "headers", "attachments", "categories"):
        assert absent not in body


def test_resend_sends_the_documented_json_with_an_idempotency_key(provider_api):
    outcome = resend(provider_api).send(outgoing())

    assert outcome.status == SENT
    request = provider_api.last("/emails")
    assert request.method == "POST"
    assert request.headers["Authorization"] == f"Bearer {RESEND_KEY}"
    assert request.headers["Idempotency-Key"] == "msg_01hx7k2m9q"
    body = request.json
    assert body["from"] == "Acme Bookings <bookings@acme.example>"
    assert body["to"] == ["ana@example.com", "ben@example.com"]
    assert body["cc"] == ["cat@example.com"]
    assert body["bcc"] == ["audit@acme.example"]
    assert body["reply_to"] == ["help@acme.example"]
    assert body["subject"] == "Your booking is confirmed"
    assert body["text"] == "See you on Friday."
    assert body["html"] == "<p>See you on <b>Friday</b>.</p>"
    assert body["headers"] == {"X-Booking": "B-1042"}
    [attachment] = body["attachments"]
    assert attachment["filename"] == "booking.pdf"
    assert attachment["content_type"] == "application/pdf"
    assert base64.b64decode(attachment["content"]) == PDF
    assert body["tags"] == [{"name": "postroom_id", "value": "msg_01hx7k2m9q"},
                            {"name": "booking", "value": "true"},
                            {"name": "confirmation", "value": "true"}]


def test_resend_id_comes_from_the_json_reply(provider_api):
    outcome = resend(provider_api).send(outgoing())
    assert outcome.sent and len(outcome.provider_message_id) == 36  # a UUID


def test_resend_quotes_display_names_and_makes_tags_acceptable(provider_api):
    resend(provider_api).send(outgoing(from_name="Acme, Inc.", tags=["welcome mail/v2"],
                                       cc=[], bcc=[], reply_to=[], html=None, attachments=[],
                                       headers={}))
    body = provider_api.last("/emails").json
    assert body["from"] == '"Acme, Inc." <bookings@acme.example>'
    assert body["tags"][1] == {"name": "welcome_mail_v2", "value": "true"}
    for absent in ("cc", "bcc", "reply_to", "html", "attachments", "headers"):
        assert absent not in body


# --- classification -----------------------------------------------------------------------

@pytest.mark.parametrize("provider", ADAPTERS)
def test_a_refused_key_is_permanent_and_the_servers_fault(provider_api, provider):
    outcome = ADAPTERS[provider](provider_api, key="wrong-key-123456789").send(outgoing())
    assert (outcome.status, outcome.scope, outcome.code) == (PERMANENT, SERVER, "key_rejected")
    assert "401" in outcome.detail and "authorization grant is invalid" in outcome.detail


@pytest.mark.parametrize("provider", ADAPTERS)
def test_401_and_403_mean_the_key_failed(provider_api, provider):
    provider_api.answer = 401
    outcome = ADAPTERS[provider](provider_api).send(outgoing())
    assert (outcome.status, outcome.scope, outcome.code) == (PERMANENT, SERVER, "key_rejected")


@pytest.mark.parametrize("provider", ADAPTERS)
def test_429_is_transient_and_honours_retry_after(provider_api, provider):
    provider_api.answer = 429
    outcome = ADAPTERS[provider](provider_api).send(outgoing())
    assert (outcome.status, outcome.scope, outcome.code) == (TRANSIENT, SERVER, "http_429")
    assert outcome.retry_after == 7


@pytest.mark.parametrize("provider", ADAPTERS)
def test_500_is_transient_and_the_servers_fault(provider_api, provider):
    provider_api.answer = 500
    outcome = ADAPTERS[provider](provider_api).send(outgoing())
    assert (outcome.status, outcome.scope, outcome.code) == (TRANSIENT, SERVER, "http_500")
    assert outcome.retry_after is None


@pytest.mark.parametrize("provider", ADAPTERS)
def test_400_is_this_messages_permanent_failure_in_the_providers_words(provider_api, provider):
    provider_api.answer = 400
    outcome = ADAPTERS[provider](provider_api).send(outgoing())
    assert (outcome.status, outcome.scope, outcome.code) == (PERMANENT, MESSAGE, "http_400")
    assert ERROR_400_TEXT in outcome.detail


@pytest.mark.parametrize("provider", ADAPTERS)
def test_a_closed_port_is_unreachable(closed_url, provider):
    outcome = ADAPTERS[provider](closed_url, timeout=2).send(outgoing())
    assert (outcome.status, outcome.scope, outcome.code) == (TRANSIENT, SERVER, "unreachable")
    assert "refused" in outcome.detail


@pytest.mark.parametrize("provider", ADAPTERS)
def test_a_server_that_never_answers_times_out(silent_url, provider):
    started = time.monotonic()
    outcome = ADAPTERS[provider](silent_url, timeout=0.5).send(outgoing())
    assert (outcome.status, outcome.scope, outcome.code) == (TRANSIENT, SERVER, "timeout")
    assert time.monotonic() - started < 5
    assert "0.5 s" in outcome.detail


@pytest.mark.parametrize("error, words", [
    (URLError(socket.gaierror(-2, "Name or service not known")), "could not be resolved"),
    (URLError(ssl.SSLCertVerificationError(1, "certificate verify failed")), "certificate"),
    (ConnectionResetError(104, "Connection reset by peer"), "reset"),
])
def test_other_network_failures_are_unreachable(error, words):
    # (DNS and TLS failures are built here rather than provoked: tests stay on loopback.)
    outcome = outcome_for_error(error, "SendGrid", secret=SENDGRID_KEY)
    assert (outcome.status, outcome.scope, outcome.code) == (TRANSIENT, SERVER, "unreachable")
    assert words in outcome.detail


@pytest.mark.parametrize("provider", ADAPTERS)
def test_a_redirect_is_not_followed_with_the_key(provider_api, provider):
    provider_api.answer = "redirect"
    outcome = ADAPTERS[provider](provider_api).send(outgoing())
    assert (outcome.status, outcome.scope, outcome.code) == (TRANSIENT, SERVER, "http_307")
    assert [r.path for r in provider_api.requests if r.path == "/elsewhere"] == []


@pytest.mark.parametrize("provider", ADAPTERS)
def test_the_detail_is_short_and_never_holds_the_key(provider_api, provider):
    key = {"sendgrid": SENDGRID_KEY, "resend": RESEND_KEY}[provider]
    provider_api.answer = "echo"
    echoed = ADAPTERS[provider](provider_api).send(outgoing())
    assert key not in echoed.detail and "[key]" in echoed.detail
    provider_api.answer = "long"
    long = ADAPTERS[provider](provider_api).send(outgoing())
    assert len(long.detail) <= 300 and long.scope == MESSAGE


@pytest.mark.parametrize("provider", ADAPTERS)
def test_the_adapter_repr_never_shows_the_key(provider):
    key = {"sendgrid": SENDGRID_KEY, "resend": RESEND_KEY}[provider]
    adapter = ADAPTERS[provider]("http://127.0.0.1:9")
    assert key not in repr(adapter)


def test_retry_after_also_reads_an_http_date():
    headers = Message()
    headers["Retry-After"] = format_datetime(datetime.now(UTC) + timedelta(seconds=90),
                                             usegmt=True)
    assert 80 <= retry_after(HttpReply(429, headers, b"")) <= 90
    headers.replace_header("Retry-After", "soon")
    assert retry_after(HttpReply(429, headers, b"")) is None


# --- the "test key" checks ----------------------------------------------------------------

def test_sendgrid_check_key(provider_api):
    assert sendgrid(provider_api).check_key().status == SENT
    assert sendgrid(provider_api).check_key().detail == "The key works"
    assert provider_api.last("/v3/scopes").headers["Authorization"] == f"Bearer {SENDGRID_KEY}"
    rejected = sendgrid(provider_api, key="SG.revoked").check_key()
    assert (rejected.status, rejected.scope, rejected.code) == (PERMANENT, SERVER, "key_rejected")


def test_sendgrid_check_key_notices_a_key_that_may_not_send(provider_api):
    provider_api.sendgrid_scopes = ["stats.read"]
    outcome = sendgrid(provider_api).check_key()
    assert (outcome.status, outcome.code) == (PERMANENT, "key_rejected")
    assert "Mail Send" in outcome.detail


def test_resend_check_key(provider_api):
    outcome = resend(provider_api).check_key()
    assert (outcome.status, outcome.detail) == (SENT, "The key works")
    assert provider_api.last("/domains").method == "GET"
    rejected = resend(provider_api, key="re_revoked").check_key()
    assert (rejected.status, rejected.scope, rejected.code) == (PERMANENT, SERVER, "key_rejected")


def test_resend_check_key_accepts_a_sending_only_key(provider_api):
    # Resend refuses GET /domains to a "sending access" key, which is still a valid key.
    provider_api.resend_restricted = True
    outcome = resend(provider_api).check_key()
    assert outcome.status == SENT and "limited to sending" in outcome.detail


@pytest.mark.parametrize("provider", ADAPTERS)
def test_check_key_classifies_an_unreachable_provider(closed_url, provider):
    outcome = ADAPTERS[provider](closed_url, timeout=2).check_key()
    assert (outcome.status, outcome.code) == (TRANSIENT, "unreachable")
