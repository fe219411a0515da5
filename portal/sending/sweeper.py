"""The sweeper: nothing accepted is ever left behind.

- `queued` rows older than a minute that Redis never took (or whose job is long gone) are
  queued again;
- `sending` rows whose worker died (the lock in `due_at` has passed) go back to `queued`;
- `deferred` rows whose retry time has come are queued.
Queueing twice is harmless: a message is claimed by a conditional UPDATE before it is sent.
Run by `flask --app portal sweep` and periodically by every worker.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from portal.clock import utcnow
from portal.extensions import db
from portal.sending.dispatch import push_now
from portal.sending.models import Message

log = logging.getLogger(__name__)
UNQUEUED_GRACE = timedelta(minutes=1)


def sweep(limit: int = 5000) -> dict:
    """Re-queue what needs it; returns counts. Commits."""
    now = utcnow()
    stale = now - timedelta(seconds=current_app.config["RQ_JOB_TIMEOUT"])
    stuck = db.session.scalars(select(Message.id).where(
        Message.status == "sending", Message.due_at < now).limit(limit)).all()
    if stuck:
        db.session.execute(
            update(Message).where(Message.id.in_(stuck), Message.status == "sending",
                                  Message.due_at < now)
            .values(status="queued", due_at=now, updated_at=now)
            .execution_options(synchronize_session=False))
    due = db.session.scalars(select(Message.id).where(or_(
        and_(Message.status == "queued", Message.created_at < now - UNQUEUED_GRACE,
             or_(Message.due_at.is_(None), Message.due_at < stale)),
        and_(Message.status == "deferred", Message.due_at <= now),
    )).order_by(Message.id).limit(limit)).all()
    if due:
        db.session.execute(update(Message).where(Message.id.in_(due),
                                                 Message.status == "queued")
                           .values(due_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    to_push = sorted(set(stuck) | set(due))
    pushed = push_now(to_push) if to_push else True
    counts = {"revived": len(stuck), "queued": len(due) if pushed else 0}
    if stuck or due:
        log.info("sweep: %s", counts)
    return counts
