"""Operations on organisations and their members. Services flush; callers commit."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.accounts.services import (
    AccountError,
    check_password_strength,
    create_user,
    find_user_by_email,
    normalise_email,
)
from portal.audit.services import record_audit
from portal.clock import utcnow
from portal.extensions import db
from portal.orgs.models import PLANS, ROLES, Invitation, Membership, Organization

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


class OrgError(AccountError):
    """A user-facing problem with org or member input."""


def validate_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise OrgError("Use 1–63 lower-case letters, digits and hyphens, not starting or "
                       "ending with a hyphen", "slug")
    return slug


def create_org(name: str, slug: str, plan: str = "free") -> Organization:
    """Create an organisation with a unique slug."""
    name, slug = name.strip(), validate_slug(slug)
    if not name:
        raise OrgError("Enter the organisation's name", "name")
    if plan not in PLANS:
        raise OrgError(f"Plan must be one of: {', '.join(PLANS)}", "plan")
    if db.session.scalar(select(Organization).where(Organization.slug == slug)):
        raise OrgError("That slug is already taken", "slug")
    org = Organization(name=name, slug=slug, plan=plan)
    db.session.add(org)
    db.session.flush()
    record_audit("org.created", org_id=org.id, target=org, details={"slug": slug, "plan": plan})
    return org


def find_org_by_slug(slug: str) -> Organization | None:
    return db.session.scalar(select(Organization).where(Organization.slug == slug.strip().lower()))


def set_org_plan(org: Organization, plan: str) -> None:
    """Change an organisation's plan (platform admins)."""
    if plan not in PLANS:
        raise OrgError(f"Plan must be one of: {', '.join(PLANS)}", "plan")
    if plan != org.plan:
        record_audit("org.plan_changed", org_id=org.id, target=org,
                     details={"from": org.plan, "to": plan})
        org.plan = plan


def update_org_settings(org: Organization, *, name: str, logo_url: str | None,
                        brand_color: str | None, footer_text: str | None) -> list[str]:
    """Change name and branding; returns the names of the fields that changed."""
    name = name.strip()
    if not name:
        raise OrgError("Enter the organisation's name", "name")
    if brand_color and not COLOR_RE.match(brand_color):
        raise OrgError("Use a colour like #1a73e8", "brand_color")
    if logo_url and not logo_url.startswith("https://"):
        raise OrgError("The logo must be an https:// URL", "logo_url")
    new = {"name": name, "logo_url": logo_url or None,
           "brand_color": brand_color.lower() if brand_color else None,
           "footer_text": (footer_text or "").strip() or None}
    changed = [key for key, value in new.items() if getattr(org, key) != value]
    for key in changed:
        setattr(org, key, new[key])
    if changed:
        record_audit("org.settings_updated", org_id=org.id, target=org,
                     details={"fields": changed})
    return changed


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise OrgError(f"Role must be one of: {', '.join(ROLES)}", "role")


def add_member(org: Organization, email: str, role: str, password: str | None = None,
               display_name: str = "") -> Membership:
    """Add a person to an org. An existing user joins at once; a new one needs a password."""
    _check_role(role)
    email = normalise_email(email)
    user = find_user_by_email(email)
    if user is None:
        if not password:
            raise OrgError("Set an initial password, or send an invitation link instead",
                           "password")
        user = create_user(email, password, display_name)
    elif db.session.scalar(select(Membership).where(Membership.org_id == org.id,
                                                    Membership.user_id == user.id)):
        raise OrgError("This person is already a member", "email")
    membership = Membership(org_id=org.id, user_id=user.id, role=role)
    db.session.add(membership)
    db.session.flush()
    record_audit("member.added", org_id=org.id, target=membership,
                 details={"user_id": user.id, "role": role})
    return membership


def _admin_count(org_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.org_id == org_id, Membership.role == "admin"))


def change_member_role(membership: Membership, role: str) -> None:
    """Change a member's role; the last admin cannot step down."""
    _check_role(role)
    if membership.role == role:
        return
    if membership.role == "admin" and _admin_count(membership.org_id) <= 1:
        raise OrgError("An organisation needs at least one admin", "role")
    record_audit("member.role_changed", org_id=membership.org_id, target=membership,
                 details={"user_id": membership.user_id, "from": membership.role, "to": role})
    membership.role = role


def remove_member(membership: Membership) -> None:
    """Remove someone from an org (their user account stays); never the last admin."""
    if membership.role == "admin" and _admin_count(membership.org_id) <= 1:
        raise OrgError("An organisation needs at least one admin", "role")
    record_audit("member.removed", org_id=membership.org_id, target=membership,
                 details={"user_id": membership.user_id})
    db.session.delete(membership)
    db.session.flush()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # shown once; only its hash is stored


def create_invitation(org: Organization, email: str, role: str, created_by: User | None
                      ) -> IssuedInvitation:
    """Issue a one-time invitation link for someone who has no account yet."""
    _check_role(role)
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise OrgError("This person already has an account: add them directly", "email")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        org_id=org.id, email=email, role=role, token_hash=_hash_token(token),
        created_by_id=created_by.id if created_by else None,
        expires_at=utcnow() + timedelta(hours=current_app.config["INVITE_TTL_HOURS"]),
    )
    db.session.add(invitation)
    db.session.flush()
    record_audit("member.invited", org_id=org.id, target=invitation, details={"role": role})
    return IssuedInvitation(invitation, token)


def find_open_invitation(token: str) -> Invitation | None:
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == _hash_token(token)))
    return invitation if invitation is not None and invitation.is_open else None


def accept_invitation(invitation: Invitation, password: str, display_name: str) -> User:
    """Create the invited person's account and membership; the link then stops working."""
    if not invitation.is_open:
        raise OrgError("This invitation link has expired or was already used")
    check_password_strength(password)
    if find_user_by_email(invitation.email) is not None:
        # Never sign someone in as an existing account on the strength of a link alone.
        raise OrgError("This email address already has an account: sign in, and ask an "
                       "admin of the organisation to add you.")
    user = create_user(invitation.email, password, display_name)
    invitation.accepted_at = utcnow()
    membership = Membership(org_id=invitation.org_id, user_id=user.id, role=invitation.role)
    db.session.add(membership)
    db.session.flush()
    record_audit("member.joined", org_id=invitation.org_id, target=membership,
                 details={"user_id": user.id, "role": invitation.role}, actor_label=user.email)
    return user


def revoke_invitation(invitation: Invitation) -> None:
    """Make an unused invitation link stop working."""
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = utcnow()
        record_audit("member.invitation_revoked", org_id=invitation.org_id, target=invitation)


def list_members(org: Organization) -> list[Membership]:
    return list(db.session.scalars(
        select(Membership).join(User).where(Membership.org_id == org.id).order_by(User.email)))


def list_open_invitations(org: Organization) -> list[Invitation]:
    return [i for i in db.session.scalars(
        select(Invitation).where(Invitation.org_id == org.id, Invitation.accepted_at.is_(None),
                                 Invitation.revoked_at.is_(None)).order_by(Invitation.id.desc()))
            if i.is_open]
