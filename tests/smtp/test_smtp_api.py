"""SMTP configurations over the API: same rules as the wizard, never a secret in a response."""
import pytest

from tests.factories import make_api_key, make_org, make_smtp_config
from tests.smtp.servers import PASSWORD, USERNAME


@pytest.fixture
def org():
    return make_org("Acme", "acme")


@pytest.fixture
def headers(org):
    _, secret = make_api_key(org, scopes=["admin"])
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def server(starttls_server, allow_smtp_port):
    allow_smtp_port(starttls_server.port)
    return starttls_server


def _connection(server, **changes):
    body = {"host": server.host, "port": server.port, "security": "starttls",
            "username": USERNAME, "password": PASSWORD, "ca_pem": server.ca_pem}
    body.update(changes)
    return body


def _passed_token(client, headers, drain, body):
    started = client.post("/api/v1/smtp-configurations/test", json=body, headers=headers)
    assert started.status_code == 202
    drain()
    result = client.get(f"/api/v1/jobs/{started.get_json()['job_id']}",
                        headers=headers).get_json()["result"]
    assert set(result) >= {"ok", "code", "message", "test_token"}
    return result


def test_test_then_create_then_read_without_secrets(client, headers, server, drain):
    body = _connection(server)
    result = _passed_token(client, headers, drain, body)
    assert result["ok"] is True and result["code"] == "ok"
    created = client.post("/api/v1/smtp-configurations", headers=headers, json={
        **body, "from_email": "bookings@example.com", "from_name": "Acme",
        "test_token": result["test_token"]})
    assert created.status_code == 201, created.get_json()
    config = created.get_json()
    assert config["primary"] is True and config["has_credentials"] is True
    listing = client.get("/api/v1/smtp-configurations", headers=headers)
    for response in (created, listing):
        text = response.get_data(as_text=True)
        assert PASSWORD not in text and USERNAME not in text and "BEGIN CERTIFICATE" not in text


def test_failed_test_has_no_token(client, headers, server, drain):
    result = _passed_token(client, headers, drain, _connection(server, password="nope-nope"))
    assert result["ok"] is False and result["code"] == "auth_failed"
    assert result["test_token"] is None


def test_create_without_token_is_422_on_test_token(client, headers, server):
    response = client.post("/api/v1/smtp-configurations", headers=headers, json={
        **_connection(server), "from_email": "b@example.com", "from_name": "Acme"})
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "test_token"


@pytest.mark.parametrize("body,field", [
    ({"port": "587"}, "port"),
    ({"security": "ssl3"}, "security"),
    ({"host": "exa mple.com"}, "host"),
    ({"surprise": 1}, "surprise"),
    ({"ca_pem": "not a certificate"}, "ca_pem"),
])
def test_bad_fields_are_422_with_the_field(client, headers, server, body, field):
    response = client.post("/api/v1/smtp-configurations/test", headers=headers,
                           json=_connection(server, **body))
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field


def test_patch_sender_needs_no_test_but_connection_does(client, headers, org):
    config = make_smtp_config(org=org, from_email="a@example.com")
    url = f"/api/v1/smtp-configurations/{config.id}"
    renamed = client.patch(url, headers=headers, json={"from_name": "Acme Team"})
    assert renamed.status_code == 200 and renamed.get_json()["from_name"] == "Acme Team"
    moved = client.patch(url, headers=headers, json={"host": "smtp.other.example.com"})
    assert moved.status_code == 422 and moved.get_json()["error"]["field"] == "test_token"


def test_primary_enabled_and_delete(client, headers, org):
    first = make_smtp_config(org=org, from_email="a@example.com")
    second = make_smtp_config(org=org, from_email="b@example.com")
    base = "/api/v1/smtp-configurations"
    assert client.post(f"{base}/{second.id}/primary", headers=headers).get_json()["primary"]
    assert client.get(f"{base}/{first.id}", headers=headers).get_json()["primary"] is False
    off = client.post(f"{base}/{second.id}/enabled", headers=headers, json={"enabled": False})
    assert off.get_json()["enabled"] is False
    assert off.get_json()["primary"] is False
    bad = client.post(f"{base}/{second.id}/enabled", headers=headers, json={"enabled": "no"})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "enabled"
    assert client.delete(f"{base}/{first.id}", headers=headers).status_code == 204
    assert client.get(f"{base}/{first.id}", headers=headers).status_code == 404


def test_another_orgs_config_is_404_and_scope_admin_is_needed(client, headers, org):
    other = make_smtp_config(org=make_org(), from_email="x@example.com")
    assert client.get(f"/api/v1/smtp-configurations/{other.id}",
                      headers=headers).status_code == 404
    _, read_only = make_api_key(org, scopes=["read", "send"])
    response = client.get("/api/v1/smtp-configurations",
                          headers={"Authorization": f"Bearer {read_only}"})
    assert response.status_code == 403
