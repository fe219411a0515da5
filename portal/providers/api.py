"""The org's provider keys over the API (scope `admin`). Responses never contain the key."""
from __future__ import annotations

from flask import g, jsonify

from portal.api import bp
from portal.api.auth import json_object, require_scope
from portal.extensions import db
from portal.providers.models import PROVIDER_LABELS, ProviderAccount
from portal.providers.services import (
    ProviderError,
    delete_provider,
    get_provider_account,
    save_provider_key,
    set_provider_enabled,
    start_key_check,
)
from portal.web.errors import api_error

PROVIDER_PATH = "/providers/<any(sendgrid, resend):provider>"


def account_json(account: ProviderAccount) -> dict:
    return {
        "provider": account.provider, "key_hint": account.key_hint or None,
        "enabled": account.enabled,
        "last_check": {"at": _iso(account.last_checked_at), "code": account.last_check_code,
                       "message": account.last_check_message},
        "created_at": _iso(account.created_at), "updated_at": _iso(account.updated_at),
    }


def _iso(value):
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _missing(provider: str):
    return api_error(404, f"No {PROVIDER_LABELS[provider]} key is saved.")


@bp.get(PROVIDER_PATH)
@require_scope("admin")
def get_provider(provider: str):
    """The saved account: its key's last four characters, whether it is in use, last check."""
    account = get_provider_account(g.org, provider)
    return jsonify(account_json(account)) if account else _missing(provider)


@bp.put(PROVIDER_PATH)
@require_scope("admin")
def put_provider(provider: str):
    """{"api_key"?, "enabled"?}: save or replace the key, enable (disabling the other) or
    disable. A new account needs "api_key"; it starts disabled unless "enabled" is true."""
    body, error = json_object()
    if error:
        return error
    unknown = sorted(set(body) - {"api_key", "enabled", "org"})
    if unknown:
        return api_error(422, f"Unknown field: {unknown[0]}", field=unknown[0])
    if "api_key" in body and not isinstance(body["api_key"], str):
        return api_error(422, "'api_key' must be a string", field="api_key")
    if "enabled" in body and not isinstance(body["enabled"], bool):
        return api_error(422, "'enabled' must be true or false", field="enabled")
    account = get_provider_account(g.org, provider)
    created = account is None
    try:
        if "api_key" in body or account is None:
            account = save_provider_key(g.org, provider, body.get("api_key") or "")
        if "enabled" in body:
            set_provider_enabled(account, body["enabled"])
    except ProviderError as exc:
        db.session.rollback()
        return api_error(422, str(exc), field=exc.field)
    db.session.commit()
    return jsonify(account_json(account)), 201 if created else 200


@bp.delete(PROVIDER_PATH)
@require_scope("admin")
def delete_provider_account(provider: str):
    """Delete the key; if it was in use, mail stops going through this provider."""
    account = get_provider_account(g.org, provider)
    if account is None:
        return _missing(provider)
    delete_provider(account)
    db.session.commit()
    return "", 204


@bp.post(PROVIDER_PATH + "/check")
@require_scope("admin")
def check_provider(provider: str):
    """Queue a key check → 202 {"job_id"}; the job's result is {"ok", "code", "message"}."""
    account = get_provider_account(g.org, provider)
    if account is None:
        return _missing(provider)
    job = start_key_check(account, None)
    db.session.commit()
    return jsonify({"job_id": job.id}), 202
