"""Platform administration: list and create organisations, change plans."""
from __future__ import annotations

from flask import Blueprint, flash, url_for
from sqlalchemy import func, select

from portal.admin.forms import CreateOrgForm, PlanForm
from portal.extensions import db
from portal.orgs.models import Membership, Organization
from portal.orgs.services import OrgError, create_org, set_org_plan
from portal.web.access import platform_admin_required
from portal.web.render import apply_service_error, render, see_other

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _page(form=None, block=None, status=200):
    member_counts = dict(db.session.execute(
        select(Membership.org_id, func.count()).group_by(Membership.org_id)).all())
    orgs = db.session.scalars(select(Organization).order_by(Organization.name)).all()
    return render("admin/orgs.html", block, status=status, form=form or CreateOrgForm(),
                  orgs=orgs, member_counts=member_counts, plan_form=PlanForm())


@bp.route("/orgs")
@platform_admin_required
def orgs():
    """Every organisation on the platform."""
    return _page()


@bp.route("/orgs", methods=["POST"])
@platform_admin_required
def create():
    """Create an organisation."""
    form = CreateOrgForm()
    if form.validate():
        try:
            org = create_org(form.name.data, form.slug.data, form.plan.data)
        except OrgError as exc:
            apply_service_error(form, exc)
        else:
            db.session.commit()
            flash(f"Organisation {org.name} created.", "success")
            return see_other(url_for("admin.orgs"))
    return _page(form=form, block="create_org", status=422)


@bp.route("/orgs/<int:organization_id>/plan", methods=["POST"])
@platform_admin_required
def change_plan(organization_id: int):
    """Move an organisation to another plan."""
    org = db.get_or_404(Organization, organization_id)
    form = PlanForm()
    if form.validate():
        set_org_plan(org, form.plan.data)
        db.session.commit()
        flash(f"{org.name} is on the {org.plan} plan.", "success")
    else:
        flash("Choose one of the listed plans.", "error")
    return see_other(url_for("admin.orgs"))
