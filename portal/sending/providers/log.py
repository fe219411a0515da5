"""The `log` provider for development: no mail leaves; each message is logged and written to
instance/outbox/<id>.eml so it can be opened in a mail client."""
from __future__ import annotations

import logging
from pathlib import Path

from portal.sending.dkim import render_signed
from portal.sending.mime import build_mime
from portal.sending.providers.base import SENT, OutgoingMessage, SendOutcome, SendsInTurn

log = logging.getLogger(__name__)


class LogProvider(SendsInTurn):
    name = "log"

    def __init__(self, outbox: Path, domain: str = "postroom.local"):
        self.outbox, self.domain = outbox, domain

    def send(self, message: OutgoingMessage) -> SendOutcome:
        self.outbox.mkdir(parents=True, exist_ok=True)
        path = self.outbox / f"{message.message_id}.eml"
        mime = build_mime(message, domain=self.domain)
        path.write_bytes(render_signed(mime, message.signing) if message.signing
                         else mime.as_bytes())
        log.info("log provider: message %s written to %s", message.message_id, path)
        return SendOutcome(SENT, f"Written to {path.name} (log provider: no mail left)",
                           provider_message_id=message.message_id)
