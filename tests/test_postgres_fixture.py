"""The PostgreSQL test fixtures run a real server: Debian's binaries, loopback only."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select, text
from sqlalchemy.exc import DBAPIError

from tests.postgres import (  # noqa: F401 - the fixtures, found by pytest under their names
    PostgresServer,
    PostgresUnavailable,
    database_url_fixture,
    postgres_fixture,
    postgres_url_fixture,
    unavailable,
)

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", String(200), nullable=False),
)


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a LISTEN socket on `port`, from /proc/net/tcp and tcp6."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: TCP_LISTEN
                addresses.add(address)
    return addresses


def test_a_fresh_database_takes_a_table_and_a_row(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            assert conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar_one() == 0  # fmt: skip
            metadata.create_all(conn)
            conn.execute(notes.insert().values(id=1, body="héllo ✓"))
        with engine.connect() as conn:
            assert conn.execute(select(notes.c.body)).scalar_one() == "héllo ✓"
            assert conn.execute(text("SHOW server_encoding")).scalar_one() == "UTF8"
            version = conn.execute(text("SHOW server_version_num")).scalar_one()
            assert int(version) >= 150000
    finally:
        engine.dispose()


def test_each_test_gets_its_own_empty_database(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar_one() == 0  # fmt: skip
    finally:
        engine.dispose()


def test_the_server_listens_on_loopback_only(postgres: PostgresServer) -> None:
    with psycopg.connect(postgres.conninfo()) as conn:
        row = conn.execute("SHOW listen_addresses").fetchone()
        assert row == ("127.0.0.1",)
        socket_dirs = conn.execute("SHOW unix_socket_directories").fetchone()
        assert socket_dirs == (str(postgres.root),)
    assert _listening_addresses(postgres.port) == {"0100007F"}  # 127.0.0.1, no tcp6 socket


def test_stop_then_start_on_the_same_folder_keeps_the_data(
    postgres: PostgresServer, postgres_url: str
) -> None:
    engine = create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            conn.execute(notes.insert().values(id=7, body="kept"))
        first_pid, port, folder = postgres.pid, postgres.port, postgres.data_dir
        # A session left open is cut off by the fast shutdown, as in a fault test.
        open_conn = engine.connect()
        assert postgres.stop()
        assert not postgres.running and postgres.pid is None
        postgres.start()
        assert postgres.running and postgres.pid != first_pid
        assert (postgres.port, postgres.data_dir) == (port, folder)
        with pytest.raises(DBAPIError):  # the session was terminated by the shutdown
            open_conn.execute(text("SELECT 1"))
        open_conn.close()
        engine.dispose()  # drop pooled connections from before the restart
        with engine.connect() as conn:
            assert conn.execute(select(notes.c.body)).scalar_one() == "kept"
    finally:
        engine.dispose()


def test_database_url_gives_each_backend(database_url: str, tmp_path: Path) -> None:
    if database_url.startswith("sqlite"):
        assert database_url == f"sqlite:///{tmp_path / 'store.db'}"
    else:
        assert database_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            conn.execute(notes.insert().values(id=1, body=engine.dialect.name))
        with engine.connect() as conn:
            assert conn.execute(select(notes.c.body)).scalar_one() in {"sqlite", "postgresql"}
    finally:
        engine.dispose()


def test_a_server_of_its_own_is_removed_on_close() -> None:
    try:
        server = PostgresServer()
    except PostgresUnavailable as e:
        unavailable(str(e))
    with server:
        root, pid = server.root, server.pid
        assert root is not None and root.exists() and pid is not None
        with psycopg.connect(server.conninfo(server.database)) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("a2a_test",)
    assert not root.exists()
    assert not Path(f"/proc/{pid}").exists()
