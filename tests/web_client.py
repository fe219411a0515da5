"""A test client that sends the CSRF token the way our pages and htmx do."""
from __future__ import annotations

import hashlib
import os

from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer


class BrowserClient(FlaskClient):
    """Mutations carry the session's CSRF token in X-CSRFToken, unless csrf=False."""

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            raw = session.get("csrf_token")
            if raw is None:
                raw = session["csrf_token"] = hashlib.sha1(os.urandom(64)).hexdigest()
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)

    def open(self, *args, csrf: bool = True, htmx: bool = False, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        headers = dict(kwargs.pop("headers", None) or {})
        if csrf and method not in ("GET", "HEAD", "OPTIONS") and not _is_api(args, kwargs):
            headers.setdefault("X-CSRFToken", self.csrf_token())
        if htmx:
            headers["HX-Request"] = "true"
        kwargs["headers"] = headers
        # A request reuses an app context that is already pushed (the test's own), and with it
        # `g` and the DB session; a fresh one per request behaves like a real server.
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def login(self, email: str, password: str):
        return self.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self.post("/logout")


def _is_api(args, kwargs) -> bool:
    path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "")
    return isinstance(path, str) and path.startswith("/api/")
