"""SendGrid, through its v3 Web API (POST /v3/mail/send), with the org's own API key."""
from __future__ import annotations

import base64

from portal.sending.providers.base import (
    PERMANENT,
    SENT,
    SERVER,
    OutgoingMessage,
    SendOutcome,
    SendsInTurn,
)
from portal.sending.providers.http_errors import (
    NETWORK_ERRORS,
    call_provider,
    outcome_for_error,
    outcome_for_reply,
    short,
)

LABEL = "SendGrid"
MAX_CATEGORIES = 10  # SendGrid refuses a message with more


def _address(email: str, name: str | None = None) -> dict:
    return {"email": email, "name": name} if name else {"email": email}


def _unique_recipients(message: OutgoingMessage) -> dict[str, list[dict]]:
    # SendGrid refuses (400) a personalization naming one address twice across to, cc and bcc;
    # the person gets the message once either way, so keep the first (to, then cc, then bcc).
    seen: set[str] = set()
    lists: dict[str, list[dict]] = {}
    for kind, addresses in (("to", message.to), ("cc", message.cc), ("bcc", message.bcc)):
        kept = []
        for email in addresses:
            if email.lower() not in seen:
                seen.add(email.lower())
                kept.append(_address(email))
        if kept:
            lists[kind] = kept
    return lists


def mail_send_body(message: OutgoingMessage) -> dict:
    """The v3 mail/send JSON for one message."""
    body: dict = {
        "personalizations": [_unique_recipients(message)],
        "from": _address(message.from_email, message.from_name),
        "subject": message.subject,
        # SendGrid wants text/plain before text/html.
        "content": [{"type": kind, "value": value}
                    for kind, value in (("text/plain", message.text), ("text/html", message.html))
                    if value],
        "custom_args": {"postroom_id": message.message_id},
    }
    if len(message.reply_to) == 1:
        body["reply_to"] = _address(message.reply_to[0])
    elif message.reply_to:
        body["reply_to_list"] = [_address(email) for email in message.reply_to]
    if message.headers:
        body["headers"] = dict(message.headers)
    if message.tags:
        body["categories"] = list(dict.fromkeys(message.tags))[:MAX_CATEGORIES]
    if message.attachments:
        body["attachments"] = [{
            "content": base64.b64encode(attachment.content).decode("ascii"),
            "filename": attachment.filename,
            "type": attachment.content_type,
            "disposition": "attachment",
        } for attachment in message.attachments]
    return body


class SendGridProvider(SendsInTurn):
    """Sends through SendGrid; the id SendGrid gives the message is its X-Message-Id."""

    name = "sendgrid"

    def __init__(self, api_key: str, base_url: str = "https://api.sendgrid.com",
                 timeout: float = 15.0):
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<SendGridProvider {self.base_url}>"  # never the key

    def _call(self, method: str, path: str, payload: dict | None = None):
        return call_provider(method, f"{self.base_url}{path}", api_key=self._api_key,
                             timeout=self.timeout, payload=payload)

    def send(self, message: OutgoingMessage) -> SendOutcome:
        """POST /v3/mail/send; SendGrid answers 202 with the id in X-Message-Id."""
        try:
            reply = self._call("POST", "/v3/mail/send", mail_send_body(message))
        except NETWORK_ERRORS as exc:
            return outcome_for_error(exc, LABEL, timeout=self.timeout, secret=self._api_key)
        message_id = reply.header("X-Message-Id")
        return outcome_for_reply(reply, LABEL, secret=self._api_key,
                                 provider_message_id=message_id,
                                 sent_detail=f"SendGrid accepted the message ({message_id})"
                                 if message_id else None)

    def check_key(self) -> SendOutcome:
        """GET /v3/scopes: does SendGrid accept the key, and may it send mail?"""
        try:
            reply = self._call("GET", "/v3/scopes")
        except NETWORK_ERRORS as exc:
            return outcome_for_error(exc, LABEL, timeout=self.timeout, secret=self._api_key)
        if reply.status != 200:
            return outcome_for_reply(reply, LABEL, secret=self._api_key)
        body = reply.json()
        scopes = body.get("scopes") if isinstance(body, dict) else None
        if isinstance(scopes, list) and "mail.send" not in scopes:
            # A restricted key without "Mail Send" authenticates fine and then fails every send.
            return SendOutcome(PERMANENT, short("SendGrid accepts the key, but it lacks the "
                                                "Mail Send permission", self._api_key),
                               scope=SERVER, code="key_rejected")
        return SendOutcome(SENT, "The key works", code="ok")
