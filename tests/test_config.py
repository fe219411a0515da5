"""Settings: generated secrets in development, a clear stop in production."""
import logging

import pytest
from cryptography.fernet import Fernet

from portal.config import Config, ConfigError, normalise_database_url


def test_development_generates_missing_secrets_once_into_instance(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        first = Config(env={}, instance_path=tmp_path)
    assert (tmp_path / "secret_key").exists() and (tmp_path / "encryption_keys").exists()
    assert "SECRET_KEY was not set: generated one" in caplog.text
    second = Config(env={}, instance_path=tmp_path)
    assert second.SECRET_KEY == first.SECRET_KEY
    assert second.POSTROOM_ENCRYPTION_KEYS == first.POSTROOM_ENCRYPTION_KEYS
    Fernet(first.POSTROOM_ENCRYPTION_KEYS[0])  # a usable key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("missing", ["SECRET_KEY", "POSTROOM_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_secrets(tmp_path, missing):
    env = {"POSTROOM_ENV": "production", "SECRET_KEY": "k" * 32,
           "POSTROOM_ENCRYPTION_KEYS": Fernet.generate_key().decode()}
    del env[missing]
    with pytest.raises(ConfigError, match=f"{missing} is not set"):
        Config(env=env, instance_path=tmp_path)
    assert not (tmp_path / "secret_key").exists()


def test_a_malformed_encryption_key_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match="not a Fernet key"):
        Config(env={"SECRET_KEY": "x", "POSTROOM_ENCRYPTION_KEYS": "short"}, instance_path=tmp_path)


def test_encryption_keys_are_a_newest_first_list(tmp_path):
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    config = Config(env={"SECRET_KEY": "x", "POSTROOM_ENCRYPTION_KEYS": f"{new}, {old}"},
                    instance_path=tmp_path)
    assert config.POSTROOM_ENCRYPTION_KEYS == [new, old]


def test_defaults_and_https_cookies(tmp_path):
    config = Config(env={}, instance_path=tmp_path)
    assert config.SQLALCHEMY_DATABASE_URI == f"sqlite:///{tmp_path / 'postroom.db'}"
    assert config.PORT == 5000 and config.SESSION_COOKIE_SECURE is False
    secure = Config(env={"POSTROOM_BASE_URL": "https://mail.example.com"}, instance_path=tmp_path)
    assert secure.SESSION_COOKIE_SECURE is True


def test_postgres_urls_use_the_psycopg_driver():
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"
