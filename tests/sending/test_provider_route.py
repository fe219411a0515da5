"""The org's own provider key as a route: sent through it, or one fallback to the platform."""
from portal.extensions import db
from portal.sending.models import Message
from tests.providers.factories import make_provider_account
from tests.providers.servers import provider_api, provider_settings  # noqa: F401 (fixtures)
from tests.sending.conftest import message_body, smtp_config_for


def _send_and_deliver(client, api, drain, **changes):
    created = client.post("/api/v1/messages", json=message_body(**changes), headers=api)
    assert created.status_code == 202
    drain()
    return client.get(f"/api/v1/messages/{created.get_json()['id']}", headers=api).get_json()


def test_enabled_provider_key_carries_the_message(client, api, org, relay, provider_settings,
                                                  drain):
    make_provider_account(org, "sendgrid", enabled=True)
    body = _send_and_deliver(client, api, drain, **{"from": {"email": "hello@acme.example.com",
                                                             "name": "Acme"}})
    assert body["status"] == "sent" and body["route"] == "org_provider"
    assert body["provider"] == "sendgrid" and body["provider_message_id"]
    sent = provider_settings.last("/v3/mail/send").json
    assert sent["from"]["email"] == "hello@acme.example.com"
    assert relay.messages == []


def test_the_org_smtp_comes_before_the_provider(client, api, org, relay, org_server,
                                                provider_settings, drain):
    make_provider_account(org, "sendgrid", enabled=True)
    smtp_config_for(org_server, org=org)
    body = _send_and_deliver(client, api, drain)
    assert body["route"] == "org_smtp" and len(org_server.messages) == 1


def test_a_rejected_key_falls_back_to_the_platform(client, api, org, relay, provider_settings,
                                                   drain):
    make_provider_account(org, "resend", enabled=True)
    provider_settings.answer = 401
    body = _send_and_deliver(client, api, drain)
    assert body["status"] == "sent" and body["route"] == "platform"
    assert [e["type"] for e in body["events"]] == ["queued", "attempt", "fallback", "attempt",
                                                   "sent"]
    assert len(relay.messages) == 1


def test_a_provider_5xx_gets_one_quick_retry_then_the_fallback(client, api, org, relay,
                                                               provider_settings, drain):
    make_provider_account(org, "sendgrid", enabled=True)
    provider_settings.answer = 500
    body = _send_and_deliver(client, api, drain)
    kinds = [e["type"] for e in body["events"]]
    assert kinds == ["queued", "attempt", "attempt", "fallback", "attempt", "sent"]
    assert len([r for r in provider_settings.requests if r.path == "/v3/mail/send"]) == 2


def test_a_message_level_4xx_fails_without_fallback(client, api, org, relay, provider_settings,
                                                    drain):
    make_provider_account(org, "sendgrid", enabled=True)
    provider_settings.answer = 400
    body = _send_and_deliver(client, api, drain)
    assert body["status"] == "failed" and relay.messages == []
    assert db.session.scalar(db.select(Message.error))
