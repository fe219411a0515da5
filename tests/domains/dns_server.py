"""A real authoritative DNS server for the domain tests: Debian's Knot DNS (knotd) on a
loopback port, with zone files the tests rewrite and reload (`make test` installs `knot`)."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest

from tests.conftest import free_port

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"


def txt(*strings: str) -> str:
    """A TXT record's data: each argument one character-string, quoted for a zone file."""
    return " ".join('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in strings)


def split_255(value: str) -> list[str]:
    """A long value as DNS panels publish it: character-strings of at most 255 bytes."""
    return [value[i:i + 255] for i in range(0, len(value), 255)]


class KnotServer:
    """knotd with one zone file per origin; `set_zone` rewrites a zone and waits until the
    server answers with it."""

    def __init__(self, workdir: Path, port: int):
        self.workdir, self.port = workdir, port
        self.zones: dict[str, int] = {}  # origin → serial
        self.proc: subprocess.Popen | None = None
        for sub in ("zones", "run", "db"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def conf(self) -> Path:
        return self.workdir / "knot.conf"

    def _write_conf(self) -> None:
        w = self.workdir
        zones = "".join(f"  - domain: {origin}\n" for origin in sorted(self.zones))
        self.conf.write_text(
            f"server:\n    listen: 127.0.0.1@{self.port}\n    rundir: {w}/run\n"
            f"    pidfile: {w}/run/knot.pid\n"
            "log:\n  - target: stderr\n    any: error\n"
            f"database:\n    storage: {w}/db\n"
            f"control:\n    listen: {w}/run/knot.sock\n"
            "template:\n  - id: default\n"
            f"    storage: {w}/zones\n    file: \"%s.zone\"\n"
            "    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n"
            "    semantic-checks: off\n"
            + (f"zone:\n{zones}" if zones else ""))

    def _knotc(self, *args: str) -> None:
        subprocess.run([KNOTC, "-c", str(self.conf), "-t", "5", *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=15)

    def start(self) -> None:
        self._write_conf()
        self.proc = subprocess.Popen([KNOTD, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                self._knotc("status")
                return
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("knotd did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None

    def set_zone(self, origin: str, records: list[tuple[str, str, str]]) -> None:
        """Publish `origin` with `records` (name relative to the origin or "@", type, data)."""
        origin = origin.rstrip(".")
        new_zone = origin not in self.zones
        serial = self.zones.get(origin, 0) + 1
        self.zones[origin] = serial
        lines = [f"$ORIGIN {origin}.", "$TTL 60",
                 f"@ SOA ns.{origin}. hostmaster.{origin}. {serial} 3600 600 86400 60",
                 f"@ NS ns.{origin}.", "ns A 127.0.0.1"]
        lines += [f"{name} {rtype} {data}" for name, rtype, data in records]
        (self.workdir / "zones" / f"{origin}.zone").write_text("\n".join(lines) + "\n")
        if new_zone:
            self._write_conf()
            self._knotc("reload")
        else:
            self._knotc("zone-reload", origin)
        self._wait_for_serial(origin, serial)

    def clear(self) -> None:
        """Empty every zone (SOA and NS only)."""
        for origin in list(self.zones):
            self.set_zone(origin, [])

    def _wait_for_serial(self, origin: str, serial: int) -> None:
        query = dns.message.make_query(origin + ".", "SOA")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                reply = dns.query.udp(query, "127.0.0.1", port=self.port, timeout=1)
                if reply.rcode() == dns.rcode.NOERROR and reply.answer \
                        and reply.answer[0][0].serial == serial:
                    return
            except dns.exception.Timeout:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"knotd did not load serial {serial} of {origin}")


@pytest.fixture(scope="session")
def knot(tmp_path_factory):
    if not Path(KNOTD).exists():
        pytest.exit("knotd (Debian package knot) is not installed: run the suite with "
                    "`make test`", 2)
    server = KnotServer(tmp_path_factory.mktemp("knot"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def dns_server(app, knot):
    """The app (and jobs drained in this process) resolve through the test server only.

    Zones are emptied afterwards; a test that stopped the server gets it started again."""
    keys = ("POSTROOM_DNS_NAMESERVERS", "POSTROOM_DNS_TIMEOUT", "POSTROOM_DNS_LIFETIME")
    saved = {key: app.config[key] for key in keys}
    app.config.update(POSTROOM_DNS_NAMESERVERS=[knot.nameserver], POSTROOM_DNS_TIMEOUT=1.0,
                      POSTROOM_DNS_LIFETIME=2.0)
    yield knot
    app.config.update(saved)
    if not knot.running:
        knot.start()
    knot.clear()
