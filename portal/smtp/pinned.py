"""smtplib.SMTP pinned to the addresses the guard checked, bounded by one attempt's deadline,
with RFC 2920 pipelining for the send pipeline."""
from __future__ import annotations

import smtplib
import socket
import ssl
import time

# What sending one message can raise while the session itself stays usable.
MESSAGE_ERRORS = (smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused,
                  smtplib.SMTPDataError, smtplib.SMTPNotSupportedError)

CRLF = "\r\n"


class PinnedSMTP(smtplib.SMTP):
    """smtplib.SMTP that connects only to the addresses the guard checked.

    smtplib's connect() leaves self._host as given to __init__, and starttls() hands it to TLS
    as the server name, so it is set here to the original host name.
    """

    def __init__(self, host: str, addresses: list[str], attempt, *,  # attempt.Attempt
                 implicit_tls: ssl.SSLContext | None, local_hostname: str | None):
        self._addresses, self._attempt, self._implicit_tls = addresses, attempt, implicit_tls
        super().__init__(local_hostname=local_hostname, timeout=attempt.connect_timeout)
        self._host = host

    def _get_socket(self, host, port, timeout):
        error: OSError = ConnectionRefusedError("no address to connect to")
        for address in self._addresses:
            limit = self._attempt.timeout()
            try:
                sock = socket.create_connection((address, port), limit)
            except OSError as exc:  # refused or unreachable: the next address may answer
                error = exc
                continue
            self._attempt.connected = True
            if self._implicit_tls is None:
                return sock
            try:
                return self._implicit_tls.wrap_socket(sock, server_hostname=self._host)
            except BaseException:
                sock.close()
                raise
        raise error

    def _pipelines(self, sender: str, recipients: list[str]) -> bool:
        return self.has_extn("pipelining") and all(
            address.isascii() for address in (sender, *recipients))

    def _envelope(self, sender: str, recipients: list[str]) -> bytes:
        # Addresses reaching here were validated on accept; smtplib.quoteaddr's re-parsing of
        # each one showed up in profiles.
        commands = [f"MAIL FROM:<{sender}>"]
        commands += [f"RCPT TO:<{address}>" for address in recipients]
        return (CRLF.join(commands + ["DATA"]) + CRLF).encode("ascii")

    def _envelope_replies(self, sender: str, recipients: list[str]) -> dict:
        """Read the replies to MAIL, each RCPT and DATA; the refused recipients when the server
        now wants the data, else the exception sendmail() would raise (session reset)."""
        mail_code, mail_reply = self.getreply()
        replies = [self.getreply() for _ in recipients]
        data_code, data_reply = self.getreply()
        refused = {address: reply for address, reply in zip(recipients, replies)
                   if reply[0] not in (250, 251)}
        if data_code == 354 and (mail_code != 250 or len(refused) == len(recipients)):
            # The server wants data nobody should get: end it empty, then reset.
            self.send(b"." + CRLF.encode())
            self.getreply()
        if mail_code != 250:
            self._rset()
            raise smtplib.SMTPSenderRefused(mail_code, mail_reply, sender)
        if len(refused) == len(recipients):
            self._rset()
            raise smtplib.SMTPRecipientsRefused(refused)
        if data_code != 354:
            self._rset()
            raise smtplib.SMTPDataError(data_code, data_reply)
        return refused

    @staticmethod
    def _data(data: bytes) -> bytes:
        body = smtplib._quote_periods(data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        return body + b".\r\n"

    def _end_of_data(self, refused: dict) -> dict:
        # No RSET after a refusal: the end of data ends the transaction either way, and the
        # next message's commands may already be on their way.
        code, reply = self.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        return refused

    def pipelined_sendmany(self, items: list[tuple[bytes, str, list[str]]], done: list,
                           stop_at: float | None = None) -> None:
        """Send (data, sender, recipients) items in order with one round trip each: an item's
        data and end of data go out in the same write as the next item's MAIL, RCPT… and DATA
        (after the end of data the session is back where a group may start, RFC 2920 §3.1).

        Appends to `done`, per finished item, (the refused recipients, or the exception
        sendmail() would raise, and the last reply heard); stops before an item once `stop_at`
        (monotonic time) has passed. Without PIPELINING, or for an address that is not ASCII,
        an item goes through sendmail(). Connection errors propagate, with `done` holding the
        finished items.
        """
        self.ehlo_or_helo_if_needed()
        pending: tuple[bytes, dict] | None = None  # written with the next envelope
        for data, sender, recipients in items:
            if stop_at is not None and time.monotonic() > stop_at:
                break
            self._attempt.restart()  # each message gets the whole time budget
            if not self._pipelines(sender, recipients):
                if pending is not None:
                    self.send(pending[0])
                    done.append(self._outcome(self._end_of_data, pending[1]))
                    pending = None
                done.append(self._outcome(self.sendmail, sender, recipients, data))
                continue
            if pending is None:
                self.send(self._envelope(sender, recipients))
            else:
                self.send(pending[0] + self._envelope(sender, recipients))
                done.append(self._outcome(self._end_of_data, pending[1]))
                pending = None
            try:
                refused = self._envelope_replies(sender, recipients)
            except MESSAGE_ERRORS as exc:
                done.append((exc, self._attempt.reply))
                continue
            pending = (self._data(data), refused)
        if pending is not None:
            self.send(pending[0])
            done.append(self._outcome(self._end_of_data, pending[1]))

    def _outcome(self, step, *args) -> tuple:
        try:
            outcome = step(*args)
        except MESSAGE_ERRORS as exc:
            outcome = exc
        return outcome, self._attempt.reply

    # Arming the socket before every write and read keeps the whole exchange within the deadline.
    def send(self, s):
        if self.sock is not None:
            self.sock.settimeout(self._attempt.timeout())
        super().send(s)

    def getreply(self):
        if self.sock is not None:
            self.sock.settimeout(self._attempt.timeout())
        code, text = super().getreply()
        self._attempt.heard(code, text)
        return code, text
