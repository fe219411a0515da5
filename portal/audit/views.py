"""The audit log of the current organisation, newest first."""
from __future__ import annotations

from flask import Blueprint, g, request

from portal.audit.services import audit_page
from portal.web.access import org_viewer_required
from portal.web.render import render

bp = Blueprint("audit", __name__)


@bp.route("/settings/audit")
@org_viewer_required
def index():
    """One page of audit events; `before` is the keyset cursor, `action` an optional filter."""
    before = request.args.get("before", type=int)
    action = (request.args.get("action") or "").strip() or None
    page = audit_page(g.org, before=before, action=action)
    return render("audit/index.html", "audit_rows", page=page, action=action)
