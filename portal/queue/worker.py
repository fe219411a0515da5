"""The RQ worker the portal runs: every queue, inside the app context, DB-safe across forks."""
from __future__ import annotations

import logging
import threading
import time

from rq import SimpleWorker, Worker

from portal.extensions import db
from portal.queue.services import QUEUE_NAMES, get_queue

log = logging.getLogger(__name__)


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


def start_periodic_sweeper(app) -> threading.Thread:
    """Every POSTROOM_SWEEP_INTERVAL seconds: re-queue forgotten mail, close idle SMTP sessions.

    A daemon thread with its own app context (and so its own DB session); the schedule lives
    in the rows (`due_at`), so a restarted worker simply picks up where things stand.
    """
    from portal.domains.lifecycle import sweep_due_domain_checks
    from portal.sending.providers.smtp import POOL
    from portal.sending.sweeper import sweep

    interval = app.config["POSTROOM_SWEEP_INTERVAL"]

    def loop():
        while True:
            time.sleep(interval)
            with app.app_context():
                try:
                    sweep()
                    sweep_due_domain_checks()
                    POOL.close_idle(app.config["POSTROOM_SMTP_POOL_IDLE"])
                except Exception:  # keep sweeping after a database or Redis hiccup
                    log.exception("periodic sweep failed")
                finally:
                    db.session.remove()

    thread = threading.Thread(target=loop, name="postroom-sweeper", daemon=True)
    thread.start()
    return thread


def build_worker(queue_names=QUEUE_NAMES, simple: bool = False):
    cls = PostroomSimpleWorker if simple else PostroomWorker
    queues = [get_queue(name) for name in queue_names]
    return cls(queues, connection=queues[0].connection)
