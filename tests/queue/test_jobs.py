"""Background jobs: enqueued after commit, processed by a real RQ worker, status per org."""
from redis import Redis

from portal.extensions import db
from portal.queue.models import BackgroundJob
from portal.queue.services import enqueue, get_queue
from tests.factories import PASSWORD, make_api_key, make_job, make_org, make_user


def test_dashboard_worker_check_polls_until_the_worker_answers(client, drain):
    org = make_org("Acme")
    make_user("ana@example.com", org=org)
    client.login("ana@example.com", PASSWORD)

    started = client.post("/system/worker-check", htmx=True)
    assert started.status_code == 200
    assert b"Waiting for a worker" in started.data
    assert b'hx-trigger="load delay:1s"' in started.data  # the card keeps polling
    job = db.session.scalar(db.select(BackgroundJob))
    assert job.org_id == org.id

    drain()

    done = client.get(f"/jobs/{job.id}", htmx=True)
    assert b"answered at" in done.data and b"can read the database" in done.data
    assert b"hx-trigger" not in done.data  # polling stops


def test_api_reports_job_status_and_result(client, drain):
    org = make_org()
    _, secret = make_api_key(org, scopes=["read"])
    job = make_job(org)
    headers = {"Authorization": f"Bearer {secret}"}
    queued = client.get(f"/api/v1/jobs/{job.id}", headers=headers).get_json()
    assert queued == {"id": job.id, "status": "queued", "result": None, "error": None}
    drain()
    finished = client.get(f"/api/v1/jobs/{job.id}", headers=headers).get_json()
    assert finished["status"] == "finished"
    assert finished["result"]["organizations"] == 1 and finished["error"] is None


def test_failed_job_reports_its_error_line(client, drain):
    org = make_org()
    _, secret = make_api_key(org, scopes=["read"])
    job = make_job(org, func="jobs.does_not_exist.nothing")
    drain()
    body = client.get(f"/api/v1/jobs/{job.id}",
                      headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert body["status"] == "failed"
    assert "nothing" in body["error"] or "does_not_exist" in body["error"]


def test_another_orgs_job_is_404(client):
    mine, theirs = make_org(), make_org()
    _, secret = make_api_key(mine, scopes=["read"])
    job = make_job(theirs)
    response = client.get(f"/api/v1/jobs/{job.id}", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 404


def test_nothing_is_queued_when_the_transaction_rolls_back(app):
    org = make_org()
    enqueue("jobs.system.check_worker", org_id=org.id)
    db.session.rollback()
    assert get_queue("default").count == 0
    enqueue("jobs.system.check_worker", org_id=org.id)
    assert get_queue("default").count == 0  # not before commit
    db.session.commit()
    assert get_queue("default").count == 1


def test_job_lost_by_redis_is_reported_not_polled_forever(client, app):
    org = make_org()
    make_user("ana@example.com", org=org)
    client.login("ana@example.com", PASSWORD)
    job = make_job(org)
    Redis.from_url(app.config["REDIS_URL"]).flushdb()
    page = client.get(f"/jobs/{job.id}", htmx=True)
    assert b"no record of this job" in page.data
    assert b"hx-trigger" not in page.data
