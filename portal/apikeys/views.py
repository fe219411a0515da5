"""API keys of the current organisation: list, create (secret shown once), revoke."""
from __future__ import annotations

from flask import Blueprint, flash, g, url_for
from flask_login import current_user

from portal.apikeys.forms import ApiKeyForm
from portal.apikeys.models import ApiKey
from portal.apikeys.services import ApiKeyError, create_api_key, list_api_keys, revoke_api_key
from portal.extensions import db
from portal.web.access import org_admin_required, org_viewer_required
from portal.web.render import apply_service_error, render, see_other
from portal.web.tenancy import get_org_object_or_404

bp = Blueprint("apikeys", __name__)


def _page(form=None, issued=None, block=None, status=200):
    return render("apikeys/index.html", block, status=status, form=form or ApiKeyForm(),
                  keys=list_api_keys(g.org), issued=issued)


@bp.route("/settings/api-keys")
@org_viewer_required
def index():
    """Every key of the org, active first; secrets are never shown here."""
    return _page()


@bp.route("/settings/api-keys", methods=["POST"])
@org_admin_required
def create():
    """Create a key and show its secret this once."""
    form = ApiKeyForm()
    if form.validate():
        try:
            issued = create_api_key(g.org, form.name.data, form.scopes.data, current_user)
        except ApiKeyError as exc:
            apply_service_error(form, exc)
        else:
            db.session.commit()
            return _page(issued=issued, block="key_admin")
    return _page(form=form, block="key_admin", status=422)


@bp.route("/settings/api-keys/<int:api_key_id>/revoke", methods=["POST"])
@org_admin_required
def revoke(api_key_id: int):
    """Revoke a key: requests with it are refused from now on."""
    key = get_org_object_or_404(ApiKey, api_key_id)
    revoke_api_key(key)
    db.session.commit()
    flash(f"Key “{key.name}” ({key.prefix}…) is revoked.", "success")
    return see_other(url_for("apikeys.index"))
