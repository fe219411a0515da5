"""Settings → SMTP (org admins) and My account → Personal SMTP: one set of views, two areas.

`area` is "settings" (the current org's configurations) or "account" (the signed-in person's).
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, flash, g, make_response, request, url_for
from flask_login import current_user, login_required

from portal.extensions import db
from portal.queue.services import job_status
from portal.smtp.forms import SmtpForm
from portal.smtp.models import SmtpConfiguration
from portal.smtp.services import (
    SmtpError,
    SmtpOwner,
    create_config,
    delete_config,
    get_config,
    list_configs,
    merge_params,
    primary_config,
    sender_domain_warning,
    set_enabled,
    set_primary,
    start_connection_test,
    stored_params,
    update_config,
    validate_sender,
)
from portal.smtp.test_email import start_test_email
from portal.web.access import can_manage, can_view_settings
from portal.web.render import apply_service_error, render, see_other

bp = Blueprint("smtp", __name__, url_prefix="/<any(settings, account):area>/smtp")


def smtp_area(write: bool):
    """Resolve the owner for the area and enforce who may read or change it."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(area, *args, **kwargs):
            if area == "settings":
                if g.get("org") is None:
                    abort(404)
                if not (can_manage() if write else can_view_settings()):
                    abort(403)
                owner = SmtpOwner(org_id=g.org.id)
            else:
                owner = SmtpOwner(user_id=current_user.id)
            g.smtp_owner, g.smtp_area = owner, area
            return view(owner, *args, **kwargs)
        return wrapped
    return decorator


def _config_or_404(owner: SmtpOwner, config_id: int) -> SmtpConfiguration:
    config = get_config(owner, config_id)
    if config is None:
        abort(404)
    return config


def _form(**kwargs) -> SmtpForm:
    form = SmtpForm(**kwargs)
    return form.allow_plaintext() if current_app.config["POSTROOM_SMTP_ALLOW_PLAINTEXT"] else form


def _job_org_id(owner: SmtpOwner) -> int | None:
    # Personal jobs are tracked under the current org so the status card can be polled.
    return owner.org_id if owner.org_id is not None else (g.org.id if g.get("org") else None)


def _index(owner, block=None, status=200):
    configs = list_configs(owner)
    return render("smtp/index.html", block, status=status, configs=configs,
                  primary=primary_config(owner), area=g.smtp_area,
                  editable=g.smtp_area == "account" or can_manage())


@bp.route("")
@smtp_area(write=False)
def index(owner):
    """The owner's configurations as cards, primary first."""
    return _index(owner)


def _wizard(form, config=None, status=200, block=None):
    warning = sender_domain_warning(form.from_email.data or "",
                                    form.username.data or None) if form.from_email.data else None
    # Credentials and the CA are never sent back to the browser, not even the ones just typed.
    retype = bool(form.username.data or form.password.data or form.ca_pem.data) and status == 422
    form.username.data = form.password.data = form.ca_pem.data = None
    return render("smtp/form.html", block, status=status, form=form, config=config,
                  area=g.smtp_area, warning=warning, retype=retype)


@bp.route("/new")
@smtp_area(write=True)
def new(owner):
    """Step through connection, test, sender, create."""
    return _wizard(_form())


def _params_from(form, config=None):
    return merge_params(form.host.data, form.port.data, form.security.data, form.username.data,
                        form.password.data, form.ca_pem.data, existing=config,
                        remove_ca=form.remove_ca.data)


def _invalid_form(form, config):
    """Show the whole form with its errors, even when htmx aimed at the test area."""
    response = make_response(_wizard(form, config, status=422, block="smtp_form"))
    response.headers["HX-Retarget"] = "#smtp-form"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


def _test(owner, config=None):
    form = _form()
    connection_fields = (form.host, form.port, form.security, form.username, form.password,
                         form.ca_pem, form.remove_ca)
    if all(field.validate(form) for field in connection_fields):
        try:
            job = start_connection_test(owner, _params_from(form, config),
                                        job_org_id=_job_org_id(owner), user_id=current_user.id,
                                        config=config)
        except SmtpError as exc:
            apply_service_error(form, exc)
        else:
            db.session.commit()
            return render("queue/status.html", "job_status", job=job, state=job_status(job))
    return _invalid_form(form, config)


@bp.route("/new/test", methods=["POST"])
@smtp_area(write=True)
def test_new(owner):
    """Test the connection fields of the wizard (a job; the card polls for the outcome)."""
    return _test(owner)


@bp.route("/<int:smtp_configuration_id>/test", methods=["POST"])
@smtp_area(write=True)
def test_edit(owner, smtp_configuration_id: int):
    """Test edited connection fields; blank credentials mean the stored ones."""
    return _test(owner, _config_or_404(owner, smtp_configuration_id))


def _save(owner, config=None):
    form = _form()
    if form.validate():
        try:
            sender = validate_sender(form.from_email.data, form.from_name.data)
            params = _params_from(form, config)
            if config is None:
                config = create_config(owner, sender, params, form.test_token.data)
                message = f"{config.from_email} is set up."
                if config.is_primary:
                    message += " It is the primary configuration."
            else:
                update_config(config, sender, params, form.test_token.data)
                message = f"{config.from_email} is saved."
        except SmtpError as exc:
            db.session.rollback()
            apply_service_error(form, exc)
        else:
            db.session.commit()
            flash(message, "success")
            return see_other(url_for("smtp.index", area=g.smtp_area))
    return _wizard(form, config, status=422, block="smtp_form")


@bp.route("", methods=["POST"])
@smtp_area(write=True)
def create(owner):
    """Create a configuration (refused unless these exact settings passed a recent test)."""
    return _save(owner)


@bp.route("/<int:smtp_configuration_id>/edit")
@smtp_area(write=True)
def edit(owner, smtp_configuration_id: int):
    """The wizard, filled in; username and password stay blank ("leave blank to keep")."""
    config = _config_or_404(owner, smtp_configuration_id)
    return _wizard(_form(obj=config), config)


@bp.route("/<int:smtp_configuration_id>", methods=["POST"])
@smtp_area(write=True)
def save(owner, smtp_configuration_id: int):
    """Save an edit; connection changes need a fresh passed test."""
    return _save(owner, _config_or_404(owner, smtp_configuration_id))


@bp.route("/<int:smtp_configuration_id>/primary", methods=["POST"])
@smtp_area(write=True)
def make_primary(owner, smtp_configuration_id: int):
    """Make this the primary configuration."""
    config = _config_or_404(owner, smtp_configuration_id)
    try:
        set_primary(config)
        db.session.commit()
        flash(f"{config.from_email} is now the primary configuration.", "success")
    except SmtpError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return see_other(url_for("smtp.index", area=g.smtp_area))


@bp.route("/<int:smtp_configuration_id>/enabled", methods=["POST"])
@smtp_area(write=True)
def toggle(owner, smtp_configuration_id: int):
    """Enable or disable (form field enabled=1|0)."""
    config = _config_or_404(owner, smtp_configuration_id)
    was_primary = config.is_primary
    set_enabled(config, request.form.get("enabled") == "1")
    db.session.commit()
    state = "enabled" if config.enabled else "disabled"
    note = " It was the primary, so mail now goes through the platform default." \
        if was_primary and not config.is_primary else ""
    flash(f"{config.from_email} is {state}.{note}", "success")
    return see_other(url_for("smtp.index", area=g.smtp_area))


@bp.route("/<int:smtp_configuration_id>/delete", methods=["POST"])
@smtp_area(write=True)
def delete(owner, smtp_configuration_id: int):
    """Delete a configuration."""
    config = _config_or_404(owner, smtp_configuration_id)
    email, was_primary = config.from_email, config.is_primary
    delete_config(config)
    db.session.commit()
    note = " There is no primary configuration now." if was_primary else ""
    flash(f"{email} was deleted.{note}", "success")
    return see_other(url_for("smtp.index", area=g.smtp_area))


@bp.route("/<int:smtp_configuration_id>/retest", methods=["POST"])
@smtp_area(write=True)
def retest(owner, smtp_configuration_id: int):
    """Test the saved settings again; the card shows the outcome."""
    config = _config_or_404(owner, smtp_configuration_id)
    job = start_connection_test(owner, stored_params(config), job_org_id=_job_org_id(owner),
                                user_id=current_user.id, config=config)
    db.session.commit()
    return render("queue/status.html", "job_status", job=job, state=job_status(job))


@bp.route("/<int:smtp_configuration_id>/send-test", methods=["POST"])
@smtp_area(write=True)
def send_test(owner, smtp_configuration_id: int):
    """Send a real test email to my own address through this configuration."""
    config = _config_or_404(owner, smtp_configuration_id)
    job = start_test_email(config, current_user.email, job_org_id=_job_org_id(owner),
                           user_id=current_user.id)
    db.session.commit()
    return render("queue/status.html", "job_status", job=job, state=job_status(job))
