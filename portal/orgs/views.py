"""Dashboard, the org switcher, and organisation settings (name and branding)."""
from __future__ import annotations

from flask import Blueprint, flash, g, request, url_for
from flask_login import login_required

from portal.domains.services import sending_identity
from portal.extensions import db
from portal.orgs.forms import OrgSettingsForm
from portal.orgs.services import OrgError, update_org_settings
from portal.smtp.services import SmtpOwner, primary_config
from portal.web.access import org_admin_required, org_viewer_required, switch_org
from portal.web.render import apply_service_error, render, see_other

bp = Blueprint("orgs", __name__)


@bp.route("/")
@login_required
def dashboard():
    """Home: what is set up in the current org, and what comes next."""
    org = g.get("org")
    return render("orgs/dashboard.html",
                  smtp_primary=primary_config(SmtpOwner(org_id=org.id)) if org else None,
                  sending_identity=sending_identity(org.id) if org else None)


@bp.route("/orgs/switch", methods=["POST"])
@login_required
def switch():
    """Make another organisation the current one."""
    try:
        org_id = int(request.form.get("org_id", ""))
    except ValueError:
        org_id = 0
    org = switch_org(org_id)
    flash(f"Now working in {org.name}.", "info")
    return see_other(url_for("orgs.dashboard"))


@bp.route("/settings/organization")
@org_viewer_required
def settings():
    """Organisation settings: name and branding (read-only for support staff)."""
    return render("orgs/settings.html", form=OrgSettingsForm(obj=g.org))


@bp.route("/settings/organization", methods=["POST"])
@org_admin_required
def save_settings():
    """Save name and branding."""
    form = OrgSettingsForm()
    if form.validate():
        try:
            changed = update_org_settings(
                g.org, name=form.name.data, logo_url=form.logo_url.data,
                brand_color=form.brand_color.data, footer_text=form.footer_text.data)
        except OrgError as exc:
            apply_service_error(form, exc)
        else:
            db.session.commit()
            flash("Settings saved." if changed else "Nothing changed.", "success")
            return see_other(url_for("orgs.settings"))
    return render("orgs/settings.html", "settings_form", status=422, form=form)
