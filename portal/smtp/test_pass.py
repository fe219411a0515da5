"""Proof that exact connection parameters passed a test recently.

A passed test yields a token signed with SECRET_KEY over the owner and the fingerprint of the
parameters (host, port, security, username, password, CA). Create and update accept new
connection parameters only with a fresh token for the same owner and fingerprint, so a crafted
POST cannot skip the test, and nothing needs storing server-side.
"""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

_SALT = "postroom.smtp.test-pass"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue_test_pass(owner_key: str, fingerprint: str) -> str:
    return _serializer().dumps([owner_key, fingerprint])


def has_valid_test_pass(token: str | None, owner_key: str, fingerprint: str) -> bool:
    """True when `token` was issued for this owner and these parameters within the window."""
    if not token:
        return False
    max_age = current_app.config["SMTP_TEST_PASS_MINUTES"] * 60
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except BadSignature:  # also covers an expired signature
        return False
    return payload == [owner_key, fingerprint]
