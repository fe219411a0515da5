"""Probes for orchestrators, and the worker round-trip button on the dashboard."""
from __future__ import annotations

from flask import Blueprint, g, jsonify
from flask_login import current_user

from portal.audit.services import record_audit
from portal.extensions import db
from portal.queue.services import enqueue, job_status
from portal.system.services import readiness
from portal.web.access import org_member_required
from portal.web.render import render

bp = Blueprint("system", __name__)


@bp.route("/healthz")
def healthz():
    """The process is up (no dependency is touched)."""
    return jsonify({"status": "ok"})


@bp.route("/readyz")
def readyz():
    """Database and Redis reachable and migrations at head; 503 naming what is not."""
    checks = readiness()
    ready = all(value == "ok" for value in checks.values())
    failing = [name for name, value in checks.items() if value != "ok"]
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    if failing:
        body["failing"] = failing
    return jsonify(body), 200 if ready else 503


@bp.route("/system/worker-check", methods=["POST"])
@org_member_required
def worker_check():
    """Ask a background worker to answer; the card polls until it does."""
    job = enqueue("jobs.system.check_worker", org_id=g.org.id, user_id=current_user.id)
    record_audit("system.worker_checked", org_id=g.org.id, target=job)
    db.session.commit()
    return render("queue/status.html", "job_status", job=job, state=job_status(job))
