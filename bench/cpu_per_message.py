"""CPU time per message of accepting and of delivering, in one process with no HTTP in between.

The end-to-end benchmark (send_throughput.py) is CPU-bound on a 2-core machine, so its rates
move with whatever else runs. This one calls the services directly (accept_batch in batches of
500, then deliver_messages in jobs of 200 into smtp-sink) and reads CPU time instead of the
clock: this process's user and system time, and the CPU of its own PostgreSQL backend from
/proc (PostgreSQL on this machine only). Compare two commits by running it from each checkout.

  python bench/cpu_per_message.py --database postgresql://postgres@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import ROOT, BenchError, Harness, temporary_database  # noqa: E402
from yardsticks import BODY, recipient  # noqa: E402

ACCEPT_BATCH, DELIVER_BATCH = 500, 200


class CpuClock:
    """User and system seconds of this process, and of the database backend serving it."""

    def __init__(self, session, postgresql: bool):
        self.session, self.postgresql = session, postgresql

    def _backend_seconds(self) -> float:
        if not self.postgresql:
            return 0.0
        from sqlalchemy import text

        pid = self.session.execute(text("SELECT pg_backend_pid()")).scalar()
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            raise BenchError("the PostgreSQL backend's /proc entry cannot be read: run this "
                             "on the database's machine") from None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def read(self) -> tuple[float, float, float]:
        times = os.times()
        return times.user, times.system, self._backend_seconds()


def measure(database_url: str, kind: str, sink_port: int, redis_url: str, n: int,
            scratch: Path) -> dict[str, tuple[float, float, float]]:
    from cryptography.fernet import Fernet

    os.environ.update(DATABASE_URL=database_url, REDIS_URL=redis_url,
                      SECRET_KEY=secrets.token_hex(32),
                      POSTROOM_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
                      POSTROOM_INSTANCE_PATH=str(scratch / "instance"),
                      POSTROOM_PLATFORM_SMTP_URL=f"smtp+plain://127.0.0.1:{sink_port}")
    upgrade = subprocess.run([sys.executable, "-m", "flask", "--app", "portal", "db", "upgrade"],
                             cwd=ROOT, capture_output=True, text=True, check=False)
    if upgrade.returncode != 0:
        raise BenchError(f"flask db upgrade failed:\n{upgrade.stderr.strip()}")
    sys.path.insert(0, str(ROOT))
    from portal import create_app

    app = create_app()
    logging.getLogger("portal").setLevel(logging.WARNING)  # a line per job is noise here
    with app.app_context():
        from sqlalchemy import func, select

        from portal.extensions import db
        from portal.orgs.services import create_org
        from portal.sending.accept import accept_batch
        from portal.sending.delivery import deliver_messages
        from portal.sending.models import Message

        org = create_org("Bench", "bench")
        db.session.commit()
        clock = CpuClock(db.session, kind == "PostgreSQL")
        items = [{"email_type": "bench.notice", "to": [recipient(i)],
                  "subject": f"Benchmark message {i}", "text": BODY} for i in range(n)]
        bodies = [json.dumps(items[start:start + ACCEPT_BATCH])
                  for start in range(0, n, ACCEPT_BATCH)]
        before = clock.read()
        for body in bodies:  # decoding is part of a request's work, as in the API
            accept_batch(org, json.loads(body), api_key_id=None)
            db.session.commit()
        accepted = clock.read()
        ids = db.session.scalars(select(Message.id).order_by(Message.id)).all()
        db.session.commit()
        start = clock.read()
        for first in range(0, len(ids), DELIVER_BATCH):
            deliver_messages(ids[first:first + DELIVER_BATCH])
            db.session.remove()
        delivered = clock.read()
        sent = db.session.scalar(select(func.count()).where(Message.status == "sent"))
        db.session.remove()
        db.engine.dispose()
    if sent != n:
        raise BenchError(f"only {sent} of {n} messages were sent")
    return {"accept": tuple(b - a for a, b in zip(before, accepted)),
            "deliver": tuple(b - a for a, b in zip(start, delivered))}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", "-n", type=int, default=10_000, metavar="N",
                        help="messages to accept and then deliver (default: %(default)s)")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL"),
                        metavar="URL", help="a PostgreSQL server URL: a fresh database is made "
                        "there and dropped afterwards (default: $BENCH_DATABASE_URL, else a "
                        "temporary SQLite file, with no database CPU figure)")
    args = parser.parse_args(argv)
    if args.messages < 1:
        parser.error("--messages is at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="postroom-cpu-")))
        harness = Harness(scratch)
        stack.callback(harness.close)
        try:
            sink = harness.start_sink()
            redis_url = harness.start_redis()
            kind, url = stack.enter_context(temporary_database(args.database, scratch))
            figures = measure(url, kind, sink.port, redis_url, args.messages, scratch)
        except BenchError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 1
    in_process = kind != "PostgreSQL"
    print(f"CPU per message on {kind}, N={args.messages}, in µs"
          + (" (SQLite runs inside this process: its work is in user and system)"
             if in_process else ""))
    print(f"  {'':8} {'user':>6} {'system':>6} {'database':>8}")
    for phase, (user, system, database) in figures.items():
        user, system, database = (round(1e6 * value / args.messages)
                                  for value in (user, system, database))
        print(f"  {phase:8} {user:6d} {system:6d} {'-' if in_process else database:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
