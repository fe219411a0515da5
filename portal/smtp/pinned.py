"""smtplib.SMTP pinned to the addresses the guard checked, bounded by one attempt's deadline,
with RFC 2920 pipelining for the send pipeline."""
from __future__ import annotations

import smtplib
import socket
import ssl

CRLF = "\r\n"


class PinnedSMTP(smtplib.SMTP):
    """smtplib.SMTP that connects only to the addresses the guard checked.

    smtplib's connect() leaves self._host as given to __init__, and starttls() hands it to TLS
    as the server name, so it is set here to the original host name.
    """

    def __init__(self, host: str, addresses: list[str], attempt, *,  # transport._Attempt
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

    def pipelined_sendmail(self, sender: str, recipients: list[str], data: bytes) -> dict:
        """MAIL, every RCPT and DATA in one write when the server offers PIPELINING (RFC 2920);
        the same results and exceptions as sendmail(), with one round trip instead of many."""
        self.ehlo_or_helo_if_needed()
        if not self.has_extn("pipelining") or not all(
                address.isascii() for address in (sender, *recipients)):
            return self.sendmail(sender, recipients, data)
        # Addresses reaching here were validated on accept; smtplib.quoteaddr's re-parsing of
        # each one showed up in profiles.
        commands = [f"MAIL FROM:<{sender}>"]
        commands += [f"RCPT TO:<{address}>" for address in recipients]
        self.send(CRLF.join(commands + ["DATA"]) + CRLF)
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
        body = smtplib._quote_periods(data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.send(body + b".\r\n")
        code, reply = self.getreply()
        if code != 250:
            self._rset()
            raise smtplib.SMTPDataError(code, reply)
        return refused

    # Arming the socket before every write and read keeps the whole exchange within the deadline.
    def send(self, s):
        if self.sock is not None:
            self.sock.settimeout(self._attempt.timeout())
        super().send(s)

    def getreply(self):
        if self.sock is not None:
            self.sock.settimeout(self._attempt.timeout())
        code, text = super().getreply()
        self._attempt.reply = self._attempt.format(code, text)
        return code, text
