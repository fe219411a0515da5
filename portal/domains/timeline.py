"""A domain's timeline: every state change and admin action, also written to the audit log."""
from __future__ import annotations

from portal.audit.services import record_audit
from portal.domains.models import DomainEvent, SendingDomain
from portal.extensions import db


def note(domain: SendingDomain, action: str, message: str, *, to_status: str | None = None,
         actor_label: str | None = None, details: dict | None = None) -> DomainEvent:
    """Record `action` on the timeline and in the audit log; with `to_status`, move the domain
    to that state first. Flushes only."""
    from_status = domain.status
    if to_status is not None:
        domain.status = to_status
    audit_details = {"domain": domain.name, "message": message, **(details or {})}
    if to_status is not None:
        audit_details.update({"from": from_status, "to": to_status})
    audit = record_audit(f"domain.{action}", org_id=domain.org_id, target=domain,
                         details=audit_details, actor_label=actor_label)
    event = DomainEvent(sending_domain_id=domain.id, action=action, message=message[:500],
                        from_status=from_status if to_status is not None else None,
                        to_status=to_status, actor_label=audit.actor_label)
    db.session.add(event)
    db.session.flush()
    return event


def transition(domain: SendingDomain, to_status: str, message: str, *,
               actor_label: str | None = None) -> DomainEvent | None:
    """Move the domain to `to_status` (a no-op when it is there already)."""
    if domain.status == to_status:
        return None
    return note(domain, to_status, message, to_status=to_status, actor_label=actor_label)
