"""Talk to a tenant's SMTP server: test a configuration for real, or deliver a message.

Every network or protocol problem becomes a result with a code and a sentence an org admin can
act on; nothing here raises for them. Credentials and the CA never reach a result or a log line.
"""
from __future__ import annotations

import email.message
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from portal.smtp.attempt import Attempt
from portal.smtp.guard import HostRefused, check_port, resolve_host
from portal.smtp.pinned import MESSAGE_ERRORS, PinnedSMTP
# The results and the wording of failures live in outcomes; they are re-exported here so that
# callers keep importing everything SMTP-facing from this one module.
from portal.smtp.outcomes import (
    CERTIFICATE_PROBLEMS,
    DELIVERY_CODES,
    RESULT_CODES,
    ConnectionTestResult,
    DeliveryResult,
    _classify,
    _Failure,
    _ok_message,
    delivery_result,
)

__all__ = [
    "SmtpConnection",
    "CERTIFICATE_PROBLEMS", "DEFAULT_PORTS", "DELIVERY_CODES", "LOGIN_MECHANISMS", "RESULT_CODES",
    "SECURITY_MODES", "ConnectionParams", "ConnectionTestResult", "DeliveryResult",
    "TransportPolicy", "deliver", "test_connection", "validate_ca_pem",
]

log = logging.getLogger(__name__)

SECURITY_MODES = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
LOGIN_MECHANISMS = frozenset({"CRAM-MD5", "PLAIN", "LOGIN"})  # what smtplib's login() speaks


@dataclass(frozen=True)
class ConnectionParams:
    """Where and how to connect; the secrets stay out of repr()."""

    host: str
    port: int
    security: str
    username: str | None = field(repr=False)
    password: str | None = field(repr=False)
    ca_pem: str | None = field(default=None, repr=False)

    def fingerprint(self, key: bytes | None = None) -> str:
        """SHA-256 hex over all six fields, binding a passed test to exactly these parameters.

        The plain hash covers the password, so wherever it is visible (inside a signed but
        unencrypted token) a weak password can be guessed offline; with `key` it is an HMAC.
        """
        canonical = json.dumps(
            ["postroom.smtp.params.v1", self.host, self.port, self.security, self.username,
             self.password, self.ca_pem], separators=(",", ":"), ensure_ascii=False).encode()
        if key is None:
            return hashlib.sha256(canonical).hexdigest()
        return hmac.new(key, canonical, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class TransportPolicy:
    """What the platform allows: private hosts, plaintext, ports, and how long to wait."""

    allow_private: bool = False
    allow_plaintext: bool = False
    allowed_ports: frozenset[int] = frozenset({25, 465, 587, 2525})
    connect_timeout: float = 10.0
    total_timeout: float = 30.0
    ehlo_name: str | None = None  # None: smtplib's socket.getfqdn() (or [ip] when not a FQDN)

    @classmethod
    def from_config(cls, config: Mapping) -> "TransportPolicy":
        """The policy from the app's config (values already parsed by portal.config)."""
        default = cls()
        get = config.get
        return cls(
            allow_private=bool(get("POSTROOM_SMTP_ALLOW_PRIVATE", default.allow_private)),
            allow_plaintext=bool(get("POSTROOM_SMTP_ALLOW_PLAINTEXT", default.allow_plaintext)),
            allowed_ports=frozenset(int(p) for p in get("POSTROOM_SMTP_PORTS",
                                                        default.allowed_ports)),
            connect_timeout=float(get("SMTP_CONNECT_TIMEOUT", default.connect_timeout)),
            total_timeout=float(get("SMTP_TEST_TIMEOUT", default.total_timeout)))


def validate_ca_pem(pem: str) -> None:
    """Raise ValueError, with a message for the form, unless `pem` holds PEM certificates."""
    if not isinstance(pem, str) or "-----BEGIN CERTIFICATE-----" not in pem:
        raise ValueError("The CA certificate is not valid PEM")
    # People paste the whole bundle from their server; a private key must never be stored.
    if "PRIVATE KEY-----" in pem:
        raise ValueError("Paste only the CA certificate, never a private key")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=pem)
    except (ssl.SSLError, ValueError, TypeError):
        raise ValueError("The CA certificate is not valid PEM") from None


def test_connection(params: ConnectionParams, policy: TransportPolicy) -> ConnectionTestResult:
    """Connect, secure, sign in and NOOP exactly as a delivery would; no mail is sent.

    The host is resolved and checked once (guard) and the connection pinned to that address,
    while TLS verifies the certificate against the original host name (trusting ca_pem too
    when given). STARTTLS is never skipped when asked for. The whole test is bounded by
    policy.total_timeout; every failure is classified rather than raised.
    """
    attempt = Attempt.start(policy, params)
    try:
        with _session(params, policy, attempt) as smtp:
            code, _text = smtp.noop()
            if code != 250:
                raise _Failure("unexpected_reply", "The server did not answer NOOP as expected.")
            reply = attempt.reply
        result = ConnectionTestResult("ok", _ok_message(params), reply)
    except (OSError, HostRefused, _Failure) as exc:
        result = ConnectionTestResult(*_classify(exc, params, attempt))
    log.info("SMTP test to %r port %s: %s", params.host, params.port, result.code)
    return result


# The name starts with "test_": keep pytest from collecting it where a test module imports it.
test_connection.__test__ = False


def deliver(params: ConnectionParams, policy: TransportPolicy,
            message: email.message.EmailMessage, *, sender: str,
            recipients: list[str]) -> DeliveryResult:
    """Send `message` from `sender` to `recipients` over the same path as test_connection.

    "ok" when the server took the message for at least one recipient (the others are in
    `refused`); "recipients_refused" when it refused them all; "sender_refused" when it refused
    the envelope sender; "rejected" when it refused the message itself; otherwise the codes of
    test_connection.
    """
    attempt = Attempt.start(policy, params)
    try:
        with _session(params, policy, attempt) as smtp:
            result = _send_on(smtp, attempt, message, sender, recipients)
    except (OSError, HostRefused, _Failure) as exc:
        result = DeliveryResult(*_classify(exc, params, attempt))
    log.info("SMTP delivery to %r port %s: %s", params.host, params.port, result.code)
    return result


def _send_on(smtp: "PinnedSMTP", attempt: Attempt, message: email.message.Message,
             sender: str, recipients: list[str]) -> DeliveryResult:
    """One MAIL/RCPT/DATA exchange on an open session; connection errors propagate."""
    try:
        outcome = smtp.send_message(message, from_addr=sender, to_addrs=recipients)
    except MESSAGE_ERRORS as exc:
        outcome = exc
    return delivery_result(attempt, outcome, attempt.reply, recipients)


class SmtpConnection:
    """A signed-in SMTP session kept open across deliveries (the send pipeline pools these).

    Each delivery gets the full time budget of the policy; a connection that fails at the
    connection level is closed and must be replaced.
    """

    def __init__(self, params: ConnectionParams, policy: TransportPolicy):
        self.params, self.policy = params, policy
        self._attempt = Attempt.start(policy, params)
        self._session = None
        self._smtp = None
        self.last_used = time.monotonic()
        # Set while a batch goes out (it may take longer than the pool's idle limit), so the
        # pool's idle sweep, which runs in another thread, leaves the session alone.
        self.in_use = False

    @property
    def alive(self) -> bool:
        return self._smtp is not None

    def open(self) -> DeliveryResult | None:
        """Connect, secure and sign in; None when ready, else the classified failure."""
        # A fresh budget: the session may be reopened long after the last delivery on it.
        self._attempt.restart(connecting=True)
        try:
            self._session = _session(self.params, self.policy, self._attempt)
            self._smtp = self._session.__enter__()
        except (OSError, HostRefused, _Failure) as exc:
            self._session = self._smtp = None
            return DeliveryResult(*_classify(exc, self.params, self._attempt))
        return None

    def send_many(self, items: list[tuple[bytes, str, list[str]]],
                  stop_at: float | None = None) -> list[DeliveryResult | None]:
        """Deliver rendered (data, sender, recipients) items in order, pipelined across
        messages (one round trip each); None for items not started before `stop_at`.

        When the session breaks, the first unfinished item takes the failure (its data may
        have reached the server: it will be sent again, at least once) and the rest go on
        over a new session; when no session can be opened, every unfinished item takes that
        failure.
        """
        self.in_use = True
        try:
            results = self._send_all(items, stop_at)
        finally:
            self.in_use, self.last_used = False, time.monotonic()
        return results + [None] * (len(items) - len(results))

    def _send_all(self, items: list[tuple[bytes, str, list[str]]],
                  stop_at: float | None) -> list[DeliveryResult]:
        results: list[DeliveryResult] = []
        while len(results) < len(items):
            if stop_at is not None and time.monotonic() > stop_at:
                break
            if self._smtp is None:
                failure = self.open()
                if failure is not None:
                    # The server cannot be reached now: one try per batch, not one per message
                    # (a silent server would hold every message for the connect timeout).
                    results += [failure] * (len(items) - len(results))
                    break
            finished = []
            try:
                self._smtp.pipelined_sendmany(items[len(results):], finished, stop_at)
            except (OSError, _Failure) as exc:
                self._drop()
                failure = DeliveryResult(*_classify(exc, self.params, self._attempt))
            else:
                failure = None
            for (outcome, reply), (_data, _sender, recipients) in zip(
                    finished, items[len(results):]):
                results.append(delivery_result(self._attempt, outcome, reply, recipients))
            if failure is None:
                break  # all sent, or out of time
            results.append(failure)
        return results

    def _drop(self) -> None:
        smtp, self._smtp, self._session = self._smtp, None, None
        if smtp is not None:
            smtp.close()

    def close(self) -> None:
        """QUIT politely when the session is still healthy."""
        session, self._session, self._smtp = self._session, None, None
        if session is not None:
            try:
                session.__exit__(None, None, None)
            except (OSError, smtplib.SMTPException):
                pass


@contextmanager
def _session(params: ConnectionParams, policy: TransportPolicy, attempt: Attempt):
    """A connected, encrypted (unless 'none') and signed-in SMTP session; QUIT at the end."""
    if params.security not in SECURITY_MODES:
        raise ValueError(f"security must be one of {SECURITY_MODES}")
    if params.security == "none" and not policy.allow_plaintext:
        raise _Failure("plaintext_refused", "Unencrypted SMTP is not allowed on this platform: "
                       "choose STARTTLS or TLS.")
    check_port(params.port, policy.allowed_ports)
    addresses = resolve_host(params.host, params.port, allow_private=policy.allow_private)
    context = None if params.security == "none" else _tls_context(params.ca_pem)
    smtp = PinnedSMTP(params.host, addresses, attempt, local_hostname=policy.ehlo_name,
                       implicit_tls=context if params.security == "tls" else None)
    talking = False  # whether the server still expects commands, so that QUIT is worth sending
    try:
        code, _text = smtp.connect(params.host, params.port)
        if code != 220:
            raise _Failure("unexpected_reply", "The server refused the session."
                           if 400 <= code < 600 else "The server did not greet like SMTP.")
        attempt.connecting = False
        smtp.ehlo_or_helo_if_needed()
        if params.security == "starttls":
            _start_tls(smtp, context, attempt)
        if params.username:
            _sign_in(smtp, params)
        yield smtp
        talking = True
    except (_Failure, smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
        talking = True
        raise
    finally:
        if talking and smtp.sock is not None:
            reply = attempt.reply  # the reply that explains the outcome, not "221 Bye"
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass  # the outcome is known already; a lost QUIT changes nothing
            attempt.reply = reply
        smtp.close()


def _tls_context(ca_pem: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_pem:
        try:
            validate_ca_pem(ca_pem)
        except ValueError as exc:
            raise _Failure("tls_failed", f"{exc}.") from None
        context.load_verify_locations(cadata=ca_pem)
    return context


def _start_tls(smtp: PinnedSMTP, context: ssl.SSLContext, attempt: Attempt) -> None:
    # Going on without STARTTLS would send everything in clear text: refuse, never downgrade.
    if not smtp.has_extn("starttls"):
        raise _Failure("starttls_unsupported", "The server does not offer STARTTLS, so the "
                       "connection cannot be encrypted. If it supports TLS, choose TLS "
                       "(usually port 465).")
    try:
        smtp.starttls(context=context)
    except smtplib.SMTPResponseException as exc:
        raise _Failure("tls_failed", "The server refused to start TLS.",
                       attempt.format(exc.smtp_code, exc.smtp_error)) from None
    # RFC 3207: what the server offered before TLS is void; ask again over the encrypted channel.
    code, _text = smtp.ehlo()
    if code != 250:
        raise _Failure("unexpected_reply", "The server did not answer EHLO after STARTTLS.")


def _sign_in(smtp: PinnedSMTP, params: ConnectionParams) -> None:
    if not smtp.has_extn("auth"):
        raise _Failure("auth_unsupported", "The server does not offer sign-in (SMTP AUTH) on "
                       "this connection. Remove the username, or check the port and security.")
    offered = smtp.esmtp_features["auth"].upper().split()
    if not LOGIN_MECHANISMS.intersection(offered):
        raise _Failure("auth_unsupported", "The server offers no sign-in method Postroom "
                       f"supports (it offers {', '.join(offered) or 'none'}).")
    try:
        smtp.login(params.username, params.password or "")
    except UnicodeEncodeError:
        # smtplib sends AUTH exchanges as ASCII and cannot carry any other character.
        raise _Failure("auth_failed", "The username or password contains characters SMTP "
                       "sign-in cannot send; only ASCII characters work.") from None
