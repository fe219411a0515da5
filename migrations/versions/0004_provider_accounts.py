"""Provider accounts: an organisation's own SendGrid or Resend API key

Revision ID: 0004_provider_accounts
Revises: 0003_messages
Create Date: 2026-11-24 03:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0004_provider_accounts"
# TEMPORARY: 0003_messages is being written; re-chain to "0003_messages" once it exists.
down_revision = "0003_messages"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "provider_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("api_key_encrypted", sa.Text(), nullable=False),
        sa.Column("key_hint", sa.String(length=4), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(), nullable=True),
        sa.Column("last_check_code", sa.String(length=32), nullable=True),
        sa.Column("last_check_message", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("provider IN ('sendgrid', 'resend')",
                           name=op.f("ck_provider_accounts_known_provider")),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"],
                                name=op.f("fk_provider_accounts_org_id_organizations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_accounts")),
        sa.UniqueConstraint("org_id", "provider", name="uq_provider_accounts_org_provider"),
    )
    # At most one provider in use per org, enforced by the database (a partial unique index).
    op.create_index("uq_provider_accounts_org_enabled", "provider_accounts", ["org_id"],
                    unique=True, sqlite_where=sa.text("enabled"),
                    postgresql_where=sa.text("enabled"))


def downgrade():
    op.drop_index("uq_provider_accounts_org_enabled", table_name="provider_accounts")
    op.drop_table("provider_accounts")
