"""Organisation settings: name and branding, by role."""
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.factories import PASSWORD, make_org, make_user


def test_admin_saves_name_and_branding(client):
    org = make_org("Acme")
    make_user("boss@example.com", org=org, role="admin")
    client.login("boss@example.com", PASSWORD)
    response = client.post("/settings/organization", data={
        "name": "Acme Health", "logo_url": "https://cdn.example.com/logo.png",
        "brand_color": "#1A73E8", "footer_text": "Acme Health, 1 Main St"})
    assert response.status_code == 303
    page = client.get("/settings/organization")
    assert b'value="Acme Health"' in page.data and b"#1a73e8" in page.data
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="org.settings_updated"))
    assert event.org_id == org.id and event.actor_label == "boss@example.com"
    assert set(event.details["fields"]) == {"name", "logo_url", "brand_color", "footer_text"}


def test_invalid_colour_comes_back_inline_with_422(client):
    org = make_org("Acme")
    make_user("boss@example.com", org=org, role="admin")
    client.login("boss@example.com", PASSWORD)
    response = client.post("/settings/organization", htmx=True, data={
        "name": "Acme", "brand_color": "blue"})
    assert response.status_code == 422
    assert response.data.lstrip().startswith(b'<form id="settings-form"')
    assert b"Use a colour like #1a73e8" in response.data


def test_plain_http_logo_is_refused(client):
    org = make_org("Acme")
    make_user("boss@example.com", org=org, role="admin")
    client.login("boss@example.com", PASSWORD)
    response = client.post("/settings/organization", data={
        "name": "Acme", "logo_url": "http://cdn.example.com/logo.png"})
    assert response.status_code == 422
    assert b"The logo must be an https:// URL" in response.data


def test_member_cannot_see_or_change_settings(client):
    org = make_org("Acme")
    make_user("m@example.com", org=org, role="member")
    client.login("m@example.com", PASSWORD)
    assert client.get("/settings/organization").status_code == 403
    assert client.post("/settings/organization", data={"name": "Hacked"}).status_code == 403


def test_support_staff_read_any_org_but_change_nothing(client):
    org = make_org("Acme")
    make_user("help@example.com", support=True)
    client.login("help@example.com", PASSWORD)
    page = client.get("/settings/organization")
    assert page.status_code == 200
    assert b"read-only" in page.data and b"Save settings" not in page.data
    assert client.post("/settings/organization", data={"name": "Hacked"}).status_code == 403
    db.session.refresh(org)
    assert org.name == "Acme"


def test_user_in_two_orgs_switches_between_them(client):
    first, second = make_org("Alpha"), make_org("Beta")
    make_user("ana@example.com", org=first, role="admin")
    from tests.factories import membership_of  # noqa: F401  (documents the relation used)
    from portal.orgs.models import Membership
    user_id = db.session.scalar(db.select(Membership.user_id).filter_by(org_id=first.id))
    db.session.add(Membership(org_id=second.id, user_id=user_id, role="member"))
    db.session.commit()
    client.login("ana@example.com", PASSWORD)
    assert client.post("/orgs/switch", data={"org_id": second.id}).status_code == 303
    assert b"<h1>Beta</h1>" in client.get("/").data
    assert client.get("/settings/organization").status_code == 403  # member in Beta


def test_switching_to_an_org_you_do_not_belong_to_is_404(client):
    mine, theirs = make_org("Mine"), make_org("Theirs")
    make_user("ana@example.com", org=mine, role="admin")
    client.login("ana@example.com", PASSWORD)
    assert client.post("/orgs/switch", data={"org_id": theirs.id}).status_code == 404
    assert client.post("/orgs/switch", data={"org_id": "x"}).status_code == 404
