"""Health checks for /readyz and the "is the worker alive?" round trip."""
from __future__ import annotations

import os
import socket
from functools import lru_cache
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import func, select, text

from portal.clock import utcnow
from portal.extensions import db, redis_client
from portal.orgs.models import Organization

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "migrations"


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def readiness() -> dict[str, str]:
    """Each dependency with "ok" or what is wrong with it."""
    checks: dict[str, str] = {}
    try:
        rows = db.session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        checks["database"] = "ok"
        if frozenset(rows) == migration_heads():
            checks["migrations"] = "ok"
        else:
            checks["migrations"] = "not at head: run `flask --app portal db upgrade`"
    except Exception as exc:  # any driver error means "not ready", whatever its class
        db.session.rollback()
        checks["database"] = f"unreachable ({type(exc).__name__})"
        checks["migrations"] = "unknown"
    try:
        redis_client().ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"unreachable ({type(exc).__name__})"
    return checks


def describe_worker() -> dict:
    """What a worker reports when asked to prove it is alive and can reach the database."""
    return {
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "organizations": db.session.scalar(select(func.count()).select_from(Organization)),
        "checked_at": utcnow().isoformat(timespec="seconds") + "Z",
        "config_env": current_app.config["POSTROOM_ENV"],
    }
