"""Operations on users: look up, create, authenticate, change profile and password."""
from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.throttle import (
    clear_account_failures,
    login_throttle_state,
    record_login_failure,
)
from portal.audit.services import record_audit
from portal.clock import utcnow
from portal.extensions import db

MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A user-facing problem with the input; `field` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    """Validate an address (syntax only, no DNS) and return its lower-cased form."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(f"Enter a valid email address ({exc})", "email") from None
    return result.normalized.lower()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"Use at least {MIN_PASSWORD_LENGTH} characters for the password", "password"
        )


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(email: str, password: str | None, display_name: str = "", *,
                platform_admin: bool = False, support_staff: bool = False) -> User:
    """Create a user; the email must be new. A None password makes an account that cannot log
    in until a password is set (through an invitation)."""
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise AccountError("A user with this email already exists", "email")
    user = User(email=email, display_name=display_name.strip(),
                is_platform_admin=platform_admin, is_support_staff=support_staff)
    if password is not None:
        check_password_strength(password)
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record_audit("user.created", org_id=None, target=user,
                 details={"platform_admin": platform_admin, "support_staff": support_staff})
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: str | None = None


def authenticate(email: str, password: str, ip: str | None) -> LoginResult:
    """Check a login attempt, applying the per-account and per-IP failure throttle."""
    state = login_throttle_state(email, ip)
    if state.blocked:
        minutes = max(1, round(state.retry_after / 60))
        return LoginResult(None, f"Too many failed sign-in attempts. Try again in {minutes} "
                                 f"minute{'s' if minutes != 1 else ''}.")
    user = find_user_by_email(email)
    if user is None or not user.check_password(password):
        record_login_failure(email, ip)
        return LoginResult(None, "Email or password is incorrect.")
    clear_account_failures(email)
    user.last_login_at = utcnow()
    return LoginResult(user)


def update_profile(user: User, display_name: str) -> None:
    """Change what others see as this user's name."""
    user.display_name = display_name.strip()
    record_audit("user.profile_updated", org_id=None, target=user)


def change_password(user: User, current: str, new: str) -> None:
    """Change a password after checking the current one; ends the user's other sessions."""
    if not user.check_password(current):
        raise AccountError("The current password is not correct", "current_password")
    check_password_strength(new)
    user.set_password(new)
    record_audit("user.password_changed", org_id=None, target=user)
