"""Members: add with a password or an invitation link, change roles, remove."""
import re

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.orgs.models import Membership
from tests.factories import PASSWORD, make_invitation, make_org, make_user, membership_of


def _admin(client, org):
    make_user("boss@example.com", org=org, role="admin")
    client.login("boss@example.com", PASSWORD)


def test_admin_adds_a_member_with_an_initial_password_who_can_then_sign_in(client, other_client):
    org = make_org("Acme")
    _admin(client, org)
    response = client.post("/settings/members", data={
        "email": "new@example.com", "role": "member", "method": "password",
        "password": "initial-password-1", "display_name": "New Person"})
    assert response.status_code == 303
    assert b"new@example.com" in client.get("/settings/members").data
    assert other_client.login("new@example.com", "initial-password-1").status_code == 303
    assert b"Acme" in other_client.get("/").data


def test_password_method_without_a_password_explains_what_to_do(client):
    _admin(client, make_org())
    response = client.post("/settings/members", htmx=True, data={
        "email": "new@example.com", "role": "member", "method": "password"})
    assert response.status_code == 422
    assert b"Set an initial password, or send an invitation link instead" in response.data
    assert b'id="member-admin"' in response.data


def test_invitation_link_is_shown_once_and_works_once(client, other_client):
    org = make_org("Acme")
    _admin(client, org)
    response = client.post("/settings/members", htmx=True, data={
        "email": "invitee@example.com", "role": "admin", "method": "invite"})
    assert response.status_code == 200
    link = re.search(rb'<code id="invite-link">([^<]+)</code>', response.data).group(1).decode()
    path = link.replace("http://localhost", "")
    assert path.encode() not in client.get("/settings/members").data  # not shown again

    page = other_client.get(path)
    assert b"Join Acme" in page.data
    joined = other_client.post(path, data={"display_name": "Ivy", "password": "ivy-password-1"})
    assert joined.status_code == 303
    assert b"Acme" in other_client.get("/").data
    assert membership_of_email("invitee@example.com", org).role == "admin"

    other_client.logout()
    assert other_client.get(path).status_code == 404


def membership_of_email(email, org):
    from portal.accounts.models import User
    user = db.session.scalar(db.select(User).filter_by(email=email))
    return membership_of(user, org)


def test_revoked_invitation_stops_working(client, other_client):
    org = make_org()
    _admin(client, org)
    issued = make_invitation(org, "late@example.com")
    assert client.post(f"/settings/invitations/{issued.invitation.id}/revoke").status_code == 303
    assert other_client.get(f"/invitations/{issued.token}").status_code == 404


def test_admin_changes_a_role_and_it_is_audited(client):
    org = make_org()
    _admin(client, org)
    member = make_user("m@example.com", org=org)
    membership = membership_of(member, org)
    response = client.post(f"/settings/members/{membership.id}/role", data={"role": "admin"})
    assert response.status_code == 303
    db.session.refresh(membership)
    assert membership.role == "admin"
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="member.role_changed"))
    assert event.details == {"user_id": member.id, "from": "member", "to": "admin"}


def test_the_last_admin_cannot_step_down_or_be_removed(client):
    org = make_org()
    _admin(client, org)
    mine = db.session.scalar(db.select(Membership).filter_by(org_id=org.id))
    client.post(f"/settings/members/{mine.id}/role", data={"role": "member"})
    page = client.get("/settings/members")
    assert b"An organisation needs at least one admin" in page.data
    client.post(f"/settings/members/{mine.id}/remove")
    db.session.refresh(mine)
    assert mine.role == "admin"


def test_removed_member_loses_access_but_keeps_the_account(client, other_client):
    org = make_org("Acme")
    _admin(client, org)
    member = make_user("m@example.com", org=org)
    other_client.login("m@example.com", PASSWORD)
    client.post(f"/settings/members/{membership_of(member, org).id}/remove")
    assert b"No organisation yet" in other_client.get("/").data


def test_member_cannot_manage_members(client):
    org = make_org()
    make_user("m@example.com", org=org)
    client.login("m@example.com", PASSWORD)
    assert client.get("/settings/members").status_code == 403
    assert client.post("/settings/members", data={"email": "x@example.com", "role": "admin",
                                                  "method": "invite"}).status_code == 403


def test_an_invitation_cannot_sign_anyone_in_as_an_existing_account(client, other_client):
    org = make_org()
    _admin(client, org)
    issued = make_invitation(org, "taken@example.com")
    make_user("taken@example.com")  # the address got an account after the link was issued
    response = other_client.post(f"/invitations/{issued.token}",
                                 data={"password": "attacker-password"})
    assert response.status_code == 422
    assert b"already has an account" in response.data
    assert other_client.get("/account").status_code == 302
