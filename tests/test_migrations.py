"""Migrations: an empty database upgrades to head, and the models match the migrations."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from portal.extensions import db
from portal.system.services import migration_heads


def test_empty_database_upgrades_to_head_and_has_no_drift(new_database_url, make_app):
    app = make_app(new_database_url())
    with app.app_context():
        upgrade()
        engine = db.engine
        tables = set(inspect(engine).get_table_names())
        assert {"organizations", "users", "memberships", "api_keys", "audit_events",
                "invitations", "background_jobs", "alembic_version"} <= tables
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert set(context.get_current_heads()) == set(migration_heads())
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ; run `flask db migrate`: {diff}"


def test_at_most_one_migration_head():
    assert len(migration_heads()) == 1
