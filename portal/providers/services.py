"""Operations on an org's provider keys, shared by Settings → Providers, the API and the jobs.

Services flush and never commit. The key is stored only as a vault token; it appears in no
page, API response, audit detail, log line or job argument (jobs get the account id).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import current_app
from sqlalchemy import select, update

from portal.accounts.services import AccountError
from portal.audit.services import record_audit
from portal.clock import utcnow
from portal.extensions import db
from portal.providers.models import PROVIDERS, ProviderAccount
from portal.queue.services import enqueue
from portal.sending.providers.base import Provider
from portal.sending.providers.resend import ResendProvider
from portal.sending.providers.sendgrid import SendGridProvider
from portal.vault import decrypt, encrypt

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 500
# A hint of a short key would give away too much of it (real keys are 36–70 characters).
MIN_KEY_LENGTH_FOR_HINT = 12
DEFAULT_BASE_URLS = {"sendgrid": "https://api.sendgrid.com", "resend": "https://api.resend.com"}
BASE_URL_SETTINGS = {"sendgrid": "POSTROOM_SENDGRID_BASE_URL",
                     "resend": "POSTROOM_RESEND_BASE_URL"}
_ADAPTERS = {"sendgrid": SendGridProvider, "resend": ResendProvider}


class ProviderError(AccountError):
    """A user-facing problem with provider input; `field` names the form/API field."""


def list_provider_accounts(org) -> dict[str, ProviderAccount]:
    """The org's saved accounts by provider name."""
    accounts = db.session.scalars(select(ProviderAccount).where(ProviderAccount.org_id == org.id))
    return {account.provider: account for account in accounts}


def get_provider_account(org, provider: str) -> ProviderAccount | None:
    return db.session.scalar(select(ProviderAccount).where(
        ProviderAccount.org_id == org.id, ProviderAccount.provider == provider))


def active_provider_account(org_id: int) -> ProviderAccount | None:
    """The org's enabled provider account (the database allows at most one), or None."""
    return db.session.scalar(select(ProviderAccount).where(
        ProviderAccount.org_id == org_id, ProviderAccount.enabled.is_(True)))


def validate_api_key(api_key: str | None) -> str:
    """The key as it will be stored: surrounding whitespace (a pasted newline) removed."""
    api_key = (api_key or "").strip()
    if not api_key:
        raise ProviderError("Paste the API key", "api_key")
    if len(api_key) > MAX_KEY_LENGTH:
        raise ProviderError(f"An API key has at most {MAX_KEY_LENGTH} characters", "api_key")
    if any(char.isspace() for char in api_key):
        raise ProviderError("An API key has no spaces or line breaks inside; paste it again",
                            "api_key")
    if not (api_key.isascii() and api_key.isprintable()):
        # It travels in an HTTP header, which takes printable ASCII only.
        raise ProviderError("An API key is made of letters, digits and punctuation only",
                            "api_key")
    return api_key


def _check_provider(provider: str) -> None:
    if provider not in PROVIDERS:
        raise ProviderError("Choose SendGrid or Resend", "provider")


def save_provider_key(org, provider: str, api_key: str) -> ProviderAccount:
    """Store (or replace) the org's key for `provider`, encrypted. A new account starts
    disabled; a replaced key keeps its account's enabled state, and its old check is cleared."""
    _check_provider(provider)
    api_key = validate_api_key(api_key)
    account = get_provider_account(org, provider)
    replaced = account is not None
    if account is None:
        account = ProviderAccount(org_id=org.id, provider=provider, enabled=False)
        db.session.add(account)
    account.api_key_encrypted = encrypt(api_key)
    account.key_hint = api_key[-4:] if len(api_key) >= MIN_KEY_LENGTH_FOR_HINT else ""
    account.last_checked_at = account.last_check_code = account.last_check_message = None
    db.session.flush()
    record_audit("provider.saved", org_id=org.id, target=account,
                 details={"provider": provider, "replaced": replaced})
    log.info("provider key saved org=%s provider=%s replaced=%s", org.id, provider, replaced)
    return account


def set_provider_enabled(account: ProviderAccount, enabled: bool) -> ProviderAccount | None:
    """Enable (disabling the org's other provider in the same step) or disable. Returns the
    account that was disabled to make room, if any."""
    if account.enabled == enabled:
        return None
    displaced = None
    if enabled:
        displaced = active_provider_account(account.org_id)
        # Clear the other first: the partial unique index allows one enabled row per org.
        db.session.execute(update(ProviderAccount).where(
            ProviderAccount.org_id == account.org_id, ProviderAccount.id != account.id,
            ProviderAccount.enabled.is_(True)).values(enabled=False, updated_at=utcnow())
            .execution_options(synchronize_session="fetch"))
        db.session.flush()
    account.enabled = enabled
    db.session.flush()
    details = {"provider": account.provider}
    if displaced is not None:
        details["disabled_other"] = displaced.provider
    record_audit("provider.enabled" if enabled else "provider.disabled", org_id=account.org_id,
                 target=account, details=details)
    return displaced


def delete_provider(account: ProviderAccount) -> None:
    """Delete the account and its key; an enabled one stops being used at once."""
    record_audit("provider.deleted", org_id=account.org_id, target=account,
                 details={"provider": account.provider, "was_enabled": account.enabled})
    log.info("provider key deleted org=%s provider=%s", account.org_id, account.provider)
    db.session.delete(account)
    db.session.flush()


def provider_for(account: ProviderAccount, config: Mapping | None = None) -> Provider:
    """The adapter for this account, holding its decrypted key (keep it out of logs)."""
    config = current_app.config if config is None else config
    base_url = config.get(BASE_URL_SETTINGS[account.provider]) \
        or DEFAULT_BASE_URLS[account.provider]
    return _ADAPTERS[account.provider](decrypt(account.api_key_encrypted), base_url=base_url)


def start_key_check(account: ProviderAccount, user_id: int | None):
    """Queue a check of the saved key on the default queue; returns the job row."""
    return enqueue("jobs.providers.check_key", account.id, queue="default",
                   org_id=account.org_id, user_id=user_id)


def run_key_check(account_id: int) -> dict:
    """The job's work: ask the provider whether it accepts the key; record the outcome."""
    account = db.session.get(ProviderAccount, account_id)
    if account is None:
        return {"ok": False, "code": "deleted", "message": "This key was deleted."}
    token = account.api_key_encrypted
    outcome = provider_for(account).check_key()
    current = db.session.scalar(select(ProviderAccount.api_key_encrypted).where(
        ProviderAccount.id == account_id))
    if current is None:
        return {"ok": False, "code": "deleted", "message": "This key was deleted."}
    if current == token:  # not replaced while the check ran
        account.last_checked_at = utcnow()
        account.last_check_code = outcome.code
        account.last_check_message = outcome.detail[:500]
    record_audit("provider.checked", org_id=account.org_id, target=account,
                 details={"provider": account.provider, "result": outcome.code},
                 actor_label="worker")
    log.info("provider key check org=%s provider=%s result=%s", account.org_id,
             account.provider, outcome.code)
    return {"ok": outcome.sent, "code": outcome.code, "message": outcome.detail}
