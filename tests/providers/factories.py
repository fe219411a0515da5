"""Provider accounts built through the service, as Settings → Providers would."""
from __future__ import annotations

from portal.extensions import db
from portal.providers.services import save_provider_key, set_provider_enabled
from tests.providers.servers import RESEND_KEY, SENDGRID_KEY


def make_provider_account(org, provider: str = "sendgrid", api_key: str | None = None,
                          enabled: bool = False):
    account = save_provider_key(org, provider, api_key or
                                {"sendgrid": SENDGRID_KEY, "resend": RESEND_KEY}[provider])
    if enabled:
        set_provider_enabled(account, True)
    db.session.commit()
    return account
