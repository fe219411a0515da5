"""The real app on loopback for the client to talk to, and a scripted stub server for retries."""
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict  # names in lower case
    body: object
    at: float  # time.monotonic() on arrival


class ScriptedServer:
    """Answers each request with the next scripted (status, headers, body); records requests."""

    def __init__(self, script):
        self.script = list(script)
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()

    def next_answer(self):
        with self._lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]


@pytest.fixture
def stub_server():
    """stub_server([(503, {"Retry-After": "1"}, {...}), (202, {}, {...})]) → its base URL and
    the ScriptedServer; the last answer repeats. A status of None drops the connection
    without answering."""
    started = []

    def start(script):
        scripted = ScriptedServer(script)

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                scripted.requests.append(Recorded(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                    json.loads(body) if body else None, time.monotonic()))
                status, headers, payload = scripted.next_answer()
                if status is None:
                    self.close_connection = True
                    return
                raw = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _answer

            def log_message(self, *args):  # keep the test output clean
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}", scripted

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
