"""Settings → Providers: the org's own SendGrid or Resend key (admins change, support reads)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, g, request, url_for
from flask_login import current_user

from portal.extensions import db
from portal.providers.forms import ProviderKeyForm
from portal.providers.models import PROVIDER_LABELS, PROVIDERS, ProviderAccount
from portal.providers.services import (
    ProviderError,
    delete_provider,
    list_provider_accounts,
    save_provider_key,
    set_provider_enabled,
    start_key_check,
)
from portal.queue.services import job_status
from portal.web.access import can_manage, org_admin_required, org_viewer_required
from portal.web.render import apply_service_error, render, see_other
from portal.web.tenancy import get_org_object_or_404

bp = Blueprint("providers", __name__, url_prefix="/settings/providers")


@dataclass(frozen=True)
class ProviderCard:
    provider: str
    label: str
    account: ProviderAccount | None
    form: ProviderKeyForm


def _page(block=None, status=200, forms: dict[str, ProviderKeyForm] | None = None):
    accounts = list_provider_accounts(g.org)
    forms = forms or {}
    cards = [ProviderCard(provider, PROVIDER_LABELS[provider], accounts.get(provider),
                          forms.get(provider) or ProviderKeyForm(prefix=provider, formdata=None))
             for provider in PROVIDERS]
    active = next((card.account for card in cards if card.account and card.account.enabled),
                  None)
    return render("providers/index.html", block, status=status, cards=cards, active=active,
                  editable=can_manage())


@bp.route("")
@org_viewer_required
def index():
    """A card per provider: key saved (its last four characters only), in use, last check."""
    return _page()


@bp.route("/<any(sendgrid, resend):provider>", methods=["POST"])
@org_admin_required
def save_key(provider: str):
    """Save or replace the org's key for one provider."""
    form = ProviderKeyForm(prefix=provider)
    if form.validate():
        try:
            account = save_provider_key(g.org, provider, form.api_key.data)
        except ProviderError as exc:
            db.session.rollback()
            apply_service_error(form, exc)
        else:
            db.session.commit()
            note = "" if account.enabled else " Test it, then enable it to send through it."
            flash(f"The {account.label} key is saved.{note}", "success")
            return see_other(url_for("providers.index"))
    form.api_key.data = None  # never sent back, not even the one just typed
    return _page("provider_list", status=422, forms={provider: form})


@bp.route("/<int:provider_account_id>/enabled", methods=["POST"])
@org_admin_required
def toggle(provider_account_id: int):
    """Enable (the other provider is disabled) or disable (form field enabled=1|0)."""
    account = get_org_object_or_404(ProviderAccount, provider_account_id)
    displaced = set_provider_enabled(account, request.form.get("enabled") == "1")
    db.session.commit()
    if account.enabled:
        note = f" {displaced.label} is disabled." if displaced else ""
        flash(f"The organisation's mail now goes through {account.label}.{note}", "success")
    else:
        flash(f"{account.label} is disabled; its key stays saved.", "success")
    return see_other(url_for("providers.index"))


@bp.route("/<int:provider_account_id>/check", methods=["POST"])
@org_admin_required
def check(provider_account_id: int):
    """Test the saved key (a job; the card polls for the outcome)."""
    account = get_org_object_or_404(ProviderAccount, provider_account_id)
    job = start_key_check(account, current_user.id)
    db.session.commit()
    return render("queue/status.html", "job_status", job=job, state=job_status(job))


@bp.route("/<int:provider_account_id>/delete", methods=["POST"])
@org_admin_required
def delete(provider_account_id: int):
    """Delete the key; if it was in use, the organisation's mail stops using this provider."""
    account = get_org_object_or_404(ProviderAccount, provider_account_id)
    label, was_enabled = account.label, account.enabled
    delete_provider(account)
    db.session.commit()
    note = f" Mail no longer goes through {label}." if was_enabled else ""
    flash(f"The {label} key was deleted.{note}", "success")
    return see_other(url_for("providers.index"))
