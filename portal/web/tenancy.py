"""Tenancy in one place: every org-owned object is loaded through these helpers.

An object that belongs to another organisation is reported as missing (404), never as
forbidden, so ids cannot be probed across tenants.
"""
from __future__ import annotations

from flask import abort, g
from sqlalchemy import select

from portal.extensions import db


def org_scoped(model, org=None):
    """A SELECT of `model` limited to the current (or given) organisation."""
    org = org if org is not None else g.org
    if org is None:
        abort(404)
    return select(model).where(model.org_id == org.id)


def get_org_object_or_404(model, object_id, org=None):
    """Load one org-owned row by primary key, or 404 when missing or another org's."""
    obj = db.session.scalar(org_scoped(model, org).where(model.id == object_id))
    if obj is None:
        abort(404)
    return obj
