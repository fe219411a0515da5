"""Sending domains over the API (scope admin): add, read the records, check through a real
worker, activate, deactivate, delete; 422 with the field for bad input."""
import pytest

from portal.domains.models import SendingDomain
from portal.domains.services import active_domain
from portal.extensions import db
from tests.domains.factories import make_sending_domain, publish
from tests.factories import make_api_key, make_org


@pytest.fixture
def org():
    return make_org("Acme", "acme")


@pytest.fixture
def api(org):
    _, secret = make_api_key(org, scopes=["admin"])
    return {"Authorization": f"Bearer {secret}"}


def test_adding_a_domain_returns_its_records(client, api):
    response = client.post("/api/v1/domains", headers=api, json={"name": " Acme.Example.com. "})
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "acme.example.com" and body["status"] == "pending_dns"
    assert body["active"] is False and body["from_email"] == "notifications@acme.example.com"
    assert body["last_checked_at"] is None and body["verified_at"] is None
    assert body["next_check_at"].endswith("Z")
    records = {r["kind"]: r for r in body["records"]}
    assert set(records) == {"ownership", "dkim", "spf", "return_path", "dmarc"}
    assert records["dkim"]["type"] == "TXT" and records["dkim"]["host"].endswith("._domainkey")
    assert records["dkim"]["value"].startswith("v=DKIM1; k=rsa; p=")
    assert records["spf"]["host"] == "@" and records["spf"]["required"] is True
    assert records["return_path"] == {
        "kind": "return_path", "type": "CNAME", "host": "bounces",
        "name": "bounces.acme.example.com", "value": "bounces.postroom.example.com",
        "required": False, "status": "not_checked", "found": [], "message": "Not checked yet."}
    assert "PRIVATE" not in response.get_data(as_text=True)

    listed = client.get("/api/v1/domains", headers=api).get_json()["data"]
    assert [d["name"] for d in listed] == ["acme.example.com"]
    one = client.get(f"/api/v1/domains/{body['id']}", headers=api).get_json()
    assert one == body


@pytest.mark.parametrize("payload, field", [
    ({"name": "https://acme.example.com"}, "name"), ({"name": "com"}, "name"),
    ({"name": 42}, "name"), ({}, "name"), ({"name": "a.example.com", "colour": "x"}, "colour"),
])
def test_bad_input_is_a_422_naming_the_field(client, api, payload, field):
    response = client.post("/api/v1/domains", headers=api, json=payload)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field


def test_the_same_name_twice_is_a_422(client, api, org):
    make_sending_domain(org, "acme.example.com")
    response = client.post("/api/v1/domains", headers=api, json={"name": "acme.example.com"})
    assert response.status_code == 422 and "already" in response.get_json()["error"]["message"]


def test_check_runs_on_a_worker_and_verifies(client, api, org, dns_server, drain):
    domain = make_sending_domain(org, "acme.example.com")
    publish(dns_server, domain)
    response = client.post(f"/api/v1/domains/{domain.id}/check", headers=api)
    assert response.status_code == 202
    job_id = response.get_json()["job_id"]
    assert client.get(f"/api/v1/domains/{domain.id}", headers=api).get_json()["status"] == \
        "verifying"
    drain()
    job = client.get(f"/api/v1/jobs/{job_id}", headers=api).get_json()
    assert job["status"] == "finished" and job["result"]["status"] == "verified"
    body = client.get(f"/api/v1/domains/{domain.id}", headers=api).get_json()
    assert body["status"] == "verified" and body["active"] is True
    assert body["verified_at"] and body["last_checked_at"]
    assert {r["status"] for r in body["records"]} == {"ok"}


def test_activate_deactivate_and_turn_on_again(client, api, org):
    first = make_sending_domain(org, "one.example.com", verified=True)
    second = make_sending_domain(org, "two.example.com", verified=True)
    pending = make_sending_domain(org, "three.example.com")

    refused = client.post(f"/api/v1/domains/{pending.id}/activate", headers=api)
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "status"

    body = client.post(f"/api/v1/domains/{second.id}/activate", headers=api).get_json()
    assert body["active"] is True
    assert client.get(f"/api/v1/domains/{first.id}", headers=api).get_json()["previous"] is True

    body = client.post(f"/api/v1/domains/{second.id}/deactivate", headers=api).get_json()
    assert body["status"] == "deactivated" and body["active"] is False
    assert active_domain(org.id).id == first.id
    refused = client.post(f"/api/v1/domains/{second.id}/check", headers=api)
    assert refused.status_code == 422

    body = client.post(f"/api/v1/domains/{second.id}/activate", headers=api).get_json()
    assert body["status"] == "verified" and body["active"] is True


def test_delete(client, api, org):
    domain = make_sending_domain(org, "acme.example.com", verified=True)
    assert client.delete(f"/api/v1/domains/{domain.id}", headers=api).status_code == 204
    assert client.get(f"/api/v1/domains/{domain.id}", headers=api).status_code == 404
    assert db.session.scalar(db.select(SendingDomain)) is None and active_domain(org.id) is None


def test_a_key_without_the_admin_scope_is_refused(client, org):
    _, secret = make_api_key(org, scopes=["send", "read"])
    response = client.get("/api/v1/domains", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403


def test_responses_match_the_openapi_description(client, api, org):
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    from portal.domains.openapi import domain_schemas

    document = {"components": {"schemas": domain_schemas()}}
    registry = Registry().with_resource("urn:domains", DRAFT202012.create_resource(document))
    make_sending_domain(org, "one.example.com", verified=True)
    make_sending_domain(org, "bücher.example")
    body = client.get("/api/v1/domains", headers=api).get_json()
    validator = Draft202012Validator({"$ref": "urn:domains#/components/schemas/DomainList"},
                                     registry=registry)
    assert [e.message for e in validator.iter_errors(body)] == []
