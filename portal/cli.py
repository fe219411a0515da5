"""Command line: `flask --app portal <command>`, also installed as `postroom <command>`."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from portal.accounts.services import AccountError, create_user, find_user_by_email
from portal.apikeys.services import create_api_key
from portal.extensions import db
from portal.orgs.models import PLANS, ROLES
from portal.orgs.services import add_member, create_org, find_org_by_slug
from portal.vault import DecryptionError, rotate_stored_secrets

DEMO_ORG = ("Demo Clinic", "demo")
DEMO_ADMIN = ("admin@demo.example.com", "demo-admin-pass", "Demo Admin")
DEMO_MEMBER = ("member@demo.example.com", "demo-member-pass", "Demo Member")


def _fail(exc: Exception):
    db.session.rollback()
    raise click.ClickException(str(exc))


@click.command("create-org")
@click.option("--name", required=True)
@click.option("--slug", required=True)
@click.option("--plan", type=click.Choice(PLANS), default="free", show_default=True)
def create_org_command(name, slug, plan):
    """Create an organisation."""
    try:
        org = create_org(name, slug, plan)
    except AccountError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"Created organisation {org.slug} (id {org.id}).")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--name", "display_name", default="")
@click.option("--org", "org_slug", help="Add the user to this organisation.")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option("--platform-admin", is_flag=True, help="May manage every organisation.")
@click.option("--support", is_flag=True, help="Support staff: read-only across organisations.")
def create_user_command(email, password, display_name, org_slug, role, platform_admin, support):
    """Create a user, optionally as a member of an organisation."""
    try:
        org = None
        if org_slug:
            org = find_org_by_slug(org_slug)
            if org is None:
                raise click.ClickException(f"No organisation with slug {org_slug!r}.")
        user = create_user(email, password, display_name, platform_admin=platform_admin,
                           support_staff=support)
        if org is not None:
            add_member(org, user.email, role)
    except AccountError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"Created user {user.email}" + (f" ({role} of {org.slug})." if org else "."))


@click.command("create-api-key")
@click.option("--org", "org_slug", help="Organisation slug (omit with --platform).")
@click.option("--platform", is_flag=True, help="A platform key that names the org per request.")
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, required=True,
              type=click.Choice(["send", "read", "admin"]), help="Repeat for several scopes.")
def create_api_key_command(org_slug, platform, name, scopes):
    """Create an API key and print its secret (shown this once)."""
    if bool(org_slug) == bool(platform):
        raise click.UsageError("Give exactly one of --org SLUG or --platform.")
    org = None
    if org_slug:
        org = find_org_by_slug(org_slug)
        if org is None:
            raise click.ClickException(f"No organisation with slug {org_slug!r}.")
    try:
        issued = create_api_key(org, name, list(scopes))
    except AccountError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(issued.secret)
    click.echo("Store this key now: it is not shown again.", err=True)


@click.command("seed-demo")
def seed_demo_command():
    """Create the demo organisation, admin and member if missing (safe to re-run)."""
    org = find_org_by_slug(DEMO_ORG[1]) or create_org(*DEMO_ORG, plan="pro")
    for (email, password, name), role in ((DEMO_ADMIN, "admin"), (DEMO_MEMBER, "member")):
        if find_user_by_email(email) is None:
            create_user(email, password, name)
            add_member(org, email, role)
    db.session.commit()
    click.echo(f"Demo organisation: {org.name} ({org.slug})")
    click.echo(f"  admin:  {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}")
    click.echo(f"  member: {DEMO_MEMBER[0]} / {DEMO_MEMBER[1]}")


@click.group("keys")
def keys_group():
    """Encryption keys for secrets at rest."""


@keys_group.command("rotate")
def rotate_command():
    """Re-encrypt every stored secret with the newest POSTROOM_ENCRYPTION_KEYS key."""
    try:
        count = rotate_stored_secrets(db.session)
    except DecryptionError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"Re-encrypted {count} stored secret{'s' if count != 1 else ''} "
               "with the newest key.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option("--fork", is_flag=True,
              help="Fork a work horse per job (isolation) instead of running jobs in this "
                   "process (the default: SMTP connections stay pooled across jobs).")
@click.option("--queue", "queues", multiple=True, help="Only these queues (default: all).")
def worker_command(burst, fork, queues):
    """Run an RQ worker for the send, dns and default queues, with the periodic sweeper."""
    from portal.queue.services import QUEUE_NAMES
    from portal.queue.worker import build_worker, start_periodic_sweeper

    worker = build_worker(queues or QUEUE_NAMES, simple=not fork)
    if not burst:
        start_periodic_sweeper(current_app._get_current_object())
    worker.work(burst=burst, with_scheduler=False, logging_level="INFO")


@click.command("sweep")
def sweep_command():
    """Queue forgotten, stuck or due messages, and due sending-domain checks."""
    from portal.domains.lifecycle import sweep_due_domain_checks
    from portal.sending.sweeper import sweep

    counts = sweep()
    checks = sweep_due_domain_checks()
    click.echo(f"Revived {counts['revived']} stuck message(s); queued {counts['queued']}; "
               f"queued {checks} domain check(s).")


def register_commands(app: Flask) -> None:
    for command in (create_org_command, create_user_command, create_api_key_command,
                    seed_demo_command, keys_group, worker_command, sweep_command):
        app.cli.add_command(command)


def main() -> None:
    """Entry point of the `postroom` console script."""
    from portal import create_app

    FlaskGroup(create_app=create_app, help="Postroom: the outbound-email control plane.")()
