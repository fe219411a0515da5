"""Primary rules, enable/disable, delete, roles and personal SMTP."""
import pytest
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.smtp.models import SmtpConfiguration
from tests.factories import PASSWORD, make_org, make_smtp_config, make_user


@pytest.fixture
def org():
    return make_org("Acme")


@pytest.fixture
def admin(client, org):
    make_user("boss@example.com", org=org, role="admin")
    client.login("boss@example.com", PASSWORD)


def _primary_ids(org):
    return db.session.scalars(db.select(SmtpConfiguration.id).filter_by(
        org_id=org.id, is_primary=True)).all()


def test_setting_primary_moves_it(client, admin, org):
    first = make_smtp_config(org=org, from_email="a@example.com")
    second = make_smtp_config(org=org, from_email="b@example.com")
    assert _primary_ids(org) == [first.id]
    assert client.post(f"/settings/smtp/{second.id}/primary").status_code == 303
    db.session.expire_all()
    assert _primary_ids(org) == [second.id]


def test_the_database_refuses_two_primaries(org):
    make_smtp_config(org=org, from_email="a@example.com", primary=True)
    with pytest.raises(IntegrityError):
        make_smtp_config(org=org, from_email="b@example.com", primary=True)
    db.session.rollback()


def test_disabling_the_primary_leaves_none_and_offers_the_others(client, admin, org):
    first = make_smtp_config(org=org, from_email="a@example.com")
    make_smtp_config(org=org, from_email="b@example.com")
    response = client.post(f"/settings/smtp/{first.id}/enabled", data={"enabled": "0"})
    assert response.status_code == 303
    page = client.get("/settings/smtp").data.decode()
    assert "mail now goes through the platform default" in page
    assert "No primary SMTP configuration" in page
    assert "Make b@example.com primary" in page
    assert "Make a@example.com primary" not in page  # disabled ones are not offered
    assert _primary_ids(org) == []


def test_deleting_the_primary_leaves_none(client, admin, org):
    first = make_smtp_config(org=org, from_email="a@example.com")
    make_smtp_config(org=org, from_email="b@example.com")
    assert client.post(f"/settings/smtp/{first.id}/delete").status_code == 303
    page = client.get("/settings/smtp").data.decode()
    assert "a@example.com was deleted. There is no primary configuration now." in page
    assert _primary_ids(org) == []
    assert b"No primary SMTP configuration" in client.get("/").data


def test_a_disabled_config_cannot_become_primary(client, admin, org):
    make_smtp_config(org=org, from_email="a@example.com")
    off = make_smtp_config(org=org, from_email="b@example.com", enabled=False)
    client.post(f"/settings/smtp/{off.id}/primary")
    assert "Enable this configuration before making it primary" in \
        client.get("/settings/smtp").data.decode()


def test_delete_asks_for_confirmation_naming_the_address(client, admin, org):
    make_smtp_config(org=org, from_email="a@example.com")
    page = client.get("/settings/smtp").data.decode()
    assert 'hx-confirm="Delete the SMTP configuration for a@example.com?"' in page


def test_members_cannot_reach_org_smtp_and_support_can_only_read(client, org):
    make_smtp_config(org=org, from_email="a@example.com")
    make_user("m@example.com", org=org)
    client.login("m@example.com", PASSWORD)
    assert client.get("/settings/smtp").status_code == 403
    client.logout()
    make_user("help@example.com", support=True)
    client.login("help@example.com", PASSWORD)
    page = client.get("/settings/smtp")
    assert page.status_code == 200 and b"a@example.com" in page.data
    assert b"Send test email" not in page.data
    config = db.session.scalar(db.select(SmtpConfiguration))
    assert client.post(f"/settings/smtp/{config.id}/delete").status_code == 403
    assert client.get("/settings/smtp/new").status_code == 403


def test_personal_smtp_is_only_its_owners(client, other_client, org):
    ana = make_user("ana@example.com", org=org)
    make_user("ben@example.com", org=org, role="admin")
    mine = make_smtp_config(user=ana, from_email="ana@example.com", host="smtp.gmail.com")
    client.login("ana@example.com", PASSWORD)
    page = client.get("/account/smtp").data
    assert b"ana@example.com" in page and b"smtp.gmail.com" in page and b"Primary" in page

    other_client.login("ben@example.com", PASSWORD)
    assert b"smtp.gmail.com" not in other_client.get("/account/smtp").data
    assert other_client.get(f"/account/smtp/{mine.id}/edit").status_code == 404
    assert other_client.get(f"/settings/smtp/{mine.id}/edit").status_code == 404
    assert other_client.post(f"/account/smtp/{mine.id}/delete").status_code == 404


def test_support_sees_that_a_personal_smtp_exists_but_not_its_details(client, org):
    ana = make_user("ana@example.com", org=org)
    make_smtp_config(user=ana, from_email="ana@example.com", host="smtp.gmail.com")
    make_user("help@example.com", support=True)
    client.login("help@example.com", PASSWORD)
    members = client.get("/settings/members").data
    assert b"personal SMTP" in members and b"smtp.gmail.com" not in members
