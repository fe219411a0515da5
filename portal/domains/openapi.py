"""The sending-domain part of the OpenAPI document (portal/api/openapi.py merges it in):

    SCHEMAS.update(domain_schemas())
    paths.update(domain_paths(_operation, _json, _path_param))

Kept here, next to portal/domains/api.py, so the description changes with the routes.
"""
from __future__ import annotations

from portal.domains.models import STATUSES
from portal.domains.records import KINDS

_STRING = {"type": "string"}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_RECORD_STATUSES = ["ok", "missing", "mismatch", "lookup_failed", "not_checked"]


def _closed(properties: dict) -> dict:
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


def domain_schemas() -> dict:
    record = _closed({
        "kind": {"enum": list(KINDS)}, "type": {"enum": ["TXT", "CNAME"]},
        "host": {**_STRING, "description": "Relative to the domain; `@` is the domain itself."},
        "name": {**_STRING, "description": "The fully qualified name."},
        "value": _STRING, "required": {"type": "boolean"},
        "status": {"enum": _RECORD_STATUSES},
        "found": {"type": "array", "items": _STRING,
                  "description": "What the last check found (TXT strings joined)."},
        "message": _STRING,
    })
    domain = _closed({
        "id": {"type": "integer"},
        "name": {**_STRING, "description": "Lower-case ASCII; an IDN as punycode."},
        "unicode_name": _STRING, "status": {"enum": list(STATUSES)},
        "status_message": {"type": ["string", "null"]},
        "active": {"type": "boolean", "description": "The organisation sends from it."},
        "previous": {"type": "boolean", "description": "The one Revert switches back to."},
        "mailbox": _STRING, "from_email": {"type": "string", "format": "email"},
        "dkim_selector": _STRING, "required_records": {"type": "integer"},
        "required_records_found": {"type": "integer"},
        "records": {"type": "array", "items": {"$ref": "#/components/schemas/DomainRecord"}},
        "last_checked_at": _TIME, "next_check_at": _TIME, "verified_at": _TIME,
        "created_at": _TIME,
    })
    return {
        "DomainRecord": record, "Domain": domain,
        "DomainList": _closed({"data": {"type": "array",
                                        "items": {"$ref": "#/components/schemas/Domain"}}}),
        "DomainCreate": {"type": "object", "required": ["name"], "additionalProperties": False,
                         "properties": {"name": {**_STRING, "examples": ["example.com"]},
                                        "org": {**_STRING, "description": "Platform keys "
                                                "only: the organisation's slug."}}},
    }


def domain_paths(operation, json_response, path_param) -> dict:
    """The /domains operations, built with the document's own helpers."""
    domain_id = path_param("sending_domain_id", {"type": "integer"})
    ok = {"200": json_response("Domain", "The domain with its records.")}

    def op(operation_id, summary, **kwargs):
        return operation("domains", operation_id, summary, scopes=["admin"], **kwargs)

    return {
        "/domains": {
            "get": op("listDomains", "The organisation's sending domains.",
                      ok={"200": json_response("DomainList", "The list, by name.")}),
            "post": op("createDomain", "Add a sending domain.", body="DomainCreate",
                       ok={"201": json_response("Domain", "Added, with the records to "
                                                          "publish.")},
                       description="The name is normalised (IDN → punycode); a malformed "
                                   "name or a bare public suffix is a 422 on `name`."),
        },
        "/domains/{sending_domain_id}": {
            "get": op("getDomain", "One domain.", params=[domain_id], errors=[404], ok=ok),
            "delete": op("deleteDomain", "Delete a domain and its DKIM key.",
                         params=[domain_id], errors=[404],
                         ok={"204": {"description": "Deleted."}},
                         description="If it was the sending domain, mail comes from the "
                                     "previous verified domain, or else the platform."),
        },
        "/domains/{sending_domain_id}/check": {"post": op(
            "checkDomain", "Check the DNS records now.", params=[domain_id], errors=[404],
            ok={"202": json_response("JobAccepted", "Queued; poll GET /jobs/{job_id}.")},
            description="A failed domain gets a new verification window; a turned-off one "
                        "is a 422.")},
        "/domains/{sending_domain_id}/activate": {"post": op(
            "activateDomain", "Send from this verified domain.", params=[domain_id],
            errors=[404], ok=ok,
            description="A turned-off domain is turned on and checked again; any other "
                        "domain that is not verified is a 422 on `status`.")},
        "/domains/{sending_domain_id}/deactivate": {"post": op(
            "deactivateDomain", "Turn the domain off (no checks, no mail from it).",
            params=[domain_id], errors=[404], ok=ok)},
    }
