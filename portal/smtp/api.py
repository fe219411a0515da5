"""SMTP configurations over the API (scope `admin`), with the same rules as the wizard.

Responses never contain the username, password or CA certificate.
"""
from __future__ import annotations

from flask import abort, g, jsonify, request

from portal.api import bp
from portal.api.auth import json_object, require_scope
from portal.extensions import db
from portal.smtp.models import SmtpConfiguration
from portal.smtp.services import (
    SmtpError,
    SmtpOwner,
    create_config,
    delete_config,
    get_config,
    list_configs,
    merge_params,
    set_enabled,
    set_primary,
    start_connection_test,
    stored_params,
    update_config,
    validate_sender,
)
from portal.web.errors import api_error

CONNECTION_FIELDS = ("host", "port", "security", "username", "password", "ca_pem")
ALL_FIELDS = CONNECTION_FIELDS + ("from_email", "from_name", "test_token")


def config_json(config: SmtpConfiguration) -> dict:
    return {
        "id": config.id, "from_email": config.from_email, "from_name": config.from_name,
        "host": config.host, "port": config.port, "security": config.security,
        "has_credentials": config.has_credentials, "has_ca_certificate": bool(config.ca_pem),
        "enabled": config.enabled, "primary": config.is_primary,
        "last_test": {"at": _iso(config.last_tested_at), "code": config.last_test_code,
                      "message": config.last_test_message},
        "created_at": _iso(config.created_at), "updated_at": _iso(config.updated_at),
    }


def _iso(value):
    return value.isoformat(timespec="seconds") + "Z" if value else None


class _BodyError(Exception):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def _owner() -> SmtpOwner:
    return SmtpOwner(org_id=g.org.id)


def _config_or_404(config_id: int) -> SmtpConfiguration:
    config = get_config(_owner(), config_id)
    if config is None:
        abort(404)
    return config


def _read_body(allowed) -> dict:
    body, error = json_object()
    if error:
        raise _BodyError("Send a JSON object with Content-Type: application/json.", "body")
    unknown = sorted(set(body) - set(allowed) - {"org"})
    if unknown:
        raise _BodyError(f"Unknown field: {unknown[0]}", unknown[0])
    for key, value in body.items():
        if key == "port":
            if not isinstance(value, int) or isinstance(value, bool):
                raise _BodyError("'port' must be an integer", "port")
        elif key != "org" and value is not None and not isinstance(value, str):
            raise _BodyError(f"'{key}' must be a string", key)
    return body


def _params(body: dict, existing: SmtpConfiguration | None = None):
    base = stored_params(existing) if existing else None
    def pick(key, default=None):
        if key in body:
            return body[key]
        return getattr(base, key) if base else default
    for key in ("host", "security"):
        if not pick(key):
            raise _BodyError(f"'{key}' is required", key)
    security = pick("security")
    port = pick("port", {"starttls": 587, "tls": 465}.get(security, 25))
    return merge_params(pick("host"), port, security, body.get("username"),
                        body.get("password"), body.get("ca_pem"), existing=existing,
                        remove_ca="ca_pem" in body and not body["ca_pem"])


def _handle(action):
    try:
        return action()
    except _BodyError as exc:
        db.session.rollback()
        return api_error(422, str(exc), field=exc.field)
    except SmtpError as exc:
        db.session.rollback()
        return api_error(422, str(exc), field=exc.field)


@bp.get("/smtp-configurations")
@require_scope("admin")
def list_smtp_configurations():
    """The org's configurations, primary first."""
    return jsonify({"data": [config_json(c) for c in list_configs(_owner())]})


@bp.get("/smtp-configurations/<int:smtp_configuration_id>")
@require_scope("admin")
def get_smtp_configuration(smtp_configuration_id: int):
    """One configuration."""
    return jsonify(config_json(_config_or_404(smtp_configuration_id)))


@bp.post("/smtp-configurations/test")
@require_scope("admin")
def test_smtp_connection():
    """Queue a connection test → 202 {"job_id"}; poll /api/v1/jobs/<job_id> for the outcome."""
    def action():
        body = _read_body(CONNECTION_FIELDS)
        job = start_connection_test(_owner(), _params(body), job_org_id=g.org.id, user_id=None)
        db.session.commit()
        return jsonify({"job_id": job.id}), 202
    return _handle(action)


@bp.post("/smtp-configurations")
@require_scope("admin")
def create_smtp_configuration():
    """Create; `test_token` from a passed test of the same connection fields is required."""
    def action():
        body = _read_body(ALL_FIELDS)
        sender = validate_sender(body.get("from_email") or "", body.get("from_name") or "")
        config = create_config(_owner(), sender, _params(body), body.get("test_token"))
        db.session.commit()
        return jsonify(config_json(config)), 201
    return _handle(action)


@bp.patch("/smtp-configurations/<int:smtp_configuration_id>")
@require_scope("admin")
def patch_smtp_configuration(smtp_configuration_id: int):
    """Change fields; omitted ones keep their value. New connection fields need `test_token`."""
    config = _config_or_404(smtp_configuration_id)

    def action():
        body = _read_body(ALL_FIELDS)
        sender = validate_sender(body.get("from_email", config.from_email),
                                 body.get("from_name", config.from_name))
        update_config(config, sender, _params(body, config), body.get("test_token"))
        db.session.commit()
        return jsonify(config_json(config))
    return _handle(action)


@bp.delete("/smtp-configurations/<int:smtp_configuration_id>")
@require_scope("admin")
def delete_smtp_configuration(smtp_configuration_id: int):
    """Delete; deleting the primary leaves the org with none (platform mail)."""
    delete_config(_config_or_404(smtp_configuration_id))
    db.session.commit()
    return "", 204


@bp.post("/smtp-configurations/<int:smtp_configuration_id>/primary")
@require_scope("admin")
def primary_smtp_configuration(smtp_configuration_id: int):
    """Make this the org's primary configuration."""
    config = _config_or_404(smtp_configuration_id)

    def action():
        set_primary(config)
        db.session.commit()
        return jsonify(config_json(config))
    return _handle(action)


@bp.post("/smtp-configurations/<int:smtp_configuration_id>/enabled")
@require_scope("admin")
def enable_smtp_configuration(smtp_configuration_id: int):
    """{"enabled": bool}; disabling the primary leaves the org with none."""
    config = _config_or_404(smtp_configuration_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("enabled"), bool):
        return api_error(422, "Send {\"enabled\": true} or {\"enabled\": false}", field="enabled")
    set_enabled(config, body["enabled"])
    db.session.commit()
    return jsonify(config_json(config))
