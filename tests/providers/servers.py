"""A fake SendGrid + Resend API on loopback: records every request, checks the bearer key, and
answers what a switch says (401, 429 with Retry-After: 7, 500, 400, a redirect, an echo)."""
from __future__ import annotations

import json
import socket
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SENDGRID_KEY = "SG.postroom-test.Kq3vN8xZ2mL5pR7tY1wB4cD6fG9hJ0a-sg7q"
RESEND_KEY = "re_PostroomTest_4hT9mQ2xV7nB3kL8pW1zR6yC5dF0g-rs5e"
ERROR_400_TEXT = "The from address does not match a verified Sender Identity"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self):
        return json.loads(self.body) if self.body else None


@dataclass
class FakeProviderApi:
    """What the server knows and how it should answer next."""

    sendgrid_key: str = SENDGRID_KEY
    resend_key: str = RESEND_KEY
    answer: int | str | None = None   # 401 | 429 | 500 | 400 | "redirect" | "echo" | "long"
    sendgrid_scopes: list[str] = field(default_factory=lambda: ["mail.send", "scopes.read"])
    resend_restricted: bool = False    # a "sending access" key: GET /domains → 401
    requests: list[RecordedRequest] = field(default_factory=list)
    url: str = ""

    def last(self, path: str) -> RecordedRequest:
        return [r for r in self.requests if r.path == path][-1]


def _handler(api: FakeProviderApi):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # keep pytest's output clean
            pass

        def _reply(self, status: int, body=None, headers=None):
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, sendgrid: bool, status: int, message: str, name: str = "error",
                   headers=None):
            body = ({"errors": [{"message": message, "field": None, "help": None}]} if sendgrid
                    else {"statusCode": status, "name": name, "message": message})
            self._reply(status, body, headers)

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            api.requests.append(RecordedRequest(self.command, self.path, dict(self.headers),
                                                body))
            sendgrid = self.path.startswith("/v3/")
            routes = {("POST", "/v3/mail/send"), ("GET", "/v3/scopes"),
                      ("POST", "/emails"), ("GET", "/domains")}
            if (self.command, self.path) not in routes:
                return self._error(sendgrid, 404, "Not found", "not_found")
            key = api.sendgrid_key if sendgrid else api.resend_key
            if self.headers.get("Authorization") != f"Bearer {key}" or api.answer == 401:
                return self._error(sendgrid, 401, "The provided authorization grant is invalid, "
                                   "expired, or revoked", "validation_error")
            if api.answer == 429:
                return self._error(sendgrid, 429, "Too many requests", "rate_limit_exceeded",
                                   {"Retry-After": "7"})
            if api.answer == 500:
                return self._error(sendgrid, 500, "Internal error", "internal_server_error")
            if api.answer == 400:
                return self._error(sendgrid, 400, ERROR_400_TEXT, "validation_error")
            if api.answer == "echo":  # a careless API that quotes the credentials back
                said = self.headers["Authorization"]
                return self._error(sendgrid, 400, f"Bad request with {said}")
            if api.answer == "long":
                return self._error(sendgrid, 400, "x" * 5000)
            if api.answer == "redirect":
                return self._reply(307, headers={"Location": f"{api.url}/elsewhere"})
            if self.path == "/v3/mail/send":
                return self._reply(202, headers={"X-Message-Id": "sg-" + uuid.uuid4().hex[:16]})
            if self.path == "/v3/scopes":
                return self._reply(200, {"scopes": api.sendgrid_scopes})
            if self.path == "/emails":
                return self._reply(200, {"id": str(uuid.uuid4())})
            if api.resend_restricted:
                return self._error(False, 401, "This API key is restricted to only send emails",
                                   "restricted_api_key")
            return self._reply(200, {"data": []})

        do_GET = do_POST = _handle

    return Handler


@pytest.fixture
def provider_api():
    """A running fake API; `provider_api.url` is the base URL for both adapters."""
    api = FakeProviderApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield api
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def silent_url():
    """A loopback port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def closed_url():
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def provider_settings(app, provider_api, monkeypatch):
    """Point the app's SendGrid and Resend base URLs at the fake API for one test."""
    for name in ("POSTROOM_SENDGRID_BASE_URL", "POSTROOM_RESEND_BASE_URL"):
        monkeypatch.setitem(app.config, name, provider_api.url)  # restored afterwards
    return provider_api
