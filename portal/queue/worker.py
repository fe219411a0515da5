"""The RQ worker the portal runs: every queue, inside the app context, DB-safe across forks."""
from __future__ import annotations

from rq import SimpleWorker, Worker

from portal.extensions import db
from portal.queue.services import QUEUE_NAMES, get_queue


class _AppJobMixin:
    def perform_job(self, job, queue, execution):
        if getattr(self, "_is_horse", False):
            # A forked horse must not reuse the parent's pooled connections (shared sockets).
            db.engine.dispose(close=False)
        try:
            return super().perform_job(job, queue, execution)
        finally:
            db.session.remove()


class PostroomWorker(_AppJobMixin, Worker):
    """Forks a work horse per job, so a crashing or leaking job cannot take the worker down."""


class PostroomSimpleWorker(_AppJobMixin, SimpleWorker):
    """Runs jobs in-process; used by tests and `worker --simple`."""


def build_worker(queue_names=QUEUE_NAMES, simple: bool = False):
    cls = PostroomSimpleWorker if simple else PostroomWorker
    queues = [get_queue(name) for name in queue_names]
    return cls(queues, connection=queues[0].connection)
