"""The two yardsticks Postroom is measured against, into the same smtp-sink.

(b) what an app does without Postroom: a new SMTP connection for every message;
(c) Postfix's own C load generator with two reused connections: what this machine can carry.
Both send a message like the benchmark's Postroom messages (same body, same kind of headers).
"""
from __future__ import annotations

import smtplib
import subprocess
import time
from dataclasses import dataclass
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid

from harness import BenchError, find_tool

SENDER = "bench@postroom.example.com"
BODY = ("Hello,\n\nthis is a benchmark message from Postroom. It is about as long as a short "
        "transactional email: a receipt, a booking reminder or a sign-in link.\n\n"
        "Regards,\nThe benchmark\n") * 2


def recipient(index: int) -> str:
    return f"user{index}@bench.example"


@dataclass
class Figure:
    label: str
    messages: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else float("inf")


def naive_loop(port: int, count: int) -> Figure:
    """(b) Build a small message, connect, EHLO, send, QUIT: per message, as a cron script would."""
    start = time.perf_counter()
    for index in range(count):
        mime = MIMEText(BODY, "plain", "utf-8")
        mime["From"], mime["To"] = SENDER, recipient(index)
        mime["Subject"] = f"Benchmark message {index}"
        mime["Date"], mime["Message-ID"] = formatdate(), make_msgid(domain="bench.example")
        smtp = smtplib.SMTP("127.0.0.1", port)
        smtp.sendmail(SENDER, [recipient(index)], mime.as_string())
        smtp.quit()
    return Figure("(b) naive smtplib, a connection per message", count,
                  time.perf_counter() - start)


def smtp_source(port: int, count: int) -> Figure:
    """(c) Postfix's C load generator: -s 2 parallel sessions, -d reusing each connection."""
    argv = [find_tool("smtp-source", "postfix"), "-d", "-s", "2", "-m", str(count),
            "-l", str(len(BODY)), "-f", SENDER, "-t", recipient(0), "-S", "Benchmark message",
            f"127.0.0.1:{port}"]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchError(f"smtp-source failed: {done.stderr.strip()}")
    return Figure("(c) smtp-source -d -s 2 (this machine's limit)", count, seconds)
