"""My account: display name and password."""
from portal.accounts.models import User
from portal.extensions import db
from tests.factories import PASSWORD, make_org, make_user


def _signed_in(client, email="ana@example.com"):
    make_user(email, org=make_org())
    client.login(email, PASSWORD)


def test_display_name_change_shows_in_the_account_menu(client):
    _signed_in(client)
    response = client.post("/account/profile", data={"display_name": "Ana Lima"})
    assert response.status_code == 303
    assert b"Ana Lima" in client.get("/").data


def test_password_change_requires_the_current_password(client):
    _signed_in(client)
    response = client.post("/account/password", htmx=True, data={
        "current_password": "not-my-password", "new_password": "a-brand-new-password"})
    assert response.status_code == 422
    assert b"The current password is not correct" in response.data
    assert b'id="password-form"' in response.data


def test_password_change_signs_out_other_sessions_but_not_this_one(client, other_client):
    _signed_in(client)
    other_client.login("ana@example.com", PASSWORD)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "a-brand-new-password"})
    assert response.status_code == 303
    assert client.get("/account").status_code == 200
    assert other_client.get("/account").status_code == 302
    other_client.logout()
    assert other_client.login("ana@example.com", "a-brand-new-password").status_code == 303


def test_password_is_stored_hashed(client):
    _signed_in(client)
    user = db.session.scalar(db.select(User).filter_by(email="ana@example.com"))
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith("scrypt:")


def test_short_new_password_is_refused(client):
    _signed_in(client)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "short"})
    assert response.status_code == 422
    assert b"Use 10 to 200 characters" in response.data
