"""Who may do what, decided in one place.

Roles, per current organisation:
- ``admin``   — an org admin (or a platform admin acting in any org): manages the org.
- ``member``  — sees the dashboard and their own settings.
- ``support`` — support staff: read everything in every org, change nothing.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, g, session
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.extensions import db
from portal.orgs.models import Membership, Organization

SESSION_ORG_KEY = "org_id"


def accessible_orgs(user) -> list[Organization]:
    """The organisations a user can switch to, by name."""
    if user.is_platform_admin or user.is_support_staff:
        return list(db.session.scalars(select(Organization).order_by(Organization.name)))
    return list(
        db.session.scalars(
            select(Organization)
            .join(Membership, Membership.org_id == Organization.id)
            .where(Membership.user_id == user.id)
            .order_by(Organization.name)
        )
    )


def role_in(user, org: Organization | None) -> str | None:
    """The role a user holds in an org, taking platform-wide flags into account."""
    if org is None or not user.is_authenticated:
        return None
    if user.is_platform_admin:
        return "admin"
    membership = db.session.scalar(
        select(Membership).where(Membership.org_id == org.id, Membership.user_id == user.id)
    )
    if membership is not None:
        return membership.role
    if user.is_support_staff:
        return "support"
    return None


def load_current_org() -> None:
    """Resolve g.org and g.role from the session for a logged-in user (before each request)."""
    g.org, g.role = None, None
    if not current_user.is_authenticated:
        return
    org_id = session.get(SESSION_ORG_KEY)
    org = db.session.get(Organization, org_id) if org_id else None
    role = role_in(current_user, org)
    if role is None:
        orgs = accessible_orgs(current_user)
        org = orgs[0] if orgs else None
        role = role_in(current_user, org)
        session[SESSION_ORG_KEY] = org.id if org else None
    g.org, g.role = org, role


def switch_org(org_id: int) -> Organization:
    """Make another org current, or 404 if the user cannot see it."""
    org = db.session.get(Organization, org_id)
    if org is None or role_in(current_user, org) is None:
        abort(404)
    session[SESSION_ORG_KEY] = org.id
    g.org, g.role = org, role_in(current_user, org)
    return org


def can_manage() -> bool:
    return g.get("role") == "admin"


def can_view_settings() -> bool:
    return g.get("role") in ("admin", "support")


def _org_role_required(allowed: tuple[str, ...]):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if g.get("org") is None:
                abort(404)
            if g.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


org_member_required = _org_role_required(("admin", "member", "support"))
org_viewer_required = _org_role_required(("admin", "support"))
org_admin_required = _org_role_required(("admin",))


def platform_admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_platform_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
