"""The delivery log's side of a send job: claim messages, then write back what happened.

A message is claimed with one conditional UPDATE (queued/due-deferred → sending), so two
workers can never both send it. A worker that dies mid-send leaves `sending` with a lock time
in `due_at`; the sweeper puts it back in the queue once that time has passed.

Both statements are Core, returning plain rows into `ClaimedMessage`: a worker profile showed
ORM identity-map loading, attribute instrumentation and the decoding of JSON columns sending
never reads costing more per message than the database round trips themselves.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, update

from portal.clock import utcnow
from portal.extensions import db
from portal.sending.bulk import id_in, insert_rows
from portal.sending.models import Message, MessageEvent

_messages = Message.__table__.c


@dataclass(slots=True)
class ClaimedMessage:
    """A message this worker holds: what sending reads, and the outcome it writes back."""

    id: int
    public_id: str
    org_id: int
    as_user_id: int | None
    email_type: str
    attempts: int
    request: dict
    route: str | None
    route_reason: str | None
    provider: str | None
    from_email: str | None
    from_name: str | None
    provider_message_id: str | None
    error: str | None
    status: str = "sending"
    due_at: datetime | None = None
    events: list[dict] = field(default_factory=list)


# RETURNING these, in ClaimedMessage's field order.
_CLAIMED_COLUMNS = [_messages[name] for name in (
    "id", "public_id", "org_id", "as_user_id", "email_type", "attempts", "request", "route",
    "route_reason", "provider", "from_email", "from_name", "provider_message_id", "error")]
# What an outcome changes; `sent_at` and `updated_at` are stamped when it is written.
_OUTCOME_FIELDS = ("status", "attempts", "route", "route_reason", "provider", "from_email",
                   "from_name", "provider_message_id", "error", "due_at")


def _claimable(now):
    return or_(_messages.status == "queued",
               (_messages.status == "deferred") & (_messages.due_at <= now))


def claim_messages(message_ids: list[int]) -> list[ClaimedMessage]:
    """Take these messages for sending in one conditional UPDATE … RETURNING; returns the ones
    we got, in id order. The caller commits the claim before sending anything.

    Rows another worker holds, or that are not due, are left alone: two workers can never both
    send one message.
    """
    now = utcnow()
    lock_until = now + timedelta(seconds=current_app.config["RQ_JOB_TIMEOUT"])
    rows = db.session.execute(
        update(Message.__table__).where(id_in(_messages.id, message_ids), _claimable(now))
        .values(status="sending", attempts=_messages.attempts + 1, due_at=lock_until,
                updated_at=now)
        .returning(*_CLAIMED_COLUMNS)).all()
    claimed = [ClaimedMessage(*row, due_at=lock_until) for row in rows]
    return sorted(claimed, key=lambda message: message.id)


def claim(message_id: int) -> bool:
    """Take one message for sending (see claim_messages)."""
    return [m.id for m in claim_messages([message_id])] == [message_id]


def add_event(message: ClaimedMessage, kind: str, detail: str,
              at: datetime | None = None) -> None:
    """A step for the message's timeline (at `at`, else now), written with the outcomes."""
    message.events.append({"message_id": message.id, "org_id": message.org_id,
                           "kind": kind, "detail": detail[:1000],
                           "created_at": at or utcnow()})


def record_outcomes(messages: list[ClaimedMessage]) -> None:
    """Write the outcomes of a batch: messages with the same outcome share one UPDATE (a batch
    to one server is usually a single statement), and the events go in one bulk INSERT."""
    if not messages:
        return
    now = utcnow()
    groups: dict[tuple, list[int]] = {}
    for message in messages:
        key = tuple(getattr(message, name) for name in _OUTCOME_FIELDS)
        groups.setdefault(key, []).append(message.id)
    for values, ids in groups.items():
        changes = dict(zip(_OUTCOME_FIELDS, values))
        # When the outcome was recorded: at most a job's duration after the send.
        changes["sent_at"] = now if changes["status"] == "sent" else None
        db.session.execute(update(Message.__table__).where(id_in(_messages.id, ids))
                           .values(**changes, updated_at=now))
    insert_rows(MessageEvent, [event for m in messages for event in m.events])
