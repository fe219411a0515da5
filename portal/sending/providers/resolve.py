"""From a routing decision to the provider adapter that carries it out."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from flask import current_app

from portal.extensions import db
from portal.providers.models import ProviderAccount
from portal.providers.services import provider_for as build_provider
from portal.sending.providers.log import LogProvider
from portal.sending.providers.smtp import SmtpProvider, params_from_url
from portal.sending.routing import ORG_PROVIDER, PLATFORM, RouteDecision
from portal.smtp.models import SmtpConfiguration
from portal.smtp.services import stored_params, transport_policy


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[-1] or "postroom.local"


def platform_provider(domain: str):
    """The platform's own way out: its SMTP relay, or the log provider when none is set."""
    url = current_app.config["POSTROOM_PLATFORM_SMTP_URL"]
    if not url:
        return LogProvider(Path(current_app.config["INSTANCE_PATH"]) / "outbox", domain)
    params = params_from_url(url)
    # The relay is the operator's own choice, not a tenant's: the SSRF guard does not apply.
    policy = replace(transport_policy(), allow_private=True,
                     allow_plaintext=params.security == "none",
                     allowed_ports=frozenset({params.port}))
    return SmtpProvider(params, policy, domain=domain)


def provider_for(decision: RouteDecision):
    domain = _domain(decision.from_email)
    if decision.route == PLATFORM:
        return platform_provider(domain)
    if decision.route == ORG_PROVIDER:
        return build_provider(db.session.get(ProviderAccount, decision.provider_account_id),
                     current_app.config)
    config = db.session.get(SmtpConfiguration, decision.smtp_config_id)
    return SmtpProvider(stored_params(config), transport_policy(), domain=domain)
