"""A real PostgreSQL for tests: Debian's server in a temporary folder, on a loopback port.

`PostgresServer` runs its own cluster (its own folder, port and socket directory), so it
neither needs nor disturbs a cluster the `postgresql` package may have started. A test
module takes the fixtures by importing them (tests/conftest.py does not register them);
the functions carry a `_fixture` suffix so that a test's `postgres_url` argument does not
redefine an imported name (ruff F811), and pytest knows them by the names below:

    from tests.postgres import (  # noqa: F401 - imported for pytest, which finds them by name
        database_url_fixture,
        postgres_fixture,
        postgres_url_fixture,
    )

    def test_store(database_url: str) -> None:  # runs twice: SQLite, then PostgreSQL
        engine = sqlalchemy.create_engine(database_url)

- `postgres` (session): the one `PostgresServer` of the run; a fault test may `stop()` and
  `start()` it (same folder, same port), and a test that leaves it stopped gets it
  started again for the next one.
- `postgres_url` (function): a fresh, empty database on it, dropped after the test.
- `database_url` (function, parametrised `sqlite` / `postgresql`): `sqlite:///<tmp>/store.db`
  or a fresh PostgreSQL database.

Without Debian's binaries (`apt-get install -y postgresql`) the PostgreSQL tests skip,
or fail where PostgreSQL is required (CI sets A2A_REQUIRE_POSTGRES=1). Any subset of the
fixtures may be imported: they share one server, started on first use and stopped when
pytest exits.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from psycopg import sql

__all__ = [
    "PostgresServer",
    "PostgresUnavailable",
    "database_url_fixture",
    "find_binaries",
    "postgres_fixture",
    "postgres_url_fixture",
    "unavailable",
]

DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"
OS_USER = "postgres"  # initdb and postgres refuse to run as root
SUPERUSER = "postgres"
HOST = "127.0.0.1"
START_TIMEOUT = 30.0  # seconds until the server accepts connections
STOP_TIMEOUT = 30.0  # seconds a fast shutdown (SIGINT) may take before SIGKILL
# Small settings for a 2-core test machine; durability is not what the tests check.
SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_connections": "60",
}
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresUnavailable(RuntimeError):
    """Debian's PostgreSQL binaries (or the `postgres` OS user) are not on this machine."""


def find_binaries() -> Path:
    """The `bin` folder of the highest PostgreSQL version Debian installed."""
    candidates = []
    for initdb in Path("/").glob(DEBIAN_BINARIES.lstrip("/") + "/initdb"):
        folder = initdb.parent
        if all((folder / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            version = tuple(int(part) for part in re.findall(r"\d+", folder.parent.name))
            candidates.append((version, folder))
    if not candidates:
        raise PostgresUnavailable(
            f"PostgreSQL not installed ({DEBIAN_BINARIES}/initdb missing): "
            "apt-get install -y postgresql"
        )
    return max(candidates)[1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _environment() -> dict[str, str]:
    """Ours, without PG* variables that could point a tool at another server."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


class PostgresServer:
    """A throwaway PostgreSQL cluster: `start()` (initdb the first time), `stop()`,
    `start()` again on the same folder and port, `close()` to stop and delete it.

    The server process is `postgres` itself (launched as the `postgres` OS user when we
    are root), so `pid` is the postmaster's and stopping signals it directly.
    """

    def __init__(self, database: str = "a2a_test") -> None:
        self.bin_dir = find_binaries()
        self.database = database
        self.port = _free_port()
        self.root: Path | None = None  # temp folder: data/, the socket, postgres.log
        self._process: subprocess.Popen[bytes] | None = None
        self._account: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self._account = pwd.getpwnam(OS_USER)
            except KeyError:
                raise PostgresUnavailable(
                    f"no {OS_USER!r} OS user to run PostgreSQL as (we are root)"
                ) from None

    # -- the face ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the server's own test database."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """psycopg connection string (for `psycopg.connect`)."""
        return f"host={HOST} port={self.port} user={SUPERUSER} dbname={database}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running and self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def data_dir(self) -> Path:
        assert self.root is not None, "not started"
        return self.root / "data"

    def log(self) -> str:
        """The server's log, over every start."""
        if self.root is None or not (self.root / "postgres.log").exists():
            return ""
        return (self.root / "postgres.log").read_text(errors="replace")

    def start(self) -> None:
        """Start the server (creating the cluster and database the first time); return
        once it accepts connections. Later starts reuse the folder and the port."""
        if self.running:
            return
        first = self.root is None
        if first:
            self._init_cluster()
        self._launch()
        if first:
            self.new_database(self.database)

    def stop(self) -> bool:
        """Fast shutdown (SIGINT to the postmaster: open sessions are cut off); SIGKILL to
        its whole process group if it takes longer than STOP_TIMEOUT. True if it exited
        without being killed. The folder stays, for `start()`."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return True
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT)
            return True
        except subprocess.TimeoutExpired:
            # Backends share the postmaster's group (start_new_session); kill them too, or
            # their shared memory would stop the next start on this folder.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return False

    def close(self) -> None:
        """Stop the server and delete its folder."""
        self.stop()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def new_database(self, name: str) -> str:
        """Create an empty database; return its SQLAlchemy URL."""
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_name(name))))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, cutting off sessions still connected to it (PostgreSQL 13+)."""
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(_name(name))
                )
            )

    def __enter__(self) -> PostgresServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the parts -----------------------------------------------------------------

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.conninfo(), autocommit=True, connect_timeout=5)

    def _as_server_user(self, command: list[str]) -> list[str]:
        """`command` run as the `postgres` OS user if we are root (initdb refuses root)."""
        if self._account is None:
            return command
        if runuser := shutil.which("runuser"):
            return [runuser, "-u", OS_USER, "--", *command]
        return ["su", OS_USER, "-s", "/bin/sh", "-c", shlex.join(command)]

    def _init_cluster(self) -> None:
        # A folder of its own under the system temp dir (pytest's basetemp is root-only,
        # so the postgres user could not reach into it).
        root = Path(tempfile.mkdtemp(prefix="a2a-postgres-"))
        if self._account is not None:
            os.chown(root, self._account.pw_uid, self._account.pw_gid)
        self.root = root
        command = [
            str(self.bin_dir / "initdb"),
            "--pgdata", str(root / "data"),
            "--auth=trust",
            f"--username={SUPERUSER}",
            "--encoding=UTF8",
            "--no-locale",  # C collation whatever LANG says; initdb fails on unknown locales
            "--no-sync",  # no fsync of the new cluster; it is thrown away
            "--no-instructions",
        ]  # fmt: skip
        result = subprocess.run(
            self._as_server_user(command),
            cwd=root,  # the postgres user may not be able to read our working directory
            env=_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            self.close()
            raise RuntimeError(
                f"initdb exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )

    def _launch(self) -> None:
        assert self.root is not None
        settings = {
            "listen_addresses": HOST,
            "port": str(self.port),
            "unix_socket_directories": str(self.root),
            **SETTINGS,
        }
        command = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            command += ["-c", f"{key}={value}"]
        account = self._account
        with (self.root / "postgres.log").open("ab") as log_file:
            # `postgres` itself, not through runuser/pg_ctl, so the PID we hold is the
            # postmaster's; Popen drops root to the postgres user in the child.
            self._process = subprocess.Popen(
                command,
                cwd=self.root,
                env=_environment(),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: a Ctrl-C in pytest is not a shutdown
                user=account.pw_uid if account else None,
                group=account.pw_gid if account else None,
                extra_groups=[] if account else None,
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            process = self._process
            assert process is not None
            if process.poll() is not None:
                self._process = None
                raise RuntimeError(f"postgres exited with {process.returncode}:\n{self.log()}")
            try:
                with psycopg.connect(self.conninfo(), connect_timeout=2):
                    return
            except psycopg.OperationalError as e:  # not listening yet, or still starting up
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"postgres not accepting connections after {START_TIMEOUT:.0f} s "
                        f"({e}):\n{self.log()}"
                    ) from e
            time.sleep(0.1)


def _name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"database name {name!r}: use lower-case letters, digits and _")
    return name


# -- fixtures --------------------------------------------------------------------------

_shared: PostgresServer | None = None
_shared_error: str | None = None


def unavailable(reason: str) -> NoReturn:
    """Skip locally, but fail where PostgreSQL is required (CI sets A2A_REQUIRE_POSTGRES=1)."""
    if os.environ.get("A2A_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} (A2A_REQUIRE_POSTGRES=1)")
    pytest.skip(reason)


def _session_server(config: pytest.Config) -> PostgresServer:
    """The run's one server, whichever fixture asks first and from whichever module
    (a fixture imported into two modules is two fixtures to pytest, each with its own
    cache, so the server lives here, and pytest's exit closes it)."""
    global _shared, _shared_error
    if _shared_error is not None:
        pytest.fail(f"PostgreSQL did not start earlier in this run:\n{_shared_error}")
    if _shared is None:
        try:
            server = PostgresServer()
        except PostgresUnavailable as e:
            unavailable(str(e))
        config.add_cleanup(server.close)
        _shared = server
    if not _shared.running:  # first use, or a fault test stopped it and did not restart
        try:
            _shared.start()
        except Exception as e:
            _shared_error = str(e)
            raise
    return _shared


@pytest.fixture(scope="session", name="postgres")
def postgres_fixture(request: pytest.FixtureRequest) -> PostgresServer:
    """The session's PostgreSQL server (Debian's binaries, own folder, loopback port)."""
    return _session_server(request.config)


@pytest.fixture(name="postgres_url")
def postgres_url_fixture(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    yield from _fresh_database(request)


def _fresh_database(request: pytest.FixtureRequest) -> Iterator[str]:
    server = _session_server(request.config)
    name = f"test_{uuid.uuid4().hex[:12]}"
    url = server.new_database(name)
    yield url
    _session_server(request.config).drop_database(name)  # restarted if the test stopped it


@pytest.fixture(name="database_url", params=["sqlite", "postgresql"])
def database_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The test runs once per backend: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from _fresh_database(request)
