"""Job status for people: a fragment that polls itself until the job is done."""
from __future__ import annotations

from flask import Blueprint

from portal.queue.models import BackgroundJob
from portal.queue.services import job_status
from portal.web.access import org_member_required
from portal.web.render import render
from portal.web.tenancy import get_org_object_or_404

bp = Blueprint("queue", __name__)


@bp.route("/jobs/<job_id>")
@org_member_required
def status(job_id: str):
    """The status card of one job of the current org."""
    job = get_org_object_or_404(BackgroundJob, job_id)
    return render("queue/status.html", "job_status", job=job, state=job_status(job))
