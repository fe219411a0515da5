"""The OpenAPI 3.1 description of /api/v1, served without a key at /api/v1/openapi.json.

Written by hand next to the routes it describes; limits and enums come from the code itself.
tests/api/test_openapi.py fails when a route is added without being described here.
"""
from __future__ import annotations

from flask import jsonify

from portal.api import bp
from portal.apikeys.models import SCOPES
from portal.domains.openapi import domain_paths, domain_schemas
from portal.orgs.services import PLANS
from portal.providers.models import PROVIDERS
from portal.sending.api import MAX_BATCH, MAX_PAGE
from portal.sending.models import STATUSES
from portal.sending.validation import (
    EMAIL_TYPE_RE,
    MAX_METADATA_BYTES,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    SAFE_HEADERS,
)

VERSION = "1.0.0"

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
TIME = {"type": ["string", "null"], "format": "date-time"}
ADDRESSES = {"oneOf": [{"type": "string", "format": "email"},
                       {"type": "array", "items": {"type": "string", "format": "email"}}],
             "description": "One address or a list of addresses."}
ORG_FIELD = {"type": "string", "description": "Platform keys only: the organisation's slug."}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict, required=(), *, closed: bool = True, **extra) -> dict:
    schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def _request(properties: dict, required=(), **extra) -> dict:
    """A request body: unknown fields are refused (422), "org" is allowed for platform keys."""
    return _object({**properties, "org": ORG_FIELD}, required, **extra)


def _last_check() -> dict:
    """{"at", "code", "message"} of the last connection test or key check."""
    return _object({"at": TIME, "code": NULLABLE_STRING, "message": NULLABLE_STRING},
                   ("at", "code", "message"))


def _message(events: bool) -> dict:
    properties = {
        "id": {"type": "string", "pattern": "^msg_"}, "status": {"enum": list(STATUSES)},
        "email_type": STRING, "route": NULLABLE_STRING, "route_reason": NULLABLE_STRING,
        "provider": NULLABLE_STRING,
        "from": {"oneOf": [{"type": "null"}, _object({"email": NULLABLE_STRING,
                                                        "name": NULLABLE_STRING})]},
        "to": {"type": "array", "items": STRING}, "subject": STRING,
        "attempts": {"type": "integer"}, "provider_message_id": NULLABLE_STRING,
        "error": NULLABLE_STRING, "tags": {"type": "array", "items": STRING},
        "metadata": {"type": "object"}, "created_at": TIME, "sent_at": TIME,
    }
    if events:
        properties["events"] = {"type": "array", "items": _object(
            {"at": TIME, "type": STRING, "detail": NULLABLE_STRING}, ("at", "type", "detail"))}
    return _object(properties, properties)


SMTP_CONNECTION = {
    "host": STRING, "port": {"type": "integer", "description": "587 for starttls, 465 for tls"},
    "security": {"enum": ["starttls", "tls", "none"],
                 "description": "`none` only when the server allows plaintext."},
    "username": NULLABLE_STRING, "password": NULLABLE_STRING,
    "ca_pem": {"type": ["string", "null"],
               "description": "PEM of a private CA; null removes it."},
}
SMTP_SENDER = {"from_email": {"type": "string", "format": "email"}, "from_name": NULLABLE_STRING,
               "test_token": {"type": "string", "description": "From a passed connection test "
                              "of the same connection fields (GET /jobs/{job_id} → result)."}}

SCHEMAS = {
    "ErrorDetail": _object({"code": STRING, "message": STRING, "field": STRING},
                           ("code", "message")),
    "Error": _object({"error": _ref("ErrorDetail")}, ("error",)),
    "Org": _object({
        "id": {"type": "integer"}, "slug": STRING, "name": STRING, "plan": {"enum": list(PLANS)},
        "branding": _object({"logo_url": NULLABLE_STRING, "brand_color": NULLABLE_STRING,
                             "footer_text": NULLABLE_STRING},
                            ("logo_url", "brand_color", "footer_text")),
    }, ("id", "slug", "name", "plan", "branding")),
    "OrgUpdate": _request({"name": STRING, "logo_url": NULLABLE_STRING,
                           "brand_color": {"type": ["string", "null"], "pattern": "^#"},
                           "footer_text": NULLABLE_STRING}),
    "Job": _object({"id": STRING, "status": {"type": "string", "description":
                                             "queued, started, finished, failed or unknown"},
                    "result": {}, "error": NULLABLE_STRING}, ("id", "status", "result", "error")),
    "JobAccepted": _object({"job_id": STRING}, ("job_id",)),
    "SmtpConnection": _request(SMTP_CONNECTION, ("host", "security")),
    "SmtpConfigurationCreate": _request({**SMTP_CONNECTION, **SMTP_SENDER},
                                        ("host", "security", "from_email", "test_token")),
    "SmtpConfigurationUpdate": _request({**SMTP_CONNECTION, **SMTP_SENDER}),
    "SmtpEnabled": _object({"enabled": {"type": "boolean"}}, ("enabled",), closed=False),
    "SmtpConfiguration": _object({
        "id": {"type": "integer"}, "from_email": STRING, "from_name": NULLABLE_STRING,
        "host": STRING, "port": {"type": "integer"}, "security": STRING,
        "has_credentials": {"type": "boolean"}, "has_ca_certificate": {"type": "boolean"},
        "enabled": {"type": "boolean"}, "primary": {"type": "boolean"},
        "last_test": _last_check(), "created_at": TIME, "updated_at": TIME,
    }, ("id", "from_email", "host", "port", "security", "enabled", "primary")),
    "SmtpConfigurationList": _object({"data": {"type": "array",
                                               "items": _ref("SmtpConfiguration")}}, ("data",)),
    "Attachment": _object({"filename": {"type": "string", "maxLength": 255},
                           "content_type": {"type": "string",
                                            "default": "application/octet-stream"},
                           "content_base64": {"type": "string", "contentEncoding": "base64"}},
                          ("filename",)),
    "SendMessage": _request({
        "email_type": {"type": "string", "pattern": EMAIL_TYPE_RE.pattern,
                       "examples": ["booking.scheduled"]},
        "to": ADDRESSES, "cc": ADDRESSES, "bcc": ADDRESSES, "reply_to": ADDRESSES,
        "subject": {"type": "string", "maxLength": 998, "description": "One line."},
        "text": NULLABLE_STRING, "html": NULLABLE_STRING,
        "from": _object({"email": {"type": "string", "format": "email", "description":
                                   "On one of the org's verified sending domains."},
                         "name": {"type": "string", "maxLength": 120}}),
        "as_user": {"type": "string", "format": "email", "description":
                    "Send as this member: only through their personal SMTP."},
        "attachments": {"type": "array", "items": _ref("Attachment")},
        "headers": {"type": "object", "additionalProperties": STRING, "description":
                    "X-… headers or " + ", ".join(sorted(SAFE_HEADERS)) + "; one line each."},
        "tags": {"type": "array", "maxItems": MAX_TAGS,
                 "items": {"type": "string", "minLength": 1, "maxLength": MAX_TAG_LENGTH}},
        "metadata": {"type": "object",
                     "description": f"At most {MAX_METADATA_BYTES} bytes of JSON."},
    }, ("email_type", "to", "subject"),
        anyOf=[{"required": [part], "properties": {part: {"type": "string", "minLength": 1}}}
               for part in ("text", "html")]),
    "MessageAccepted": _object({"id": STRING, "status": {"enum": list(STATUSES)}},
                               ("id", "status")),
    "BatchRequest": _request({"messages": {"type": "array", "minItems": 1,
                                           "maxItems": MAX_BATCH,
                                           "items": _ref("SendMessage")}}, ("messages",)),
    "BatchResult": _object({"data": {"type": "array", "items": {"oneOf": [
        _object({"index": {"type": "integer"}, "id": STRING, "status": {"const": "queued"}},
                ("index", "id", "status")),
        _object({"index": {"type": "integer"}, "error": _ref("ErrorDetail")},
                ("index", "error")),
    ]}}}, ("data",)),
    "MessageSummary": _message(events=False),
    "Message": _message(events=True),
    "MessageList": _object({"data": {"type": "array", "items": _ref("MessageSummary")},
                            "next_cursor": NULLABLE_STRING}, ("data", "next_cursor")),
    "ProviderAccount": _object({
        "provider": {"enum": list(PROVIDERS)},
        "key_hint": {"type": ["string", "null"], "description": "The key's last characters."},
        "enabled": {"type": "boolean"}, "last_check": _last_check(),
        "created_at": TIME, "updated_at": TIME,
    }, ("provider", "key_hint", "enabled", "last_check", "created_at", "updated_at")),
    "ProviderUpdate": _request({"api_key": STRING, "enabled": {"type": "boolean"}}),
}

RESPONSES = {
    "Unauthorized": "No key, a malformed key or a revoked key (code `unauthorized`).",
    "Forbidden": "The key lacks the scope (code `missing_scope`).",
    "NotFound": "Nothing with this id in the organisation (or another organisation's).",
    "Conflict": "The Idempotency-Key was used with a different request body.",
    "Invalid": "Bad input; `field` names it. Also: a platform key that names no "
               "organisation, or an unknown one (`field` = `org`).",
}
STATUS_RESPONSE = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
                   422: "Invalid"}

ORG_PARAM = {"name": "org", "in": "query", "required": False, "schema": STRING,
             "description": "Platform keys only: the organisation's slug (or `org` in the "
                            "JSON body)."}

SCHEMAS.update(domain_schemas())

def _path_param(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _json(schema_name: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": _ref(schema_name)}}}


def _operation(tag: str, operation_id: str, summary: str, *, scopes, ok: dict,
               errors=(), body: str | None = None, params=(), description: str = "") -> dict:
    """One operation: 401 and 422 can always happen, 403 whenever a scope is required."""
    scope_text = (" or ".join(f"`{s}`" for s in scopes) if scopes else "any") + " scope"
    operation = {
        "tags": [tag], "operationId": operation_id, "summary": summary,
        "description": (description + "\n\n" if description else "") + f"Needs the {scope_text}.",
        "x-required-scopes": list(scopes),
        "parameters": [*params, ORG_PARAM],
        "responses": dict(ok),
    }
    if body:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": _ref(body)}}}
    statuses = {401, 422, *errors} | ({403} if scopes else set())
    for status in sorted(statuses):
        operation["responses"][str(status)] = {
            "$ref": f"#/components/responses/{STATUS_RESPONSE[status]}"}
    return operation


SMTP_ID = _path_param("smtp_configuration_id", {"type": "integer"})
MESSAGE_ID = _path_param("message_id", {"type": "string", "pattern": "^msg_"})
PROVIDER = _path_param("provider", {"enum": list(PROVIDERS)})
NO_CONTENT = {"204": {"description": "Deleted."}}
IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": False,
                   "schema": {"type": "string", "maxLength": 255},
                   "description": "Retries with the same key and body within 24 hours return "
                                  "the first message instead of sending again; the same key "
                                  "with another body is 409."}
LIST_FILTERS = [
    _query("status", {"enum": list(STATUSES)}, "Only messages in this status."),
    _query("email_type", STRING, "Only this email type."),
    _query("recipient", {"type": "string", "format": "email"}, "Sent to this address "
           "(to, cc or bcc)."),
    _query("since", {"type": "string", "format": "date-time"}, "Created at or after."),
    _query("until", {"type": "string", "format": "date-time"}, "Created before."),
    _query("cursor", {"type": "string", "pattern": "^[0-9]+$"},
           "`next_cursor` of the previous page."),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 50},
           "Page size."),
]


def _paths() -> dict:
    smtp_ok = {"200": _json("SmtpConfiguration", "The configuration.")}
    job_accepted = {"202": _json("JobAccepted", "Queued; poll GET /jobs/{job_id}.")}
    provider_ok = {"200": _json("ProviderAccount", "The account; never the key itself.")}
    return {
        "/openapi.json": {"get": {
            "tags": ["meta"], "operationId": "getOpenApi", "summary": "This document.",
            "description": "Needs no API key.", "security": [],
            "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                                  "content": {"application/json": {"schema": {
                                      "type": "object"}}}}}}},
        "/org": {
            "get": _operation("org", "getOrg", "The organisation this key acts for.",
                              scopes=["read"], ok={"200": _json("Org", "The organisation.")}),
            "patch": _operation("org", "updateOrg", "Change name and branding.",
                                scopes=["admin"], body="OrgUpdate",
                                ok={"200": _json("Org", "The changed organisation.")},
                                description="Omitted fields keep their value."),
        },
        "/jobs/{job_id}": {"get": _operation(
            "jobs", "getJob", "One of the organisation's background jobs.", scopes=[],
            params=[_path_param("job_id", STRING)], errors=[404],
            ok={"200": _json("Job", "Its status, and its result once finished.")})},
        "/smtp-configurations": {
            "get": _operation("smtp", "listSmtpConfigurations", "The org's configurations, "
                              "primary first.", scopes=["admin"],
                              ok={"200": _json("SmtpConfigurationList", "The list.")}),
            "post": _operation("smtp", "createSmtpConfiguration", "Create a configuration.",
                               scopes=["admin"], body="SmtpConfigurationCreate",
                               ok={"201": _json("SmtpConfiguration", "Created.")},
                               description="Refused (422) unless `test_token` comes from a "
                                           "passed test of these exact connection fields."),
        },
        "/smtp-configurations/test": {"post": _operation(
            "smtp", "testSmtpConnection", "Queue a connection test.", scopes=["admin"],
            body="SmtpConnection", ok=job_accepted,
            description="The job's result is {ok, code, message, server_reply, test_token}.")},
        "/smtp-configurations/{smtp_configuration_id}": {
            "get": _operation("smtp", "getSmtpConfiguration", "One configuration.",
                              scopes=["admin"], params=[SMTP_ID], errors=[404], ok=smtp_ok),
            "patch": _operation("smtp", "updateSmtpConfiguration", "Change a configuration.",
                                scopes=["admin"], params=[SMTP_ID], errors=[404],
                                body="SmtpConfigurationUpdate", ok=smtp_ok,
                                description="Omitted fields keep their value; new connection "
                                            "fields need `test_token`."),
            "delete": _operation("smtp", "deleteSmtpConfiguration", "Delete a configuration.",
                                 scopes=["admin"], params=[SMTP_ID], errors=[404],
                                 ok=NO_CONTENT),
        },
        "/smtp-configurations/{smtp_configuration_id}/primary": {"post": _operation(
            "smtp", "setPrimarySmtpConfiguration", "Make it the org's primary.",
            scopes=["admin"], params=[SMTP_ID], errors=[404], ok=smtp_ok)},
        "/smtp-configurations/{smtp_configuration_id}/enabled": {"post": _operation(
            "smtp", "setSmtpConfigurationEnabled", "Enable or disable it.", scopes=["admin"],
            params=[SMTP_ID], errors=[404], body="SmtpEnabled", ok=smtp_ok,
            description="Disabling the primary leaves the org with none (platform mail).")},
        "/messages": {
            "get": _operation("messages", "listMessages", "The delivery log, newest first.",
                              scopes=["read"], params=LIST_FILTERS,
                              ok={"200": _json("MessageList", "One page.")}),
            "post": _operation("messages", "sendMessage", "Accept one message for delivery.",
                               scopes=["send"], params=[IDEMPOTENCY_KEY], body="SendMessage",
                               errors=[409], ok={"202": _json("MessageAccepted", "Accepted.")}),
        },
        "/messages/batch": {"post": _operation(
            "messages", "sendBatch", f"Accept up to {MAX_BATCH} messages.", scopes=["send"],
            body="BatchRequest", ok={"202": _json("BatchResult", "One result per item.")},
            description="Valid items are accepted whatever happens to the others; an invalid "
                        "item's result carries its error. No Idempotency-Key.")},
        "/messages/{message_id}": {"get": _operation(
            "messages", "getMessage", "One message with its event timeline.",
            scopes=["read", "send"], params=[MESSAGE_ID], errors=[404],
            ok={"200": _json("Message", "The message.")})},
        "/providers/{provider}": {
            "get": _operation("providers", "getProvider", "The saved provider account.",
                              scopes=["admin"], params=[PROVIDER], errors=[404],
                              ok=provider_ok),
            "put": _operation("providers", "putProvider", "Save or replace the key; enable or "
                              "disable.", scopes=["admin"], params=[PROVIDER],
                              body="ProviderUpdate",
                              ok={**provider_ok, "201": _json("ProviderAccount", "Created.")},
                              description="A new account needs `api_key` and starts disabled "
                                          "unless `enabled` is true; enabling one provider "
                                          "disables the other."),
            "delete": _operation("providers", "deleteProvider", "Delete the key.",
                                 scopes=["admin"], params=[PROVIDER], errors=[404],
                                 ok=NO_CONTENT),
        },
        "/providers/{provider}/check": {"post": _operation(
            "providers", "checkProvider", "Queue a check of the saved key.", scopes=["admin"],
            params=[PROVIDER], errors=[404], ok=job_accepted,
            description="The job's result is {ok, code, message}.")},
        **domain_paths(_operation, _json, _path_param),
    }


def build_document() -> dict:
    """The whole OpenAPI 3.1 document, as a dict."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Postroom API", "version": VERSION, "description": (
            "Outbound email for multi-tenant SaaS products. Every error has one shape, "
            "`{\"error\": {\"code\", \"message\", \"field\"}}`. Scopes: "
            + ", ".join(SCOPES) + "; `x-required-scopes` lists the scopes any one of which "
            "allows an operation (empty: any key of the organisation). A platform key names "
            "the organisation with `?org=<slug>` or `\"org\"` in the JSON body.")},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "An API key: `Authorization: "
                                                          "Bearer pr_…`."}},
            "schemas": SCHEMAS,
            "responses": {name: _json("Error", text) for name, text in RESPONSES.items()},
        },
    }


@bp.get("/openapi.json")
def openapi():
    """This API's OpenAPI 3.1 document; public, so tools can read it without a key."""
    return jsonify(build_document())
