"""Enqueue background work and report on it.

Jobs are pushed to Redis only after the surrounding database transaction commits, so a job
never starts before the rows it reads exist (and never runs for work that was rolled back).
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db, redis_client
from portal.queue.models import BackgroundJob

log = logging.getLogger(__name__)

# Dequeue order: mail first, then DNS checks, then everything else.
QUEUE_NAMES = ("send", "dns", "default")
_PENDING = "postroom.pending_jobs"


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_client(),
                 default_timeout=current_app.config["RQ_JOB_TIMEOUT"])


def enqueue(func: str, *args, queue: str = "default", org_id: int | None = None,
            user_id: int | None = None, **kwargs) -> BackgroundJob:
    """Record and (after commit) enqueue `func`, a dotted path such as "jobs.system.check_worker".

    The returned row's id is the RQ job id, usable at once for status polling.
    """
    row = BackgroundJob(id=str(uuid.uuid4()), org_id=org_id, user_id=user_id, func=func,
                        queue=queue)
    db.session.add(row)
    db.session.flush()
    job_id = row.id

    def push():
        try:
            get_queue(queue).enqueue(func, *args, job_id=job_id, **kwargs)
        except RedisError:
            # The row stays; the status endpoint reports the job as unknown so the page stops
            # waiting, and the person can retry once Redis is back.
            log.error("could not enqueue %s (job %s): Redis did not answer", func, job_id)

    after_commit(push)
    return row


def after_commit(callback) -> None:
    """Run `callback()` once the current transaction commits, inside this app's context;
    forget it if the transaction rolls back."""
    app = current_app._get_current_object()
    db.session.info.setdefault(_PENDING, []).append((app, callback))


@event.listens_for(Session, "after_commit")
def _run_after_commit(session) -> None:
    for app, callback in session.info.pop(_PENDING, []):
        with app.app_context():
            callback()


@event.listens_for(Session, "after_rollback")
def _drop_pending(session) -> None:
    session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class JobStatus:
    id: str
    status: str  # queued | started | finished | failed | unknown (and RQ's rarer states)
    result: object = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.status in ("finished", "failed", "stopped", "canceled", "unknown")

    def as_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "result": self.result, "error": self.error}


def job_status(row: BackgroundJob) -> JobStatus:
    """What RQ knows of a job: status, result when finished, last error line when failed."""
    try:
        job = Job.fetch(row.id, connection=redis_client())
        status = job.get_status(refresh=True)
    except NoSuchJobError:
        return JobStatus(row.id, "unknown", error="The queue has no record of this job: it "
                                                  "expired or Redis restarted. Run it again.")
    except RedisError:
        return JobStatus(row.id, "unknown", error="The job queue is unreachable right now.")
    status = getattr(status, "value", status) or "unknown"
    if status == "finished":
        return JobStatus(row.id, status, result=job.return_value())
    if status == "failed":
        result = job.latest_result()
        text = (result.exc_string if result else "") or ""
        lines = [line for line in text.strip().splitlines() if line.strip()]
        return JobStatus(row.id, status, error=lines[-1] if lines else "The job failed.")
    return JobStatus(row.id, status)
