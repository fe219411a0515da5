"""What a sending domain must publish: the key material made at creation and the records.

The records are derived from the row and the settings each time they are shown or checked, so
a changed SPF include or return-path host shows up everywhere at once.
"""
from __future__ import annotations

import base64
import secrets
import string
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app

from portal.domains.names import relative_host

DKIM_KEY_BITS = 2048
OWNERSHIP_PREFIX = "postroom-verification="
# Order in which the cards are shown and the records checked.
KINDS = ("ownership", "dkim", "spf", "return_path", "dmarc")
_SELECTOR_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class DkimKey:
    selector: str
    public_key_b64: str
    private_key_pem: bytes


@dataclass(frozen=True)
class ExpectedRecord:
    kind: str
    label: str
    type: str  # TXT | CNAME
    name: str  # fully qualified, no trailing dot
    host: str  # relative to the domain, "@" for the apex
    value: str
    required: bool
    note: str = ""


def new_ownership_token() -> str:
    return secrets.token_urlsafe(24)


def new_dkim_key(prefix: str) -> DkimKey:
    """A fresh 2048-bit RSA key and a selector `<prefix>-<6 random chars>`.

    The random part lets a key be rotated later by publishing a second selector beside it.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=DKIM_KEY_BITS)
    public_der = key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    # PKCS#1 ("RSA PRIVATE KEY") is the form every DKIM signer reads, dkimpy included.
    private_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    suffix = "".join(secrets.choice(_SELECTOR_ALPHABET) for _ in range(6))
    return DkimKey(f"{prefix}-{suffix}", base64.b64encode(public_der).decode(), private_pem)


def dkim_value(public_key_b64: str) -> str:
    return f"v=DKIM1; k=rsa; p={public_key_b64}"


def spf_include() -> str:
    return current_app.config["POSTROOM_SPF_INCLUDE"].strip().rstrip(".").lower()


def return_path_name(domain: str) -> str:
    return f"{current_app.config['POSTROOM_RETURN_PATH_PREFIX']}.{domain}"


def return_path_host() -> str:
    return current_app.config["POSTROOM_RETURN_PATH_HOST"].strip().rstrip(".").lower()


def expected_records(domain) -> list[ExpectedRecord]:
    """The records `domain` (a SendingDomain) must (or should) publish, in display order."""
    name = domain.name

    def record(kind, label, rtype, fqdn, value, required, note=""):
        return ExpectedRecord(kind, label, rtype, fqdn, relative_host(fqdn, name), value,
                              required, note)

    dkim_name = f"{domain.dkim_selector}._domainkey.{name}"
    return [
        record("ownership", "Ownership", "TXT", name, OWNERSHIP_PREFIX + domain.ownership_token,
               True, "Proves that this organisation controls the domain."),
        record("dkim", "DKIM signing key", "TXT", dkim_name, dkim_value(domain.dkim_public_key),
               True, "Receivers check every message's signature against this key. Most DNS "
               "panels split a long value into 255-character pieces by themselves."),
        record("spf", "SPF", "TXT", name, f"v=spf1 include:{spf_include()} ~all", True,
               "If the domain already has an SPF record (v=spf1 …), add "
               f"include:{spf_include()} to it instead of creating a second one."),
        record("return_path", "Return path", "CNAME", return_path_name(name), return_path_host(),
               False, "Recommended: bounces come back on your domain, which helps SPF "
               "alignment."),
        record("dmarc", "DMARC", "TXT", f"_dmarc.{name}", "v=DMARC1; p=none;", False,
               "Recommended: tells receivers what to do with mail that fails the checks. "
               "Keep an existing DMARC record if you have one."),
    ]
