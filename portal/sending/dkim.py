"""DKIM signatures for mail from an org's verified domain (dkimpy, relaxed/relaxed)."""
from __future__ import annotations

from email import policy

import dkim
from cryptography.hazmat.primitives import serialization

from portal.sending.providers.base import Signing

# From, To, Subject, Date, Message-ID and the MIME headers, when present (RFC 6376 §5.4.1).
SIGNED_HEADERS = (b"from", b"to", b"cc", b"reply-to", b"subject", b"date", b"message-id",
                  b"mime-version", b"content-type", b"content-transfer-encoding")
WIRE_POLICY = policy.compat32.clone(linesep="\r\n")


def _traditional_pem(pem: bytes) -> bytes:
    # dkimpy reads PKCS#1 ("RSA PRIVATE KEY") most reliably; accept PKCS#8 too.
    key = serialization.load_pem_private_key(pem, password=None)
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def render_signed(mime, signing: Signing) -> bytes:
    """The message as wire bytes (CRLF) with a DKIM-Signature header in front."""
    return sign_wire(mime.as_bytes(policy=WIRE_POLICY), signing)


def sign_wire(raw: bytes, signing: Signing) -> bytes:
    """Put a DKIM-Signature in front of wire bytes (CRLF line ends)."""
    header_block = raw.split(b"\r\n\r\n", 1)[0].lower()
    present = [name for name in SIGNED_HEADERS
               if header_block.startswith(name + b":") or b"\r\n" + name + b":" in header_block]
    signature = dkim.sign(raw, signing.selector.encode(), signing.domain.encode(),
                          _traditional_pem(signing.private_key_pem),
                          canonicalize=(b"relaxed", b"relaxed"), include_headers=present)
    return signature + raw
