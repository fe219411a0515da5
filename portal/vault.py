"""Secrets at rest: the one place that encrypts and decrypts.

SMTP passwords, provider API keys and DKIM private keys are stored as Fernet tokens made
with the newest key in POSTROOM_ENCRYPTION_KEYS; older keys still decrypt, so a key can be
added first and retired after `keys rotate` has rewritten every stored token.
"""
from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Column, select, update


class DecryptionError(RuntimeError):
    """A stored secret cannot be read with any configured key."""


@dataclass(frozen=True)
class EncryptedColumn:
    column: Column

    @property
    def table(self):
        return self.column.table


# Filled by the capability modules that store secrets (register_encrypted_column).
_registry: list[EncryptedColumn] = []


def register_encrypted_column(column) -> None:
    """Declare that a column holds vault tokens, so `keys rotate` rewrites it."""
    column = getattr(column, "expression", column)
    if not any(entry.column is column for entry in _registry):
        _registry.append(EncryptedColumn(column))


def unregister_encrypted_column(column) -> None:
    column = getattr(column, "expression", column)
    _registry[:] = [entry for entry in _registry if entry.column is not column]


def encrypted_columns() -> list[EncryptedColumn]:
    return list(_registry)


def _fernet(keys: list[str] | None = None) -> MultiFernet:
    keys = keys if keys is not None else current_app.config["POSTROOM_ENCRYPTION_KEYS"]
    if not keys:
        raise DecryptionError("POSTROOM_ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(plaintext: str, keys: list[str] | None = None) -> str:
    """Encrypt with the newest key."""
    return _fernet(keys).encrypt(plaintext.encode()).decode()


def decrypt(token: str, keys: list[str] | None = None) -> str:
    """Decrypt with whichever configured key made the token."""
    try:
        return _fernet(keys).decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A stored secret could not be decrypted with any key in POSTROOM_ENCRYPTION_KEYS. "
            "Was an old key removed before `keys rotate` re-encrypted everything?"
        ) from None


def rotate_stored_secrets(session, keys: list[str] | None = None) -> int:
    """Re-encrypt every registered secret with the newest key; returns how many were rewritten.

    Safe to re-run: a token already made with the newest key is rewritten again, harmlessly.
    Flushes, does not commit.
    """
    fernet = _fernet(keys)
    rewritten = 0
    for entry in _registry:
        table, column = entry.table, entry.column
        pk = list(table.primary_key.columns)[0]
        rows = session.execute(select(pk, column).where(column.is_not(None))).all()
        for row_id, token in rows:
            try:
                fresh = fernet.rotate(token.encode()).decode()
            except InvalidToken:
                raise DecryptionError(
                    f"{table.name}.{column.name} row {row_id} cannot be decrypted with any key "
                    "in POSTROOM_ENCRYPTION_KEYS; add back the key it was made with and re-run."
                ) from None
            session.execute(update(table).where(pk == row_id).values({column.name: fresh}))
            rewritten += 1
    session.flush()
    return rewritten
