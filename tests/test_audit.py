"""The audit log: every mutation leaves an event; the page pages by keyset; no secrets."""
from portal.audit.models import AuditEvent
from portal.audit.services import record_audit
from portal.extensions import db
from tests.factories import PASSWORD, make_org, make_user


def test_events_page_newest_first_with_older_link(client):
    org = make_org()
    make_user("boss@example.com", org=org, role="admin")
    for n in range(60):
        record_audit("test.event", org_id=org.id, details={"n": n})
    db.session.commit()
    client.login("boss@example.com", PASSWORD)
    page = client.get("/settings/audit?action=test.event").data.decode()
    assert page.index('{"n": 59}') < page.index('{"n": 58}')
    assert '{"n": 9}' not in page and "Older events" in page
    older = client.get("/settings/audit?action=test.event&before="
                       + page.split("before=")[1].split("&")[0], htmx=True).data.decode()
    assert '{"n": 9}' in older and '{"n": 0}' in older and "Older events" not in older
    assert "<html" not in older


def test_secret_looking_details_are_redacted():
    org = make_org()
    event = record_audit("x.y", org_id=org.id, details={"password": "hunter22",
                                                        "smtp": {"api_key": "sk-1"}, "n": 1})
    db.session.commit()
    stored = db.session.get(AuditEvent, event.id).details
    assert stored == {"password": "[redacted]", "smtp": {"api_key": "[redacted]"}, "n": 1}


def test_ui_mutations_record_actor_and_ip(client):
    org = make_org()
    make_user("boss@example.com", org=org, role="admin")
    client.login("boss@example.com", PASSWORD)
    client.post("/settings/api-keys", data={"name": "ci", "scopes": ["send"]})
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="api_key.created"))
    assert event.actor_label == "boss@example.com" and event.ip == "127.0.0.1"
    assert event.details["scopes"] == ["send"]
