"""API keys in the UI: the secret is shown once; revoked keys stop working."""
import re

from portal.apikeys.models import ApiKey
from portal.extensions import db
from tests.factories import PASSWORD, make_api_key, make_org, make_user


def _admin(client, org):
    make_user("boss@example.com", org=org, role="admin")
    client.login("boss@example.com", PASSWORD)


def test_new_key_secret_is_shown_once_and_only_its_hash_is_stored(client):
    org = make_org()
    _admin(client, org)
    response = client.post("/settings/api-keys", htmx=True,
                           data={"name": "booking service", "scopes": ["send", "read"]})
    assert response.status_code == 200
    assert response.data.lstrip().startswith(b'<div id="key-admin">')
    secret = re.search(rb'<code id="new-key-secret">([^<]+)</code>', response.data).group(1)
    key = db.session.scalar(db.select(ApiKey).filter_by(name="booking service"))
    assert key.scopes == ["read", "send"]
    assert secret.decode() not in (key.secret_hash, key.prefix)
    listing = client.get("/settings/api-keys").data
    assert secret not in listing and key.prefix.encode() in listing

    api = client.get("/api/v1/org", headers={"Authorization": f"Bearer {secret.decode()}"})
    assert api.status_code == 200


def test_key_without_a_name_or_scope_is_refused_inline(client):
    _admin(client, make_org())
    response = client.post("/settings/api-keys", htmx=True, data={"name": ""})
    assert response.status_code == 422
    assert b"Give the key a name" in response.data
    assert b"Choose at least one scope" in response.data


def test_unknown_scope_is_refused(client):
    _admin(client, make_org())
    response = client.post("/settings/api-keys", data={"name": "x", "scopes": ["root"]})
    assert response.status_code == 422
    assert b"is not a valid choice" in response.data


def test_revoked_key_is_refused_by_the_api(client):
    org = make_org()
    _admin(client, org)
    key, secret = make_api_key(org)
    assert client.post(f"/settings/api-keys/{key.id}/revoke").status_code == 303
    assert b"revoked" in client.get("/settings/api-keys").data
    api = client.get("/api/v1/org", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401
