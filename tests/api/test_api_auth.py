"""API authentication: bearer keys, scopes, revocation, platform keys, one error shape."""
from datetime import timedelta

from portal.apikeys.services import revoke_api_key
from portal.extensions import db
from tests.factories import make_api_key, make_org


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def assert_error(response, status, code=None, field=None):
    assert response.status_code == status
    error = response.get_json()["error"]
    assert set(error) >= {"code", "message"} and error["message"]
    if code:
        assert error["code"] == code
    if field:
        assert error["field"] == field


def test_missing_key_is_401_in_the_error_shape(client):
    assert_error(client.get("/api/v1/org"), 401, "unauthorized")


def test_malformed_and_unknown_keys_are_401(client):
    make_org()
    assert_error(client.get("/api/v1/org", headers=bearer("nonsense")), 401)
    assert_error(client.get("/api/v1/org", headers=bearer("pr_00000000_" + "x" * 43)), 401)
    assert_error(client.get("/api/v1/org", headers={"Authorization": "Basic abc"}), 401)


def test_revoked_key_is_401(client):
    org = make_org()
    key, secret = make_api_key(org)
    revoke_api_key(key)
    db.session.commit()
    assert_error(client.get("/api/v1/org", headers=bearer(secret)), 401)


def test_key_without_the_scope_is_403(client):
    org = make_org()
    _, secret = make_api_key(org, scopes=["send"])
    assert_error(client.get("/api/v1/org", headers=bearer(secret)), 403, "missing_scope")
    assert_error(client.patch("/api/v1/org", json={"name": "x"}, headers=bearer(secret)), 403)


def test_read_key_sees_its_own_org(client):
    org = make_org("Acme", "acme")
    _, secret = make_api_key(org, scopes=["read"])
    body = client.get("/api/v1/org", headers=bearer(secret)).get_json()
    assert body["slug"] == "acme" and body["name"] == "Acme"


def test_admin_key_changes_branding_and_bad_input_names_the_field(client):
    org = make_org("Acme", "acme")
    _, secret = make_api_key(org, scopes=["admin"])
    ok = client.patch("/api/v1/org", json={"brand_color": "#00AA00"}, headers=bearer(secret))
    assert ok.status_code == 200 and ok.get_json()["branding"]["brand_color"] == "#00aa00"
    assert_error(client.patch("/api/v1/org", json={"brand_color": "green"},
                              headers=bearer(secret)), 422, "invalid", "brand_color")
    assert_error(client.patch("/api/v1/org", json={"plan": "enterprise"},
                              headers=bearer(secret)), 422, field="plan")
    assert_error(client.patch("/api/v1/org", json={"name": 7}, headers=bearer(secret)),
                 422, field="name")
    assert_error(client.patch("/api/v1/org", data="not json", headers=bearer(secret)),
                 422, field="body")


def test_platform_key_must_name_the_org(client):
    make_org("Acme", "acme")
    _, secret = make_api_key(None, scopes=["read"])
    assert_error(client.get("/api/v1/org", headers=bearer(secret)), 422, field="org")
    assert_error(client.get("/api/v1/org?org=nope", headers=bearer(secret)), 422, field="org")
    assert client.get("/api/v1/org?org=acme", headers=bearer(secret)).get_json()["slug"] == "acme"


def test_use_is_recorded_as_last_used(client):
    org = make_org()
    key, secret = make_api_key(org, scopes=["read"])
    assert key.last_used_at is None
    client.get("/api/v1/org", headers=bearer(secret))
    db.session.refresh(key)
    assert key.last_used_at is not None
    first = key.last_used_at
    client.get("/api/v1/org", headers=bearer(secret))
    db.session.refresh(key)
    assert key.last_used_at - first < timedelta(seconds=1)


def test_unknown_api_path_answers_json(client):
    org = make_org()
    _, secret = make_api_key(org)
    assert_error(client.get("/api/v1/nothing-here", headers=bearer(secret)), 404, "not_found")
