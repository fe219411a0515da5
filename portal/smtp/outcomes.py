"""What an SMTP test or delivery came to: the results, their codes, and the wording of failures.

portal.smtp.transport holds the conversation; this module turns whatever went wrong in it into a
code and a sentence an org admin can act on.
"""
from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from portal.smtp.guard import HostRefused

if TYPE_CHECKING:  # transport imports this module at run time; these are for annotations only
    from portal.smtp.attempt import Attempt
    from portal.smtp.transport import ConnectionParams

RESULT_CODES = ("ok", "dns_failure", "connection_refused", "timeout", "tls_failed",
                "starttls_unsupported", "auth_failed", "auth_unsupported", "unexpected_reply",
                "host_refused", "plaintext_refused")
DELIVERY_CODES = RESULT_CODES + ("recipients_refused", "rejected")
# What failed certificate checks mean, by OpenSSL X509_V_ERR_* code (62 is named in context).
CERTIFICATE_PROBLEMS = {
    10: "The server's certificate has expired.",
    9: "The server's certificate is not valid yet; check the server's clock.",
    **dict.fromkeys((2, 18, 19, 20, 21), "The server's certificate is signed by an untrusted "
                    "issuer (self-signed or an unknown CA). If the server uses a private CA, "
                    "add that CA's certificate."),
}


@dataclass(frozen=True)
class ConnectionTestResult:
    """The outcome of a connection test, for the admin who asked for it."""

    code: str
    message: str
    server_reply: str | None = None

    @property
    def ok(self) -> bool:
        return self.code == "ok"

    def as_dict(self) -> dict:
        return {"ok": self.ok, "code": self.code, "message": self.message,
                "server_reply": self.server_reply}


@dataclass(frozen=True)
class DeliveryResult(ConnectionTestResult):
    """The outcome of one delivery; `refused` maps each refused recipient to (code, reply)."""

    refused: dict[str, tuple[int, str]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "refused": {r: list(v) for r, v in self.refused.items()}}


class _Failure(Exception):
    """A classified failure found by inspecting the conversation rather than by an exception."""

    def __init__(self, code: str, message: str, reply: str | None = None):
        super().__init__(code)
        self.code, self.message, self.reply = code, message, reply


def _classify(exc: Exception, params: ConnectionParams,
              attempt: Attempt) -> tuple[str, str, str | None]:
    """(code, message, server reply) for a failure, in words an org admin can act on."""
    where = f"{params.host}:{params.port}"
    timed_out = isinstance(exc, TimeoutError) or (
        # smtplib turns a read timeout into SMTPServerDisconnected("... timed out").
        isinstance(exc, smtplib.SMTPServerDisconnected)
        and isinstance(exc.__context__, TimeoutError))
    if isinstance(exc, _Failure):
        return exc.code, exc.message, exc.reply or attempt.reply
    if isinstance(exc, HostRefused):
        return "host_refused", str(exc), None
    if isinstance(exc, socket.gaierror):
        return "dns_failure", f"The host name {params.host} could not be resolved.", None
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "tls_failed", _certificate_problem(exc, params.host), attempt.reply
    if isinstance(exc, ssl.SSLError):
        hint = (" The server does not seem to speak TLS on this port: 465 usually uses TLS, "
                "587 and 25 use STARTTLS." if exc.reason == "WRONG_VERSION_NUMBER" else "")
        return "tls_failed", f"The TLS handshake failed ({exc.reason or exc}).{hint}", None
    if timed_out:
        limit = attempt.waited()
        message = f"The server did not answer within {limit:g} second{'' if limit == 1 else 's'}."
        if attempt.connected and attempt.connecting and params.security != "tls":
            # The classic case: STARTTLS chosen for a port that expects TLS from the first byte.
            message += (" It accepted the connection but sent no greeting; if it expects TLS "
                        "from the start (usually port 465), choose TLS.")
        return "timeout", message, attempt.reply
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        message = ("The username or password was not accepted." if exc.smtp_code == 535
                   else "The server refused the sign-in.")
        return "auth_failed", message, attempt.format(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPResponseException):
        return ("unexpected_reply", "The server answered with an unexpected reply.",
                attempt.format(exc.smtp_code, exc.smtp_error))
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "unexpected_reply", "The server closed the connection unexpectedly.", attempt.reply
    if isinstance(exc, smtplib.SMTPException):
        return "unexpected_reply", f"The SMTP conversation failed: {exc}", attempt.reply
    if isinstance(exc, ConnectionRefusedError):
        return ("connection_refused", f"Nothing accepted the connection on {where}: check the "
                "host and the port.", None)
    if not attempt.connected:
        return "connection_refused", f"Could not reach {where} ({exc.strerror or exc}).", None
    return "unexpected_reply", f"The connection broke ({exc.strerror or exc}).", attempt.reply


def _certificate_problem(exc: ssl.SSLCertVerificationError, host: str) -> str:
    if exc.verify_code == 62:
        return f"The server's certificate does not match the host name {host} (hostname mismatch)."
    return CERTIFICATE_PROBLEMS.get(
        exc.verify_code, f"The server's certificate could not be verified: {exc.verify_message}.")


def _ok_message(params: ConnectionParams) -> str:
    secured = {"starttls": "Connected and switched to TLS with STARTTLS; the certificate is "
                           f"valid for {params.host}.",
               "tls": f"Connected over TLS; the certificate is valid for {params.host}.",
               "none": "Connected without encryption."}[params.security]
    signed_in = " The username and password were accepted." if params.username else ""
    return f"{secured}{signed_in} No mail was sent."


def delivery_result(attempt: Attempt, outcome: dict | smtplib.SMTPException,
                     last_reply: str | None, recipients: list[str]) -> DeliveryResult:
    """What one message's exchange came to: the refused recipients of an accepted message, or
    the SMTPException that ended it; `last_reply` is the reply heard last for it."""
    if isinstance(outcome, smtplib.SMTPRecipientsRefused):
        # The last refusal explains more than the 250 of the RSET smtplib sends after it.
        refusals = list(outcome.recipients.values())
        return DeliveryResult("recipients_refused", "The server refused every recipient.",
                              attempt.format(*refusals[-1]) if refusals else last_reply,
                              attempt.decode_refused(outcome.recipients))
    if isinstance(outcome, smtplib.SMTPSenderRefused):
        return DeliveryResult("sender_refused", "The server refused the sender address.",
                              attempt.format(outcome.smtp_code, outcome.smtp_error))
    if isinstance(outcome, smtplib.SMTPDataError):
        return DeliveryResult("rejected", "The server refused the message.",
                              attempt.format(outcome.smtp_code, outcome.smtp_error))
    if isinstance(outcome, smtplib.SMTPNotSupportedError):
        return DeliveryResult("rejected", "An address needs international email support "
                              "(SMTPUTF8), which the server does not offer.", last_reply)
    refused = attempt.decode_refused(outcome)
    accepted = (f" for {len(recipients) - len(refused)} of {len(recipients)} recipients"
                if refused else "")
    return DeliveryResult("ok", f"The server accepted the message{accepted}.", last_reply,
                          refused)
