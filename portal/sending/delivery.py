"""Delivering a batch: claim it, route and send each message, and record what happened.

Claiming and recording live in claims.py; this module decides, sends, retries and falls back.
"""
from __future__ import annotations

import base64
import logging
import random
import time
from datetime import timedelta

from flask import current_app

from portal.clock import utcnow
from portal.extensions import db
from portal.orgs.models import Organization
from portal.sending.bulk import relax_durability
from portal.sending.claims import (
    ClaimedMessage,
    add_event,
    claim_messages,
    record_outcomes,
)
from portal.sending.dispatch import queue_for_delivery
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
FALLBACK_REASON = "fallback"
NO_PERSONAL_SMTP = SendOutcome(PERMANENT, "The member has no enabled personal SMTP "
                               "configuration; mail sent as them is never sent another way.",
                               SERVER, "no_personal_smtp")


def outgoing(message: ClaimedMessage, decision: RouteDecision) -> OutgoingMessage:
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


def _attempt_all(messages: list[ClaimedMessage], decision: RouteDecision, routes: "RouteCache",
                 stop_at: float | None = None) -> list[SendOutcome | None]:
    """Send these messages the way `decision` says, as one batch; None for a message not
    started before `stop_at`. Each attempted message gets its route and an `attempt` event."""
    provider = routes.provider(decision)
    started = utcnow()
    outcomes = provider.send_batch([outgoing(m, decision) for m in messages], stop_at)
    for message, outcome in zip(messages, outcomes):
        if outcome is not None:
            message.route, message.route_reason = decision.route, decision.reason[:255]
            message.from_email, message.from_name = decision.from_email, decision.from_name
            message.provider = provider.name
            add_event(message, "attempt", f"Attempt {message.attempts} via "
                                          f"{decision.describe()}", at=started)
    return outcomes


def retry_delay(attempt: int, retry_after: float | None) -> float:
    """1 min × 2ⁿ with ±20 % jitter, never sooner than the other side asked (Retry-After)."""
    base = current_app.config["POSTROOM_RETRY_BASE_SECONDS"] * 2 ** max(attempt - 1, 0)
    delay = base * random.uniform(0.8, 1.2)
    return max(delay, retry_after or 0)


def _finish(message: ClaimedMessage, outcome: SendOutcome) -> None:
    now = utcnow()
    if outcome.sent:
        message.status, message.due_at = "sent", None
        message.provider_message_id = outcome.provider_message_id
        message.error = None
        add_event(message, "sent", outcome.detail)
        return
    message.error = outcome.detail
    give_up = outcome.status == PERMANENT or \
        message.attempts >= current_app.config["POSTROOM_SEND_MAX_ATTEMPTS"]
    if give_up:
        message.status, message.due_at = "failed", None
        why = "permanent failure" if outcome.status == PERMANENT else \
            f"gave up after {message.attempts} attempts"
        add_event(message, "failed", f"{why}: {outcome.detail}")
    else:
        delay = retry_delay(message.attempts, outcome.retry_after)
        message.status, message.due_at = "deferred", now + timedelta(seconds=delay)
        add_event(message, "deferred", f"retry in {round(delay)} s: {outcome.detail}")


class RouteCache:
    """Routing inputs rarely differ inside one job: decide once per org, type and sender."""

    def __init__(self):
        self._decisions: dict[tuple, RouteDecision] = {}
        self._orgs: dict[int, Organization] = {}
        self._providers: dict[RouteDecision, object] = {}

    def provider(self, decision: RouteDecision):
        if decision not in self._providers:
            self._providers[decision] = provider_for(decision)
        return self._providers[decision]

    def org(self, org_id: int) -> Organization:
        if org_id not in self._orgs:
            self._orgs[org_id] = db.session.get(Organization, org_id)
        return self._orgs[org_id]

    def decide(self, message: ClaimedMessage, *, after_fallback: bool) -> RouteDecision:
        key = (message.org_id, message.as_user_id, message.email_type, after_fallback,
               repr(sorted((message.request.get("from") or {}).items())))
        if key not in self._decisions:
            self._decisions[key] = decide_route(message, self.org(message.org_id),
                                                after_fallback=after_fallback)
        return self._decisions[key]


def _by_route(messages: list[ClaimedMessage], routes: "RouteCache", *,
              after_fallback: bool | None = None) -> dict[RouteDecision, list[ClaimedMessage]]:
    """The messages grouped by where they go, in their order; None for `after_fallback`:
    where an earlier attempt fell back, stay on the platform."""
    groups: dict[RouteDecision, list[ClaimedMessage]] = {}
    for message in messages:
        fell_back = (message.route_reason or "").startswith(FALLBACK_REASON) \
            if after_fallback is None else after_fallback
        groups.setdefault(routes.decide(message, after_fallback=fell_back), []).append(message)
    return groups


def send_claimed(messages: list[ClaimedMessage], routes: RouteCache,
                 stop_at: float | None = None) -> list[ClaimedMessage]:
    """Route and send claimed messages, each route's share as one batch, falling back once to
    the platform where the org's own route failed, and note each outcome on its message.
    Returns the messages not started before `stop_at`. Flushes nothing; the caller commits."""
    untouched, falling_back = [], []
    for decision, batch in _by_route(messages, routes).items():
        if decision.route == PERSONAL and decision.smtp_config_id is None:
            for message in batch:
                _finish(message, NO_PERSONAL_SMTP)
            continue
        for message, outcome in zip(batch, _attempt_all(batch, decision, routes, stop_at)):
            if outcome is None:
                untouched.append(message)
                continue
            if decision.route == ORG_PROVIDER and outcome.code.startswith("http_5"):
                # A provider's 5xx is often a blip: one quick retry before leaving the org's road.
                time.sleep(QUICK_RETRY_SECONDS)
                [outcome] = _attempt_all([message], decision, routes)
            if not outcome.sent and outcome.scope == SERVER and decision.may_fall_back:
                add_event(message, "fallback", f"{decision.route} failed ({outcome.detail}); "
                                               "falling back to the platform once")
                falling_back.append(message)
            else:
                _finish(message, outcome)
    for decision, batch in _by_route(falling_back, routes, after_fallback=True).items():
        for message, outcome in zip(batch, _attempt_all(batch, decision, routes)):
            _finish(message, outcome)
    return untouched


def deliver_messages(message_ids: list[int]) -> dict:
    """The job's work for a batch: claim them all, send them route by route, record all
    outcomes at once.

    The claim is committed before any network I/O (no write lock is held across a send, and a
    crash leaves `sending` rows for the sweeper); the outcomes are written in one transaction
    at the end (a crash before it means those messages are sent again: at least once).
    """
    relax_durability()
    messages = claim_messages(message_ids)
    db.session.commit()
    counts: dict[str, int] = {"skipped": len(message_ids) - len(messages)}
    if not messages:
        return counts
    stop_at = time.monotonic() + current_app.config["RQ_JOB_TIMEOUT"] / 2
    try:
        handed_back = send_claimed(messages, RouteCache(), stop_at)
    except Exception:
        # A bug outside any one message: what has no outcome yet keeps its claim, which runs
        # out, and the sweeper queues it again.
        log.exception("delivery of a batch of %d failed unexpectedly", len(messages))
        handed_back = []
    for message in handed_back:
        # Slow servers ate the job's time: give the rest back rather than let RQ kill the job
        # mid-send (which would leave them to the sweeper and risk duplicates).
        message.status, message.due_at = "queued", utcnow()
        message.attempts -= 1
    done = [m for m in messages if m.status != "sending"]
    for message in done:
        counts[message.status] = counts.get(message.status, 0) + 1
    if len(done) < len(messages):
        counts["error"] = len(messages) - len(done)
    relax_durability()
    record_outcomes(done)
    if handed_back:
        counts["handed_back"] = len(handed_back)
        queue_for_delivery([m.id for m in handed_back])
    db.session.commit()
    log.info("delivered a batch of %d: %s", len(message_ids), counts)
    return counts
