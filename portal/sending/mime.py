"""Turning an OutgoingMessage into RFC 5322 bytes for SMTP (and the `log` provider).

Built with email.mime + the compat32 policy rather than EmailMessage's default policy: on this
hardware EmailMessage's header registry costs more per message than the SMTP round trip.
"""
from __future__ import annotations

from email.charset import QP, Charset
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate

from portal.sending.providers.base import OutgoingMessage


# Quoted-printable keeps bodies readable (and friendlier to spam filters) than base64.
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


def build_mime(message: OutgoingMessage, *, domain: str) -> MIMEMultipart | MIMEText:
    """The message as MIME; Bcc is never written into the headers."""
    if message.text and message.html:
        body = MIMEMultipart("alternative")
        body.attach(MIMEText(message.text, "plain", _UTF8_QP))
        body.attach(MIMEText(message.html, "html", _UTF8_QP))
    elif message.html:
        body = MIMEText(message.html, "html", _UTF8_QP)
    else:
        body = MIMEText(message.text or "", "plain", _UTF8_QP)
    if message.attachments:
        root = MIMEMultipart("mixed")
        root.attach(body)
        for attachment in message.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            part = MIMEApplication(attachment.content, _subtype=subtype or "octet-stream")
            part.replace_header("Content-Type", attachment.content_type)
            part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
            root.attach(part)
    else:
        root = body
    root["From"] = formataddr((message.from_name or "", message.from_email), charset="utf-8")
    root["To"] = ", ".join(message.to)
    if message.cc:
        root["Cc"] = ", ".join(message.cc)
    if message.reply_to:
        root["Reply-To"] = ", ".join(message.reply_to)
    root["Subject"] = message.subject if message.subject.isascii() \
        else Header(message.subject, "utf-8").encode()
    root["Date"] = formatdate(localtime=False)
    root["Message-ID"] = f"<{message.message_id}@{domain}>"
    for name, value in message.headers.items():
        root[name] = value
    return root
