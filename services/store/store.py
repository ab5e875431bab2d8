"""The durable workspace: agents, conversations, turns, the inspector's streams, shares,
and push notifications (the webhook configs handed to agents, and what they posted).

One `Store` per process: a sync SQLAlchemy engine, used off every session's event loop.
Reads run on the caller's thread (a session loading its workspace). Writes go to one
writer thread: a user's turn is written before the message leaves (the caller waits, for
a bounded time), a streaming reply at its first event, then at most every 2 s, and when it
ends. Pending writes are keyed, so a reply written ten times while the database is slow is
written once, with its latest content. If the database fails, the writer keeps what it
holds, says why in one sentence (`status`), retries, and catches up when it is back.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, delete, event, func, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from services.formats import (
    FileRejected,
    read_stored_conversation,
    to_json_value,
)
from services.inspector.capture import StreamRecord
from services.inspector.stream_file import read_stream
from services.replies import Conversation, PartView, Turn
from services.store import migrate
from services.store import push as push_sql
from services.store.errors import StoreError, explain
from services.store.push import CONFIG_ID, Delivery, PushConfig
from services.store.tables import (
    agent_checks,
    agents,
    conversations,
    shares,
    side_by_side_runs,
    sign_ins,
    streams,
    turns,
    workspaces,
)

CHECK_RUNS_KEPT = 20  # agent check reports a workspace keeps
SIDE_BY_SIDE_KEPT = 20  # side-by-side runs a workspace keeps

__all__ = ["Limits", "SavedAgent", "SavedWorkspace", "Share", "Store"]

log = logging.getLogger(__name__)

RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)  # backoff while the database is failing
_Op = Callable[[Connection], None]


@dataclass(frozen=True)
class Limits:
    """What one workspace may keep: a public deployment's visitors cannot fill the disk."""

    conversations: int = 500
    bytes: int = 200 * 1024 * 1024  # turns and streams together
    file_bytes: int = 2 * 1024 * 1024  # a larger file is kept as its name, type and size
    streams: int = 20  # the inspector's recorded streams, oldest dropped first
    retention_days: float | None = None  # None keeps everything
    push_configs: int = 100  # webhook configs per workspace
    push_deliveries: int = 1_000  # deliveries kept per config, oldest dropped first
    push_bytes: int = 32 * 1024 * 1024  # and at most this many bytes of them per config


@dataclass(frozen=True)
class SavedAgent:
    url: str
    name: str = ""
    binding: str = ""
    current_conversation: str = ""
    tenant: str = ""


@dataclass
class SavedWorkspace:
    """A workspace as the store holds it, ready to draw."""

    agents: list[SavedAgent] = field(default_factory=list)
    current_agent: str = ""
    conversations: dict[str, list[Conversation]] = field(default_factory=dict)  # by agent URL
    streams: list[StreamRecord] = field(default_factory=list)
    unreadable: int = 0  # rows the door refused (skipped, and logged)


@dataclass(frozen=True)
class Share:
    token: str
    conversation_id: str
    title: str
    created_at: float
    revoked: bool


def _where(url: str) -> str:
    """The database named for a person: a file's path, or a server with no password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or "(in memory)"
    return parsed.render_as_string(hide_password=True)


def _engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 10})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA busy_timeout=10000")  # first: the next one may wait
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                try:  # readers never wait for the writer; the mode stays with the file
                    cursor.execute("PRAGMA journal_mode=WAL")
                except sqlite3.OperationalError:
                    pass  # another process is switching it at this moment: it will be WAL
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _upsert(connection: Connection, table: Table, values: dict[str, Any], keys: list[str]) -> None:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values)
    changed = {k: v for k, v in values.items() if k not in keys}
    connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=changed))


def _turn_document(turn: Turn, file_bytes: int) -> str:
    """The turn as JSON; files over `file_bytes` kept as name, type and size only."""

    def lighter(part: PartView) -> PartView:
        if part.raw is not None and len(part.raw) > file_bytes:
            return replace(part, raw=None, omitted=len(part.raw))
        return part

    kept = replace(turn, files=[lighter(p) for p in turn.files])
    if kept.reply is not None:
        reply = replace(
            kept.reply,
            message_parts=[lighter(p) for p in kept.reply.message_parts],
            status_parts=[lighter(p) for p in kept.reply.status_parts],
            artifacts={
                key: replace(a, parts=[lighter(p) for p in a.parts])
                for key, a in kept.reply.artifacts.items()
            },
        )
        kept = replace(kept, reply=reply)
    return json.dumps(to_json_value(kept), ensure_ascii=False)


def _conversation_document(conversation: Conversation) -> str:
    body = to_json_value(replace(conversation, turns=[]))
    body.pop("turns", None)
    return json.dumps(body, ensure_ascii=False)


class _Writer:
    """One thread applying keyed writes in order; a key written again before it was
    applied is written once, with its latest content."""

    def __init__(
        self, engine: Engine, where: str, on_batch: Callable[[Connection, set[str]], None]
    ) -> None:
        self._engine = engine
        self._where = where
        self._on_batch = on_batch
        self._pending: dict[tuple[str, ...], tuple[_Op, list[Future[None]]]] = {}
        self._lock = threading.Condition()
        self._closing = False
        self._writing = False  # a batch is out of `_pending`, not yet committed
        self.problem: StoreError | None = None
        self._thread = threading.Thread(target=self._run, name="a2a-store-writer", daemon=True)
        self._thread.start()

    def put(self, key: tuple[str, ...], op: _Op, *, cancels: Sequence[str] = ()) -> Future[None]:
        """Queue `op` under `key`; `cancels` drops pending writes whose key starts with
        these parts (a conversation deleted before its turns were written)."""
        done: Future[None] = Future()
        with self._lock:
            if cancels:
                prefix = tuple(cancels)
                for pending in [k for k in self._pending if k[: len(prefix)] == prefix]:
                    _op, waiters = self._pending.pop(pending)
                    for waiter in waiters:
                        waiter.set_result(None)
            _old, waiters = self._pending.pop(key, (None, []))
            self._pending[key] = (op, [*waiters, done])
            self._lock.notify()
        return done

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued so far is written (False if it could not be)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while (self._pending or self._writing) and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.1))
            return not self._pending and not self._writing

    def close(self, timeout: float) -> None:
        self.flush(timeout)
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while True:
            with self._lock:
                while not self._pending and not self._closing:
                    self._lock.wait()
                if self._closing and not self._pending:
                    return
                batch = dict(self._pending)
                self._pending.clear()
                self._writing = True
            try:
                with self._engine.begin() as connection:
                    for op, _waiters in batch.values():
                        op(connection)
                    self._on_batch(connection, {key[1] for key in batch})  # its workspaces
            except (SQLAlchemyError, OSError) as error:
                self.problem = explain(error, self._where)
                log.warning("store: %s (%s)", self.problem, self.problem.detail)
                with self._lock:
                    self._writing = False
                    # Keep what failed, unless a newer write for the same key came meanwhile.
                    for key, item in batch.items():
                        if key in self._pending:
                            self._pending[key][1].extend(item[1])
                        else:
                            self._pending[key] = item
                    if self._closing:
                        return
                    self._lock.wait(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1
                continue
            failures = 0
            self.problem = None
            for _op, waiters in batch.values():
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
            with self._lock:
                self._writing = False
                self._lock.notify_all()


class Store:
    """The app's database: SQLite in a data folder by default, PostgreSQL to share it."""

    def __init__(self, url: str, *, limits: Limits | None = None) -> None:
        self.url = url
        self.where = _where(url)
        self.limits = limits or Limits()
        self.dialect = make_url(url).get_backend_name()
        self._full: set[str] = set()  # workspaces over their limits
        try:
            self._engine = _engine(url)
        except (SQLAlchemyError, ValueError) as error:
            raise StoreError(
                f"The database URL {self.where} cannot be used ({type(error).__name__}): "
                "check database_url / A2A_DATABASE_URL.",
                detail=str(error)[:500],
            ) from error
        migrate.upgrade(self._engine, self.where)
        self._prune()
        self._writer = _Writer(self._engine, self.where, self._enforce_limits)

    def companion_url(self, name: str) -> str:
        """A database for a companion with tables of its own (the demo agent): the same
        server's database, or for SQLite a file beside this one, so neither waits on the
        other's write lock."""
        parsed = make_url(self.url)
        if self.dialect != "sqlite" or not parsed.database:
            return self.url
        sibling = Path(parsed.database).with_name(f"{name}.db")
        return parsed.set(database=str(sibling)).render_as_string(hide_password=False)

    # --- state -------------------------------------------------------------------

    @property
    def problem(self) -> StoreError | None:
        """Why history is not being saved right now, or None."""
        return self._writer.problem

    def full(self, workspace_id: str) -> str:
        """One sentence if this workspace is over its limits (new things are not saved)."""
        if workspace_id not in self._full:
            return ""
        return (
            f"This workspace holds its limit ({self.limits.conversations:,} conversations or "
            f"{self.limits.bytes / 2**20:,.0f} MB), so new messages are not being saved: "
            "delete old conversations under Your data."
        )

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait for the writes queued so far (tests, shutdown)."""
        return self._writer.flush(timeout)

    def close(self) -> None:
        self._writer.close(5.0)
        self._engine.dispose()

    # --- reading -------------------------------------------------------------------

    def load(self, workspace_id: str) -> SavedWorkspace:
        """Everything kept for `workspace_id` (empty for a new one). Raises `StoreError`."""
        saved = SavedWorkspace()
        try:
            with self._engine.connect() as connection:
                row = connection.execute(
                    select(workspaces.c.current_agent).where(workspaces.c.id == workspace_id)
                ).first()
                saved.current_agent = row[0] if row else ""
                saved.agents = [
                    SavedAgent(r.url, r.name, r.binding, r.current_conversation, r.tenant)
                    for r in connection.execute(
                        select(agents)
                        .where(agents.c.workspace_id == workspace_id)
                        .order_by(agents.c.position)
                    )
                ]
                turn_rows: dict[str, list[str]] = {}
                for r in connection.execute(
                    select(turns.c.conversation_id, turns.c.document)
                    .where(turns.c.workspace_id == workspace_id)
                    .order_by(turns.c.seq, turns.c.id)
                ):
                    turn_rows.setdefault(r.conversation_id, []).append(r.document)
                for r in connection.execute(
                    select(conversations)
                    .where(conversations.c.workspace_id == workspace_id)
                    .order_by(conversations.c.created_at, conversations.c.id)
                ):
                    try:
                        conversation = read_stored_conversation(r.document, turn_rows.get(r.id, []))
                    except FileRejected as error:
                        saved.unreadable += 1
                        log.warning("store: skipped conversation %s: %s", r.id, error)
                        continue
                    saved.conversations.setdefault(r.agent_url, []).append(conversation)
                for r in connection.execute(
                    select(streams.c.id, streams.c.document)
                    .where(streams.c.workspace_id == workspace_id)
                    .order_by(streams.c.id)
                ):
                    try:
                        record = read_stream(r.document)
                    except FileRejected as error:
                        saved.unreadable += 1
                        log.warning("store: skipped stream %s: %s", r.id, error)
                        continue
                    record.id = r.id
                    saved.streams.append(record)
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error
        return saved

    # --- writing -------------------------------------------------------------------

    def save_workspace(self, workspace_id: str, current_agent: str) -> None:
        now = time.time()

        def op(connection: Connection) -> None:
            values = {"id": workspace_id, "current_agent": current_agent, "seen_at": now}
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(workspaces).values(**values, created_at=now)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["id"],
                    set_={"current_agent": current_agent, "seen_at": now},
                )
            )

        self._writer.put(("workspace", workspace_id), op)

    def save_agent(self, workspace_id: str, agent: SavedAgent, position: int) -> None:
        values = {
            "workspace_id": workspace_id,
            "url": agent.url,
            "name": agent.name,
            "binding": agent.binding,
            "position": position,
            "current_conversation": agent.current_conversation,
            "tenant": agent.tenant[:255],
        }
        self._writer.put(
            ("agent", workspace_id, agent.url),
            lambda c: _upsert(c, agents, values, ["workspace_id", "url"]),
        )

    def delete_agent(self, workspace_id: str, url: str) -> None:
        """Forget an agent and its conversations."""

        def op(connection: Connection) -> None:
            ids = select(conversations.c.id).where(
                conversations.c.workspace_id == workspace_id, conversations.c.agent_url == url
            )
            connection.execute(
                delete(turns).where(
                    turns.c.workspace_id == workspace_id, turns.c.conversation_id.in_(ids)
                )
            )
            connection.execute(
                delete(conversations).where(
                    conversations.c.workspace_id == workspace_id, conversations.c.agent_url == url
                )
            )
            connection.execute(
                delete(agents).where(agents.c.workspace_id == workspace_id, agents.c.url == url)
            )

        self._writer.put(
            ("delete-agent", workspace_id, url), op, cancels=("agent", workspace_id, url)
        )

    def save_conversation(
        self,
        workspace_id: str,
        agent_url: str,
        conversation: Conversation,
        *,
        turns_too: bool = False,
        redact: Callable[[str], str] | None = None,
    ) -> Future[None]:
        """The conversation's settings and title (and, with `turns_too`, every turn).
        `redact` masks the session's secrets in what is written (see `save_turn`)."""
        document = (redact or str)(_conversation_document(conversation))
        now = time.time()
        values = {
            "workspace_id": workspace_id,
            "id": conversation.id,
            "agent_url": agent_url,
            "document": document,
            "created_at": conversation.created,
            "updated_at": now,
        }
        done = self._writer.put(
            ("conversation", workspace_id, conversation.id),
            lambda c: _upsert(c, conversations, values, ["workspace_id", "id"]),
        )
        if turns_too:
            for index, turn in enumerate(conversation.turns):
                done = self.save_turn(workspace_id, conversation.id, turn, index, redact=redact)
        return done

    def save_turn(
        self,
        workspace_id: str,
        conversation_id: str,
        turn: Turn,
        seq: int,
        *,
        redact: Callable[[str], str] | None = None,
    ) -> Future[None]:
        """Queue turn number `seq` of a conversation (its latest content wins). `redact`
        masks secrets (a token an agent echoed back): the database never holds one."""
        document = (redact or str)(_turn_document(turn, self.limits.file_bytes))
        values = {
            "workspace_id": workspace_id,
            "conversation_id": conversation_id,
            "id": turn.id,
            "seq": seq,
            "document": document,
            "bytes": len(document.encode("utf-8")),
        }

        def op(connection: Connection) -> None:
            if workspace_id in self._full and not _exists(connection, values):
                return  # over its limits: nothing new is kept (the sidebar says so)
            _upsert(connection, turns, values, ["workspace_id", "conversation_id", "id"])
            _touch(connection, workspace_id, conversation_id)

        return self._writer.put(("turn", workspace_id, conversation_id, turn.id), op)

    def delete_conversation(self, workspace_id: str, conversation_id: str) -> None:
        def op(connection: Connection) -> None:
            connection.execute(
                delete(turns).where(
                    turns.c.workspace_id == workspace_id, turns.c.conversation_id == conversation_id
                )
            )
            connection.execute(
                delete(conversations).where(
                    conversations.c.workspace_id == workspace_id,
                    conversations.c.id == conversation_id,
                )
            )

        self._writer.put(
            ("delete-conversation", workspace_id, conversation_id),
            op,
            cancels=("turn", workspace_id, conversation_id),
        )

    def save_stream(
        self,
        workspace_id: str,
        stream_id: int,
        started_wall: float,
        jsonl: str | Callable[[], str],
    ) -> None:
        """Keep one of the inspector's streams (as its JSON Lines), oldest dropped first.
        `jsonl` may be a function that makes the text: it then runs on the writer thread
        (exporting a long stream takes ~100 ms, which a page should not wait for)."""

        def values() -> dict[str, Any]:
            document = jsonl() if callable(jsonl) else jsonl
            return {
                "workspace_id": workspace_id,
                "id": stream_id,
                "started_at": started_wall,
                "document": document,
                "bytes": len(document.encode("utf-8")),
            }

        keep = self.limits.streams

        def op(connection: Connection) -> None:
            _upsert(connection, streams, values(), ["workspace_id", "id"])
            kept = [r[0] for r in connection.execute(
                select(streams.c.id).where(streams.c.workspace_id == workspace_id)
                .order_by(streams.c.id.desc()).limit(keep)
            )]  # fmt: skip
            connection.execute(
                delete(streams).where(
                    streams.c.workspace_id == workspace_id, streams.c.id.not_in(kept)
                )
            )

        self._writer.put(("stream", workspace_id, str(stream_id)), op)

    def forget(self, workspace_id: str) -> Future[None]:
        """Delete everything this workspace holds (shares and push configs included)."""

        def op(connection: Connection) -> None:
            for table in (
                turns,
                conversations,
                agents,
                streams,
                agent_checks,
                sign_ins,
                side_by_side_runs,
            ):
                connection.execute(delete(table).where(table.c.workspace_id == workspace_id))
            push_sql.forget_workspace(connection, workspace_id)
            connection.execute(delete(shares).where(shares.c.workspace_id == workspace_id))
            connection.execute(delete(workspaces).where(workspaces.c.id == workspace_id))

        return self._writer.put(("forget", workspace_id), op, cancels=())

    # --- shares --------------------------------------------------------------------

    def share(self, workspace_id: str, conversation: Conversation, file_text: str) -> str:
        """A read-only snapshot of `conversation` (the export file, secrets already masked)
        under a new unguessable token. Written now: the link works as soon as it is shown."""
        token = secrets.token_urlsafe(24)
        values = {
            "token": token,
            "workspace_id": workspace_id,
            "conversation_id": conversation.id,
            "document": file_text,
            "created_at": time.time(),
            "revoked_at": None,
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(shares.insert().values(**values))
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error
        return token

    def read_share(self, token: str) -> tuple[str, bool] | None:
        """The shared file's text and whether it was revoked, or None for an unknown token."""
        if not token or len(token) > 100:
            return None
        try:
            with self._engine.connect() as connection:
                row = connection.execute(
                    select(shares.c.document, shares.c.revoked_at).where(shares.c.token == token)
                ).first()
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error
        return None if row is None else (row.document, row.revoked_at is not None)

    def shares(self, workspace_id: str) -> list[Share]:
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(
                    select(shares).where(shares.c.workspace_id == workspace_id)
                    .order_by(shares.c.created_at)
                ).all()  # fmt: skip
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error
        out = []
        for row in rows:
            title = ""
            try:  # the snapshot's title, else its first message (as the chat labels it)
                shared = json.loads(row.document)["conversation"]
                first = next((t.get("text") for t in shared.get("turns", []) if t.get("text")), "")
                title = str(shared.get("title") or first or "")[:60]
            except (ValueError, KeyError, TypeError, AttributeError):
                pass
            out.append(Share(row.token, row.conversation_id, title, row.created_at,
                             row.revoked_at is not None))  # fmt: skip
        return out

    def revoke_share(self, workspace_id: str, token: str) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    sql_update(shares)
                    .where(shares.c.workspace_id == workspace_id, shares.c.token == token)
                    .values(revoked_at=time.time())
                )
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error

    # --- agent check runs ---------------------------------------------------------------

    def save_check_run(
        self, workspace_id: str, agent_url: str, created_at: float, report: str
    ) -> None:
        """Keep an agent check's report (JSON, no secrets in it); a workspace keeps its
        latest `CHECK_RUNS_KEPT`."""
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    agent_checks.insert().values(
                        workspace_id=workspace_id,
                        agent_url=agent_url[:2048],
                        created_at=created_at,
                        report=report,
                    )
                )
                _keep_newest(connection, agent_checks, workspace_id, CHECK_RUNS_KEPT)
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error

    def check_runs(self, workspace_id: str) -> list[str]:
        """This workspace's kept agent check reports (JSON), newest first."""
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(
                    select(agent_checks.c.report)
                    .where(agent_checks.c.workspace_id == workspace_id)
                    .order_by(agent_checks.c.id.desc())
                    .limit(CHECK_RUNS_KEPT)
                )
                return [row.report for row in rows]
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error

    # --- side-by-side runs ----------------------------------------------------------------

    def save_side_by_side_run(
        self, workspace_id: str, created_at: float, prompt: str, agents_json: str
    ) -> int:
        """Keep a side-by-side run (its agents' replies as JSON, no secrets in it); a
        workspace keeps its latest `SIDE_BY_SIDE_KEPT`. Returns the run's id."""
        table = side_by_side_runs
        try:
            with self._engine.begin() as connection:
                inserted = connection.execute(
                    table.insert().values(
                        workspace_id=workspace_id,
                        created_at=created_at,
                        prompt=prompt,
                        agents=agents_json,
                    )
                )
                _keep_newest(connection, table, workspace_id, SIDE_BY_SIDE_KEPT)
                key = inserted.inserted_primary_key
                assert key is not None
                return int(key[0])
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error

    def side_by_side_runs(self, workspace_id: str) -> list[tuple[int, float, str, str]]:
        """This workspace's kept side-by-side runs, newest first: (id, created_at, prompt,
        agents as JSON)."""
        table = side_by_side_runs
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(
                    select(table.c.id, table.c.created_at, table.c.prompt, table.c.agents)
                    .where(table.c.workspace_id == workspace_id)
                    .order_by(table.c.id.desc())
                    .limit(SIDE_BY_SIDE_KEPT)
                )
                return [(r.id, r.created_at, r.prompt, r.agents) for r in rows]
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error

    # --- sign-ins kept by choice --------------------------------------------------------

    def save_sign_in(self, workspace_id: str, agent_url: str, sealed: str) -> None:
        """Keep a sign-in, already encrypted by the caller (the store never sees it plain)."""
        values = {
            "workspace_id": workspace_id,
            "agent_url": agent_url[:2048],
            "sealed": sealed,
            "updated_at": time.time(),
        }
        try:
            with self._engine.begin() as connection:
                _upsert(connection, sign_ins, values, ["workspace_id", "agent_url"])
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error

    def sign_in(self, workspace_id: str, agent_url: str) -> str | None:
        """The sealed sign-in kept for this agent, if any."""
        try:
            with self._engine.connect() as connection:
                return connection.execute(
                    select(sign_ins.c.sealed).where(
                        sign_ins.c.workspace_id == workspace_id,
                        sign_ins.c.agent_url == agent_url[:2048],
                    )
                ).scalar()
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error

    def delete_sign_in(self, workspace_id: str, agent_url: str) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    delete(sign_ins).where(
                        sign_ins.c.workspace_id == workspace_id,
                        sign_ins.c.agent_url == agent_url[:2048],
                    )
                )
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error

    # --- push notifications ------------------------------------------------------------
    # Written at once, not through the writer: a new config's token must work as soon as
    # the agent has it, a deleted one must stop at once, and the receiver answers an agent
    # "stored" only once it is.

    def create_push_config(
        self,
        workspace_id: str,
        agent_url: str,
        task_id: str = "",
        *,
        jwks_url: str | None = None,
        jwt_audience: str | None = None,
        require_jwt: bool = False,
    ) -> tuple[PushConfig, str]:
        """A new webhook config for `workspace_id`, and its token: shown this once (it goes
        to the agent in the push config) and kept only as a hash. `task_id` may be "" when
        the config goes out with the message that starts the task. `jwks_url` is fetched
        by the server: check it as any URL a visitor gives (the allow list) before."""
        config, token = push_sql.new_config(
            workspace_id,
            agent_url,
            task_id,
            jwks_url=jwks_url,
            jwt_audience=jwt_audience,
            require_jwt=require_jwt,
        )
        try:
            with self._engine.begin() as connection:
                if push_sql.count_configs(connection, workspace_id) >= self.limits.push_configs:
                    raise StoreError(
                        f"This workspace holds its limit of {self.limits.push_configs:,} push "
                        "notification configs: delete one it no longer needs first."
                    )
                push_sql.insert_config(connection, config)
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error
        return config, token

    def push_config(self, config_id: str) -> PushConfig | None:
        """The config a webhook URL names, whoever owns it (the receiver's lookup)."""
        if not CONFIG_ID.fullmatch(config_id):
            return None
        try:
            with self._engine.connect() as connection:
                return push_sql.find_config(connection, config_id)
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error

    def push_configs(self, workspace_id: str, task_id: str | None = None) -> list[PushConfig]:
        """This workspace's configs (for one task if given), oldest first."""
        try:
            with self._engine.connect() as connection:
                return push_sql.list_configs(connection, workspace_id, task_id)
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error

    def delete_push_config(self, workspace_id: str, config_id: str) -> bool:
        """Stop a webhook (its owner's only): the config and what it received. True if
        there was one."""
        try:
            with self._engine.begin() as connection:
                return push_sql.delete_config(connection, workspace_id, config_id)
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error

    def record_delivery(
        self,
        config: PushConfig,
        *,
        task_id: str,
        kind: str,
        state: str,
        verified: bool,
        body: str,
    ) -> int | None:
        """Keep a delivery in the workspace that owns `config`; its id, or None when the
        config was deleted meanwhile. The config's oldest beyond the limits are dropped."""
        try:
            with self._engine.begin() as connection:
                return push_sql.insert_delivery(
                    connection,
                    config,
                    task_id=task_id,
                    kind=kind,
                    state=state,
                    verified=verified,
                    body=body,
                    keep=self.limits.push_deliveries,
                    keep_bytes=self.limits.push_bytes,
                )
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error

    def deliveries(
        self,
        workspace_id: str,
        task_id: str | None = None,
        *,
        since: int | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """This workspace's deliveries (for one task if given), newest first; `since` a
        delivery id keeps only those that came after it (a page polling for news)."""
        try:
            with self._engine.connect() as connection:
                return push_sql.list_deliveries(
                    connection, workspace_id, task_id, since, max(1, min(limit, 1_000))
                )
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error

    # --- limits --------------------------------------------------------------------

    def _enforce_limits(self, connection: Connection, touched: set[str]) -> None:
        """After each batch: which of the workspaces it wrote are over their limits
        (checked in SQL, for those workspaces only: the rest did not change)."""
        count = func.count()
        over_count = {
            r[0]
            for r in connection.execute(
                select(conversations.c.workspace_id, count)
                .where(conversations.c.workspace_id.in_(touched))
                .group_by(conversations.c.workspace_id)
                .having(count > self.limits.conversations)
            )
        }
        size = func.sum(turns.c.bytes)
        over_bytes = {
            r[0]
            for r in connection.execute(
                select(turns.c.workspace_id, size)
                .where(turns.c.workspace_id.in_(touched))
                .group_by(turns.c.workspace_id)
                .having(size > self.limits.bytes)
            )
        }
        self._full = (self._full - touched) | over_count | over_bytes

    def _prune(self) -> None:
        """Drop conversations untouched for `retention_days` (at start-up)."""
        days = self.limits.retention_days
        if days is None:
            return
        cutoff = time.time() - days * 86_400
        try:
            with self._engine.begin() as connection:
                # Its own workspace's turns only: an imported conversation keeps its id.
                old = select(conversations.c.id).where(
                    conversations.c.updated_at < cutoff,
                    conversations.c.workspace_id == turns.c.workspace_id,
                    conversations.c.id == turns.c.conversation_id,
                )
                connection.execute(delete(turns).where(old.exists()))
                connection.execute(delete(conversations).where(conversations.c.updated_at < cutoff))
        except SQLAlchemyError as error:
            raise explain(error, self.where) from error


def _keep_newest(connection: Connection, table: Table, workspace_id: str, kept: int) -> None:
    """Delete the workspace's rows of `table` but its `kept` newest (by id)."""
    newest = (
        select(table.c.id)
        .where(table.c.workspace_id == workspace_id)
        .order_by(table.c.id.desc())
        .limit(kept)
    )
    connection.execute(
        delete(table).where(table.c.workspace_id == workspace_id, table.c.id.not_in(newest))
    )


def _exists(connection: Connection, values: dict[str, Any]) -> bool:
    return (
        connection.execute(
            select(turns.c.id).where(
                turns.c.workspace_id == values["workspace_id"],
                turns.c.conversation_id == values["conversation_id"],
                turns.c.id == values["id"],
            )
        ).first()
        is not None
    )


def _touch(connection: Connection, workspace_id: str, conversation_id: str) -> None:
    connection.execute(
        sql_update(conversations)
        .where(conversations.c.workspace_id == workspace_id, conversations.c.id == conversation_id)
        .values(updated_at=time.time())
    )
