"""Settings, read from the environment when the app is created (never at import time)."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; start-up stops with this message."""


def normalise_database_url(url: str) -> str:
    """Accept the URL forms people paste (postgres://, postgresql://) and pick our driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _env_flag(env, name: str) -> bool:
    return env.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


DEFAULT_SMTP_PORTS = (25, 465, 587, 2525)


def _port_list(extra: str) -> list[int]:
    """The SMTP ports allowed: the standard ones, widened by POSTROOM_SMTP_PORTS."""
    ports = set(DEFAULT_SMTP_PORTS)
    for part in extra.replace(" ", "").split(","):
        if part:
            if not part.isdigit() or not 0 < int(part) < 65536:
                raise ConfigError(f"POSTROOM_SMTP_PORTS holds {part!r}, which is not a port number")
            ports.add(int(part))
    return sorted(ports)


def _read_or_generate(instance: Path, filename: str, make, production: bool, setting: str) -> str:
    """Development convenience: generate a missing secret once into instance/, loudly.

    In production a generated secret would silently change on every fresh container and
    lock everyone out of their encrypted data, so there it is an error instead.
    """
    if production:
        raise ConfigError(
            f"{setting} is not set. POSTROOM_ENV=production requires it; "
            f"see README.md (Settings) for how to generate one."
        )
    path = instance / filename
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value + "\n")
    path.chmod(0o600)
    log.warning("%s was not set: generated one into %s (development only)", setting, path)
    return value


class Config:
    """Every setting the portal reads, with its default. Documented in README.md."""

    def __init__(self, env=None, instance_path: Path | None = None):
        env = os.environ if env is None else env
        instance = Path(env.get("POSTROOM_INSTANCE_PATH") or instance_path or DEFAULT_INSTANCE)
        self.INSTANCE_PATH = str(instance)
        self.POSTROOM_ENV = env.get("POSTROOM_ENV", "development")
        production = self.POSTROOM_ENV == "production"

        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            env.get("DATABASE_URL") or f"sqlite:///{instance / 'postroom.db'}"
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.REDIS_URL = env.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        self.SECRET_KEY = env.get("SECRET_KEY") or _read_or_generate(
            instance, "secret_key", lambda: os.urandom(32).hex(), production, "SECRET_KEY"
        )
        keys = env.get("POSTROOM_ENCRYPTION_KEYS") or _read_or_generate(
            instance, "encryption_keys", lambda: Fernet.generate_key().decode(), production,
            "POSTROOM_ENCRYPTION_KEYS",
        )
        self.POSTROOM_ENCRYPTION_KEYS = [k.strip() for k in keys.split(",") if k.strip()]
        self.POSTROOM_BASE_URL = env.get("POSTROOM_BASE_URL", "http://127.0.0.1:5000")
        self.PORT = int(env.get("PORT", "5000"))

        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.POSTROOM_BASE_URL.startswith("https://")
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

        self.LOGIN_MAX_FAILURES = int(env.get("POSTROOM_LOGIN_MAX_FAILURES", "10"))
        self.LOGIN_WINDOW_SECONDS = int(env.get("POSTROOM_LOGIN_WINDOW_SECONDS", "900"))
        self.INVITE_TTL_HOURS = int(env.get("POSTROOM_INVITE_TTL_HOURS", "168"))
        self.RQ_JOB_TIMEOUT = int(env.get("POSTROOM_JOB_TIMEOUT", "300"))
        self.TRUSTED_PROXY_COUNT = int(env.get("POSTROOM_TRUSTED_PROXIES", "0"))
        self.POSTROOM_SMTP_ALLOW_PRIVATE = _env_flag(env, "POSTROOM_SMTP_ALLOW_PRIVATE")
        self.POSTROOM_SMTP_ALLOW_PLAINTEXT = _env_flag(env, "POSTROOM_SMTP_ALLOW_PLAINTEXT")
        self.POSTROOM_SMTP_PORTS = _port_list(env.get("POSTROOM_SMTP_PORTS", ""))
        self.SMTP_CONNECT_TIMEOUT = float(env.get("POSTROOM_SMTP_CONNECT_TIMEOUT", "10"))
        self.SMTP_TEST_TIMEOUT = float(env.get("POSTROOM_SMTP_TEST_TIMEOUT", "30"))
        self.SMTP_TEST_PASS_MINUTES = int(env.get("POSTROOM_SMTP_TEST_PASS_MINUTES", "15"))
        # The send pipeline.
        self.POSTROOM_PLATFORM_SMTP_URL = env.get("POSTROOM_PLATFORM_SMTP_URL", "")
        self.POSTROOM_PLATFORM_FROM = env.get("POSTROOM_PLATFORM_FROM",
                                              "no-reply@postroom.example.com")
        self.POSTROOM_CUSTOM_SMTP_TYPES = [
            t.strip() for t in env.get("POSTROOM_CUSTOM_SMTP_TYPES", "*,!auth.*").split(",")
            if t.strip()]
        self.POSTROOM_MAX_MESSAGE_BYTES = int(env.get("POSTROOM_MAX_MESSAGE_BYTES",
                                                      str(10 * 1024 * 1024)))
        self.POSTROOM_MAX_RECIPIENTS = int(env.get("POSTROOM_MAX_RECIPIENTS", "50"))
        self.POSTROOM_SEND_MAX_ATTEMPTS = int(env.get("POSTROOM_SEND_MAX_ATTEMPTS", "6"))
        self.POSTROOM_RETRY_BASE_SECONDS = float(env.get("POSTROOM_RETRY_BASE_SECONDS", "60"))
        self.POSTROOM_SEND_BATCH = int(env.get("POSTROOM_SEND_BATCH", "200"))
        self.POSTROOM_SWEEP_INTERVAL = float(env.get("POSTROOM_SWEEP_INTERVAL", "15"))
        self.POSTROOM_SMTP_POOL_IDLE = float(env.get("POSTROOM_SMTP_POOL_IDLE", "60"))
        self.POSTROOM_SENDGRID_BASE_URL = env.get("POSTROOM_SENDGRID_BASE_URL",
                                                  "https://api.sendgrid.com")
        self.POSTROOM_RESEND_BASE_URL = env.get("POSTROOM_RESEND_BASE_URL",
                                                "https://api.resend.com")
        # Sending domains (portal/domains, docs/domains.md).
        self.POSTROOM_DKIM_PREFIX = env.get("POSTROOM_DKIM_PREFIX", "pr")
        self.POSTROOM_SPF_INCLUDE = env.get("POSTROOM_SPF_INCLUDE", "_spf.postroom.example.com")
        self.POSTROOM_RETURN_PATH_PREFIX = env.get("POSTROOM_RETURN_PATH_PREFIX", "bounces")
        self.POSTROOM_RETURN_PATH_HOST = env.get("POSTROOM_RETURN_PATH_HOST",
                                                 "bounces.postroom.example.com")
        self.POSTROOM_DNS_NAMESERVERS = [
            n.strip() for n in env.get("POSTROOM_DNS_NAMESERVERS", "").split(",") if n.strip()]
        self.POSTROOM_DNS_TIMEOUT = float(env.get("POSTROOM_DNS_TIMEOUT", "3"))
        self.POSTROOM_DNS_LIFETIME = float(env.get("POSTROOM_DNS_LIFETIME", "10"))
        self.POSTROOM_DOMAIN_VERIFY_WINDOW = float(env.get("POSTROOM_DOMAIN_VERIFY_WINDOW", "7"))
        self.POSTROOM_DOMAIN_CHECK_MAX_MINUTES = float(
            env.get("POSTROOM_DOMAIN_CHECK_MAX_MINUTES", "60"))
        self.POSTROOM_DOMAIN_RECHECK_HOURS = float(env.get("POSTROOM_DOMAIN_RECHECK_HOURS", "24"))
        self.TESTING = False
        self.demand_secure_settings(production)

    def demand_secure_settings(self, production: bool) -> None:
        for key in self.POSTROOM_ENCRYPTION_KEYS:
            try:
                Fernet(key)
            except ValueError:
                raise ConfigError(
                    "POSTROOM_ENCRYPTION_KEYS holds a value that is not a Fernet key "
                    "(32 url-safe base64-encoded bytes)"
                ) from None
        if production and not self.SESSION_COOKIE_SECURE:
            log.warning("POSTROOM_BASE_URL is not https: session cookies are not marked Secure")

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}


class TestConfig(Config):
    """Settings for the test suite: the caller passes the database and Redis it made."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, env=None, instance_path: Path | None = None):
        super().__init__(env, instance_path)
        self.TESTING = True
