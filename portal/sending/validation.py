"""Check a send request field by field; every problem names its field (422 with the field)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

ALLOWED_FIELDS = {"email_type", "to", "cc", "bcc", "reply_to", "subject", "html", "text", "from",
                  "as_user", "attachments", "headers", "tags", "metadata", "org"}
EMAIL_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9-]{1,76}$")
# Headers an app may set. Addressing, identity and MIME structure are Postroom's to write.
SAFE_HEADERS = {"list-unsubscribe", "list-unsubscribe-post", "in-reply-to", "references",
                "auto-submitted", "precedence", "list-id"}
MAX_TAGS, MAX_TAG_LENGTH, MAX_METADATA_BYTES = 10, 64, 2048


class FieldError(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Limits:
    max_recipients: int
    max_bytes: int


def request_hash(payload: dict) -> str:
    """Identifies a request body for idempotency: same key + same hash = the same message."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _address(value, field: str) -> str:
    if not isinstance(value, str):
        raise FieldError("Each address must be a string", field)
    if "\r" in value or "\n" in value:
        raise FieldError("Addresses cannot contain line breaks", field)
    try:
        # Syntax only: no DNS on the request path.
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise FieldError(f"{value!r} is not a valid email address: {exc}", field) from None


def _addresses(payload: dict, field: str, required: bool = False) -> list[str]:
    value = payload.get(field)
    if value is None:
        if required:
            raise FieldError("Give at least one recipient", field)
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise FieldError("Give a list of addresses", field)
    if required and not value:
        raise FieldError("Give at least one recipient", field)
    return [_address(item, field) for item in value]


def _text(payload: dict, field: str, *, required=False, max_length=None, single_line=False):
    value = payload.get(field)
    if value is None:
        if required:
            raise FieldError(f"'{field}' is required", field)
        return None
    if not isinstance(value, str):
        raise FieldError(f"'{field}' must be a string", field)
    if single_line and ("\r" in value or "\n" in value):
        raise FieldError(f"'{field}' cannot contain line breaks", field)
    if max_length and len(value) > max_length:
        raise FieldError(f"'{field}' is longer than {max_length} characters", field)
    return value


def _sender(payload: dict) -> dict | None:
    value = payload.get("from")
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"email", "name"}:
        raise FieldError("'from' must be {\"email\", \"name\"}", "from")
    email = _address(value.get("email"), "from.email") if value.get("email") else None
    name = _text(value, "name", max_length=120, single_line=True)
    return {"email": email, "name": name}


def _headers(payload: dict) -> dict:
    value = payload.get("headers") or {}
    if not isinstance(value, dict):
        raise FieldError("'headers' must be an object of name → value", "headers")
    clean = {}
    for name, text in value.items():
        field = f"headers.{name}"
        if not HEADER_NAME_RE.match(name) or not (
                name.lower().startswith("x-") or name.lower() in SAFE_HEADERS):
            raise FieldError(f"Header {name!r} cannot be set; use X-… headers or one of "
                             f"{', '.join(sorted(SAFE_HEADERS))}", field)
        if not isinstance(text, str) or "\r" in text or "\n" in text or len(text) > 998:
            raise FieldError(f"Header {name!r} must be one line of at most 998 characters",
                             field)
        clean[name] = text
    return clean


def _attachments(payload: dict) -> tuple[list[dict], int]:
    value = payload.get("attachments") or []
    if not isinstance(value, list):
        raise FieldError("'attachments' must be a list", "attachments")
    clean, total = [], 0
    for index, item in enumerate(value):
        field = f"attachments[{index}]"
        if not isinstance(item, dict) or set(item) - {"filename", "content_type",
                                                      "content_base64"}:
            raise FieldError("Each attachment is {filename, content_type, content_base64}",
                             field)
        filename = _text(item, "filename", required=True, max_length=255, single_line=True)
        if "/" in filename or "\\" in filename or not filename.strip():
            raise FieldError("The filename cannot contain a path", f"{field}.filename")
        content_type = item.get("content_type") or "application/octet-stream"
        if not isinstance(content_type, str) or not re.match(r"^[\w.+-]+/[\w.+-]+$",
                                                             content_type):
            raise FieldError("content_type must look like type/subtype",
                             f"{field}.content_type")
        try:
            size = len(base64.b64decode(item.get("content_base64") or "", validate=True))
        except (binascii.Error, TypeError, ValueError):
            raise FieldError("content_base64 is not valid base64",
                             f"{field}.content_base64") from None
        total += size
        clean.append({"filename": filename, "content_type": content_type,
                      "content_base64": item["content_base64"]})
    return clean, total


def validate_message(payload, limits: Limits) -> dict:
    """The request as it will be stored and sent, or FieldError naming the first bad field."""
    if not isinstance(payload, dict):
        raise FieldError("Each message must be a JSON object", "body")
    unknown = sorted(set(payload) - ALLOWED_FIELDS)
    if unknown:
        raise FieldError(f"Unknown field: {unknown[0]}", unknown[0])
    email_type = _text(payload, "email_type", required=True)
    if not EMAIL_TYPE_RE.match(email_type):
        raise FieldError("email_type is lower-case letters, digits, '.', '_' or '-', such as "
                         "booking.scheduled", "email_type")
    to, cc, bcc = (_addresses(payload, "to", required=True), _addresses(payload, "cc"),
                   _addresses(payload, "bcc"))
    if len(to) + len(cc) + len(bcc) > limits.max_recipients:
        raise FieldError(f"At most {limits.max_recipients} recipients per message (to, cc and "
                         "bcc together)", "to")
    subject = _text(payload, "subject", required=True, max_length=998, single_line=True)
    html, text = _text(payload, "html"), _text(payload, "text")
    if not html and not text:
        raise FieldError("Give 'html', 'text' or both", "text")
    attachments, attachment_bytes = _attachments(payload)
    size = attachment_bytes + len((html or "").encode()) + len((text or "").encode())
    if size > limits.max_bytes:
        raise FieldError(f"The message is {size} bytes; the limit is {limits.max_bytes}",
                         "attachments" if attachment_bytes else "html")
    tags = payload.get("tags") or []
    if not isinstance(tags, list) or len(tags) > MAX_TAGS or not all(
            isinstance(t, str) and 0 < len(t) <= MAX_TAG_LENGTH for t in tags):
        raise FieldError(f"'tags' is a list of at most {MAX_TAGS} strings of up to "
                         f"{MAX_TAG_LENGTH} characters", "tags")
    metadata = payload.get("metadata") or {}
    if not isinstance(metadata, dict) or len(json.dumps(metadata)) > MAX_METADATA_BYTES:
        raise FieldError(f"'metadata' is a JSON object of at most {MAX_METADATA_BYTES} bytes",
                         "metadata")
    as_user = _address(payload["as_user"], "as_user") if payload.get("as_user") else None
    return {"email_type": email_type, "to": to, "cc": cc, "bcc": bcc,
            "reply_to": _addresses(payload, "reply_to"), "subject": subject, "html": html,
            "text": text, "from": _sender(payload), "as_user": as_user,
            "attachments": attachments, "headers": _headers(payload), "tags": tags,
            "metadata": metadata}
