"""Operations on sending domains and the org's sending identity, shared by Settings → Sending
domains, the API, the check jobs and the send pipeline.

Services flush and never commit. The DKIM private key is stored only as a vault token and leaves
this module only inside a SendingIdentity, for signing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from portal.audit.services import record_audit
from portal.clock import utcnow
from portal.domains.models import HOLDING_STATUSES, OrgSendingIdentity, SendingDomain
from portal.domains.names import (  # noqa: F401  (DomainError is part of this API)
    DomainError,
    DomainNameError,
    normalise_domain,
    normalise_mailbox,
)
from portal.domains.records import (
    expected_records,
    new_dkim_key,
    new_ownership_token,
    return_path_name,
)
from portal.domains.schedule import backoff_delay
from portal.domains.timeline import note, transition
from portal.extensions import db
from portal.vault import decrypt, encrypt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendingIdentity:
    """What the send pipeline needs to send as an org's verified domain."""

    domain: str
    mailbox: str
    from_email: str
    dkim_selector: str
    dkim_private_key_pem: bytes
    return_path: str | None  # only when the return-path CNAME checked ok


def list_domains(org_id: int) -> list[SendingDomain]:
    return list(db.session.scalars(select(SendingDomain).where(SendingDomain.org_id == org_id)
                                   .order_by(SendingDomain.name)))


def identity_row(org_id: int) -> OrgSendingIdentity | None:
    return db.session.scalar(select(OrgSendingIdentity)
                             .where(OrgSendingIdentity.org_id == org_id))


def _identity_row_for(org_id: int) -> OrgSendingIdentity:
    row = identity_row(org_id)
    if row is None:
        row = OrgSendingIdentity(org_id=org_id)
        db.session.add(row)
        db.session.flush()
    return row


def active_domain(org_id: int) -> SendingDomain | None:
    """The domain the org has chosen to send from (it sends only while that one is verified)."""
    row = identity_row(org_id)
    return row.active_domain if row else None


def previous_domain(org_id: int) -> SendingDomain | None:
    row = identity_row(org_id)
    return row.previous_domain if row else None


def held_elsewhere(domain: SendingDomain) -> bool:
    """Whether another organisation holds this name verified (one at a time)."""
    return db.session.scalar(select(SendingDomain.id).where(
        SendingDomain.name == domain.name, SendingDomain.org_id != domain.org_id,
        SendingDomain.status.in_(HOLDING_STATUSES))) is not None


def create_domain(org_id: int, raw_name: str) -> SendingDomain:
    """Add a domain: normalise the name, make its ownership token and DKIM key, issue records."""
    name = normalise_domain(raw_name)
    exists = db.session.scalar(select(SendingDomain.id).where(
        SendingDomain.org_id == org_id, SendingDomain.name == name))
    if exists is not None:
        raise DomainError(f"{name} is already on the list", "name")
    key = new_dkim_key(current_app.config["POSTROOM_DKIM_PREFIX"])
    now = utcnow()
    domain = SendingDomain(
        org_id=org_id, name=name, status="pending_dns", mailbox="notifications",
        ownership_token=new_ownership_token(), dkim_selector=key.selector,
        dkim_public_key=key.public_key_b64,
        dkim_private_key_encrypted=encrypt(key.private_key_pem.decode()),
        check_results={}, window_started_at=now, check_step=1,
        next_check_at=now + backoff_delay(0))
    db.session.add(domain)
    db.session.flush()
    note(domain, "created", "DNS records issued; waiting for them to appear.",
         details={"dkim_selector": domain.dkim_selector})
    log.info("sending domain created org=%s domain=%s", org_id, domain.id)
    return domain


def rename_mailbox(domain: SendingDomain, raw_mailbox: str) -> bool:
    """Change the default mailbox (the part before @); returns whether it changed."""
    mailbox = normalise_mailbox(raw_mailbox)
    if mailbox == domain.mailbox:
        return False
    old, domain.mailbox = domain.mailbox, mailbox
    note(domain, "mailbox_renamed", f"Default mailbox changed from {old} to {mailbox}.")
    return True


def activate_domain(domain: SendingDomain) -> None:
    """Make a verified domain the org's sending domain; the one before becomes "previous"."""
    if domain.status != "verified":
        raise DomainError("Only a verified domain can send mail: check its records first.",
                          "status")
    row = _identity_row_for(domain.org_id)
    if row.active_domain_id == domain.id:
        return
    row.previous_domain_id, row.active_domain_id = row.active_domain_id, domain.id
    db.session.flush()
    note(domain, "activated", f"The organisation's mail now comes from {domain.from_email}.")


def activate_if_first(domain: SendingDomain, actor_label: str | None = None) -> bool:
    """A domain that becomes verified while the org sends from no domain becomes active."""
    row = _identity_row_for(domain.org_id)
    if row.active_domain_id is not None:
        return False
    row.active_domain_id = domain.id
    db.session.flush()
    note(domain, "activated", f"The organisation's mail now comes from {domain.from_email}.",
         actor_label=actor_label)
    return True


def revert_identity(org_id: int) -> SendingDomain:
    """Switch back to the previous domain in one step (the current one becomes previous)."""
    row = identity_row(org_id)
    previous = row.previous_domain if row else None
    if previous is None or previous.status != "verified":
        raise DomainError("There is no verified previous domain to switch back to.", "revert")
    row.active_domain_id, row.previous_domain_id = previous.id, row.active_domain_id
    db.session.flush()
    note(previous, "reverted", f"Switched back: mail comes from {previous.from_email} again.")
    return previous


def fallback_for(domain: SendingDomain) -> SendingDomain | None:
    """Where the org's mail goes if `domain` stops sending: the previous verified domain, or
    None for the platform's address."""
    row = identity_row(domain.org_id)
    if row is None or row.active_domain_id != domain.id:
        return row.active_domain if row else None
    previous = row.previous_domain
    return previous if previous is not None and previous.status == "verified" else None


def removal_consequence(domain: SendingDomain) -> str:
    """What deleting or turning off `domain` changes for the org's mail, in words."""
    row = identity_row(domain.org_id)
    if row is None or row.active_domain_id != domain.id:
        return "The organisation does not send from this domain, so its mail does not change."
    fallback = fallback_for(domain)
    if fallback is not None:
        return (f"The organisation's mail will come from {fallback.from_email} "
                f"(the previous domain) instead.")
    return "The organisation's mail will come from the platform's address instead."


def _release(domain: SendingDomain) -> SendingDomain | None:
    """Stop sending from `domain`: fall back to the previous verified domain or the platform."""
    row = identity_row(domain.org_id)
    if row is None:
        return None
    fallback = None
    if row.active_domain_id == domain.id:
        fallback = fallback_for(domain)
        row.active_domain_id = fallback.id if fallback else None
        row.previous_domain_id = None
    elif row.previous_domain_id == domain.id:
        row.previous_domain_id = None
    db.session.flush()
    return fallback


def deactivate_domain(domain: SendingDomain) -> str:
    """Turn a domain off: no checks, no sending. Returns what happened to the org's mail."""
    if domain.status == "deactivated":
        return "It was already turned off."
    consequence = removal_consequence(domain)
    _release(domain)
    domain.next_check_at = domain.check_requested_at = None
    transition(domain, "deactivated", f"Turned off by an admin. {consequence}")
    return consequence


def reactivate_domain(domain: SendingDomain) -> None:
    """Turn a domain back on: verified again at once if its last check found every required
    record (a check follows to confirm), else a new verification window starts."""
    required = [r.kind for r in expected_records(domain) if r.required]
    results = domain.check_results or {}
    if all(results.get(k, {}).get("status") == "ok" for k in required) \
            and not held_elsewhere(domain):
        transition(domain, "verified", "Turned on again; its records were found at the last "
                   "check.")
    else:
        domain.window_started_at, domain.check_step = utcnow(), 0
        transition(domain, "pending_dns", "Turned on again; waiting for its DNS records.")


def delete_domain(domain: SendingDomain) -> str:
    """Delete a domain (its key is gone for good). Returns what happened to the org's mail."""
    consequence = removal_consequence(domain)
    _release(domain)
    record_audit("domain.deleted", org_id=domain.org_id, target=domain,
                 details={"domain": domain.name, "message": consequence})
    log.info("sending domain deleted org=%s domain=%s", domain.org_id, domain.id)
    db.session.delete(domain)
    db.session.flush()
    return consequence


def identity_of(domain: SendingDomain) -> SendingIdentity:
    """The signing identity of one domain (callers make sure it is verified)."""
    return_path_ok = (domain.check_results or {}).get("return_path", {}).get("status") == "ok"
    return SendingIdentity(
        domain=domain.name, mailbox=domain.mailbox, from_email=domain.from_email,
        dkim_selector=domain.dkim_selector,
        dkim_private_key_pem=decrypt(domain.dkim_private_key_encrypted).encode(),
        return_path=return_path_name(domain.name) if return_path_ok else None)


def sending_identity(org_id: int) -> SendingIdentity | None:
    """The org's active domain when it is verified; None means send as the platform (no active
    domain, or it is degraded, failed or turned off)."""
    domain = active_domain(org_id)
    if domain is None or domain.status != "verified":
        return None
    return identity_of(domain)


def domain_for_from(org_id: int, email: str) -> SendingDomain | None:
    """The org's verified domain that `email` is on, or None (such a from must be refused)."""
    _, at, domain_part = (email or "").rpartition("@")
    if not at:
        return None
    try:
        name = normalise_domain(domain_part)
    except DomainNameError:
        return None
    return db.session.scalar(select(SendingDomain).where(
        SendingDomain.org_id == org_id, SendingDomain.name == name,
        SendingDomain.status == "verified"))
