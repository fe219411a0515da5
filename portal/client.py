"""A Python client for the Postroom API, written with the standard library only.

    from portal.client import Postroom, ValidationError, attachment

    postroom = Postroom("https://postroom.example.com", "pr_…")
    accepted = postroom.send(email_type="booking.scheduled", to="patient@example.com",
                             subject="Your booking is confirmed", text="See you on Monday.")
    postroom.get(accepted["id"])["status"]

Nothing here imports Flask or the rest of `portal`, so the file can be copied into an app as is.

Retries: 429 and 503 answers and network failures are retried up to `max_retries` times,
waiting as long as Retry-After says (seconds or an HTTP date), else an exponential backoff.
`send` makes one Idempotency-Key per call and sends it with every retry, so a retried send
never delivers twice.
"""
from __future__ import annotations

import base64
import email.utils
import http.client
import json
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone

__all__ = ["AuthError", "Conflict", "NotFound", "Postroom", "PostroomError", "TransportError",
           "ValidationError", "attachment"]

USER_AGENT = "postroom-python/0.1"
RETRY_STATUSES = (429, 503)


class PostroomError(Exception):
    """An error answer from Postroom: `status` (HTTP), `code`, `message` and `field`."""

    def __init__(self, status: int | None, code: str, message: str, field: str | None = None,
                 *, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retry_after = retry_after  # seconds the server asked us to wait (429/503)

    def __str__(self) -> str:
        where = f" (field: {self.field})" if self.field else ""
        return f"{self.status or '-'} {self.code}: {self.message}{where}"


class AuthError(PostroomError):
    """401 (missing, malformed or revoked key) or 403 (the key lacks the scope)."""


class NotFound(PostroomError):
    """404: nothing with this id in the key's organisation."""


class Conflict(PostroomError):
    """409: the Idempotency-Key was used before with a different request body."""


class ValidationError(PostroomError):
    """422: bad input; `field` names the field (such as "to" or "attachments[0].filename")."""


class TransportError(PostroomError):
    """The server could not be reached or did not answer, even after the retries."""

    def __init__(self, message: str, *, unsent: bool = False):
        super().__init__(None, "transport_error", message)
        self.unsent = unsent  # True: the request certainly never reached the server


ERRORS_BY_STATUS = {401: AuthError, 403: AuthError, 404: NotFound, 409: Conflict,
                    422: ValidationError}


def attachment(filename: str, content_type: str, data: bytes) -> dict:
    """One entry of `attachments`: the bytes base64-encoded the way the API expects."""
    return {"filename": filename, "content_type": content_type,
            "content_base64": base64.b64encode(data).decode("ascii")}


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds to wait: delay-seconds or an HTTP date; None when absent or bad."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class Postroom:
    """A client for one Postroom server and API key.

    `org` is for platform keys, which belong to no organisation: it is sent as "org" in request
    bodies and as ?org= on reads.
    """

    backoff_seconds = 0.5  # the first wait when the server gives no Retry-After; doubles
    max_retry_wait = 60.0  # a longer Retry-After is not waited for: the error is raised

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 10.0,
                 max_retries: int = 3, org: str | None = None):
        parsed = urllib.parse.urlsplit(base_url)
        # urllib also opens file:// and ftp:// URLs; an API key must only ever go over HTTP(S).
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("base_url must be an http:// or https:// URL, such as "
                             "https://postroom.example.com")
        root = base_url.rstrip("/")
        self.api_url = root if root.endswith("/api/v1") else root + "/api/v1"
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.org = org

    def __repr__(self) -> str:  # never show the key
        return f"Postroom({self.api_url!r}, org={self.org!r})"

    # -- the API --------------------------------------------------------------------------

    def send(self, *, email_type: str, to: str | list[str], subject: str,
             text: str | None = None, html: str | None = None,
             cc: str | list[str] | None = None, bcc: str | list[str] | None = None,
             reply_to: str | list[str] | None = None, from_: str | dict | None = None,
             as_user: str | None = None, attachments: list[dict] | None = None,
             headers: dict[str, str] | None = None, tags: list[str] | None = None,
             metadata: dict | None = None, idempotency_key: str | None = None) -> dict:
        """Send one message → {"id", "status"}. Retries reuse this call's Idempotency-Key."""
        if isinstance(from_, str):
            from_ = {"email": from_}
        fields = {"email_type": email_type, "to": to, "subject": subject, "text": text,
                  "html": html, "cc": cc, "bcc": bcc, "reply_to": reply_to, "from": from_,
                  "as_user": as_user, "attachments": attachments, "headers": headers,
                  "tags": tags, "metadata": metadata}
        payload = {name: value for name, value in fields.items() if value is not None}
        key = idempotency_key or str(uuid.uuid4())
        return self._request("POST", "/messages", body=payload,
                             headers={"Idempotency-Key": key})

    def send_batch(self, messages: list[dict]) -> list[dict]:
        """Send up to 500 messages (dicts with the API's field names, "from" not "from_").

        Returns one result per message, in order: {"index", "id", "status"} when accepted,
        {"index", "error": {"code", "message", "field"}} when not; good messages are accepted
        whatever happens to the others. The batch endpoint takes no Idempotency-Key, so after
        a failure that may have reached the server (a timeout, a dropped connection) the batch
        is not sent again: a TransportError is raised instead of risking duplicates.
        """
        response = self._request("POST", "/messages/batch", body={"messages": list(messages)},
                                 retry_unsent_only=True)
        return response["data"]

    def get(self, message_id: str) -> dict:
        """One message from the delivery log, with its status and event timeline."""
        return self._request("GET", "/messages/" + urllib.parse.quote(message_id, safe=""))

    # -- one request, with retries --------------------------------------------------------

    def _request(self, method: str, path: str, *, body: dict | None = None,
                 headers: dict | None = None, retry_unsent_only: bool = False):
        url = self.api_url + path
        if self.org is not None:
            if body is None:
                url += "?" + urllib.parse.urlencode({"org": self.org})
            else:
                body = {**body, "org": self.org}
        data = json.dumps(body).encode() if body is not None else None
        request_headers = {"Authorization": f"Bearer {self.api_key}",
                           "Accept": "application/json", "User-Agent": USER_AGENT,
                           **(headers or {})}
        if data is not None:
            request_headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            request = urllib.request.Request(url, data=data, headers=request_headers,
                                             method=method)
            try:
                return self._open(request)
            except PostroomError as error:
                if isinstance(error, TransportError):
                    retryable = error.unsent or not retry_unsent_only
                    wait = None
                else:
                    retryable = error.status in RETRY_STATUSES
                    wait = error.retry_after
                if not retryable or attempt >= self.max_retries:
                    raise
                if wait is None:
                    wait = self.backoff_seconds * 2 ** attempt * random.uniform(0.8, 1.2)
                elif wait > self.max_retry_wait:
                    raise
                time.sleep(wait)
                attempt += 1

    def _open(self, request: urllib.request.Request):
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            try:
                raise _error_from_response(exc.code, exc.headers, exc.read()) from None
            finally:
                exc.close()
        except urllib.error.URLError as exc:
            # urllib wraps failures of connecting and sending; refused or unresolvable means
            # the request certainly never arrived, so even a non-idempotent one may be retried.
            unsent = isinstance(exc.reason, (ConnectionRefusedError, socket.gaierror))
            raise TransportError(f"Could not reach {request.full_url}: {exc.reason}",
                                 unsent=unsent) from exc
        except (OSError, http.client.HTTPException) as exc:  # timeouts, dropped connections
            raise TransportError(f"No answer from {request.full_url}: {exc!r}") from exc
        except ValueError as exc:  # a 2xx whose body is not JSON
            raise TransportError(f"{request.full_url} answered with something other than "
                                 "JSON") from exc


def _error_from_response(status: int, headers, raw: bytes) -> PostroomError:
    code, message, field = f"http_{status}", f"HTTP {status}", None
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        code = error.get("code") or code
        message = error.get("message") or message
        field = error.get("field")
    elif raw:
        message = f"HTTP {status}: {raw[:200].decode('utf-8', 'replace')}"
    cls = ERRORS_BY_STATUS.get(status, PostroomError)
    return cls(status, code, message, field,
               retry_after=retry_after_seconds(headers.get("Retry-After") if headers else None))
