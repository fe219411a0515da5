"""Settings → Providers: save a key (encrypted, shown only as its last four characters), test
it for real through a worker, enable one provider at a time, delete; who may do what."""
import re

import pytest
from sqlalchemy.exc import IntegrityError

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.providers.models import ProviderAccount
from portal.providers.services import active_provider_account, provider_for
from portal.vault import decrypt
from tests.factories import PASSWORD, make_org, make_user
from tests.providers.factories import make_provider_account
from tests.providers.servers import RESEND_KEY, SENDGRID_KEY


@pytest.fixture
def org():
    return make_org("Acme")


@pytest.fixture
def admin(client, org):
    user = make_user("boss@example.com", org=org, role="admin")
    client.login("boss@example.com", PASSWORD)
    return user


def save_key(client, provider, key, **kwargs):
    return client.post(f"/settings/providers/{provider}", data={f"{provider}-api_key": key},
                       **kwargs)


def account(provider="sendgrid") -> ProviderAccount | None:
    db.session.expire_all()
    return db.session.scalar(db.select(ProviderAccount).filter_by(provider=provider))


def run_check(client, drain, account_id) -> str:
    """Press "Test key", let the worker run, and return the finished card's HTML."""
    started = client.post(f"/settings/providers/{account_id}/check", htmx=True)
    assert started.status_code == 200, started.data[:500]
    job_url = re.search(rb'hx-get="(/jobs/[^"]+)"', started.data).group(1).decode()
    drain()
    return client.get(job_url, htmx=True).data.decode()


def test_the_page_offers_both_providers_and_none_is_in_use(client, admin):
    page = client.get("/settings/providers").data.decode()
    assert "SendGrid" in page and "Resend" in page
    assert "No provider in use" in page
    assert page.count('type="password"') == 2


def test_saving_a_key_stores_it_encrypted_and_shows_only_its_last_four(client, admin):
    response = save_key(client, "sendgrid", f"  {SENDGRID_KEY}\n")
    assert response.status_code == 303

    saved = account()
    assert SENDGRID_KEY not in saved.api_key_encrypted
    assert decrypt(saved.api_key_encrypted) == SENDGRID_KEY  # pasted whitespace trimmed
    assert saved.key_hint == SENDGRID_KEY[-4:] and not saved.enabled
    page = client.get("/settings/providers").data.decode()
    assert f"…{SENDGRID_KEY[-4:]}" in page
    assert "The SendGrid key is saved. Test it, then enable it" in page
    assert SENDGRID_KEY not in page and SENDGRID_KEY[:-4] not in page


def test_an_invalid_key_comes_back_as_the_form_with_its_error(client, admin):
    response = save_key(client, "resend", "re_abc def", htmx=True)
    assert response.status_code == 422
    fragment = response.data.decode()
    assert '<div id="provider-list">' in fragment
    assert "<html" not in fragment
    assert "no spaces or line breaks inside" in fragment
    assert "re_abc def" not in fragment and "re_abc" not in fragment
    assert account("resend") is None

    empty = save_key(client, "resend", "", htmx=True)
    assert empty.status_code == 422 and b"Paste the API key" in empty.data


def test_test_key_runs_a_real_check_against_the_provider(client, admin, provider_settings, drain):
    save_key(client, "sendgrid", SENDGRID_KEY)
    card = run_check(client, drain, account().id)

    assert "✔ The key works" in card
    assert provider_settings.last("/v3/scopes").headers["Authorization"] == \
        f"Bearer {SENDGRID_KEY}"
    checked = account()
    assert checked.last_check_code == "ok" and checked.last_checked_at is not None
    assert "The key works" in client.get("/settings/providers").data.decode()


def test_a_refused_key_fails_the_test_in_plain_words(client, admin, provider_settings, drain):
    save_key(client, "resend", "re_revoked_0123456789abcd")
    card = run_check(client, drain, account("resend").id)
    assert "✘" in card and "key_rejected" in card and "Resend refused the API key" in card
    assert account("resend").last_check_code == "key_rejected"
    assert "re_revoked_0123456789abcd" not in card


def test_an_unreachable_provider_fails_the_test(app, client, admin, closed_url, drain,
                                                monkeypatch):
    monkeypatch.setitem(app.config, "POSTROOM_SENDGRID_BASE_URL", closed_url)
    save_key(client, "sendgrid", SENDGRID_KEY)
    card = run_check(client, drain, account().id)
    assert "✘" in card and "unreachable" in card


def test_enabling_one_provider_disables_the_other(client, admin, org):
    sendgrid = make_provider_account(org, "sendgrid")
    resend = make_provider_account(org, "resend")

    assert client.post(f"/settings/providers/{sendgrid.id}/enabled",
                       data={"enabled": "1"}).status_code == 303
    assert active_provider_account(org.id).provider == "sendgrid"
    client.post(f"/settings/providers/{resend.id}/enabled", data={"enabled": "1"})
    page = client.get("/settings/providers").data.decode()
    assert "The organisation&#39;s mail now goes through Resend. SendGrid is disabled." in page
    assert active_provider_account(org.id).provider == "resend"
    assert not account("sendgrid").enabled

    client.post(f"/settings/providers/{resend.id}/enabled", data={"enabled": "0"})
    assert active_provider_account(org.id) is None
    assert "No provider in use" in client.get("/settings/providers").data.decode()


def test_the_database_refuses_two_enabled_providers(org):
    make_provider_account(org, "sendgrid", enabled=True)
    resend = make_provider_account(org, "resend")
    resend.enabled = True
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_one_account_per_provider_and_org(org):
    make_provider_account(org, "sendgrid")
    db.session.add(ProviderAccount(org_id=org.id, provider="sendgrid", api_key_encrypted="x",
                                   key_hint=""))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_replacing_a_key_keeps_it_in_use_and_forgets_the_old_check(client, admin, org,
                                                                    provider_settings, drain):
    sendgrid = make_provider_account(org, "sendgrid", enabled=True)
    run_check(client, drain, sendgrid.id)
    assert account().last_check_code == "ok"

    new_key = "SG.rotated-key.0123456789abcdefghijNEW1"
    assert save_key(client, "sendgrid", new_key).status_code == 303
    replaced = account()
    assert decrypt(replaced.api_key_encrypted) == new_key
    assert replaced.enabled and replaced.key_hint == "NEW1"
    assert replaced.last_check_code is None
    assert db.session.scalar(db.select(db.func.count()).select_from(ProviderAccount)) == 1


def test_delete_asks_for_confirmation_and_stops_using_the_provider(client, admin, org):
    sendgrid = make_provider_account(org, "sendgrid", enabled=True)
    page = client.get("/settings/providers").data.decode()
    assert ('hx-confirm="Delete the SendGrid key? The organisation&#39;s mail stops going '
            'through SendGrid."') in page

    assert client.post(f"/settings/providers/{sendgrid.id}/delete").status_code == 303
    page = client.get("/settings/providers").data.decode()
    assert "The SendGrid key was deleted. Mail no longer goes through SendGrid." in page
    assert account() is None and active_provider_account(org.id) is None


def test_htmx_actions_redirect_on_the_client(client, admin, org):
    sendgrid = make_provider_account(org, "sendgrid")
    response = client.post(f"/settings/providers/{sendgrid.id}/enabled", data={"enabled": "1"},
                           htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/settings/providers"


def test_members_are_refused(client, org):
    sendgrid = make_provider_account(org, "sendgrid")
    make_user("m@example.com", org=org)
    client.login("m@example.com", PASSWORD)
    assert client.get("/settings/providers").status_code == 403
    assert save_key(client, "sendgrid", "SG.member-key-0123456789").status_code == 403
    for action in ("enabled", "check", "delete"):
        assert client.post(f"/settings/providers/{sendgrid.id}/{action}",
                           data={"enabled": "1"}).status_code == 403
    assert decrypt(account().api_key_encrypted) == SENDGRID_KEY and not account().enabled


def test_support_staff_read_but_change_nothing(client, org):
    sendgrid = make_provider_account(org, "sendgrid", enabled=True)
    make_user("help@example.com", support=True)
    client.login("help@example.com", PASSWORD)
    page = client.get("/settings/providers")
    assert page.status_code == 200
    html = page.data.decode()
    assert f"…{SENDGRID_KEY[-4:]}" in html and "In use" in html
    for control in ("Save key", "Replace key", "Test key", "Disable", 'type="password"'):
        assert control not in html
    assert save_key(client, "resend", RESEND_KEY).status_code == 403
    for action in ("enabled", "check", "delete"):
        assert client.post(f"/settings/providers/{sendgrid.id}/{action}",
                           data={"enabled": "0"}).status_code == 403
    assert account().enabled and account("resend") is None


def test_another_orgs_account_is_not_found(client, admin):
    other = make_org("Beta")
    theirs = make_provider_account(other, "sendgrid", enabled=True)
    for action in ("enabled", "check", "delete"):
        assert client.post(f"/settings/providers/{theirs.id}/{action}",
                           data={"enabled": "0"}).status_code == 404
    assert account().enabled
    assert f"…{SENDGRID_KEY[-4:]}" not in client.get("/settings/providers").data.decode()


def test_a_short_key_gets_no_hint(client, admin):
    save_key(client, "resend", "re_short")
    assert account("resend").key_hint == ""
    assert "re_short" not in client.get("/settings/providers").data.decode()


def test_audit_events_name_the_provider_never_the_key(client, admin, org, provider_settings,
                                                      drain):
    save_key(client, "sendgrid", SENDGRID_KEY)
    save_key(client, "resend", RESEND_KEY)
    sendgrid, resend = account("sendgrid"), account("resend")
    client.post(f"/settings/providers/{sendgrid.id}/enabled", data={"enabled": "1"})
    client.post(f"/settings/providers/{resend.id}/enabled", data={"enabled": "1"})
    run_check(client, drain, resend.id)
    client.post(f"/settings/providers/{sendgrid.id}/delete")

    events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()
    provider_events = [(e.action, e.details) for e in events if e.action.startswith("provider.")]
    assert provider_events == [
        ("provider.saved", {"provider": "sendgrid", "replaced": False}),
        ("provider.saved", {"provider": "resend", "replaced": False}),
        ("provider.enabled", {"provider": "sendgrid"}),
        ("provider.enabled", {"provider": "resend", "disabled_other": "sendgrid"}),
        ("provider.checked", {"provider": "resend", "result": "ok"}),
        ("provider.deleted", {"provider": "sendgrid", "was_enabled": False}),
    ]
    audit_page = client.get("/settings/audit").data.decode()
    for key in (SENDGRID_KEY, RESEND_KEY):
        assert key not in str([e.details for e in events]) and key not in audit_page


def test_the_pipeline_gets_an_adapter_with_the_key_and_the_configured_url(app, org):
    sendgrid = make_provider_account(org, "sendgrid", enabled=True)
    adapter = provider_for(active_provider_account(org.id), {"POSTROOM_SENDGRID_BASE_URL":
                                                             "http://127.0.0.1:1"})
    assert adapter.name == "sendgrid" and adapter.base_url == "http://127.0.0.1:1"
    assert provider_for(sendgrid).base_url == \
        app.config.get("POSTROOM_SENDGRID_BASE_URL", "https://api.sendgrid.com")
    resend = make_provider_account(org, "resend")
    assert provider_for(resend).name == "resend"
