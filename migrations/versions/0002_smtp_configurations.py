"""SMTP configurations: org and personal SMTP servers

Revision ID: 0002_smtp_configurations
Revises: 0001_foundation
Create Date: 2026-11-24 02:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0002_smtp_configurations"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "smtp_configurations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("from_email", sa.String(length=254), nullable=False),
        sa.Column("from_name", sa.String(length=120), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("security", sa.String(length=10), nullable=False),
        sa.Column("username_encrypted", sa.Text(), nullable=True),
        sa.Column("password_encrypted", sa.Text(), nullable=True),
        sa.Column("ca_pem", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("last_tested_at", sa.DateTime(), nullable=True),
        sa.Column("last_test_code", sa.String(length=32), nullable=True),
        sa.Column("last_test_message", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("(org_id IS NULL) <> (user_id IS NULL)",
                           name=op.f("ck_smtp_configurations_one_owner")),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"],
                                name=op.f("fk_smtp_configurations_org_id_organizations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_smtp_configurations_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smtp_configurations")),
        sa.UniqueConstraint("org_id", "from_email", name="uq_smtp_configurations_org_from"),
        sa.UniqueConstraint("user_id", "from_email", name="uq_smtp_configurations_user_from"),
    )
    # At most one primary per owner, enforced by the database (partial unique indexes).
    op.create_index("uq_smtp_configurations_org_primary", "smtp_configurations", ["org_id"],
                    unique=True, sqlite_where=sa.text("is_primary AND org_id IS NOT NULL"),
                    postgresql_where=sa.text("is_primary AND org_id IS NOT NULL"))
    op.create_index("uq_smtp_configurations_user_primary", "smtp_configurations", ["user_id"],
                    unique=True, sqlite_where=sa.text("is_primary AND user_id IS NOT NULL"),
                    postgresql_where=sa.text("is_primary AND user_id IS NOT NULL"))


def downgrade():
    op.drop_index("uq_smtp_configurations_user_primary", table_name="smtp_configurations")
    op.drop_index("uq_smtp_configurations_org_primary", table_name="smtp_configurations")
    op.drop_table("smtp_configurations")
