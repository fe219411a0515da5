"""The send API: accept messages (scope `send`), read the delivery log (scope `read`)."""
from __future__ import annotations

from datetime import datetime

from flask import g, jsonify, request
from sqlalchemy import select

from portal.api import bp
from portal.api.auth import require_scope
from portal.extensions import db
from portal.sending.accept import IdempotencyConflict, accept_batch, accept_message
from portal.sending.bulk import WRITE_CONFLICTS
from portal.sending.models import STATUSES, Message, MessageRecipient
from portal.sending.validation import FieldError
from portal.web.errors import api_error

MAX_BATCH = 500
MAX_PAGE = 200


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def message_json(message: Message, *, events: bool = True) -> dict:
    body = {
        "id": message.public_id, "status": message.status, "email_type": message.email_type,
        "route": message.route, "route_reason": message.route_reason,
        "provider": message.provider,
        "from": {"email": message.from_email, "name": message.from_name}
        if message.from_email else None,
        "to": message.to, "subject": message.subject, "attempts": message.attempts,
        "provider_message_id": message.provider_message_id, "error": message.error,
        "tags": message.tags, "metadata": message.meta,
        "created_at": _iso(message.created_at), "sent_at": _iso(message.sent_at),
    }
    if events:
        body["events"] = [{"at": _iso(e.created_at), "type": e.kind, "detail": e.detail}
                          for e in message.events]
    return body


def _require_any_scope(*scopes):
    if not any(g.api_key.has_scope(scope) for scope in scopes):
        return api_error(403, f"This API key needs one of the scopes: {', '.join(scopes)}.",
                         code="missing_scope")
    return None


@bp.post("/messages")
@require_scope("send")
def send_message():
    """Accept one message → 202 {"id", "status"}; `Idempotency-Key` makes retries safe."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return api_error(422, "Send a JSON object with Content-Type: application/json.",
                         field="body")
    key = (request.headers.get("Idempotency-Key") or "").strip() or None
    if key and len(key) > 255:
        return api_error(422, "Idempotency-Key is at most 255 characters", field="Idempotency-Key")
    try:
        accepted = _accept(payload, key)
    except FieldError as exc:
        db.session.rollback()
        return api_error(422, str(exc), field=exc.field)
    except IdempotencyConflict:
        db.session.rollback()
        return api_error(409, "This Idempotency-Key was used with a different request body.",
                         field="Idempotency-Key")
    message = accepted.message
    return jsonify({"id": message.public_id, "status": message.status}), 202


def _accept_and_commit(payload: dict, key: str | None):
    accepted = accept_message(g.org, payload, api_key_id=g.api_key.id, idempotency_key=key)
    db.session.commit()
    return accepted


def _accept(payload: dict, key: str | None):
    """Accept and commit; once more when another request with the same key wrote first (two
    at the same moment): the new transaction finds it and replays it, or answers 409."""
    try:
        return _accept_and_commit(payload, key)
    except WRITE_CONFLICTS:
        db.session.rollback()
        if key is None:
            raise
    return _accept_and_commit(payload, key)


@bp.post("/messages/batch")
@require_scope("send")
def send_batch():
    """Accept up to 500 messages; one result per item, good items accepted regardless."""
    body = request.get_json(silent=True)
    items = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        return api_error(422, "Send {\"messages\": [...]} with at least one message",
                         field="messages")
    if len(items) > MAX_BATCH:
        return api_error(422, f"At most {MAX_BATCH} messages per batch", field="messages")
    results = accept_batch(g.org, items, api_key_id=g.api_key.id)
    db.session.commit()
    return jsonify({"data": results}), 202


@bp.get("/messages/<message_id>")
def get_message(message_id: str):
    """One message with its event timeline."""
    denied = _require_any_scope("read", "send")
    if denied:
        return denied
    message = db.session.scalar(select(Message).where(Message.org_id == g.org.id,
                                                      Message.public_id == message_id))
    if message is None:
        return api_error(404, "No message with this id in this organisation.")
    return jsonify(message_json(message))


def _parse_time(name: str):
    value = request.args.get(name)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(f"'{name}' must be an ISO 8601 time such as 2026-11-24T10:00:00Z",
                         name) from None
    if parsed.tzinfo is not None:  # stored times are naive UTC
        parsed = (parsed - parsed.utcoffset()).replace(tzinfo=None)
    return parsed


@bp.get("/messages")
@require_scope("read")
def list_messages():
    """Newest first; filters status, email_type, recipient, since, until; keyset `cursor`."""
    try:
        query = select(Message).where(Message.org_id == g.org.id)
        status = request.args.get("status")
        if status:
            if status not in STATUSES:
                raise FieldError(f"status is one of {', '.join(STATUSES)}", "status")
            query = query.where(Message.status == status)
        if request.args.get("email_type"):
            query = query.where(Message.email_type == request.args["email_type"])
        if request.args.get("recipient"):
            query = query.where(Message.id.in_(select(MessageRecipient.message_id).where(
                MessageRecipient.org_id == g.org.id,
                MessageRecipient.email == request.args["recipient"].strip().lower())))
        since, until = _parse_time("since"), _parse_time("until")
        if since:
            query = query.where(Message.created_at >= since)
        if until:
            query = query.where(Message.created_at < until)
        cursor = request.args.get("cursor")
        if cursor:
            if not cursor.isdigit():
                raise FieldError("cursor is the next_cursor of a previous page", "cursor")
            query = query.where(Message.id < int(cursor))
        limit = request.args.get("limit", "50")
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_PAGE:
            raise FieldError(f"limit is 1 to {MAX_PAGE}", "limit")
    except FieldError as exc:
        return api_error(422, str(exc), field=exc.field)
    rows = db.session.scalars(query.order_by(Message.id.desc()).limit(int(limit) + 1)).all()
    page = rows[:int(limit)]
    next_cursor = str(page[-1].id) if len(rows) > int(limit) else None
    return jsonify({"data": [message_json(m, events=False) for m in page],
                    "next_cursor": next_cursor})
