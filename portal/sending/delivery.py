"""Delivering one message: claim it, route it, send it, and record what happened.

A message is claimed with one conditional UPDATE (queued/due-deferred → sending), so two
workers can never both send it. A worker that dies mid-send leaves `sending` with a lock time
in `due_at`; the sweeper puts it back in the queue once that time has passed.
"""
from __future__ import annotations

import base64
import logging
import random
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, update

from portal.clock import utcnow
from portal.extensions import db
from portal.orgs.models import Organization
from portal.sending.models import Message, MessageEvent
from portal.sending.providers.base import (
    PERMANENT,
    SERVER,
    Attachment,
    OutgoingMessage,
    SendOutcome,
)
from portal.sending.providers.resolve import provider_for
from portal.sending.routing import ORG_PROVIDER, PERSONAL, RouteDecision, decide_route

log = logging.getLogger(__name__)
QUICK_RETRY_SECONDS = 0.5


def claim(message_id: int) -> bool:
    """Take the message for sending; False when another worker has it or it is not due."""
    now = utcnow()
    lock_until = now + timedelta(seconds=current_app.config["RQ_JOB_TIMEOUT"])
    result = db.session.execute(
        update(Message).where(
            Message.id == message_id,
            or_(Message.status == "queued",
                (Message.status == "deferred") & (Message.due_at <= now)))
        .values(status="sending", attempts=Message.attempts + 1, due_at=lock_until,
                updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _event(message: Message, kind: str, detail: str) -> None:
    db.session.add(MessageEvent(message_id=message.id, org_id=message.org_id, kind=kind,
                                detail=detail[:1000]))


def outgoing(message: Message, decision: RouteDecision) -> OutgoingMessage:
    request = message.request
    return OutgoingMessage(
        message_id=message.public_id, from_email=decision.from_email,
        from_name=decision.from_name, to=request["to"], cc=request["cc"], bcc=request["bcc"],
        reply_to=request["reply_to"], subject=request["subject"], text=request["text"],
        html=request["html"], headers=request["headers"], tags=request["tags"],
        attachments=[Attachment(a["filename"], a["content_type"],
                                base64.b64decode(a["content_base64"]))
                     for a in request["attachments"]],
        signing=decision.signing)


def _attempt(message: Message, decision: RouteDecision) -> SendOutcome:
    message.route, message.route_reason = decision.route, decision.reason[:255]
    message.from_email, message.from_name = decision.from_email, decision.from_name
    provider = provider_for(decision)
    message.provider = provider.name
    _event(message, "attempt", f"Attempt {message.attempts} via {decision.describe()}")
    return provider.send(outgoing(message, decision))


def retry_delay(attempt: int, retry_after: float | None) -> float:
    """1 min × 2ⁿ with ±20 % jitter, never sooner than the other side asked (Retry-After)."""
    base = current_app.config["POSTROOM_RETRY_BASE_SECONDS"] * 2 ** max(attempt - 1, 0)
    delay = base * random.uniform(0.8, 1.2)
    return max(delay, retry_after or 0)


def _finish(message: Message, outcome: SendOutcome) -> None:
    now = utcnow()
    if outcome.sent:
        message.status, message.sent_at, message.due_at = "sent", now, None
        message.provider_message_id = outcome.provider_message_id
        message.error = None
        _event(message, "sent", outcome.detail)
        return
    message.error = outcome.detail
    give_up = outcome.status == PERMANENT or \
        message.attempts >= current_app.config["POSTROOM_SEND_MAX_ATTEMPTS"]
    if give_up:
        message.status, message.due_at = "failed", None
        why = "permanent failure" if outcome.status == PERMANENT else \
            f"gave up after {message.attempts} attempts"
        _event(message, "failed", f"{why}: {outcome.detail}")
    else:
        delay = retry_delay(message.attempts, outcome.retry_after)
        message.status, message.due_at = "deferred", now + timedelta(seconds=delay)
        _event(message, "deferred", f"retry in {round(delay)} s: {outcome.detail}")


def deliver_message(message_id: int) -> str | None:
    """Claim, route, send (falling back once when the org's own route fails), record.

    Returns the final status of this attempt, or None when the message was not ours to send.
    Commits the claim itself; the caller commits the outcome.
    """
    if not claim(message_id):
        db.session.rollback()
        return None
    # Commit the claim before talking to any server: other workers must see it, a crash must
    # leave `sending` behind for the sweeper, and no write lock may be held across the network.
    db.session.commit()
    message = db.session.get(Message, message_id, populate_existing=True)
    org = db.session.get(Organization, message.org_id)
    fell_back = any(event.kind == "fallback" for event in message.events)
    decision = decide_route(message, org, after_fallback=fell_back)
    if decision.route == PERSONAL and decision.smtp_config_id is None:
        outcome = SendOutcome(PERMANENT, "The member has no enabled personal SMTP "
                              "configuration; mail sent as them is never sent another way.",
                              SERVER, "no_personal_smtp")
    else:
        outcome = _attempt(message, decision)
        if decision.route == ORG_PROVIDER and outcome.code.startswith("http_5"):
            # A provider's 5xx is often a blip: one quick retry before leaving the org's road.
            time.sleep(QUICK_RETRY_SECONDS)
            outcome = _attempt(message, decision)
        if not outcome.sent and outcome.scope == SERVER and decision.may_fall_back:
            _event(message, "fallback", f"{decision.route} failed ({outcome.detail}); "
                                        "falling back to the platform once")
            outcome = _attempt(message, decide_route(message, org, after_fallback=True))
    _finish(message, outcome)
    log.info("message %s org=%s route=%s status=%s", message.public_id, message.org_id,
             message.route, message.status)
    return message.status


def deliver_messages(message_ids: list[int]) -> dict:
    """The job's work for a batch; each message is committed on its own."""
    counts: dict[str, int] = {}
    for message_id in message_ids:
        try:
            status = deliver_message(message_id)
            db.session.commit()
        except Exception:
            # One bad message must not hold up the rest; the sweeper will retry it.
            db.session.rollback()
            log.exception("delivery of message %s failed unexpectedly", message_id)
            status = "error"
        counts[status or "skipped"] = counts.get(status or "skipped", 0) + 1
    return counts
