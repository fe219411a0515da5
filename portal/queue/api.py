"""Job status over the API, for jobs the key's org owns."""
from __future__ import annotations

from flask import jsonify

from portal.api import bp
from portal.queue.models import BackgroundJob
from portal.queue.services import job_status
from portal.web.tenancy import get_org_object_or_404


@bp.get("/jobs/<job_id>")
def get_job(job_id: str):
    """{"id", "status", "result", "error"} of one job; any scope may read its own org's jobs."""
    job = get_org_object_or_404(BackgroundJob, job_id)
    return jsonify(job_status(job).as_dict())
