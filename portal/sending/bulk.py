"""Many rows into one table, the fastest way the database offers.

PostgreSQL takes COPY, which skips per-row statement work on the server; other databases get
one executemany INSERT. Either way the rows join the session's current transaction.
"""
from __future__ import annotations

import json

from psycopg.errors import UniqueViolation
from sqlalchemy import JSON, Integer, any_, insert, literal, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.extensions import db


# What a write can meet when another transaction just wrote the same unique key: SQLAlchemy's
# IntegrityError, psycopg's own UniqueViolation from COPY (a raw cursor), and on SQLite "database
# is locked" when a transaction that read first must then write after someone else did.
WRITE_CONFLICTS = (IntegrityError, UniqueViolation, OperationalError)


def is_postgresql() -> bool:
    return db.session.connection().dialect.name == "postgresql"


def insert_rows(model, rows: list[dict]) -> None:
    """Insert `rows` (dicts keyed by attribute name, all with the same keys) into `model`'s
    table; no ids come back (see reserve_ids)."""
    if not rows:
        return
    if not is_postgresql():
        db.session.execute(insert(model), rows)
        return
    keys = list(rows[0])
    columns = [model.__mapper__.attrs[key].columns[0] for key in keys]
    as_json = [isinstance(column.type, JSON) for column in columns]
    session_connection = db.session.connection()
    quote = session_connection.dialect.identifier_preparer.quote  # "to" is a keyword
    names = ", ".join(quote(column.name) for column in columns)
    statement = f"COPY {quote(model.__tablename__)} ({names}) FROM STDIN"
    with session_connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([json.dumps(row[key]) if is_json and row[key] is not None
                                else row[key] for key, is_json in zip(keys, as_json)])


def id_in(column, ids: list[int]):
    """`column IN (ids…)`; on PostgreSQL `column = ANY(array)` with one parameter: a statement
    with hundreds of placeholders is new text for psycopg and the server every time, where the
    short one is converted once, and prepared once it repeats."""
    if is_postgresql():
        return column == any_(literal(list(ids), ARRAY(Integer)))
    return column.in_(ids)


def reserve_ids(model, count: int) -> list[int] | None:
    """On PostgreSQL, take `count` ids from the table's sequence (so rows can be COPYed with
    their ids known); None elsewhere."""
    if not is_postgresql():
        return None
    return db.session.execute(
        text(f"SELECT nextval(pg_get_serial_sequence('{model.__tablename__}', 'id')) "
             "FROM generate_series(1, :count)"), {"count": count}).scalars().all()


def relax_durability() -> None:
    """For this transaction only, let PostgreSQL acknowledge the commit before the WAL is on
    disk. Used for the send pipeline's claims and outcomes, never for accepting: a crash can
    then only forget that a message was sent, and the sweeper sends it again (at least once)."""
    if is_postgresql():
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
