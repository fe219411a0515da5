"""Building the Flask app: extensions, blueprints, CLI, error pages."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import Config
from portal.extensions import csrf, db, htmx, login_manager, migrate


def create_app(config=None) -> Flask:
    """Build the app. `config` is a Config instance, a dict of overrides, or None (environment)."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    if config is None or isinstance(config, dict):
        overrides = config or {}
        config = Config()
        app.config.from_mapping(config.as_dict())
        app.config.from_mapping(overrides)
    else:
        app.config.from_mapping(config.as_dict())
    app.instance_path = app.config["INSTANCE_PATH"]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if app.config["TRUSTED_PROXY_COUNT"]:
        n = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    htmx.init_app(app)
    _init_login(app)
    _register_models()
    _register_blueprints(app)
    _register_cli(app)

    from portal.web.errors import register_error_handlers
    from portal.web.context import register_template_context

    register_error_handlers(app)
    register_template_context(app)
    return app


def _migrations_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "migrations"


def _init_login(app: Flask) -> None:
    from portal.accounts.models import User
    from portal.web.access import load_current_org

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        # The id carries the session version so a password change signs out other sessions.
        try:
            pk, version = (int(part) for part in user_id.split(":"))
        except ValueError:
            return None
        user = db.session.get(User, pk)
        return user if user is not None and user.session_version == version else None

    @app.before_request
    def resolve_org():
        # API requests take their org from the key (portal.api.auth); static files need none.
        if request.path.startswith("/api/") or request.endpoint == "static":
            g.org, g.role = None, None
        else:
            load_current_org()


def _register_models() -> None:
    # Importing the models registers them on the metadata (Alembic sees every table).
    import portal.accounts.models  # noqa: F401
    import portal.apikeys.models  # noqa: F401
    import portal.audit.models  # noqa: F401
    import portal.domains.models  # noqa: F401
    import portal.orgs.models  # noqa: F401
    import portal.providers.models  # noqa: F401
    import portal.queue.models  # noqa: F401
    import portal.sending.models  # noqa: F401
    import portal.smtp.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from portal.accounts.views import bp as accounts_bp
    from portal.admin.views import bp as admin_bp
    from portal.api import bp as api_bp
    from portal.apikeys.views import bp as apikeys_bp
    from portal.audit.views import bp as audit_bp
    from portal.domains.views import bp as domains_bp
    from portal.orgs.member_views import bp as members_bp
    from portal.orgs.views import bp as orgs_bp
    from portal.providers.views import bp as providers_bp
    from portal.queue.views import bp as queue_bp
    from portal.smtp.views import bp as smtp_bp
    from portal.system.views import bp as system_bp

    for bp in (accounts_bp, admin_bp, apikeys_bp, audit_bp, members_bp, orgs_bp, queue_bp,
               smtp_bp, system_bp, providers_bp, domains_bp):
        app.register_blueprint(bp)
    csrf.exempt(api_bp)  # bearer-key authentication; no cookies, so no CSRF
    app.register_blueprint(api_bp)


def _register_cli(app: Flask) -> None:
    from portal.cli import register_commands

    register_commands(app)
