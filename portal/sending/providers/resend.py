"""Resend, through its REST API (POST /emails), with the org's own API key."""
from __future__ import annotations

import base64
import re
from email.utils import formataddr

from portal.sending.providers.base import SENT, OutgoingMessage, SendOutcome, SendsInTurn
from portal.sending.providers.http_errors import (
    NETWORK_ERRORS,
    call_provider,
    outcome_for_error,
    outcome_for_reply,
)

LABEL = "Resend"
# Resend accepts tag names and values of ASCII letters, digits, "_" and "-" only (≤ 256).
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _tag_text(value: str) -> str:
    return _TAG_UNSAFE.sub("_", value)[:256] or "_"


def emails_body(message: OutgoingMessage) -> dict:
    """The POST /emails JSON for one message."""
    body: dict = {
        "from": formataddr((message.from_name or "", message.from_email)),
        "to": list(message.to),
        "subject": message.subject,
        # Each tag becomes its own name (Resend tags are key/value pairs), plus Postroom's id
        # so webhooks can be matched to the message.
        "tags": [{"name": "postroom_id", "value": _tag_text(message.message_id)}]
        + [{"name": _tag_text(tag), "value": "true"} for tag in dict.fromkeys(message.tags)],
    }
    for key, value in (("cc", message.cc), ("bcc", message.bcc), ("reply_to", message.reply_to)):
        if value:
            body[key] = list(value)
    if message.html:
        body["html"] = message.html
    if message.text:
        body["text"] = message.text
    if message.headers:
        body["headers"] = dict(message.headers)
    if message.attachments:
        body["attachments"] = [{
            "filename": attachment.filename,
            "content": base64.b64encode(attachment.content).decode("ascii"),
            "content_type": attachment.content_type,
        } for attachment in message.attachments]
    return body


class ResendProvider(SendsInTurn):
    """Sends through Resend; Postroom's message id is the Idempotency-Key, so a retry after a
    lost reply returns the first answer instead of sending twice."""

    name = "resend"

    def __init__(self, api_key: str, base_url: str = "https://api.resend.com",
                 timeout: float = 15.0):
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<ResendProvider {self.base_url}>"  # never the key

    def send(self, message: OutgoingMessage) -> SendOutcome:
        """POST /emails; Resend answers 200 with {"id": ...}."""
        try:
            reply = call_provider("POST", f"{self.base_url}/emails", api_key=self._api_key,
                                  timeout=self.timeout, payload=emails_body(message),
                                  headers={"Idempotency-Key": message.message_id})
        except NETWORK_ERRORS as exc:
            return outcome_for_error(exc, LABEL, timeout=self.timeout, secret=self._api_key)
        body = reply.json()
        message_id = body.get("id") if isinstance(body, dict) else None
        message_id = str(message_id) if message_id else None
        return outcome_for_reply(reply, LABEL, secret=self._api_key,
                                 provider_message_id=message_id,
                                 sent_detail=f"Resend accepted the message ({message_id})"
                                 if message_id else None)

    def check_key(self) -> SendOutcome:
        """GET /domains: does Resend accept the key?"""
        try:
            reply = call_provider("GET", f"{self.base_url}/domains", api_key=self._api_key,
                                  timeout=self.timeout)
        except NETWORK_ERRORS as exc:
            return outcome_for_error(exc, LABEL, timeout=self.timeout, secret=self._api_key)
        body = reply.json()
        if reply.status == 401 and isinstance(body, dict) \
                and body.get("name") == "restricted_api_key":
            # A "sending access" key may not list domains, but Resend recognised it: that
            # refusal proves the key is valid, and sending is all Postroom needs.
            return SendOutcome(SENT, "The key works (it is limited to sending, which is all "
                                     "Postroom needs)", code="ok")
        if reply.status == 200:
            return SendOutcome(SENT, "The key works", code="ok")
        return outcome_for_reply(reply, LABEL, secret=self._api_key)
