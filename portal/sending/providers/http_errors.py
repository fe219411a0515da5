"""HTTP provider calls and the one place their failures are classified into a SendOutcome.

The adapters (sendgrid.py, resend.py) build the request and read the success reply; everything
that can go wrong on the way (network, TLS, timeouts, refusals) is turned into an outcome here,
so every provider retries, gives up and falls back by the same rules.
"""
from __future__ import annotations

import http.client
import json
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime

from portal.sending.providers.base import MESSAGE, PERMANENT, SENT, SERVER, TRANSIENT, SendOutcome

DETAIL_LIMIT = 300
USER_AGENT = "Postroom"
# What `call_provider` raises when no HTTP reply came back (URLError and timeouts are OSErrors).
NETWORK_ERRORS = (OSError, http.client.HTTPException)


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: Message
    body: bytes

    def json(self):
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would carry the Authorization header to wherever it points; an API that
    # answers 3xx is misconfigured, so the 3xx comes back as a reply to classify.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_RefuseRedirects)


def call_provider(method: str, url: str, *, api_key: str, timeout: float,
                  payload: dict | None = None, headers: dict[str, str] | None = None) -> HttpReply:
    """One JSON request with a bearer key. Any HTTP status comes back as an HttpReply; network
    failures raise (OSError, http.client.HTTPException) for `outcome_for_error`."""
    request = urllib.request.Request(url, method=method, headers={
        "Authorization": f"Bearer {api_key}", "Accept": "application/json",
        "User-Agent": USER_AGENT, **(headers or {})})
    if payload is not None:
        request.data = json.dumps(payload).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with _opener.open(request, timeout=timeout) as response:
            return HttpReply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return HttpReply(error.code, error.headers, error.read())


# --- classification -----------------------------------------------------------------------

def short(text: str, secret: str | None = None) -> str:
    """One line, at most DETAIL_LIMIT characters, and never the key (should a reply echo it)."""
    text = " ".join(str(text).split())
    if secret:
        text = text.replace(secret, "[key]")
    return text if len(text) <= DETAIL_LIMIT else text[:DETAIL_LIMIT - 1] + "…"


def error_text(reply: HttpReply) -> str:
    """The provider's own words for a failure: SendGrid's {"errors": [...]}, Resend's
    {"message": ...}, or the start of whatever else it sent."""
    body = reply.json()
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for item in errors:
                if isinstance(item, dict) and item.get("message"):
                    field = item.get("field")
                    parts.append(f"{field}: {item['message']}" if field else str(item["message"]))
                elif isinstance(item, str):
                    parts.append(item)
            if parts:
                return "; ".join(parts)
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
    text = reply.body[:DETAIL_LIMIT * 2].decode("utf-8", "replace").strip()
    return text or (http.client.responses.get(reply.status, "") or "no explanation")


def retry_after(reply: HttpReply) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP-date)."""
    value = (reply.header("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def outcome_for_reply(reply: HttpReply, label: str, *, secret: str | None = None,
                      provider_message_id: str | None = None,
                      sent_detail: str | None = None) -> SendOutcome:
    """Classify an HTTP reply; a 2xx is SENT with `provider_message_id`."""
    status = reply.status
    if 200 <= status < 300:
        return SendOutcome(SENT, short(sent_detail or f"{label} accepted the message", secret),
                           code="ok", provider_message_id=provider_message_id)
    said = error_text(reply)
    code = f"http_{status}"
    if status in (401, 403):
        # The key itself failed (wrong, revoked, lacking permission): the org's way out is
        # broken, so the pipeline falls back rather than failing the message.
        return SendOutcome(PERMANENT, short(f"{label} refused the API key (HTTP {status}): "
                                            f"{said}", secret),
                           scope=SERVER, code="key_rejected")
    if status == 429:
        return SendOutcome(TRANSIENT, short(f"{label} is rate limiting (HTTP 429): {said}",
                                            secret),
                           scope=SERVER, code=code, retry_after=retry_after(reply))
    if status == 409:
        # Resend: the same Idempotency-Key is still in flight (or was used with another body).
        # Retrying this message later returns the first attempt's answer; falling back to
        # another route could send it twice.
        return SendOutcome(TRANSIENT, short(f"{label} answered HTTP 409: {said}", secret),
                           scope=MESSAGE, code=code, retry_after=retry_after(reply))
    if 400 <= status < 500 and status != 408:
        return SendOutcome(PERMANENT, short(f"{label} rejected the message (HTTP {status}): "
                                            f"{said}", secret),
                           scope=MESSAGE, code=code)
    # 5xx, 408, and statuses an API should never answer (1xx, 3xx): the way out is unwell.
    return SendOutcome(TRANSIENT, short(f"{label} answered HTTP {status}: {said}", secret),
                       scope=SERVER, code=code, retry_after=retry_after(reply))


def outcome_for_error(exc: BaseException, label: str, *, timeout: float | None = None,
                      secret: str | None = None) -> SendOutcome:
    """Classify a network failure (no HTTP reply at all): always transient, the server's."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        limit = f" within {timeout:g} s" if timeout else ""
        return SendOutcome(TRANSIENT, short(f"{label} did not answer{limit}", secret),
                           scope=SERVER, code="timeout")
    if isinstance(reason, socket.gaierror):
        why = "its host name could not be resolved"
    elif isinstance(reason, ConnectionRefusedError):
        why = "the connection was refused"
    elif isinstance(reason, ssl.SSLCertVerificationError):
        why = ("its TLS certificate could not be verified "
               f"({getattr(reason, 'verify_message', None) or reason})")
    elif isinstance(reason, ssl.SSLError):
        why = f"the TLS handshake failed ({reason.reason or reason})"
    elif isinstance(reason, http.client.RemoteDisconnected):
        why = "it closed the connection without answering"
    elif isinstance(reason, http.client.HTTPException):
        why = f"its reply was not valid HTTP ({type(reason).__name__})"
    elif isinstance(reason, OSError):
        why = reason.strerror or str(reason) or type(reason).__name__
    else:
        why = str(reason) or type(reason).__name__
    return SendOutcome(TRANSIENT, short(f"{label} is unreachable: {why}", secret),
                       scope=SERVER, code="unreachable")
