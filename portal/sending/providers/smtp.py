"""SMTP as a provider: pooled, signed-in connections reused across messages in a worker.

Connections are keyed by (host, port, security, username) and kept per worker process; a
connection that breaks is dropped and replaced, one idle past POSTROOM_SMTP_POOL_IDLE closed.
"""
from __future__ import annotations

import threading
import time
from urllib.parse import unquote, urlsplit

from portal.sending.dkim import sign_wire
from portal.sending.wire import render_wire
from portal.sending.providers.base import (
    MESSAGE,
    PERMANENT,
    SENT,
    SERVER,
    TRANSIENT,
    OutgoingMessage,
    SendOutcome,
    unexpected_error,
)
from portal.smtp.transport import ConnectionParams, SmtpConnection, TransportPolicy

# Failures worth another try later; every other connection-level failure is a setting to fix.
TRANSIENT_CODES = {"dns_failure", "connection_refused", "timeout", "unexpected_reply"}


class SmtpPool:
    """Open SMTP sessions of one worker process."""

    def __init__(self):
        self._connections: dict[tuple, SmtpConnection] = {}
        self._lock = threading.Lock()

    def connection(self, params: ConnectionParams, policy: TransportPolicy,
                   key: tuple | None = None) -> SmtpConnection:
        key = key or self.key_for(params)
        with self._lock:
            connection = self._connections.get(key)
            if connection is None:
                connection = self._connections[key] = SmtpConnection(params, policy)
            return connection

    @staticmethod
    def key_for(params: ConnectionParams) -> tuple:
        # The fingerprint keeps a changed password from reusing a session signed in with the old.
        return (params.host, params.port, params.security, params.username,
                params.fingerprint())

    def close_idle(self, idle_seconds: float) -> None:
        cutoff = time.monotonic() - idle_seconds
        with self._lock:
            for key, connection in list(self._connections.items()):
                if not connection.in_use and connection.last_used < cutoff:
                    connection.close()
                    del self._connections[key]

    def close_all(self) -> None:
        self.close_idle(-1)


POOL = SmtpPool()


def classify_delivery(result) -> SendOutcome:
    """A transport DeliveryResult as a SendOutcome: whose failure, and whether to retry."""
    if result.code == "ok":
        return SendOutcome(SENT, result.server_reply or result.message)
    detail = f"{result.message} {result.server_reply or ''}".strip()[:500]
    if result.code == "recipients_refused":
        codes = [code for code, _text in result.refused.values()]
        status = PERMANENT if codes and all(code >= 500 for code in codes) else TRANSIENT
        return SendOutcome(status, detail, MESSAGE, result.code)
    if result.code in ("rejected", "sender_refused"):
        reply = result.server_reply or ""
        reply_code = int(reply[:3]) if reply[:3].isdigit() else 0
        status = TRANSIENT if 400 <= reply_code < 500 else PERMANENT
        # A refused sender happens before any recipient was accepted: the server's problem.
        scope = SERVER if result.code == "sender_refused" else MESSAGE
        return SendOutcome(status, detail, scope, result.code)
    status = TRANSIENT if result.code in TRANSIENT_CODES else PERMANENT
    return SendOutcome(status, detail, SERVER, result.code)


class SmtpProvider:
    name = "smtp"

    def __init__(self, params: ConnectionParams, policy: TransportPolicy, *, pool: SmtpPool = POOL,
                 domain: str = "postroom.local"):
        self.params, self.policy, self.pool, self.domain = params, policy, pool, domain
        self._pool_key = pool.key_for(params)

    def _wire(self, message: OutgoingMessage) -> bytes:
        payload = render_wire(message, domain=self.domain)
        return sign_wire(payload, message.signing) if message.signing else payload

    def send(self, message: OutgoingMessage) -> SendOutcome:
        [outcome] = self.send_batch([message])
        return outcome

    def send_batch(self, messages: list[OutgoingMessage],
                   stop_at: float | None = None) -> list[SendOutcome | None]:
        """All of them over one pooled session, pipelined across messages (one round trip
        each instead of two): the round trips cost more CPU than building the messages."""
        outcomes: list[SendOutcome | None] = [None] * len(messages)
        items, slots = [], []
        for slot, message in enumerate(messages):
            try:
                items.append((self._wire(message), message.envelope_sender,
                              message.recipients))
            except Exception:  # a message that cannot be built must not stop the others
                outcomes[slot] = unexpected_error(message)
                continue
            slots.append(slot)
        connection = self.pool.connection(self.params, self.policy, self._pool_key)
        for slot, result in zip(slots, connection.send_many(items, stop_at)):
            outcomes[slot] = None if result is None else classify_delivery(result)
        return outcomes


def params_from_url(url: str) -> ConnectionParams:
    """POSTROOM_PLATFORM_SMTP_URL: smtp://[user:pass@]host[:port] is STARTTLS (required),
    smtps:// implicit TLS, smtp+plain:// no encryption (needs POSTROOM_SMTP_ALLOW_PLAINTEXT)."""
    parts = urlsplit(url)
    security = {"smtp": "starttls", "smtps": "tls", "smtp+plain": "none"}.get(parts.scheme)
    if security is None or not parts.hostname:
        raise ValueError("POSTROOM_PLATFORM_SMTP_URL must look like smtp://user:pass@host:587, "
                         "smtps://host:465 or smtp+plain://host:25")
    port = parts.port or {"starttls": 587, "tls": 465, "none": 25}[security]
    return ConnectionParams(host=parts.hostname, port=port, security=security,
                            username=unquote(parts.username) if parts.username else None,
                            password=unquote(parts.password) if parts.password else None)
