"""Sending domains over the API (scope `admin`), with the same rules as the settings pages.

A domain's JSON carries the records to publish (public by nature), never the DKIM private key.
"""
from __future__ import annotations

from flask import g, jsonify

from portal.api import bp
from portal.api.auth import json_object, require_scope
from portal.domains.lifecycle import request_check, result_of, summarise, turn_on_domain
from portal.domains.models import SendingDomain
from portal.domains.records import expected_records
from portal.domains.services import (
    DomainError,
    activate_domain,
    create_domain,
    deactivate_domain,
    delete_domain,
    identity_row,
    list_domains,
)
from portal.extensions import db
from portal.web.errors import api_error
from portal.web.tenancy import get_org_object_or_404


def _iso(value):
    return value.isoformat(timespec="seconds") + "Z" if value else None


def domain_json(domain: SendingDomain) -> dict:
    row = identity_row(domain.org_id)
    summary = summarise(domain)
    records = []
    for record in expected_records(domain):
        result = result_of(domain, record.kind)
        records.append({"kind": record.kind, "type": record.type, "host": record.host,
                        "name": record.name, "value": record.value,
                        "required": record.required, "status": result.status,
                        "found": list(result.found), "message": result.message})
    return {
        "id": domain.id, "name": domain.name, "unicode_name": domain.display_name,
        "status": domain.status, "status_message": domain.status_message,
        "active": bool(row and row.active_domain_id == domain.id),
        "previous": bool(row and row.previous_domain_id == domain.id),
        "mailbox": domain.mailbox, "from_email": domain.from_email,
        "dkim_selector": domain.dkim_selector,
        "required_records": summary.required, "required_records_found": summary.found,
        "records": records,
        "last_checked_at": _iso(domain.last_checked_at),
        "next_check_at": _iso(domain.next_check_at),
        "verified_at": _iso(domain.verified_at), "created_at": _iso(domain.created_at),
    }


def _domain_or_404(domain_id: int) -> SendingDomain:
    return get_org_object_or_404(SendingDomain, domain_id)


def _refused(exc: DomainError):
    db.session.rollback()
    return api_error(422, str(exc), field=exc.field)


@bp.get("/domains")
@require_scope("admin")
def list_sending_domains():
    """The org's sending domains, by name."""
    return jsonify({"data": [domain_json(d) for d in list_domains(g.org.id)]})


@bp.post("/domains")
@require_scope("admin")
def create_sending_domain():
    """Add a domain: {"name"} → 201 with the records to publish."""
    body, error = json_object()
    if error:
        return error
    unknown = sorted(set(body) - {"name", "org"})
    if unknown:
        return api_error(422, f"Unknown field: {unknown[0]}", field=unknown[0])
    if not isinstance(body.get("name"), str):
        return api_error(422, "'name' is required: a domain name such as example.com",
                         field="name")
    try:
        domain = create_domain(g.org.id, body["name"])
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    return jsonify(domain_json(domain)), 201


@bp.get("/domains/<int:sending_domain_id>")
@require_scope("admin")
def get_sending_domain(sending_domain_id: int):
    """One domain with its records and their last check."""
    return jsonify(domain_json(_domain_or_404(sending_domain_id)))


@bp.delete("/domains/<int:sending_domain_id>")
@require_scope("admin")
def delete_sending_domain(sending_domain_id: int):
    """Delete; if it was the sending domain, mail falls back to the previous one or the
    platform."""
    delete_domain(_domain_or_404(sending_domain_id))
    db.session.commit()
    return "", 204


@bp.post("/domains/<int:sending_domain_id>/check")
@require_scope("admin")
def check_sending_domain(sending_domain_id: int):
    """Check the records now (a failed domain gets a new window) → 202 {"job_id"}."""
    domain = _domain_or_404(sending_domain_id)
    try:
        job = request_check(domain)
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    return jsonify({"job_id": job.id}), 202


@bp.post("/domains/<int:sending_domain_id>/activate")
@require_scope("admin")
def activate_sending_domain(sending_domain_id: int):
    """Send from this verified domain; a turned-off domain is turned on and checked again."""
    domain = _domain_or_404(sending_domain_id)
    try:
        if domain.status == "deactivated":
            turn_on_domain(domain, make_active=True)
        else:
            activate_domain(domain)
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    return jsonify(domain_json(domain))


@bp.post("/domains/<int:sending_domain_id>/deactivate")
@require_scope("admin")
def deactivate_sending_domain(sending_domain_id: int):
    """Turn the domain off: no checks and no mail from it."""
    domain = _domain_or_404(sending_domain_id)
    deactivate_domain(domain)
    db.session.commit()
    return jsonify(domain_json(domain))
