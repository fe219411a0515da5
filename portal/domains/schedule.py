"""When the next automatic check of a domain runs, and when its verification window closes."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

FIRST_RECHECK_MINUTES = 5


def backoff_delay(step: int) -> timedelta:
    """About 5, 10, 20, 40 minutes, then every POSTROOM_DOMAIN_CHECK_MAX_MINUTES."""
    ceiling = current_app.config["POSTROOM_DOMAIN_CHECK_MAX_MINUTES"]
    return timedelta(minutes=min(FIRST_RECHECK_MINUTES * 2 ** min(step, 20), ceiling))


def recheck_delay() -> timedelta:
    """How long a verified domain waits before its records are looked at again."""
    return timedelta(hours=current_app.config["POSTROOM_DOMAIN_RECHECK_HOURS"])


def verify_window() -> timedelta:
    return timedelta(days=current_app.config["POSTROOM_DOMAIN_VERIFY_WINDOW"])


def window_end(started_at: datetime) -> datetime:
    return started_at + verify_window()


def window_text() -> str:
    """The window in words, as the failure message and the page say it ("7 days")."""
    window = verify_window()
    if window >= timedelta(days=1) and window % timedelta(days=1) == timedelta(0):
        days = window.days
        return f"{days} day{'s' if days != 1 else ''}"
    hours = round(window / timedelta(hours=1), 1)
    return f"{hours:g} hour{'s' if hours != 1 else ''}"
