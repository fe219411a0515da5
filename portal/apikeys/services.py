"""Create, revoke and check API keys."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from portal.accounts.services import AccountError
from portal.apikeys.models import SCOPES, ApiKey
from portal.audit.services import record_audit
from portal.clock import utcnow
from portal.extensions import db

PREFIX_LENGTH = len("pr_") + 8
# Writing last_used_at on every request would turn each API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyError(AccountError):
    """A user-facing problem with API key input."""


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    secret: str  # the whole bearer value; shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(org, name: str, scopes: list[str], created_by=None) -> IssuedApiKey:
    """Create a key for `org` (None: a platform key). Returns the secret once."""
    name = name.strip()
    if not name:
        raise ApiKeyError("Give the key a name, such as the app that will use it", "name")
    if len(name) > 80:
        raise ApiKeyError("Use at most 80 characters for the name", "name")
    scopes = sorted(set(scopes))
    if not scopes:
        raise ApiKeyError("Choose at least one scope", "scopes")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ApiKeyError(f"Unknown scope: {', '.join(unknown)}", "scopes")
    prefix = "pr_" + secrets.token_hex(4)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(org_id=org.id if org else None, name=name, scopes=scopes, prefix=prefix,
                 secret_hash=_hash(secret), created_by_id=created_by.id if created_by else None)
    db.session.add(key)
    db.session.flush()
    record_audit("api_key.created", org_id=key.org_id, target=key,
                 details={"name": name, "scopes": scopes, "prefix": prefix})
    return IssuedApiKey(key, secret)


def revoke_api_key(key: ApiKey) -> None:
    """Stop a key from working; idempotent."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record_audit("api_key.revoked", org_id=key.org_id, target=key,
                     details={"prefix": key.prefix})


def find_active_key(secret: str) -> ApiKey | None:
    """The active key matching a bearer value, or None (unknown, malformed or revoked)."""
    if len(secret) <= PREFIX_LENGTH or secret[PREFIX_LENGTH] != "_":
        return None
    key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == secret[:PREFIX_LENGTH]))
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(secret)):
        return None
    if key.revoked_at is not None:
        return None
    return key


def note_key_used(key: ApiKey) -> None:
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now


def list_api_keys(org) -> list[ApiKey]:
    return list(db.session.scalars(
        select(ApiKey).where(ApiKey.org_id == org.id).order_by(ApiKey.revoked_at.is_not(None),
                                                               ApiKey.id.desc())))
