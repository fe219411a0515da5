"""Which road a message takes, decided in one function a person can read.

1. `as_user` → that member's enabled personal SMTP; on failure no fallback.
2. the org's primary enabled SMTP, when the email type is on the custom-SMTP allow-list
   (default: everything but `auth.*` security mail) → from the configuration's name and
   address; a server failure falls back once to the platform.
3. the org's enabled own-provider key (SendGrid, Resend) → the same fallback rule.
4. the platform default: POSTROOM_PLATFORM_SMTP_URL (or the `log` provider in development),
   from POSTROOM_PLATFORM_FROM with the org's name as display name.
"""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from flask import current_app
from sqlalchemy import select

from portal.domains.names import normalise_domain
from portal.domains.services import domain_for_from, identity_of, sending_identity
from portal.extensions import db
from portal.orgs.models import Organization
from portal.providers.services import active_provider_account
from portal.sending.providers.base import Signing
from portal.smtp.models import SmtpConfiguration

PERSONAL, ORG_SMTP, ORG_PROVIDER, PLATFORM = "personal", "org_smtp", "org_provider", "platform"


@dataclass(frozen=True)
class RouteDecision:
    route: str
    reason: str
    from_email: str
    from_name: str | None
    smtp_config_id: int | None = None
    provider_account_id: int | None = None
    signing: Signing | None = None

    @property
    def may_fall_back(self) -> bool:
        return self.route in (ORG_SMTP, ORG_PROVIDER)

    def describe(self) -> str:
        name = f"{self.from_name} " if self.from_name else ""
        signed = f", DKIM d={self.signing.domain}" if self.signing else ""
        return f"{self.route}: {self.reason} (from {name}<{self.from_email}>{signed})"


def custom_smtp_allows(email_type: str) -> bool:
    """The allow-list: patterns in order, `!` excludes; default "*,!auth.*"."""
    allowed = False
    for pattern in current_app.config["POSTROOM_CUSTOM_SMTP_TYPES"]:
        if pattern.startswith("!"):
            if fnmatchcase(email_type, pattern[1:]):
                allowed = False
        elif fnmatchcase(email_type, pattern):
            allowed = True
    return allowed


def platform_route(org: Organization, reason: str, requested: dict | None = None
                   ) -> RouteDecision:
    """The platform's road: from the org's verified domain (DKIM-signed) when it has an active
    one — or from the caller's `from` on any of its verified domains — else from
    POSTROOM_PLATFORM_FROM; the display name is the caller's or the org's."""
    requested = requested or {}
    name = requested.get("name") or org.name
    identity = _sending_identity(org.id, requested.get("email"))
    if identity is None:
        return RouteDecision(PLATFORM, reason, current_app.config["POSTROOM_PLATFORM_FROM"], name)
    wanted = requested.get("email")
    return RouteDecision(
        PLATFORM, f"{reason}; from the org's verified domain",
        wanted if wanted and identity.domain == _domain_of(wanted) else identity.from_email,
        name, signing=Signing(identity.domain, identity.dkim_selector,
                              identity.dkim_private_key_pem, identity.return_path))


def _domain_of(email: str) -> str | None:
    try:
        return normalise_domain(email.rpartition("@")[2])
    except ValueError:
        return None


def _sending_identity(org_id: int, requested_email: str | None):
    """The identity to sign with: the caller's verified domain if they named one, else the
    org's active verified domain (None: send as the platform)."""
    if requested_email:
        domain = domain_for_from(org_id, requested_email)
        if domain is not None:
            return identity_of(domain)
    return sending_identity(org_id)


def _provider_account(org_id: int):
    return active_provider_account(org_id)


def decide_route(message, org: Organization, *, after_fallback: bool = False) -> RouteDecision:
    """Where this message goes and why; `after_fallback` pins it to the platform."""
    requested = (message.request.get("from") or {})
    requested_name = requested.get("name")
    if message.as_user_id is not None:
        personal = db.session.scalar(select(SmtpConfiguration).where(
            SmtpConfiguration.user_id == message.as_user_id,
            SmtpConfiguration.enabled.is_(True)).order_by(
            SmtpConfiguration.is_primary.desc(), SmtpConfiguration.id))
        if personal is None:
            return RouteDecision(PERSONAL, "as_user has no enabled personal SMTP", "", None)
        return RouteDecision(PERSONAL, "sent as the member through their personal SMTP",
                             personal.from_email, personal.from_name, smtp_config_id=personal.id)
    if after_fallback:
        # The reason starts with "fallback": delivery keeps later retries on the platform.
        return platform_route(org, "fallback after the org's own route failed", requested)
    if custom_smtp_allows(message.email_type):
        primary = db.session.scalar(select(SmtpConfiguration).where(
            SmtpConfiguration.org_id == org.id, SmtpConfiguration.is_primary.is_(True),
            SmtpConfiguration.enabled.is_(True)))
        if primary is not None:
            return RouteDecision(ORG_SMTP, "the org's primary SMTP configuration",
                                 primary.from_email, primary.from_name,
                                 smtp_config_id=primary.id)
    account = _provider_account(org.id)
    if account is not None:
        from_email = requested.get("email") or current_app.config["POSTROOM_PLATFORM_FROM"]
        return RouteDecision(ORG_PROVIDER, f"the org's own {account.provider} key",
                             from_email, requested_name or org.name,
                             provider_account_id=account.id)
    if not custom_smtp_allows(message.email_type):
        return platform_route(org, f"{message.email_type} is not on the custom-SMTP allow-list",
                              requested)
    return platform_route(org, "the org has no primary SMTP configuration or provider key",
                          requested)


def from_address_allowed(org_id: int, email: str) -> bool:
    """A caller's `from` must be ours to send: on a verified domain of the org, or going out
    through the org's own provider (which checks its own domains). Never sent unsigned."""
    return _provider_account(org_id) is not None or domain_for_from(org_id, email) is not None
