"""Sign in, sign out, and "my account"."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts.forms import LoginForm, PasswordForm, ProfileForm
from portal.accounts.services import AccountError, authenticate, change_password, update_profile
from portal.extensions import db
from portal.web.render import apply_service_error, render, see_other

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing aid.
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc:
        return target
    return url_for("orgs.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign-in form; throttled per account and per IP after repeated failures."""
    if current_user.is_authenticated:
        return redirect(url_for("orgs.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        result = authenticate(form.email.data, form.password.data, request.remote_addr)
        if result.user is not None:
            db.session.commit()
            session.clear()
            login_user(result.user)
            return see_other(_safe_next(request.args.get("next")))
        form.form_errors.append(result.error)
    status = 422 if form.errors or form.form_errors else 200
    return render("accounts/login.html", "login_form", status=status, form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out and forget the session."""
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"), code=303)


def _account_page(profile_form=None, password_form=None, block=None, status=200):
    return render("accounts/account.html", block, status=status,
                  profile_form=profile_form or ProfileForm(obj=current_user),
                  password_form=password_form or PasswordForm())


@bp.route("/account")
@login_required
def account():
    """My account: display name and password."""
    return _account_page()


@bp.route("/account/profile", methods=["POST"])
@login_required
def save_profile():
    """Change my display name."""
    form = ProfileForm()
    if not form.validate():
        return _account_page(profile_form=form, block="profile_form", status=422)
    update_profile(current_user, form.display_name.data or "")
    db.session.commit()
    flash("Your profile is saved.", "success")
    return see_other(url_for("accounts.account"))


@bp.route("/account/password", methods=["POST"])
@login_required
def save_password():
    """Change my password; other sessions are signed out, this one stays."""
    form = PasswordForm()
    if form.validate():
        try:
            user = current_user._get_current_object()
            change_password(user, form.current_password.data, form.new_password.data)
        except AccountError as exc:
            apply_service_error(form, exc)
        else:
            db.session.commit()
            login_user(user)  # re-issue this session with the new session version
            flash("Your password is changed. Other sessions were signed out.", "success")
            return see_other(url_for("accounts.account"))
    return _account_page(password_form=form, block="password_form", status=422)
