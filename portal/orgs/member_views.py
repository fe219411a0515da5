"""Members and invitations of the current organisation."""
from __future__ import annotations

from flask import Blueprint, flash, g, session, url_for
from flask_login import current_user, login_user

from portal.extensions import db
from portal.orgs.forms import AcceptInvitationForm, AddMemberForm, RoleForm
from portal.orgs.models import Invitation, Membership
from portal.orgs.services import (
    OrgError,
    accept_invitation,
    add_member,
    change_member_role,
    create_invitation,
    find_open_invitation,
    list_members,
    list_open_invitations,
    remove_member,
    revoke_invitation,
)
from portal.smtp.services import users_with_personal_smtp
from portal.web.access import SESSION_ORG_KEY, org_admin_required, org_viewer_required
from portal.web.render import apply_service_error, render, see_other
from portal.web.tenancy import get_org_object_or_404

bp = Blueprint("members", __name__)


def _members_page(form=None, issued=None, block=None, status=200):
    return render("orgs/members.html", block, status=status,
                  form=form or AddMemberForm(), members=list_members(g.org),
                  invitations=list_open_invitations(g.org), issued=issued,
                  role_form=RoleForm(), personal_smtp=users_with_personal_smtp(g.org))


@bp.route("/settings/members")
@org_viewer_required
def index():
    """Members and open invitations."""
    return _members_page()


@bp.route("/settings/members", methods=["POST"])
@org_admin_required
def add():
    """Add a member with an initial password, or issue a one-time invitation link."""
    form = AddMemberForm()
    if form.validate():
        try:
            if form.method.data == "invite":
                issued = create_invitation(g.org, form.email.data, form.role.data, current_user)
                db.session.commit()
                link = url_for("members.accept", token=issued.token, _external=True)
                # The link is shown once, in this response only; it is never stored.
                return _members_page(issued={"email": issued.invitation.email, "link": link},
                                     block="member_admin")
            add_member(g.org, form.email.data, form.role.data, form.password.data,
                       form.display_name.data or "")
            db.session.commit()
            flash(f"{form.email.data} was added.", "success")
            return see_other(url_for("members.index"))
        except OrgError as exc:
            db.session.rollback()
            apply_service_error(form, exc)
    return _members_page(form=form, block="member_admin", status=422)


@bp.route("/settings/members/<int:membership_id>/role", methods=["POST"])
@org_admin_required
def change_role(membership_id: int):
    """Make a member an admin, or an admin a member."""
    membership = get_org_object_or_404(Membership, membership_id)
    form = RoleForm()
    if form.validate():
        try:
            change_member_role(membership, form.role.data)
            db.session.commit()
            flash(f"{membership.user.email} is now {membership.role}.", "success")
        except OrgError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return see_other(url_for("members.index"))
    return see_other(url_for("members.index"))


@bp.route("/settings/members/<int:membership_id>/remove", methods=["POST"])
@org_admin_required
def remove(membership_id: int):
    """Remove a member from this organisation (their account stays)."""
    membership = get_org_object_or_404(Membership, membership_id)
    email = membership.user.email
    try:
        remove_member(membership)
        db.session.commit()
        flash(f"{email} was removed.", "success")
    except OrgError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return see_other(url_for("members.index"))


@bp.route("/settings/invitations/<int:invitation_id>/revoke", methods=["POST"])
@org_admin_required
def revoke(invitation_id: int):
    """Make an unused invitation link stop working."""
    invitation = get_org_object_or_404(Invitation, invitation_id)
    revoke_invitation(invitation)
    db.session.commit()
    flash(f"The invitation for {invitation.email} no longer works.", "success")
    return see_other(url_for("members.index"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept(token: str):
    """Where an invitation link lands: choose a password and join."""
    invitation = find_open_invitation(token)
    if invitation is None:
        return render("orgs/invitation_invalid.html", status=404)
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = accept_invitation(invitation, form.password.data, form.display_name.data or "")
        except OrgError as exc:
            apply_service_error(form, exc)
        else:
            db.session.commit()
            session.clear()  # a fresh session for the new account (no fixation)
            login_user(user)
            session[SESSION_ORG_KEY] = invitation.org_id
            flash(f"Welcome to {invitation.org.name}.", "success")
            return see_other(url_for("orgs.dashboard"))
    status = 422 if form.errors or form.form_errors else 200
    return render("orgs/accept_invitation.html", "accept_form", status=status, form=form,
                  invitation=invitation)
