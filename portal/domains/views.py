"""Settings → Sending domains: add a domain, publish its records, check them, choose the domain
the organisation sends from (admins change, support reads)."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, g, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.clock import utcnow
from portal.domains.forms import DomainForm, MailboxForm
from portal.domains.lifecycle import (
    CHECK_LEASE,
    request_check,
    result_of,
    summarise,
    turn_on_domain,
)
from portal.domains.models import SendingDomain
from portal.domains.records import expected_records
from portal.domains.services import (
    DomainError,
    activate_domain,
    create_domain,
    deactivate_domain,
    delete_domain,
    identity_row,
    list_domains,
    removal_consequence,
    rename_mailbox,
    revert_identity,
)
from portal.extensions import db
from portal.queue.services import job_status
from portal.web.access import can_manage, org_admin_required, org_viewer_required
from portal.web.render import apply_service_error, render, see_other, wants_fragment
from portal.web.tenancy import get_org_object_or_404

bp = Blueprint("domains", __name__, url_prefix="/settings/domains")


@bp.app_template_filter("ago")
def ago(moment: datetime | None) -> str:
    """"2 minutes ago" / "in 5 minutes", for check times."""
    if moment is None:
        return "never"
    seconds = (utcnow() - moment).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return "in under a minute" if future else "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            text = f"{n} {unit}{'s' if n != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return ""


@bp.app_context_processor
def domain_notices():
    """Degraded domains of the current org, for the notice on settings pages (asked lazily)."""
    def degraded():
        if g.get("org") is None or not can_manage():
            return []
        return list(db.session.scalars(select(SendingDomain).where(
            SendingDomain.org_id == g.org.id, SendingDomain.status == "degraded")))
    return {"degraded_domains": degraded}


def _index(form=None, status=200, block=None):
    row = identity_row(g.org.id)
    return render("domains/index.html", block, status=status, domains=list_domains(g.org.id),
                  form=form or DomainForm(formdata=None), identity=row, editable=can_manage(),
                  summarise=summarise)


@bp.route("")
@org_viewer_required
def index():
    """The org's domains, which one mail comes from, and a form to add one."""
    return _index()


@bp.route("", methods=["POST"])
@org_admin_required
def create():
    """Add a domain: its records are issued at once."""
    form = DomainForm()
    if form.validate():
        try:
            domain = create_domain(g.org.id, form.name.data)
        except DomainError as exc:
            db.session.rollback()
            apply_service_error(form, exc)
        else:
            db.session.commit()
            flash(f"{domain.display_name} is added. Publish the records below at your DNS "
                  "provider, then press Check now.", "success")
            return see_other(url_for("domains.show", sending_domain_id=domain.id))
    return _index(form, status=422, block="domain_add")


def _page(domain, block=None, status=200, mailbox_form=None, poll=True):
    records = [(record, result_of(domain, record.kind)) for record in expected_records(domain)]
    row = identity_row(g.org.id)
    checking = domain.checking and domain.check_requested_at > utcnow() - CHECK_LEASE
    return render("domains/show.html", block, status=status, domain=domain, records=records,
                  summary=summarise(domain), identity=row, editable=can_manage(),
                  is_active=bool(row and row.active_domain_id == domain.id),
                  is_previous=bool(row and row.previous_domain_id == domain.id),
                  consequence=removal_consequence(domain), poll=poll and checking,
                  checking=checking,
                  mailbox_form=mailbox_form or MailboxForm(formdata=None, obj=domain))


@bp.route("/<int:sending_domain_id>")
@org_viewer_required
def show(sending_domain_id: int):
    """One domain: status, record cards, actions and timeline (htmx asks for the panel)."""
    return _page(get_org_object_or_404(SendingDomain, sending_domain_id), block="domain_panel")


@bp.route("/<int:sending_domain_id>/check", methods=["POST"])
@org_admin_required
def check(sending_domain_id: int):
    """Check now (or Retry a failed domain): a job on the dns queue; its card polls."""
    domain = get_org_object_or_404(SendingDomain, sending_domain_id)
    try:
        job = request_check(domain, user_id=current_user.id)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return see_other(url_for("domains.show", sending_domain_id=domain.id))
    db.session.commit()
    if not wants_fragment():
        flash("Checking the DNS records: refresh in a moment to see the results.", "info")
        return see_other(url_for("domains.show", sending_domain_id=domain.id))
    card, _ = render("queue/status.html", "job_status", job=job, state=job_status(job))
    # The panel is swapped out of band so the status says "Checking" at once.
    panel, _ = _page(domain, block="domain_panel", poll=False)
    return card + panel.replace('id="domain-panel"', 'id="domain-panel" hx-swap-oob="true"', 1)


@bp.route("/<int:sending_domain_id>/activate", methods=["POST"])
@org_admin_required
def activate(sending_domain_id: int):
    """Send from this verified domain (or turn a turned-off domain back on)."""
    domain = get_org_object_or_404(SendingDomain, sending_domain_id)
    try:
        if domain.status == "deactivated":
            turn_on_domain(domain, make_active=False, user_id=current_user.id)
            message = f"{domain.display_name} is on again; its records are being checked."
        else:
            activate_domain(domain)
            message = f"The organisation's mail now comes from {domain.from_email}."
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return see_other(url_for("domains.show", sending_domain_id=domain.id))


@bp.route("/<int:sending_domain_id>/deactivate", methods=["POST"])
@org_admin_required
def deactivate(sending_domain_id: int):
    """Turn the domain off: no checks, no mail from it."""
    domain = get_org_object_or_404(SendingDomain, sending_domain_id)
    consequence = deactivate_domain(domain)
    db.session.commit()
    flash(f"{domain.display_name} is turned off. {consequence}", "success")
    return see_other(url_for("domains.show", sending_domain_id=domain.id))


@bp.route("/revert", methods=["POST"])
@org_admin_required
def revert():
    """Switch back to the previous sending domain."""
    try:
        domain = revert_identity(g.org.id)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"Switched back: the organisation's mail comes from {domain.from_email}.",
              "success")
    return see_other(url_for("domains.index"))


@bp.route("/<int:sending_domain_id>/mailbox", methods=["POST"])
@org_admin_required
def mailbox(sending_domain_id: int):
    """Rename the default mailbox."""
    domain = get_org_object_or_404(SendingDomain, sending_domain_id)
    form = MailboxForm()
    if form.validate():
        try:
            changed = rename_mailbox(domain, form.mailbox.data)
        except DomainError as exc:
            db.session.rollback()
            apply_service_error(form, exc)
        else:
            db.session.commit()
            flash(f"Mail from this domain comes from {domain.from_email}." if changed
                  else "Nothing changed.", "success")
            return see_other(url_for("domains.show", sending_domain_id=domain.id))
    return _page(domain, block="mailbox_form", status=422, mailbox_form=form)


@bp.route("/<int:sending_domain_id>/delete")
@org_admin_required
def confirm_delete(sending_domain_id: int):
    """Ask before deleting, saying what happens to the org's mail."""
    domain = get_org_object_or_404(SendingDomain, sending_domain_id)
    return render("domains/delete.html", domain=domain, consequence=removal_consequence(domain))


@bp.route("/<int:sending_domain_id>/delete", methods=["POST"])
@org_admin_required
def delete(sending_domain_id: int):
    """Delete the domain and its DKIM key."""
    domain = get_org_object_or_404(SendingDomain, sending_domain_id)
    name = domain.display_name
    consequence = delete_domain(domain)
    db.session.commit()
    flash(f"{name} was deleted. {consequence}", "success")
    return see_other(url_for("domains.index"))
