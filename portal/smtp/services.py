"""Operations on SMTP configurations, shared by the settings wizard, the API and the jobs.

Services flush and never commit. Secrets (username, password) are stored only as vault tokens,
and appear in no return value meant for display, no audit detail and no log line.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select, update

from portal.accounts.services import AccountError
from portal.audit.services import record_audit
from portal.clock import utcnow
from portal.extensions import db
from portal.queue.services import enqueue
from portal.smtp.guard import HostRefused, check_host_syntax, check_port
from portal.smtp.models import SmtpConfiguration
from portal.smtp.test_pass import has_valid_test_pass, issue_test_pass
from portal.smtp.transport import (
    SECURITY_MODES,
    ConnectionParams,
    ConnectionTestResult,
    TransportPolicy,
    test_connection,
    validate_ca_pem,
)
from portal.vault import decrypt, encrypt

log = logging.getLogger(__name__)


class SmtpError(AccountError):
    """A user-facing problem with SMTP input; `field` names the form/API field."""


@dataclass(frozen=True)
class SmtpOwner:
    """Whose configurations these are: an organisation's, or one person's."""

    org_id: int | None = None
    user_id: int | None = None

    @classmethod
    def of(cls, config: SmtpConfiguration) -> "SmtpOwner":
        return cls(config.org_id, config.user_id)

    @property
    def key(self) -> str:
        return f"org:{self.org_id}" if self.org_id is not None else f"user:{self.user_id}"

    @property
    def audit_org_id(self) -> int | None:
        return self.org_id

    def where(self, query):
        if self.org_id is not None:
            return query.where(SmtpConfiguration.org_id == self.org_id)
        return query.where(SmtpConfiguration.user_id == self.user_id)


@dataclass(frozen=True)
class Sender:
    from_email: str
    from_name: str


def transport_policy() -> TransportPolicy:
    return TransportPolicy.from_config(current_app.config)


def list_configs(owner: SmtpOwner) -> list[SmtpConfiguration]:
    """Primary first, then by address."""
    query = owner.where(select(SmtpConfiguration)).order_by(
        SmtpConfiguration.is_primary.desc(), SmtpConfiguration.from_email)
    return list(db.session.scalars(query))


def get_config(owner: SmtpOwner, config_id: int) -> SmtpConfiguration | None:
    return db.session.scalar(owner.where(select(SmtpConfiguration))
                             .where(SmtpConfiguration.id == config_id))


# --- validation -------------------------------------------------------------------------

def _no_line_breaks(value: str, field: str, label: str) -> None:
    if "\r" in value or "\n" in value:
        raise SmtpError(f"{label} cannot contain line breaks", field)


def validate_sender(from_email: str, from_name: str) -> Sender:
    """A From address and display name that are safe to put in a header."""
    from_email, from_name = (from_email or "").strip(), (from_name or "").strip()
    _no_line_breaks(from_email, "from_email", "The from address")
    _no_line_breaks(from_name, "from_name", "The from name")
    if not from_name:
        raise SmtpError("Enter the name recipients will see, such as your company's", "from_name")
    if len(from_name) > 120:
        raise SmtpError("Use at most 120 characters for the from name", "from_name")
    try:
        from_email = validate_email(from_email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise SmtpError(f"Enter a valid from address ({exc})", "from_email") from None
    return Sender(from_email, from_name)


def sender_domain_warning(from_email: str, username: str | None) -> str | None:
    """A warning (not an error) when the from domain differs from the login's domain."""
    if not username or "@" not in username or "@" not in (from_email or ""):
        return None
    if from_email.rsplit("@", 1)[1].lower() != username.rsplit("@", 1)[1].lower():
        return ("The from address is on a different domain than the SMTP username: "
                "the server may reject or rewrite it.")
    return None


def validate_connection(params: ConnectionParams) -> None:
    """Syntax and policy checks that need no network (the test job resolves and connects)."""
    policy = transport_policy()
    if params.security not in SECURITY_MODES:
        raise SmtpError("Choose STARTTLS, TLS or (where allowed) no encryption", "security")
    if params.security == "none" and not policy.allow_plaintext:
        raise SmtpError("Unencrypted SMTP is not allowed on this platform", "security")
    try:
        check_host_syntax(params.host)
    except HostRefused as exc:
        raise SmtpError(str(exc), "host") from None
    try:
        check_port(params.port, policy.allowed_ports)
    except HostRefused as exc:
        raise SmtpError(str(exc), "port") from None
    for value, field in ((params.username, "username"), (params.password, "password")):
        if value and ("\r" in value or "\n" in value):
            raise SmtpError("Line breaks are not allowed here", field)
    if params.ca_pem:
        try:
            validate_ca_pem(params.ca_pem)
        except ValueError as exc:
            raise SmtpError(str(exc), "ca_pem") from None


# --- connection parameters --------------------------------------------------------------

def stored_params(config: SmtpConfiguration) -> ConnectionParams:
    """The connection parameters of a saved configuration, secrets decrypted (never display)."""
    return ConnectionParams(
        host=config.host, port=config.port, security=config.security,
        username=decrypt(config.username_encrypted) if config.username_encrypted else None,
        password=decrypt(config.password_encrypted) if config.password_encrypted else None,
        ca_pem=config.ca_pem)


def merge_params(host: str, port: int, security: str, username: str | None,
                 password: str | None, ca_pem: str | None,
                 existing: SmtpConfiguration | None = None,
                 remove_ca: bool = False) -> ConnectionParams:
    """Parameters from a form or API body. On edit, blank credentials and a blank CA keep the
    stored ones (they are never shown, so blank cannot mean "erase"); `remove_ca` drops the CA."""
    kept = stored_params(existing) if existing is not None else None
    username = (username or "").strip() or (kept.username if kept else None)
    password = password or (kept.password if kept else None)
    ca_pem = (ca_pem or "").strip() or (kept.ca_pem if kept and not remove_ca else None)
    return ConnectionParams(host=(host or "").strip().lower().rstrip("."), port=int(port),
                            security=security, username=username or None,
                            password=password or None, ca_pem=ca_pem or None)


def fingerprint(params: ConnectionParams) -> str:
    """An HMAC of the parameters: the test pass carries it readably, so a plain hash would let
    anyone holding a pass guess the password offline."""
    key = hashlib.sha256(b"postroom.smtp.fingerprint:"
                         + current_app.config["SECRET_KEY"].encode()).digest()
    return params.fingerprint(key)


def _seal(params: ConnectionParams) -> str:
    # Job arguments sit in Redis: the parameters travel encrypted, like everything at rest.
    return encrypt(json.dumps({"host": params.host, "port": params.port,
                               "security": params.security, "username": params.username,
                               "password": params.password, "ca_pem": params.ca_pem}))


def _unseal(sealed: str) -> ConnectionParams:
    return ConnectionParams(**json.loads(decrypt(sealed)))


# --- testing ----------------------------------------------------------------------------

def start_connection_test(owner: SmtpOwner, params: ConnectionParams, *, job_org_id: int | None,
                          user_id: int | None, config: SmtpConfiguration | None = None):
    """Validate, then enqueue a connection test on the default queue; returns the job row."""
    validate_connection(params)
    return enqueue("jobs.smtp.run_connection_test", _seal(params), owner.key,
                   config.id if config else None, owner.audit_org_id,
                   queue="default", org_id=job_org_id, user_id=user_id)


def run_connection_test(sealed: str, owner_key: str, config_id: int | None,
                        audit_org_id: int | None) -> dict:
    """The job's work: test, record the outcome, and on success issue the test pass."""
    params = _unseal(sealed)
    result = test_connection(params, transport_policy())
    outcome = {**result.as_dict(), "test_token": None}
    if result.ok:
        outcome["test_token"] = issue_test_pass(owner_key, fingerprint(params))
    config = db.session.get(SmtpConfiguration, config_id) if config_id else None
    if config is not None and fingerprint(stored_params(config)) == fingerprint(params):
        record_test_result(config, result)
    record_audit("smtp.tested", org_id=audit_org_id, target=config,
                 details={"result": result.code}, actor_label="worker")
    log.info("smtp test org=%s config=%s result=%s", audit_org_id, config_id, result.code)
    return outcome


def record_test_result(config: SmtpConfiguration, result: ConnectionTestResult) -> None:
    config.last_tested_at = utcnow()
    config.last_test_code = result.code
    config.last_test_message = result.message[:500]


def _require_test_pass(owner: SmtpOwner, params: ConnectionParams, token: str | None) -> None:
    if not has_valid_test_pass(token, owner.key, fingerprint(params)):
        minutes = current_app.config["SMTP_TEST_PASS_MINUTES"]
        raise SmtpError(f"Test the connection first: these exact settings must pass a test "
                        f"in the last {minutes} minutes", "test_token")


# --- changes ----------------------------------------------------------------------------

def _check_unique_sender(owner: SmtpOwner, from_email: str, exclude_id: int | None) -> None:
    query = owner.where(select(SmtpConfiguration.id)).where(
        SmtpConfiguration.from_email == from_email)
    if exclude_id is not None:
        query = query.where(SmtpConfiguration.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise SmtpError("There is already a configuration for this from address", "from_email")


def _store_params(config: SmtpConfiguration, params: ConnectionParams) -> None:
    config.host, config.port, config.security = params.host, params.port, params.security
    config.username_encrypted = encrypt(params.username) if params.username else None
    config.password_encrypted = encrypt(params.password) if params.password else None
    config.ca_pem = params.ca_pem


def create_config(owner: SmtpOwner, sender: Sender, params: ConnectionParams,
                  test_token: str | None) -> SmtpConfiguration:
    """Create a configuration whose exact parameters passed a test; an owner's first is primary."""
    validate_connection(params)
    _require_test_pass(owner, params, test_token)
    _check_unique_sender(owner, sender.from_email, None)
    is_first = db.session.scalar(owner.where(select(SmtpConfiguration.id)).limit(1)) is None
    config = SmtpConfiguration(org_id=owner.org_id, user_id=owner.user_id,
                               from_email=sender.from_email, from_name=sender.from_name,
                               enabled=True, is_primary=is_first,
                               last_tested_at=utcnow(), last_test_code="ok",
                               last_test_message="The connection test passed.")
    _store_params(config, params)
    db.session.add(config)
    db.session.flush()
    record_audit("smtp.created", org_id=owner.audit_org_id, target=config,
                 details={"from_email": config.from_email, "host": config.host,
                          "port": config.port, "security": config.security,
                          "primary": config.is_primary})
    log.info("smtp config created org=%s config=%s", owner.org_id, config.id)
    return config


def update_config(config: SmtpConfiguration, sender: Sender, params: ConnectionParams,
                  test_token: str | None) -> list[str]:
    """Change a configuration; new connection parameters need a fresh passed test."""
    owner = SmtpOwner.of(config)
    validate_connection(params)
    old = stored_params(config)
    connection_changed = fingerprint(old) != fingerprint(params)
    if connection_changed:
        _require_test_pass(owner, params, test_token)
    _check_unique_sender(owner, sender.from_email, config.id)
    changed = [name for name, new, before in (
        ("from_email", sender.from_email, config.from_email),
        ("from_name", sender.from_name, config.from_name),
        ("host", params.host, old.host), ("port", params.port, old.port),
        ("security", params.security, old.security),
        ("username", params.username, old.username), ("password", params.password, old.password),
        ("ca_pem", params.ca_pem, old.ca_pem)) if new != before]
    config.from_email, config.from_name = sender.from_email, sender.from_name
    if connection_changed:
        _store_params(config, params)
        config.last_tested_at, config.last_test_code = utcnow(), "ok"
        config.last_test_message = "The connection test passed."
    if changed:
        record_audit("smtp.updated", org_id=owner.audit_org_id, target=config,
                     details={"fields": changed})
    return changed


def set_primary(config: SmtpConfiguration) -> None:
    """Make this the owner's primary configuration, atomically (one UPDATE clears the old)."""
    if not config.enabled:
        raise SmtpError("Enable this configuration before making it primary", "primary")
    if config.is_primary:
        return
    owner = SmtpOwner.of(config)
    clear = owner.where(update(SmtpConfiguration)).where(SmtpConfiguration.is_primary.is_(True))
    db.session.execute(clear.values(is_primary=False).execution_options(
        synchronize_session="fetch"))
    db.session.flush()
    config.is_primary = True
    db.session.flush()
    record_audit("smtp.primary_set", org_id=owner.audit_org_id, target=config,
                 details={"from_email": config.from_email})


def set_enabled(config: SmtpConfiguration, enabled: bool) -> None:
    """Enable or disable; disabling the primary leaves the owner with no primary."""
    if config.enabled == enabled:
        return
    config.enabled = enabled
    details = {"from_email": config.from_email}
    if not enabled and config.is_primary:
        config.is_primary = False
        details["was_primary"] = True
    record_audit("smtp.enabled" if enabled else "smtp.disabled",
                 org_id=SmtpOwner.of(config).audit_org_id, target=config, details=details)


def delete_config(config: SmtpConfiguration) -> None:
    """Delete; deleting the primary leaves the owner with no primary (platform mail instead)."""
    record_audit("smtp.deleted", org_id=SmtpOwner.of(config).audit_org_id, target=config,
                 details={"from_email": config.from_email, "was_primary": config.is_primary})
    log.info("smtp config deleted org=%s config=%s", config.org_id, config.id)
    db.session.delete(config)
    db.session.flush()


def primary_config(owner: SmtpOwner) -> SmtpConfiguration | None:
    return db.session.scalar(owner.where(select(SmtpConfiguration)).where(
        SmtpConfiguration.is_primary.is_(True)))


def users_with_personal_smtp(org) -> set[int]:
    """Ids of the org's members who have a personal configuration (support sees that, not it)."""
    from portal.orgs.models import Membership

    return set(db.session.scalars(
        select(SmtpConfiguration.user_id).join(
            Membership, Membership.user_id == SmtpConfiguration.user_id)
        .where(Membership.org_id == org.id)))
