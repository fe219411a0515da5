"""Handing accepted messages to the `send` queue, in batches, after the commit."""
from __future__ import annotations

import logging

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import update

from portal.extensions import db
from portal.queue.services import after_commit, get_queue
from portal.sending.models import Message

log = logging.getLogger(__name__)
DELIVER_JOB = "jobs.sending.deliver_messages"


def _chunks(ids: list[int], size: int):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def push_now(message_ids: list[int]) -> bool:
    """Enqueue delivery jobs (several messages per job keeps per-message overhead small).

    On a Redis failure the rows get an empty `due_at`, which the sweeper picks up later.
    """
    size = current_app.config["POSTROOM_SEND_BATCH"]
    queue = get_queue("send")
    try:
        with queue.connection.pipeline() as pipe:
            for chunk in _chunks(message_ids, size):
                queue.enqueue(DELIVER_JOB, chunk, pipeline=pipe)
            pipe.execute()
        return True
    except RedisError:
        log.error("send queue unreachable: %d message(s) wait for the sweeper", len(message_ids))
        db.session.execute(update(Message).where(Message.id.in_(message_ids),
                                                 Message.status == "queued")
                           .values(due_at=None))
        db.session.commit()
        return False


def queue_for_delivery(message_ids: list[int]) -> None:
    """Push these messages to the send queue once the accepting transaction commits."""
    if message_ids:
        ids = list(message_ids)
        after_commit(lambda: push_now(ids))
