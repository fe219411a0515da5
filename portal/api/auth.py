"""Bearer-key authentication and scope checks for every /api/v1 request."""
from __future__ import annotations

from functools import wraps

from flask import g, request

from portal.api import bp
from portal.apikeys.services import find_active_key, note_key_used
from portal.extensions import db
from portal.orgs.services import find_org_by_slug
from portal.web.errors import api_error


@bp.before_request
def authenticate_key():
    if request.endpoint == "api.openapi":
        return None  # the API's description is public: tools fetch it before they have a key
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return api_error(401, "Send an API key as 'Authorization: Bearer <key>'.")
    key = find_active_key(secret.strip())
    if key is None:
        return api_error(401, "This API key is not valid or has been revoked.")
    g.api_key = key
    g.role = None
    if key.org_id is not None:
        g.org = key.org
    else:
        # A platform key acts for the org it names in each request.
        body = request.get_json(silent=True) if request.is_json else None
        slug = request.args.get("org") or (body.get("org") if isinstance(body, dict) else None)
        if not isinstance(slug, str) or not slug:
            return api_error(422, "A platform key must name the organisation: 'org' (slug).",
                             field="org")
        g.org = find_org_by_slug(slug)
        if g.org is None:
            return api_error(422, "No organisation has this slug.", field="org")
    last_used = key.last_used_at
    note_key_used(key)
    if key.last_used_at != last_used:
        db.session.commit()


def require_scope(scope: str):
    """Refuse (403) a key that lacks `scope`."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not g.api_key.has_scope(scope):
                return api_error(403, f"This API key lacks the '{scope}' scope.",
                                 code="missing_scope")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def json_object():
    """The request body as a JSON object, or an error response to return."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None, api_error(422, "Send a JSON object with Content-Type: application/json.",
                               field="body")
    return body, None
