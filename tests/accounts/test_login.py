"""Signing in and out, and the failed-login throttle."""
from tests.factories import PASSWORD, make_org, make_user


def test_login_page_renders_a_form(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert b'name="email"' in page.data and b'name="password"' in page.data


def test_member_signs_in_and_reaches_the_dashboard(client):
    org = make_org("Acme Clinic")
    make_user("ana@example.com", org=org)
    response = client.login("Ana@Example.com", PASSWORD)
    assert response.status_code == 303
    dashboard = client.get("/")
    assert b"Acme Clinic" in dashboard.data


def test_wrong_password_is_refused_with_a_clear_message(client):
    make_user("ana@example.com")
    response = client.login("ana@example.com", "not-the-password")
    assert response.status_code == 422
    assert b"Email or password is incorrect." in response.data
    assert client.get("/").status_code == 302  # still signed out


def test_an_invalid_htmx_login_returns_only_the_form(client):
    response = client.post("/login", data={"email": "", "password": ""}, htmx=True)
    assert response.status_code == 422
    assert response.data.lstrip().startswith(b'<form id="login-form"')
    assert b"Enter your email address" in response.data


def test_account_is_throttled_after_repeated_failures_even_with_the_right_password(client, app):
    make_user("ana@example.com")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        client.login("ana@example.com", "wrong-password!")
    response = client.login("ana@example.com", PASSWORD)
    assert response.status_code == 422
    assert b"Too many failed sign-in attempts" in response.data


def test_ip_is_throttled_across_accounts(client, app):
    make_user("ana@example.com")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for n in range(limit):
        client.login(f"nobody{n}@example.com", "wrong-password!")
    response = client.login("ana@example.com", PASSWORD)
    assert b"Too many failed sign-in attempts" in response.data


def test_a_success_clears_the_account_counter(client, app):
    make_user("ana@example.com")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        client.login("ana@example.com", "wrong-password!")
    assert client.login("ana@example.com", PASSWORD).status_code == 303


def test_logout_ends_the_session(client):
    make_user("ana@example.com", org=make_org())
    client.login("ana@example.com", PASSWORD)
    assert client.logout().status_code == 303
    assert client.get("/").status_code == 302


def test_login_does_not_redirect_off_site(client):
    make_user("ana@example.com", org=make_org())
    response = client.post("/login?next=//evil.example.com/x",
                           data={"email": "ana@example.com", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_session_cookie_is_httponly_and_lax(client):
    make_user("ana@example.com", org=make_org())
    response = client.login("ana@example.com", PASSWORD)
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
