"""record_audit(): the one helper every mutation calls."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db

log = logging.getLogger(__name__)

# Details are shown to admins and support staff; a secret must never reach them.
_SECRET_HINTS = ("password", "secret", "token", "private", "credential", "api_key")


def _scrub(details: dict) -> dict:
    clean = {}
    for key, value in details.items():
        if any(hint in key.lower() for hint in _SECRET_HINTS):
            clean[key] = "[redacted]"
        elif isinstance(value, dict):
            clean[key] = _scrub(value)
        else:
            clean[key] = value
    return clean


def _actor() -> tuple[int | None, int | None, str]:
    if not has_request_context():
        return None, None, "system"
    api_key = g.get("api_key")
    if api_key is not None:
        return None, api_key.id, f"API key {api_key.prefix}"
    if current_user and current_user.is_authenticated:
        return current_user.id, None, current_user.email
    return None, None, "anonymous"


def record_audit(action: str, *, org_id: int | None, target=None, details: dict | None = None,
                 actor_label: str | None = None) -> AuditEvent:
    """Add an audit event for `action` on `target` (a model instance or None). Flushes only."""
    user_id, key_id, label = _actor()
    event = AuditEvent(
        org_id=org_id,
        actor_user_id=user_id,
        actor_api_key_id=key_id,
        actor_label=actor_label or label,
        action=action,
        target_type=type(target).__name__ if target is not None else None,
        target_id=str(target.id) if target is not None else None,
        details=_scrub(details or {}),
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    db.session.flush()
    log.info("audit %s org=%s target=%s:%s", action, org_id, event.target_type, event.target_id)
    return event


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_before: int | None


def audit_page(org, *, before: int | None = None, action: str | None = None,
               limit: int = 50) -> AuditPage:
    """Newest-first events of an org, keyset-paginated by id (stable under inserts)."""
    query = select(AuditEvent).where(AuditEvent.org_id == org.id)
    if action:
        query = query.where(AuditEvent.action == action)
    if before:
        query = query.where(AuditEvent.id < before)
    events = list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    more = len(events) > limit
    events = events[:limit]
    return AuditPage(events, events[-1].id if more else None)
