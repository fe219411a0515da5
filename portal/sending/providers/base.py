"""What every provider adapter receives and returns."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)

# How a failure affects what happens next:
#   "transient" — try again later (connection errors, timeouts, SMTP 4xx, HTTP 429/5xx)
#   "permanent" — give up on this message now (SMTP 5xx, HTTP 4xx other than 429)
SENT, TRANSIENT, PERMANENT = "sent", "transient", "permanent"
# Whose failure it is:
#   "server"  — the way out itself failed (unreachable, TLS, auth/key refused, refused before any
#               recipient was accepted): on the org's own routes this triggers the fallback
#   "message" — this message's own problem (a recipient refused, content rejected)
SERVER, MESSAGE = "server", "message"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class Signing:
    """How a message from a verified domain is signed and bounced."""

    domain: str
    selector: str
    private_key_pem: bytes = field(repr=False)
    return_path_domain: str | None = None   # envelope sender domain when its CNAME is in place


@dataclass(frozen=True)
class OutgoingMessage:
    """A message ready to leave, after routing chose its From."""

    message_id: str                 # Postroom's public id, e.g. "msg_01h..."; also the idempotency key
    from_email: str
    from_name: str | None
    to: list[str]
    subject: str
    text: str | None = None
    html: str | None = None
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)   # already validated: a safe subset
    attachments: list[Attachment] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    signing: Signing | None = None

    @property
    def recipients(self) -> list[str]:
        return [*self.to, *self.cc, *self.bcc]

    @property
    def envelope_sender(self) -> str:
        """MAIL FROM: on the return-path domain when there is one, so bounces come back to us."""
        if self.signing and self.signing.return_path_domain:
            return f"bounces+{self.message_id}@{self.signing.return_path_domain}"
        return self.from_email


@dataclass(frozen=True)
class SendOutcome:
    status: str                     # SENT | TRANSIENT | PERMANENT
    detail: str                     # short, for the event timeline (the server's reply if any)
    scope: str = MESSAGE            # SERVER | MESSAGE (meaningful when not sent)
    code: str = "ok"                # a classification such as "auth_failed", "http_503"
    provider_message_id: str | None = None
    retry_after: float | None = None    # seconds, when the other side said (Retry-After)

    @property
    def sent(self) -> bool:
        return self.status == SENT


def unexpected_error(message: OutgoingMessage) -> SendOutcome:
    """A bug met while sending this message: logged, and retried later like a transient
    failure, so the message still ends in a final status (failed, after the last attempt)."""
    log.exception("sending message %s failed unexpectedly", message.message_id)
    return SendOutcome(TRANSIENT, "An unexpected error in Postroom; the worker's log has the "
                       "details.", MESSAGE, "internal_error")


class Provider(Protocol):
    name: str                       # "smtp", "sendgrid", "resend", "log"

    def send(self, message: OutgoingMessage) -> SendOutcome:
        """Send one message; never raises for network or remote errors (classify instead)."""

    def send_batch(self, messages: list[OutgoingMessage],
                   stop_at: float | None = None) -> list[SendOutcome | None]:
        """Send several in order; None for those not started before `stop_at` (monotonic)."""


class SendsInTurn:
    """send_batch for providers that make one request per message."""

    def send_batch(self, messages: list[OutgoingMessage],
                   stop_at: float | None = None) -> list[SendOutcome | None]:
        outcomes: list[SendOutcome | None] = []
        for message in messages:
            if stop_at is not None and time.monotonic() > stop_at:
                break
            try:
                outcomes.append(self.send(message))
            except Exception:  # one bad message must not take the others' outcomes with it
                outcomes.append(unexpected_error(message))
        return outcomes + [None] * (len(messages) - len(outcomes))
