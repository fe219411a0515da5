"""Values every template can use: the current org, the role in it, the org switcher."""
from __future__ import annotations

from flask import g
from flask_login import current_user

from portal.web.access import accessible_orgs, can_manage, can_view_settings


def register_template_context(app) -> None:
    @app.context_processor
    def shell_context():
        orgs = accessible_orgs(current_user) if current_user.is_authenticated else []
        return {
            "current_org": g.get("org"),
            "current_role": g.get("role"),
            "switchable_orgs": orgs,
            "can_manage": can_manage(),
            "can_view_settings": can_view_settings(),
        }
