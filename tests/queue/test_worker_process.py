"""The worker as operators run it: `flask --app portal worker`, a separate forking process."""
import os
import subprocess
import sys
from pathlib import Path

from portal.extensions import db
from portal.queue.services import job_status
from tests.factories import make_job, make_org

ROOT = Path(__file__).resolve().parents[2]


def test_flask_worker_command_processes_a_queued_job(app):
    org = make_org()
    job = make_job(org)
    env = dict(os.environ,
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=app.config["REDIS_URL"], SECRET_KEY=app.config["SECRET_KEY"],
               POSTROOM_ENCRYPTION_KEYS=",".join(app.config["POSTROOM_ENCRYPTION_KEYS"]),
               POSTROOM_INSTANCE_PATH=app.config["INSTANCE_PATH"])
    flask = Path(sys.executable).with_name("flask")
    result = subprocess.run([str(flask), "--app", "portal", "worker", "--burst"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    state = job_status(db.session.get(type(job), job.id))
    assert state.status == "finished"
    assert state.result["pid"] != os.getpid()  # it ran in the worker's work horse
