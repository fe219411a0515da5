"""Sending domains: the domain with its DKIM key and check results, its timeline, and which
domain each organisation sends from

Revision ID: 0005_sending_domains
Revises: 0004_provider_accounts
Create Date: 2026-11-24 02:41:34

"""
import sqlalchemy as sa
from alembic import op

revision = "0005_sending_domains"
down_revision = "0004_provider_accounts"
branch_labels = None
depends_on = None

HOLDING = sa.text("status IN ('verified', 'degraded')")


def upgrade():
    op.create_table(
        "sending_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_message", sa.String(length=500), nullable=True),
        sa.Column("mailbox", sa.String(length=64), nullable=False),
        sa.Column("ownership_token", sa.String(length=64), nullable=False),
        sa.Column("dkim_selector", sa.String(length=63), nullable=False),
        sa.Column("dkim_public_key", sa.Text(), nullable=False),
        sa.Column("dkim_private_key_encrypted", sa.Text(), nullable=False),
        sa.Column("check_results", sa.JSON(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(), nullable=False),
        sa.Column("check_step", sa.Integer(), nullable=False),
        sa.Column("next_check_at", sa.DateTime(), nullable=True),
        sa.Column("check_requested_at", sa.DateTime(), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(), nullable=True),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"],
                                name=op.f("fk_sending_domains_org_id_organizations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sending_domains")),
        sa.UniqueConstraint("org_id", "name", name="uq_sending_domains_org_name"),
    )
    op.create_index("ix_sending_domains_next_check_at", "sending_domains", ["next_check_at"])
    # One organisation at a time holds a name verified, enforced by the database.
    op.create_index("uq_sending_domains_holder", "sending_domains", ["name"], unique=True,
                    sqlite_where=HOLDING, postgresql_where=HOLDING)

    op.create_table(
        "domain_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sending_domain_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("actor_label", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sending_domain_id"], ["sending_domains.id"],
                                name=op.f("fk_domain_events_sending_domain_id_sending_domains"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_events")),
    )
    op.create_index("ix_domain_events_sending_domain_id_id", "domain_events",
                    ["sending_domain_id", "id"])

    op.create_table(
        "org_sending_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("active_domain_id", sa.Integer(), nullable=True),
        sa.Column("previous_domain_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["active_domain_id"], ["sending_domains.id"],
            name=op.f("fk_org_sending_identities_active_domain_id_sending_domains"),
            ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"],
                                name=op.f("fk_org_sending_identities_org_id_organizations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["previous_domain_id"], ["sending_domains.id"],
            name=op.f("fk_org_sending_identities_previous_domain_id_sending_domains"),
            ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_sending_identities")),
        sa.UniqueConstraint("org_id", name=op.f("uq_org_sending_identities_org_id")),
    )


def downgrade():
    op.drop_table("org_sending_identities")
    op.drop_index("ix_domain_events_sending_domain_id_id", table_name="domain_events")
    op.drop_table("domain_events")
    op.drop_index("uq_sending_domains_holder", table_name="sending_domains")
    op.drop_index("ix_sending_domains_next_check_at", table_name="sending_domains")
    op.drop_table("sending_domains")
