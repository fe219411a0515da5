"""The fast path from OutgoingMessage to wire bytes, for the common message.

Profiling a worker showed email.generator's header folding costing more per message than the
SMTP exchange itself, so messages without attachments are written directly: CRLF line ends,
quoted-printable UTF-8 bodies, RFC 2047 encoded words only where a header needs them, and
address lists folded between addresses. Anything unusual (attachments, a header that would need
folding inside a value) goes through email.mime instead (portal/sending/mime.py).
"""
from __future__ import annotations

import secrets
from email import quoprimime
from email.header import Header
from email.utils import formataddr, formatdate

from portal.sending.mime import build_mime
from portal.sending.providers.base import OutgoingMessage

CRLF = "\r\n"
MAX_LINE = 998  # RFC 5322 §2.1.1: the hard limit, CRLF excluded


def _qp(text: str) -> str:
    # quoprimime works on characters 0-255: encode to UTF-8 bytes, carried as latin-1 chars.
    return quoprimime.body_encode(text.encode("utf-8").decode("latin-1"), eol=CRLF)


def _text_part(text: str, subtype: str) -> str:
    return (f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
            f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}{_qp(text)}")


def _unstructured(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode()


def _addresses(values: list[str]) -> str:
    return ("," + CRLF + " ").join(values)


def _headers(message: OutgoingMessage, domain: str) -> list[tuple[str, str]] | None:
    headers = [("From", formataddr((message.from_name or "", message.from_email),
                                   charset="utf-8")),
               ("To", _addresses(message.to))]
    if message.cc:
        headers.append(("Cc", _addresses(message.cc)))
    if message.reply_to:
        headers.append(("Reply-To", _addresses(message.reply_to)))
    headers += [("Subject", _unstructured(message.subject)),
                ("Date", formatdate(localtime=False)),
                ("Message-ID", f"<{message.message_id}@{domain}>")]
    headers += [(name, _unstructured(value)) for name, value in message.headers.items()]
    for name, value in headers:
        for line in f"{name}: {value}".split(CRLF):
            if len(line) > MAX_LINE:
                return None  # needs folding inside a value: leave it to email.mime
    return headers


def render_wire(message: OutgoingMessage, *, domain: str) -> bytes:
    """The message as the bytes SMTP carries (DKIM signing, if any, is applied on top)."""
    headers = None if message.attachments else _headers(message, domain)
    if headers is None:
        from portal.sending.dkim import WIRE_POLICY

        return build_mime(message, domain=domain).as_bytes(policy=WIRE_POLICY)
    lines = [f"{name}: {value}" for name, value in headers]
    lines.append("MIME-Version: 1.0")
    if message.text and message.html:
        boundary = "=_postroom_" + secrets.token_hex(12)
        lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
        body = (f"{CRLF}--{boundary}{CRLF}{_text_part(message.text, 'plain')}"
                f"{CRLF}--{boundary}{CRLF}{_text_part(message.html, 'html')}"
                f"{CRLF}--{boundary}--{CRLF}")
        return (CRLF.join(lines) + CRLF + body).encode("ascii")
    text, subtype = (message.html, "html") if message.html and not message.text \
        else (message.text or "", "plain")
    return (CRLF.join(lines) + CRLF + _text_part(text, subtype) + CRLF).encode("ascii")
