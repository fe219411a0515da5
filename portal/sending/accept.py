"""Accepting mail: validate, write the delivery-log row, and queue it only after the commit.

The row (status `queued`) is committed before anything reaches Redis. If Redis cannot take the
job, the row keeps `due_at` empty and the sweeper queues it later: an accepted message is never
lost, whatever happens to Redis.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import insert, select

from portal.accounts.services import find_user_by_email
from portal.clock import utcnow
from portal.extensions import db
from portal.orgs.models import Membership
from portal.sending.bulk import insert_rows, reserve_ids
from portal.sending.dispatch import queue_for_delivery
from portal.sending.models import Message, MessageEvent, MessageRecipient
from portal.sending.routing import from_address_allowed
from portal.sending.validation import FieldError, Limits, request_hash, validate_message

IDEMPOTENCY_WINDOW = timedelta(hours=24)


class IdempotencyConflict(Exception):
    """The key was used with a different body."""


@dataclass(frozen=True)
class Accepted:
    message: Message
    replayed: bool = False  # True: the same key and body came before; nothing new was sent


def _limits() -> Limits:
    return Limits(current_app.config["POSTROOM_MAX_RECIPIENTS"],
                  current_app.config["POSTROOM_MAX_MESSAGE_BYTES"])


def new_public_ids(count: int) -> list[str]:
    """`count` fresh message ids ("msg_" + 24 hex digits), from one read of the system's
    randomness rather than one per message."""
    pool = secrets.token_hex(12 * count)
    return ["msg_" + pool[start:start + 24] for start in range(0, 24 * count, 24)]


def _member_id(org, email: str) -> int:
    user = find_user_by_email(email)
    if user is None or db.session.scalar(select(Membership.id).where(
            Membership.org_id == org.id, Membership.user_id == user.id)) is None:
        raise FieldError("as_user must be the email of a member of this organisation", "as_user")
    return user.id


def _replay(org, key: str | None, digest: str) -> Message | None:
    if not key:
        return None
    earlier = db.session.scalar(select(Message).where(Message.org_id == org.id,
                                                      Message.idempotency_key == key))
    if earlier is None:
        return None
    if earlier.created_at < utcnow() - IDEMPOTENCY_WINDOW:
        earlier.idempotency_key = None  # the window is over: the key may be used afresh
        db.session.flush()
        return None
    if earlier.request_hash != digest:
        raise IdempotencyConflict()
    return earlier


def _checked(org, payload: dict, limits: Limits) -> tuple[dict, int | None]:
    """The validated request and the as_user's id, or FieldError."""
    clean = validate_message(payload, limits)
    sender = (clean["from"] or {}).get("email")
    if sender and not from_address_allowed(org.id, sender):
        raise FieldError("from.email must be on one of the organisation's verified sending "
                         "domains (Settings → Sending domains)", "from.email")
    as_user_id = _member_id(org, clean["as_user"]) if clean["as_user"] else None
    return clean, as_user_id


def _message_row(org, payload: dict, clean: dict, as_user_id, api_key_id, idempotency_key,
                 now) -> dict:
    return dict(org_id=org.id, api_key_id=api_key_id,
                idempotency_key=idempotency_key, request_hash=request_hash(payload),
                email_type=clean["email_type"], status="queued", request=clean,
                subject=clean["subject"], to=clean["to"], as_user_id=as_user_id,
                tags=clean["tags"], meta=clean["metadata"], attempts=0, due_at=now,
                created_at=now, updated_at=now)


def _insert_all(org, rows: list[dict], cleans: list[dict], now) -> list[tuple[int, str]]:
    """Three bulk writes (messages, recipients, `queued` events) for any number of messages:
    per-row statements would make accepting slower than sending."""
    for row, public_id in zip(rows, new_public_ids(len(rows))):
        row["public_id"] = public_id
    ids = reserve_ids(Message, len(rows))
    if ids is not None:
        for row, message_id in zip(rows, ids):
            row["id"] = message_id
        insert_rows(Message, rows)
        inserted = [(row["id"], row["public_id"]) for row in rows]
    else:
        inserted = db.session.execute(
            insert(Message).returning(Message.id, Message.public_id,
                                      sort_by_parameter_order=True), rows).all()
    recipients, events = [], []
    for (message_id, _public_id), clean in zip(inserted, cleans):
        recipients += [{"message_id": message_id, "org_id": org.id, "email": email.lower(),
                        "kind": kind} for kind in ("to", "cc", "bcc") for email in clean[kind]]
        events.append({"message_id": message_id, "org_id": org.id, "kind": "queued",
                       "detail": f"Accepted for {len(clean['to'])} recipient(s)",
                       "created_at": now})
    insert_rows(MessageRecipient, recipients)
    insert_rows(MessageEvent, events)
    return [tuple(row) for row in inserted]


def build_message(org, payload: dict, *, api_key_id: int | None,
                  idempotency_key: str | None = None) -> Message:
    """Validate and add one message with its recipients and its `queued` event (flush only)."""
    clean, as_user_id = _checked(org, payload, _limits())
    now = utcnow()
    [(message_id, _public_id)] = _insert_all(
        org, [_message_row(org, payload, clean, as_user_id, api_key_id, idempotency_key, now)],
        [clean], now)
    return db.session.get(Message, message_id)


def accept_message(org, payload: dict, *, api_key_id: int | None,
                   idempotency_key: str | None = None) -> Accepted:
    """Accept one message (or replay an idempotent earlier one); the caller commits."""
    earlier = _replay(org, idempotency_key, request_hash(payload))
    if earlier is not None:
        return Accepted(earlier, replayed=True)
    message = build_message(org, payload, api_key_id=api_key_id,
                            idempotency_key=idempotency_key)
    queue_for_delivery([message.id])
    return Accepted(message)


def accept_batch(org, items: list, *, api_key_id: int | None) -> list[dict]:
    """Accept every valid item; each result is {"id", "status"} or {"error"}. Caller commits.

    Every item is validated first (plain Python), then all valid ones are written together.
    """
    now, limits = utcnow(), _limits()
    results: list[dict] = []
    rows, cleans, slots = [], [], []
    for index, item in enumerate(items):
        try:
            clean, as_user_id = _checked(org, item, limits)
        except FieldError as exc:
            results.append({"index": index, "error": {"code": "invalid", "message": str(exc),
                                                      "field": exc.field}})
            continue
        rows.append(_message_row(org, item, clean, as_user_id, api_key_id, None, now))
        cleans.append(clean)
        slots.append(len(results))
        results.append({"index": index})
    if rows:
        inserted = _insert_all(org, rows, cleans, now)
        for slot, (_message_id, public_id) in zip(slots, inserted):
            results[slot].update(id=public_id, status="queued")
        queue_for_delivery([message_id for message_id, _ in inserted])
    return results
