"""Command line: create orgs, users and keys; seed the demo; all idempotent where promised."""
from portal.accounts.models import User
from portal.extensions import db
from portal.orgs.models import Membership, Organization


def test_create_org_user_and_api_key_then_use_the_key(runner, client):
    assert runner.invoke(args=["create-org", "--name", "Acme", "--slug", "acme",
                               "--plan", "pro"]).exit_code == 0
    result = runner.invoke(args=["create-user", "--email", "Boss@Example.com", "--password",
                                 "long-enough-pw", "--org", "acme", "--role", "admin"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User).filter_by(email="boss@example.com"))
    assert db.session.scalar(db.select(Membership.role).filter_by(user_id=user.id)) == "admin"

    result = runner.invoke(args=["create-api-key", "--org", "acme", "--name", "app",
                                 "--scope", "read"])
    assert result.exit_code == 0
    secret = result.stdout.strip().splitlines()[0]
    assert secret.startswith("pr_")
    body = client.get("/api/v1/org", headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert body["plan"] == "pro"


def test_cli_errors_are_messages_not_tracebacks(runner):
    result = runner.invoke(args=["create-org", "--name", "Bad", "--slug", "-bad-"])
    assert result.exit_code == 1 and "Use 1–63 lower-case letters" in result.output
    result = runner.invoke(args=["create-user", "--email", "x@example.com", "--password", "short"])
    assert result.exit_code == 1 and "at least 10 characters" in result.output
    result = runner.invoke(args=["create-api-key", "--org", "nope", "--name", "x",
                                 "--scope", "send"])
    assert result.exit_code == 1 and "No organisation with slug" in result.output


def test_platform_and_support_flags(runner):
    runner.invoke(args=["create-user", "--email", "root@example.com", "--password",
                        "long-enough-pw", "--platform-admin"])
    runner.invoke(args=["create-user", "--email", "help@example.com", "--password",
                        "long-enough-pw", "--support"])
    users = {u.email: u for u in db.session.scalars(db.select(User))}
    assert users["root@example.com"].is_platform_admin
    assert users["help@example.com"].is_support_staff


def test_seed_demo_is_idempotent_and_prints_logins(runner, client):
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == second.exit_code == 0
    assert "admin@demo.example.com / demo-admin-pass" in second.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Organization)) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 2
    assert client.login("admin@demo.example.com", "demo-admin-pass").status_code == 303
