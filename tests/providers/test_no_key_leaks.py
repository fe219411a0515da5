"""A provider key never leaves the vault: not in a page, an API response, a log record, an
audit event, a job's arguments or result, or anything else kept in Redis."""
import logging
import re
import zlib

from redis import Redis

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.providers.models import ProviderAccount
from tests.factories import PASSWORD, make_api_key, make_org, make_user
from tests.providers.servers import RESEND_KEY, SENDGRID_KEY

WRONG_KEY = "re_WrongButSecret_0123456789abcdefXYZ"


def _redis_blobs(url):
    redis = Redis.from_url(url)
    try:
        for key in redis.scan_iter():
            kind = redis.type(key)
            values = {b"string": lambda: [redis.get(key)],
                      b"hash": lambda: list(redis.hgetall(key).values()),
                      b"list": lambda: redis.lrange(key, 0, -1)}.get(kind, lambda: [])()
            for value in values:
                yield value
                try:
                    yield zlib.decompress(value)
                except zlib.error:
                    pass
    finally:
        redis.close()


def test_no_key_anywhere_a_person_or_operator_could_look(app, client, provider_settings, drain,
                                                         caplog):
    caplog.set_level(logging.DEBUG)
    org = make_org("Acme")
    make_user("boss@example.com", org=org, role="admin")
    _, secret = make_api_key(org, scopes=["admin"])
    api = {"Authorization": f"Bearer {secret}"}
    client.login("boss@example.com", PASSWORD)
    bodies = []

    def check(account_id):
        started = client.post(f"/settings/providers/{account_id}/check", htmx=True)
        drain()
        job_url = re.search(r'hx-get="(/jobs/[^"]+)"', started.data.decode()).group(1)
        bodies.append(client.get(job_url, htmx=True).data.decode())

    for provider, key in (("sendgrid", SENDGRID_KEY), ("resend", WRONG_KEY)):
        bodies.append(client.post(f"/settings/providers/{provider}",
                                  data={f"{provider}-api_key": key}).data.decode())
    bodies.append(client.post("/settings/providers/resend", htmx=True,
                              data={"resend-api_key": RESEND_KEY + " x"}).data.decode())
    accounts = {a.provider: a.id for a in db.session.scalars(db.select(ProviderAccount))}
    check(accounts["sendgrid"])
    check(accounts["resend"])  # refused: the fake API quotes nothing back, but Resend might
    client.post(f"/settings/providers/{accounts['sendgrid']}/enabled", data={"enabled": "1"})
    for path in ("/settings/providers", "/settings/audit", "/"):
        bodies.append(client.get(path).data.decode())
    bodies.append(client.put("/api/v1/providers/resend", headers=api,
                             json={"api_key": RESEND_KEY}).get_data(as_text=True))
    started = client.post("/api/v1/providers/resend/check", headers=api)
    drain()
    bodies.append(client.get(f"/api/v1/jobs/{started.get_json()['job_id']}",
                             headers=api).get_data(as_text=True))
    bodies.append(client.get("/api/v1/providers/resend", headers=api).get_data(as_text=True))

    assert len(provider_settings.requests) == 3  # the checks really reached the provider
    logs = "\n".join(record.getMessage() for record in caplog.records)
    audit = str(db.session.scalars(db.select(AuditEvent.details)).all())
    redis = list(_redis_blobs(app.config["REDIS_URL"]))
    assert redis  # the jobs and their results are there to search
    for key in (SENDGRID_KEY, WRONG_KEY, RESEND_KEY):
        for body in bodies:
            assert key not in body
        assert key not in logs and key not in audit
        for blob in redis:
            assert key.encode() not in blob
