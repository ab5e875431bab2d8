"""Bring a database to the store's schema: Alembic migrations, run at start-up.

Safe to run from several processes at once (two servers starting together): PostgreSQL
serialises them with an advisory lock, SQLite with a lock file beside the database.
Idempotent: at the head revision it does nothing. A schema newer than this code, or a
file that is not a database, raises `StoreError` with one sentence.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DatabaseError

from services.store.errors import StoreError, explain

__all__ = ["VERSION_TABLE", "head", "upgrade"]

VERSION_TABLE = "a2a_streamlit_version"  # not alembic_version: a2a-sdk may share the database
_SCRIPTS = Path(__file__).parent / "migrations"
_PG_LOCK = 0x0A2A_5713  # pg_advisory_lock key: any constant of our own


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision this code knows."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


@contextlib.contextmanager
def _exclusive(engine: Engine, connection: Connection) -> Iterator[None]:
    """Only one process migrates at a time."""
    if engine.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK})
            connection.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    if engine.url.query.get("uri") == "true":  # sqlite:///file:/path?mode=ro&uri=true
        database = urlsplit(database).path
    with open(Path(database).with_suffix(".migrate-lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def upgrade(engine: Engine, where: str) -> None:
    """Migrate `engine`'s database to the head revision, or say in one sentence why not."""
    try:
        with engine.connect() as connection, _exclusive(engine, connection):
            current = MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE}
            ).get_current_revision()
            known = {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}
            if current is not None and current not in known:
                raise StoreError(
                    f"The database was written by a newer version of this app (schema "
                    f"{current}): update the app, or point A2A_DATABASE_URL at another database."
                )
            connection.commit()  # end the read's transaction: the migration opens its own
            command.upgrade(_config(connection), "head")
            connection.commit()
    except (DatabaseError, OSError) as error:
        raise explain(error, where) from error
