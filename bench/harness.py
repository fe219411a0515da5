"""What the send benchmark stands on: private servers, child processes and a throwaway database.

Every process started here is stopped when the `Harness` closes, also on Ctrl-C, SIGTERM or an
error; on Linux the children also get SIGTERM if the benchmark itself is killed outright.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
# Debian installs the Postfix test tools in /usr/sbin, which a normal user's PATH often lacks.
TOOL_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


def find_tool(name: str, package: str) -> str:
    path = shutil.which(name, path=TOOL_PATH)
    if path is None:
        raise BenchError(f"{name} is missing: run `make bench` as root, or "
                         f"`sudo apt-get install {package}`")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, what: str, timeout: float = 30.0, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(interval)
    raise BenchError(f"{what} did not come up within {timeout:.0f} s")


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG: a child must not outlive a benchmark that was SIGKILLed.
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def _reap(process: subprocess.Popen, timeout: float = 20.0) -> None:
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Harness:
    """Starts child processes into a scratch directory and stops them all on close()."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self._children: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        """Start `argv` in its own session: Ctrl-C reaches only the benchmark, which stops it."""
        log = open(self.scratch / f"{name}.log", "ab")
        try:
            process = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True, preexec_fn=_die_with_parent)
        finally:
            log.close()
        self._children.append((name, process))
        return process

    def stop(self, process: subprocess.Popen) -> None:
        process.terminate()
        _reap(process)
        self._children = [(n, p) for n, p in self._children if p is not process]

    def check_alive(self) -> None:
        for name, process in self._children:
            if process.poll() is not None:
                raise BenchError(f"{name} exited with code {process.returncode}:\n"
                                 + self.log_tail(name))

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.scratch / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join("    " + line for line in text.splitlines()[-lines:])

    def close(self) -> None:
        """SIGTERM to every child at once (they shut down in parallel), then reap each."""
        for _name, process in self._children:
            if process.poll() is None:
                process.terminate()
        for _name, process in reversed(self._children):
            _reap(process)
        self._children.clear()

    # The servers the benchmark needs, each on a free loopback port.

    def start_redis(self) -> str:
        from redis import Redis

        port = free_port()
        self.start("redis", [find_tool("redis-server", "redis-server"), "--port", str(port),
                             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        url = f"redis://127.0.0.1:{port}/0"
        wait_for(lambda: Redis.from_url(url).ping(), "redis-server")
        return url

    def start_sink(self) -> "Sink":
        port = free_port()
        argv = [find_tool("smtp-sink", "postfix"), "-c"]
        if os.geteuid() == 0:
            argv += ["-u", "nobody"]  # smtp-sink refuses to keep root privileges
        self.start("smtp-sink", argv + [f"127.0.0.1:{port}", "1000"])

        def answers():
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                return sock.recv(100).startswith(b"220")

        wait_for(answers, "smtp-sink")
        return Sink(port, self.scratch / "smtp-sink.log")


class Sink:
    """smtp-sink with -c writes running counters ("sess=… quit=… mesg=N"); mesg is our check."""

    def __init__(self, port: int, counters: Path):
        self.port, self._counters = port, counters

    def messages(self) -> int:
        with open(self._counters, "rb") as file:
            file.seek(max(0, file.seek(0, os.SEEK_END) - 200))
            found = re.findall(rb"mesg=(\d+)", file.read())
        return int(found[-1]) if found else 0


@contextmanager
def temporary_database(server_url: str | None, scratch: Path):
    """Yield (kind, url): a SQLite file in `scratch`, or a fresh database on the PostgreSQL
    server at `server_url`, dropped afterwards (the way tests/conftest.py does it)."""
    if not server_url:
        yield "SQLite", f"sqlite:///{scratch / 'bench.db'}"
        return
    base = make_url(server_url.replace("postgres://", "postgresql://", 1)).set(
        drivername="postgresql")
    name = f"postroom_bench_{uuid.uuid4().hex[:10]}"
    admin_dsn = base.render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise BenchError(f"cannot create a database on {base.render_as_string()}: {exc}") from None
    try:
        yield "PostgreSQL", base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
