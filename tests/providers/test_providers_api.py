"""Provider keys over the API (scope admin): the key goes in, only its last four come out."""
import pytest

from portal.extensions import db
from portal.providers.models import ProviderAccount
from portal.providers.services import active_provider_account
from portal.vault import decrypt
from tests.factories import make_api_key, make_org
from tests.providers.factories import make_provider_account
from tests.providers.servers import RESEND_KEY, SENDGRID_KEY


@pytest.fixture
def org():
    return make_org("Acme")


@pytest.fixture
def api(org):
    _, secret = make_api_key(org, scopes=["admin"])
    return {"Authorization": f"Bearer {secret}"}


def test_put_saves_a_key_and_get_shows_only_its_hint(client, org, api):
    assert client.get("/api/v1/providers/sendgrid", headers=api).status_code == 404

    created = client.put("/api/v1/providers/sendgrid", headers=api,
                         json={"api_key": SENDGRID_KEY})
    assert created.status_code == 201
    body = created.get_json()
    assert body["provider"] == "sendgrid" and body["key_hint"] == SENDGRID_KEY[-4:]
    assert body["enabled"] is False and body["last_check"]["code"] is None
    read = client.get("/api/v1/providers/sendgrid", headers=api)
    assert read.status_code == 200 and read.get_json()["key_hint"] == SENDGRID_KEY[-4:]
    for response in (created, read):
        assert SENDGRID_KEY not in response.get_data(as_text=True)
    saved = db.session.scalar(db.select(ProviderAccount))
    assert decrypt(saved.api_key_encrypted) == SENDGRID_KEY


def test_put_enables_one_provider_and_disables_the_other(client, org, api):
    make_provider_account(org, "sendgrid", enabled=True)
    response = client.put("/api/v1/providers/resend", headers=api,
                          json={"api_key": RESEND_KEY, "enabled": True})
    assert response.status_code == 201 and response.get_json()["enabled"] is True
    assert active_provider_account(org.id).provider == "resend"
    assert client.get("/api/v1/providers/sendgrid", headers=api).get_json()["enabled"] is False


@pytest.mark.parametrize("body, field", [
    ({}, "api_key"),
    ({"api_key": "with space inside"}, "api_key"),
    ({"api_key": 42}, "api_key"),
    ({"api_key": "re_0123456789abcdef", "enabled": "yes"}, "enabled"),
    ({"api_key": "re_0123456789abcdef", "colour": "blue"}, "colour"),
])
def test_bad_input_is_refused_with_its_field(client, org, api, body, field):
    response = client.put("/api/v1/providers/resend", headers=api, json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field
    assert db.session.scalar(db.select(db.func.count()).select_from(ProviderAccount)) == 0


def test_delete_removes_the_key(client, org, api):
    make_provider_account(org, "resend", enabled=True)
    assert client.delete("/api/v1/providers/resend", headers=api).status_code == 204
    assert client.delete("/api/v1/providers/resend", headers=api).status_code == 404
    assert active_provider_account(org.id) is None


def test_check_runs_a_job_whose_result_says_whether_the_key_works(client, org, api,
                                                                   provider_settings, drain):
    make_provider_account(org, "resend")
    started = client.post("/api/v1/providers/resend/check", headers=api)
    assert started.status_code == 202
    drain()
    job = client.get(f"/api/v1/jobs/{started.get_json()['job_id']}", headers=api).get_json()
    assert job["status"] == "finished"
    assert job["result"] == {"ok": True, "code": "ok", "message": "The key works"}


def test_the_admin_scope_is_required_and_other_orgs_are_invisible(client, org):
    _, reader = make_api_key(org, scopes=["read", "send"])
    assert client.get("/api/v1/providers/sendgrid",
                      headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    other = make_org("Beta")
    make_provider_account(other, "sendgrid")
    _, admin = make_api_key(org, scopes=["admin"])
    assert client.get("/api/v1/providers/sendgrid",
                      headers={"Authorization": f"Bearer {admin}"}).status_code == 404
    assert client.get("/api/v1/providers/mailgun",
                      headers={"Authorization": f"Bearer {admin}"}).status_code == 404
