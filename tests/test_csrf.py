"""CSRF: every cookie-authenticated mutation needs the session's token."""
import pytest

from portal.extensions import db
from tests.factories import PASSWORD, make_org, make_user


def test_login_without_a_token_is_refused(client):
    make_user("ana@example.com")
    response = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD},
                           csrf=False)
    assert response.status_code == 400
    assert b"This form expired or was sent from another site" in response.data


@pytest.mark.parametrize("path,data", [
    ("/settings/organization", {"name": "Hijacked"}),
    ("/settings/api-keys", {"name": "stolen", "scopes": ["admin"]}),
    ("/settings/members", {"email": "evil@example.com", "role": "admin", "method": "invite"}),
])
def test_admin_mutations_without_a_token_change_nothing(client, path, data):
    org = make_org("Acme")
    make_user("boss@example.com", org=org, role="admin")
    client.login("boss@example.com", PASSWORD)
    response = client.post(path, data=data, csrf=False, htmx=True)
    assert response.status_code == 400
    db.session.refresh(org)
    assert org.name == "Acme"
    assert b"stolen" not in client.get("/settings/api-keys").data
    assert b"evil@example.com" not in client.get("/settings/members").data


def test_htmx_requests_send_the_token_in_a_header(client):
    page = client.get("/login").data
    assert b'hx-headers=\'{"X-CSRFToken": "' in page
    assert b'<meta name="csrf-token"' in page
