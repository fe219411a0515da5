"""Secrets at rest: key rotation keeps old tokens readable; `keys rotate` rewrites them."""
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, select

from portal.extensions import db
from portal.vault import (
    DecryptionError,
    decrypt,
    encrypt,
    register_encrypted_column,
    unregister_encrypted_column,
)


@pytest.fixture
def secrets_table(app):
    """A scratch table holding vault tokens, registered like a real secret column."""
    table = Table("vault_scratch", MetaData(), Column("id", Integer, primary_key=True),
                  Column("token", Text))
    table.create(db.engine)
    register_encrypted_column(table.c.token)
    yield table
    unregister_encrypted_column(table.c.token)
    db.session.remove()
    table.drop(db.engine)


def test_round_trip_and_ciphertext_is_not_the_secret():
    token = encrypt("smtp-password-123")
    assert "smtp-password-123" not in token
    assert decrypt(token) == "smtp-password-123"


def test_old_tokens_decrypt_after_a_new_key_is_added_first():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = encrypt("s3cret", keys=[old])
    assert decrypt(token, keys=[new, old]) == "s3cret"


def test_keys_rotate_rewrites_tokens_so_the_old_key_can_go(app, runner, secrets_table):
    old = app.config["POSTROOM_ENCRYPTION_KEYS"][0]
    new = Fernet.generate_key().decode()
    db.session.execute(insert(secrets_table), [{"token": encrypt("alpha", [old])},
                                               {"token": encrypt("beta", [old])}])
    db.session.commit()

    app.config["POSTROOM_ENCRYPTION_KEYS"] = [new, old]
    try:
        result = runner.invoke(args=["keys", "rotate"])
        assert result.exit_code == 0, result.output
        assert "Re-encrypted 2 stored secrets" in result.output
        again = runner.invoke(args=["keys", "rotate"])  # safe to re-run
        assert again.exit_code == 0
    finally:
        app.config["POSTROOM_ENCRYPTION_KEYS"] = [old]

    tokens = db.session.scalars(select(secrets_table.c.token).order_by(secrets_table.c.id)).all()
    assert [decrypt(t, keys=[new]) for t in tokens] == ["alpha", "beta"]
    with pytest.raises(DecryptionError, match="could not be decrypted with any key"):
        decrypt(tokens[0], keys=[Fernet.generate_key().decode()])


def test_rotate_with_the_old_key_removed_fails_clearly(app, runner, secrets_table):
    old = app.config["POSTROOM_ENCRYPTION_KEYS"][0]
    db.session.execute(insert(secrets_table), [{"token": encrypt("alpha", [old])}])
    db.session.commit()
    app.config["POSTROOM_ENCRYPTION_KEYS"] = [Fernet.generate_key().decode()]
    try:
        result = runner.invoke(args=["keys", "rotate"])
    finally:
        app.config["POSTROOM_ENCRYPTION_KEYS"] = [old]
    assert result.exit_code != 0
    assert "cannot be decrypted with any key" in result.output
    assert "add back the key" in result.output
