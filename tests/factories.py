"""Factories: build committed rows the way the product would, through its services."""
from __future__ import annotations

import itertools

from portal.accounts.services import create_user
from portal.apikeys.services import create_api_key
from portal.extensions import db
from portal.orgs.models import Membership
from portal.orgs.services import create_invitation, create_org
from portal.queue.services import enqueue

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def make_org(name: str | None = None, slug: str | None = None, plan: str = "free"):
    n = next(_seq)
    org = create_org(name or f"Org {n}", slug or f"org-{n}", plan)
    db.session.commit()
    return org


def make_user(email: str | None = None, *, org=None, role: str = "member",
              password: str = PASSWORD, platform_admin: bool = False,
              support: bool = False, name: str = ""):
    user = create_user(email or f"user{next(_seq)}@example.com", password, name,
                       platform_admin=platform_admin, support_staff=support)
    if org is not None:
        db.session.add(Membership(org_id=org.id, user_id=user.id, role=role))
    db.session.commit()
    return user


def make_api_key(org=None, scopes=("send", "read", "admin"), name: str = "test app"):
    issued = create_api_key(org, name, list(scopes))
    db.session.commit()
    return issued.api_key, issued.secret


def make_invitation(org, email: str | None = None, role: str = "member"):
    issued = create_invitation(org, email or f"invitee{next(_seq)}@example.com", role, None)
    db.session.commit()
    return issued


def make_job(org, func: str = "jobs.system.check_worker"):
    job = enqueue(func, org_id=org.id)
    db.session.commit()
    return job


def membership_of(user, org) -> Membership:
    return db.session.scalar(db.select(Membership).filter_by(user_id=user.id, org_id=org.id))


def make_smtp_config(*, org=None, user=None, from_email: str | None = None, primary=None,
                     enabled: bool = True, host: str = "smtp.example.com", port: int = 587,
                     security: str = "starttls", username: str | None = "sender@example.com",
                     password: str | None = "right-password", ca_pem: str | None = None):
    """A saved configuration, as if it had passed its connection test."""
    from portal.smtp.models import SmtpConfiguration
    from portal.smtp.services import SmtpOwner, primary_config
    from portal.vault import encrypt

    owner = SmtpOwner(org.id if org else None, user.id if user else None)
    if primary is None:
        primary = enabled and primary_config(owner) is None
    config = SmtpConfiguration(
        org_id=owner.org_id, user_id=owner.user_id,
        from_email=from_email or f"mail{next(_seq)}@example.com", from_name="Example Sender",
        host=host, port=port, security=security, enabled=enabled, is_primary=primary,
        username_encrypted=encrypt(username) if username else None,
        password_encrypted=encrypt(password) if password else None, ca_pem=ca_pem)
    db.session.add(config)
    db.session.commit()
    return config
