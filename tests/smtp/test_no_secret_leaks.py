"""The SMTP username, password and CA certificate never leave the vault: not in a page, an API
response, a log record, an audit event, or anything the queue keeps in Redis."""
import logging
import zlib

from redis import Redis

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.smtp.models import SmtpConfiguration
from tests.factories import PASSWORD as LOGIN_PASSWORD
from tests.factories import make_api_key, make_org, make_user
from tests.smtp.servers import PASSWORD, USERNAME
from tests.smtp.wizard import connection_form, run_test, token_in

SECRETS = (PASSWORD, "wrong-secret-pw", USERNAME)


def _redis_blobs(url):
    redis = Redis.from_url(url)
    for key in redis.scan_iter():
        kind = redis.type(key)
        values = []
        if kind == b"string":
            values = [redis.get(key)]
        elif kind == b"hash":
            values = list(redis.hgetall(key).values())
        elif kind == b"list":
            values = redis.lrange(key, 0, -1)
        for value in values:
            yield value
            try:
                yield zlib.decompress(value)
            except zlib.error:
                pass
    redis.close()


def test_no_secret_anywhere_a_person_or_operator_could_look(
        app, client, starttls_server, allow_smtp_port, drain, caplog):
    allow_smtp_port(starttls_server.port)
    org = make_org("Acme")
    make_user("boss@example.com", org=org, role="admin")
    _, key = make_api_key(org, scopes=["admin", "read"])
    api = {"Authorization": f"Bearer {key}"}
    bodies = []
    caplog.set_level(logging.DEBUG)

    client.login("boss@example.com", LOGIN_PASSWORD)
    data = connection_form(starttls_server)
    bodies.append(run_test(client, drain, {**data, "password": "wrong-secret-pw"}))
    card = run_test(client, drain, data)
    bodies.append(card)
    bodies.append(client.post("/settings/smtp", data={**data, "from_name": ""}).data.decode())
    client.post("/settings/smtp", data={**data, "test_token": token_in(card)})
    config = db.session.scalar(db.select(SmtpConfiguration))
    for path in ("/settings/smtp", f"/settings/smtp/{config.id}/edit", "/settings/audit", "/"):
        bodies.append(client.get(path).data.decode())
    sent = client.post(f"/settings/smtp/{config.id}/send-test", htmx=True).data.decode()
    drain()
    bodies.append(client.get(sent.split('hx-get="')[1].split('"')[0], htmx=True).data.decode())
    api_test = client.post("/api/v1/smtp-configurations/test", headers=api, json={
        "host": "localhost", "port": starttls_server.port, "security": "starttls",
        "username": USERNAME, "password": PASSWORD, "ca_pem": starttls_server.ca_pem})
    drain()
    for response in (api_test,
                     client.get(f"/api/v1/jobs/{api_test.get_json()['job_id']}", headers=api),
                     client.get("/api/v1/smtp-configurations", headers=api),
                     client.get(f"/api/v1/smtp-configurations/{config.id}", headers=api)):
        bodies.append(response.get_data(as_text=True))

    assert len(starttls_server.messages) == 1  # the flow really ran end to end
    logs = "\n".join(record.getMessage() for record in caplog.records)
    audit = str(db.session.scalars(db.select(AuditEvent.details)).all())
    for secret in SECRETS:
        for body in bodies:
            assert secret not in body
        assert secret not in logs
        assert secret not in audit
        for blob in _redis_blobs(app.config["REDIS_URL"]):
            assert secret.encode() not in blob
    assert "BEGIN CERTIFICATE" not in "".join(bodies[3:]) + logs + audit
