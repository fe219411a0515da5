"""Shared fixtures: a real Redis, a real database (SQLite file or a fresh PostgreSQL database),
the app built on them with migrations applied, and clients that behave like a browser."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from flask_migrate import upgrade
from redis import Redis
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db
from tests.web_client import BrowserClient

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis_server(port: int, workdir) -> subprocess.Popen:
    """A throw-away redis-server on a loopback port, answering PING when this returns."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.exit("redis-server is not installed: run the suite with `make test`", 2)
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except Exception:
            time.sleep(0.05)
    client.close()
    return proc


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A private redis-server for the session (or TEST_REDIS_URL when given)."""
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    port = free_port()
    proc = start_redis_server(port, tmp_path_factory.mktemp("redis"))
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """SQLite in a temp file, or a brand-new database on TEST_DATABASE_URL's PostgreSQL server."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        path = tmp_path_factory.mktemp("db") / "postroom-test.db"
        yield f"sqlite:///{path}"
        return
    yield from _fresh_postgres_database(server)


def _fresh_postgres_database(server: str):
    base = make_url(server.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql")
    name = f"postroom_test_{uuid.uuid4().hex[:10]}"
    admin_dsn = base.render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def new_database_url(tmp_path_factory):
    """A factory of further empty databases of the same kind (for migration tests)."""
    made = []

    def make():
        server = os.environ.get("TEST_DATABASE_URL")
        if not server:
            path = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp())) / "empty.db"
            return f"sqlite:///{path}"
        gen = _fresh_postgres_database(server)
        made.append(gen)
        return next(gen)

    yield make
    for gen in made:
        next(gen, None)


def app_env(database_url: str, redis_url: str, instance: Path, **extra) -> dict:
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key",
        "POSTROOM_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "POSTROOM_BASE_URL": "http://localhost",
        "POSTROOM_INSTANCE_PATH": str(instance),
        "POSTROOM_LOGIN_MAX_FAILURES": "5",
        # Test SMTP servers listen on 127.0.0.1 (tests open their random ports one by one).
        "POSTROOM_SMTP_ALLOW_PRIVATE": "1",
    }
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def app(database_url, redis_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    app = create_app(TestConfig(app_env(database_url, redis_url, instance)))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # close pooled connections before the database is dropped


@pytest.fixture
def make_app(redis_url, tmp_path):
    """Build another app (on another database or Redis); its connections close afterwards."""
    made = []

    def make(database_url: str, redis: str | None = None):
        extra = create_app(TestConfig(app_env(database_url, redis or redis_url, tmp_path)))
        made.append(extra)
        return extra

    yield make
    for extra in made:
        with extra.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_state(request, app):
    """Each test starts with empty tables and an empty Redis, inside an app context."""
    with app.app_context():
        yield
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(delete(table))
        Redis.from_url(app.config["REDIS_URL"]).flushdb()


@pytest.fixture
def client(app) -> BrowserClient:
    app.test_client_class = BrowserClient
    return app.test_client()


@pytest.fixture
def other_client(app) -> BrowserClient:
    """A second browser, for tests with two people or two sessions."""
    app.test_client_class = BrowserClient
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(app):
    """The app served on a loopback port, for a real browser or HTTP client."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def drain(app):
    """Run every queued job with a real RQ worker, in this process, in its own app context."""
    from portal.queue.worker import build_worker

    def run():
        with app.app_context():
            build_worker(simple=True).work(burst=True)

    return run


@pytest.fixture
def allow_smtp_port(app):
    """Let the app connect to a test SMTP server's random port for this test."""
    original = list(app.config["POSTROOM_SMTP_PORTS"])

    def allow(port: int) -> None:
        app.config["POSTROOM_SMTP_PORTS"] = sorted(set(app.config["POSTROOM_SMTP_PORTS"]) | {port})

    yield allow
    app.config["POSTROOM_SMTP_PORTS"] = original


@pytest.fixture
def worker_process(app):
    """`flask --app portal worker` in the background, on the suite's database and Redis."""
    procs = []

    def start(**extra_env):
        env = dict(os.environ,
                   DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                   REDIS_URL=app.config["REDIS_URL"], SECRET_KEY=app.config["SECRET_KEY"],
                   POSTROOM_ENCRYPTION_KEYS=",".join(app.config["POSTROOM_ENCRYPTION_KEYS"]),
                   POSTROOM_INSTANCE_PATH=app.config["INSTANCE_PATH"], **extra_env)
        flask = Path(sys.executable).with_name("flask")
        proc = subprocess.Popen([str(flask), "--app", "portal", "worker"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def factory():
    from tests import factories

    return factories
