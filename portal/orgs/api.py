"""The organisation over the API: read it (`read`), change its settings (`admin`)."""
from __future__ import annotations

from flask import g, jsonify

from portal.api import bp
from portal.api.auth import json_object, require_scope
from portal.extensions import db
from portal.orgs.services import OrgError, update_org_settings
from portal.web.errors import api_error

EDITABLE = ("name", "logo_url", "brand_color", "footer_text")


def org_json(org) -> dict:
    return {"id": org.id, "slug": org.slug, "name": org.name, "plan": org.plan,
            "branding": {"logo_url": org.logo_url, "brand_color": org.brand_color,
                         "footer_text": org.footer_text}}


@bp.get("/org")
@require_scope("read")
def get_org():
    """The organisation this key acts for."""
    return jsonify(org_json(g.org))


@bp.patch("/org")
@require_scope("admin")
def patch_org():
    """Change name and branding; omitted fields keep their value."""
    body, error = json_object()
    if error:
        return error
    unknown = sorted(set(body) - set(EDITABLE) - {"org"})
    if unknown:
        return api_error(422, f"Unknown field: {unknown[0]}", field=unknown[0])
    values = {key: body.get(key, getattr(g.org, key)) for key in EDITABLE}
    for key, value in values.items():
        if value is not None and not isinstance(value, str):
            return api_error(422, f"'{key}' must be a string", field=key)
    if values["name"] is None:
        return api_error(422, "Enter the organisation's name", field="name")
    try:
        update_org_settings(g.org, **values)
    except OrgError as exc:
        db.session.rollback()
        return api_error(422, str(exc), field=exc.field)
    db.session.commit()
    return jsonify(org_json(g.org))
