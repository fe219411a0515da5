"""Roles, enforced by the access decorators: who may open and change what."""
import pytest

from portal.extensions import db
from portal.orgs.models import Organization
from tests.factories import PASSWORD, make_org, make_user

VIEWER_PAGES = ["/settings/organization", "/settings/members", "/settings/api-keys",
                "/settings/audit"]
ADMIN_POSTS = ["/settings/organization", "/settings/members", "/settings/api-keys"]
MEMBER_PAGES = ["/", "/account"]


@pytest.mark.parametrize("path", VIEWER_PAGES + MEMBER_PAGES + ["/admin/orgs"])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.fixture
def org():
    return make_org("Acme", "acme")


def _as(client, org, **kwargs):
    make_user("who@example.com", org=org if not kwargs.get("support") and
              not kwargs.get("platform_admin") else None, **kwargs)
    client.login("who@example.com", PASSWORD)


@pytest.mark.parametrize("path", VIEWER_PAGES)
def test_members_cannot_open_settings(client, org, path):
    _as(client, org, role="member")
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", MEMBER_PAGES)
def test_members_open_their_own_pages(client, org, path):
    _as(client, org, role="member")
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", VIEWER_PAGES)
def test_admins_and_support_open_settings(client, org, path):
    _as(client, org, support=True)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ADMIN_POSTS)
def test_support_staff_cannot_change_anything(client, org, path):
    _as(client, org, support=True)
    assert client.post(path, data={"name": "x"}).status_code == 403


def test_support_staff_can_switch_to_any_org(client, org):
    other = make_org("Other Co")
    _as(client, org, support=True)
    assert client.post("/orgs/switch", data={"org_id": other.id}).status_code == 303
    assert b"<h1>Other Co</h1>" in client.get("/").data


def test_only_platform_admins_manage_orgs(client, org):
    _as(client, org, role="admin")
    assert client.get("/admin/orgs").status_code == 403
    assert client.post("/admin/orgs", data={"name": "X", "slug": "x"}).status_code == 403


def test_platform_admin_creates_an_org_and_changes_its_plan(client, org):
    _as(client, org, platform_admin=True)
    assert b"Acme" in client.get("/admin/orgs").data
    response = client.post("/admin/orgs", data={"name": "Zeta", "slug": "zeta", "plan": "free"})
    assert response.status_code == 303
    zeta = db.session.scalar(db.select(Organization).filter_by(slug="zeta"))
    client.post(f"/admin/orgs/{zeta.id}/plan", data={"plan": "enterprise"})
    db.session.refresh(zeta)
    assert zeta.plan == "enterprise"


def test_duplicate_slug_is_refused_inline(client, org):
    _as(client, org, platform_admin=True)
    response = client.post("/admin/orgs", htmx=True,
                           data={"name": "Again", "slug": "acme", "plan": "free"})
    assert response.status_code == 422
    assert b"That slug is already taken" in response.data
    assert response.data.lstrip().startswith(b'<form id="create-org"')


def test_platform_admin_acts_as_admin_in_any_org(client, org):
    _as(client, org, platform_admin=True)
    assert client.post("/settings/organization", data={"name": "Renamed"}).status_code == 303
