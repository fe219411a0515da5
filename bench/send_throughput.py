"""How fast does Postroom send? Accept N messages through the batch API, let 2 workers deliver
them into Postfix's smtp-sink on loopback, and compare with two yardsticks into the same sink:

  (a) Postroom end to end: from the first accept request until the last message is `sent`
  (b) a naive loop: one new smtplib connection per message (what Postroom must beat)
  (c) smtp-source -d -s 2: two sessions reusing their connections (this machine's limit)

Before (a) the same N messages are also accepted with no worker running (accept only) and then
drained by the 2 workers (delivery only), so the reader sees which half limits (a).
Run by `make bench`; `python bench/send_throughput.py --help` lists the knobs.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (  # noqa: E402  (bench/ is a folder of scripts, not a package)
    ROOT,
    BenchError,
    Harness,
    free_port,
    temporary_database,
    wait_for,
)
from yardsticks import BODY, Figure, naive_loop, recipient, smtp_source  # noqa: E402

GOAL_VS_NAIVE = 2.0


def now() -> datetime:
    """Naive UTC, as Postroom stores `sent_at`."""
    return datetime.now(UTC).replace(tzinfo=None)


def say(line: str) -> None:
    print(f"==> {line}", file=sys.stderr, flush=True)


def flask_cli(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "portal", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"flask {' '.join(args[:2])} failed:\n{done.stderr.strip()}")
    return done.stdout


def app_env(database_url: str, redis_url: str, sink_port: int, scratch: Path) -> dict:
    from cryptography.fernet import Fernet

    # POSTROOM_* settings already in the environment pass through (POSTROOM_SEND_BATCH=…).
    return dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url,
                SECRET_KEY=secrets.token_hex(32),
                POSTROOM_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
                POSTROOM_INSTANCE_PATH=str(scratch / "instance"),
                # Every message takes the platform route, into the sink, in plain text.
                POSTROOM_PLATFORM_SMTP_URL=f"smtp+plain://127.0.0.1:{sink_port}")


def healthy(web_port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", web_port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    finally:
        connection.close()


def batch_bodies(count: int, batch: int, offset: int) -> list[bytes]:
    """The request bodies, built before the clock starts: the client's JSON is not Postroom's."""
    messages = [{"email_type": "bench.notice", "to": [recipient(offset + i)],
                 "subject": f"Benchmark message {offset + i}", "text": BODY}
                for i in range(count)]
    return [json.dumps({"messages": messages[start:start + batch]}).encode()
            for start in range(0, count, batch)]


def submit(web_port: int, api_key: str, bodies: list[bytes], clients: int) -> float:
    """POST every batch (`clients` connections in parallel); the seconds it took."""
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    failures: list[str] = []

    def client(mine: list[bytes]) -> None:
        # http.client reconnects by itself when the server closes (gunicorn's sync workers do).
        connection = http.client.HTTPConnection("127.0.0.1", web_port, timeout=120)
        try:
            for body in mine:
                connection.request("POST", "/api/v1/messages/batch", body, headers)
                response = connection.getresponse()
                payload = response.read()
                if response.status != 202:
                    failures.append(f"HTTP {response.status}: {payload[:300]!r}")
                    return
                refused = [r for r in json.loads(payload)["data"] if "error" in r]
                if refused:
                    failures.append(f"{len(refused)} message(s) refused: {refused[0]}")
                    return
        except (OSError, http.client.HTTPException) as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(bodies[i::clients],), daemon=True)
               for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise BenchError(f"the batch API refused: {failures[0]}")
    return time.perf_counter() - start


class Deliveries:
    """Reads the delivery log directly (SQL, not the API) for one phase: rows with id > floor."""

    def __init__(self, database_url: str):
        from portal.config import normalise_database_url

        # NullPool: hold no SQLite lock and no PostgreSQL session between polls.
        self.engine = create_engine(normalise_database_url(database_url), poolclass=NullPool)

    def last_id(self) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(text("SELECT coalesce(max(id), 0) FROM messages"))

    def counts(self, floor: int) -> dict[str, int]:
        with self.engine.connect() as conn:
            return dict(conn.execute(text("SELECT status, count(*) FROM messages WHERE id > :f "
                                          "GROUP BY status"), {"f": floor}).all())

    def sent_span(self, floor: int) -> tuple[datetime, datetime]:
        with self.engine.connect() as conn:
            first, last = conn.execute(text(
                "SELECT min(sent_at), max(sent_at) FROM messages WHERE id > :f"),
                {"f": floor}).one()
        # SQLite hands back text through a raw query.
        return tuple(v if isinstance(v, datetime) else datetime.fromisoformat(v)
                     for v in (first, last))

    def wait_all_sent(self, floor: int, count: int, harness: Harness, timeout: float,
                      stall: float = 60.0) -> None:
        deadline, progress_at, last_sent = time.monotonic() + timeout, time.monotonic(), -1
        while True:
            counts = self.counts(floor)
            sent = counts.get("sent", 0)
            if sent >= count:
                return
            if counts.get("failed"):
                raise BenchError(f"{counts['failed']} message(s) failed; statuses: {counts}")
            if sent != last_sent:
                progress_at, last_sent = time.monotonic(), sent
            if time.monotonic() - progress_at > stall or time.monotonic() > deadline:
                raise BenchError(f"only {sent} of {count} messages were sent (statuses: "
                                 f"{counts}); worker log:\n{harness.log_tail('worker-1')}")
            harness.check_alive()
            time.sleep(0.1)

    def close(self) -> None:
        self.engine.dispose()


def start_postroom(harness: Harness, env: dict, web_workers: int) -> tuple[int, str]:
    """Migrate, create an organisation with a send key, start gunicorn: (web port, key)."""
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "create-org", "--name", "Benchmark", "--slug", "bench")
    api_key = flask_cli(env, "create-api-key", "--org", "bench", "--name", "bench",
                        "--scope", "send").strip().splitlines()[0]
    web_port = free_port()
    harness.start("gunicorn", [sys.executable, "-m", "gunicorn", "--bind",
                               f"127.0.0.1:{web_port}", "--workers", str(web_workers),
                               "wsgi:app"], env)
    wait_for(lambda: healthy(web_port), "gunicorn", 60)
    return web_port, api_key


def start_workers(harness: Harness, env: dict, redis_url: str, count: int,
                  profile: Path | None, fork: bool) -> list[subprocess.Popen]:
    from redis import Redis
    from rq import Worker

    workers = []
    for number in range(1, count + 1):
        argv = [sys.executable, "-m", "flask", "--app", "portal", "worker", "--queue", "send"]
        if fork:
            argv.append("--fork")
        if profile is not None and number == 1:
            argv[1:1] = ["-m", "cProfile", "-o", str(profile)]
        workers.append(harness.start(f"worker-{number}", argv, env))
    redis = Redis.from_url(redis_url)
    wait_for(lambda: Worker.count(connection=redis) >= count, f"{count} RQ workers", 60)
    return workers


def check_sink(sink, before: int, expected: int, what: str) -> int:
    # smtp-sink updates its counter after answering ".", so give the last one a moment.
    got = sink.messages() - before
    for _ in range(20):
        if got >= expected:
            break
        time.sleep(0.05)
        got = sink.messages() - before
    if got != expected:
        raise BenchError(f"{what}: smtp-sink counted {got} messages, expected {expected}")
    return before + got


def run(args, harness: Harness, stack: ExitStack) -> int:
    n, scratch = args.messages, harness.scratch
    kind, database_url = stack.enter_context(temporary_database(args.database, scratch))
    stack.callback(harness.close)  # before the database is dropped
    sink = harness.start_sink()
    redis_url = harness.start_redis()

    say(f"(b) naive smtplib loop, {args.naive} messages")
    naive = naive_loop(sink.port, args.naive)
    seen = check_sink(sink, 0, args.naive, "naive loop")
    say(f"(c) smtp-source -d -s 2, {args.source} messages")
    source = smtp_source(sink.port, args.source)
    seen = check_sink(sink, seen, args.source, "smtp-source")

    say(f"Postroom on {kind}: migrations, an organisation, a send key, gunicorn")
    env = app_env(database_url, redis_url, sink.port, scratch)
    web_port, api_key = start_postroom(harness, env, args.web_workers)
    log = Deliveries(database_url)
    stack.callback(log.close)

    say(f"accept only: {n} messages through the batch API, no worker running")
    floor = log.last_id()
    accept_only = Figure("    accept only (API → queued; no worker running)", n,
                         submit(web_port, api_key, batch_bodies(n, args.batch, 0), args.clients))
    say(f"delivery only: {args.workers} workers drain those {n} messages")
    workers = start_workers(harness, env, redis_url, args.workers, args.profile,
                            args.fork)
    log.wait_all_sent(floor, n, harness, args.timeout)
    first, last = log.sent_span(floor)
    delivery_only = Figure("    delivery only (queued → sent; full queue)", n,
                           (last - first).total_seconds())
    seen = check_sink(sink, seen, n, "delivery only")

    say(f"(a) end to end: {n} more messages, accepted while the workers run")
    floor = log.last_id()
    bodies = batch_bodies(n, args.batch, n)
    started = now()
    accept_busy = submit(web_port, api_key, bodies, args.clients)
    log.wait_all_sent(floor, n, harness, args.timeout)
    end_to_end = Figure("(a) Postroom, accept → sent (end to end)", n,
                        (log.sent_span(floor)[1] - started).total_seconds())
    check_sink(sink, seen, n, "end to end")
    for worker in workers:  # a clean stop, so that cProfile writes its file
        harness.stop(worker)

    report(args, kind, [end_to_end, accept_only, delivery_only, naive, source], accept_busy)
    if args.profile:
        print_profile(args.profile)
    return 0


def report(args, kind: str, figures: list[Figure], accept_busy: float) -> None:
    a, b, c = figures[0].rate, figures[3].rate, figures[4].rate
    print(f"\nPostroom {revision()} send throughput on {kind}: N={args.messages}, "
          f"{args.workers} {'forking ' if args.fork else ''}workers, "
          f"gunicorn ×{args.web_workers}, {args.clients} API client(s), "
          f"batches of {args.batch}, {os.cpu_count()} CPUs")
    print(f"{'':50} {'messages':>8} {'seconds':>8} {'msg/s':>7}")
    for figure in figures:
        print(f"{figure.label:50} {figure.messages:8d} {figure.seconds:8.2f} {figure.rate:7.0f}")
    verdict = "met" if a / b >= GOAL_VS_NAIVE else "NOT met"
    print(f"a/b = {a / b:.2f} (goal ≥ {GOAL_VS_NAIVE:g}: {verdict})    a/c = {a / c:.2f}")
    print(f"(in (a) the API took {accept_busy:.2f} s to accept all {args.messages} while the "
          f"workers ran: {args.messages / accept_busy:.0f} msg/s)")
    if args.profile:
        print("(worker-1 ran under cProfile, so these figures understate Postroom)")


def revision() -> str:
    """The commit measured, marked when portal/ or jobs/ differ from it."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=False).stdout.strip()
    if not head:
        return "(no git)"
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "portal", "jobs"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return head + ("+changes" if dirty else "")


def print_profile(path: Path) -> None:
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(r"delivery|smtp|mime|routing|worker|session", 30)
    print(f"\nProfile of worker-1 ({path}):\n{out.getvalue()}")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\nRun by")[0],
        epilog="It starts its own redis-server, smtp-sink, gunicorn and workers on free loopback "
               "ports and stops them when done (also on Ctrl-C). Postroom handles 2 × N messages: "
               "N for the accept-only/delivery-only pair, N for (a).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", "-n", type=int, default=20_000, metavar="N",
                        help="messages for (a), and again for accept/delivery only "
                             "(default: %(default)s; try 2000 for a quick run)")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL"),
                        metavar="URL", help="a PostgreSQL server URL: the bench creates a fresh "
                        "database there and drops it afterwards (default: $BENCH_DATABASE_URL, "
                        "else a temporary SQLite file)")
    parser.add_argument("--naive", type=int, metavar="M",
                        help="messages for the naive loop (b) (default: min(N, 2000))")
    parser.add_argument("--source", type=int, metavar="M",
                        help="messages for smtp-source (c) (default: N, at least 20000: "
                             "fewer finish too fast to time)")
    parser.add_argument("--workers", type=int, default=2, help="RQ workers (default: 2)")
    parser.add_argument("--fork", action="store_true",
                        help="workers fork a work horse per job (`worker --fork`) instead of "
                             "running jobs in their own process, to measure what that costs")
    parser.add_argument("--web-workers", type=int, default=2,
                        help="gunicorn workers (default: 2)")
    parser.add_argument("--clients", type=int, default=1,
                        help="parallel API connections submitting batches (default: 1)")
    parser.add_argument("--batch", type=int, default=500,
                        help="messages per batch request, at most 500 (default: 500)")
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds to wait for every message to be sent (default: 900)")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="run worker 1 under cProfile, write FILE and print its top entries")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch directory: every process's log, the SQLite file")
    args = parser.parse_args(argv)
    if not 1 <= args.batch <= 500:
        parser.error("--batch is 1 to 500")
    if args.messages < 1:
        parser.error("--messages is at least 1")
    args.naive = args.naive or min(args.messages, 2000)
    args.source = args.source or max(args.messages, 20_000)
    if args.profile:
        args.profile = args.profile.resolve()
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop what we started
    with ExitStack() as stack:
        if args.keep:
            scratch = Path(tempfile.mkdtemp(prefix="postroom-bench-"))
            print(f"bench: logs (and the SQLite file) stay in {scratch}", file=sys.stderr)
        else:
            scratch = Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix="postroom-bench-")))
        harness = Harness(scratch)
        try:
            with ExitStack() as inner:
                inner.callback(harness.close)
                return run(args, harness, inner)
        except BenchError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("bench: interrupted; everything it started is stopped", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
