"""Tasks that survive a restart: a2a-sdk's DatabaseTaskStore on the agent's own table.

With a `database_url` (SQLite or PostgreSQL) the demo agent keeps its tasks in table
`demo_agent_tasks`, so it can share the app's database; each visitor's tasks stay apart
(the owner column, see `visitors`). On start-up, tasks a restart cut off end as failed.

Its tasks' push notification configs go to the same database, in
`demo_agent_push_configs`, through a2a-sdk's DatabasePushNotificationConfigStore (on the
same engine; tokens stored as the SDK writes them, unencrypted: the SDK encrypts only
with an `encryption_key` and the `cryptography` package, which the demo does without).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from a2a.auth.user import User
from a2a.helpers.proto_helpers import new_text_part
from a2a.server.context import ServerCallContext
from a2a.server.models import create_push_notification_config_model, create_task_model
from a2a.server.tasks import (
    DatabasePushNotificationConfigStore,
    DatabaseTaskStore,
    PushNotificationConfigStore,
    TaskStore,
)
from a2a.types.a2a_pb2 import (
    ListTasksRequest,
    ListTasksResponse,
    Message,
    Role,
    Task,
    TaskPushNotificationConfig,
    TaskState,
    TaskStatus,
)
from sqlalchemy import event, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase

__all__ = ["PUSH_CONFIGS_TABLE", "RESTARTED_TEXT", "TASKS_TABLE", "PersistentTaskStore"]

TASKS_TABLE = "demo_agent_tasks"  # the agent's own table, so it can share the app's database
PUSH_CONFIGS_TABLE = "demo_agent_push_configs"
RESTARTED_TEXT = (
    "The demo agent restarted while this task was running, so it stopped here. "
    "Send the message again to start it anew."
)
# Waiting for the user is not running: input-required and auth-required keep their state.
_RUNNING_STATES = (TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING)


class _Base(DeclarativeBase):
    """The demo agent's own metadata: its table never joins the SDK's or the app's."""


# Made once per process: DatabaseTaskStore builds a new model for a custom table name each
# time, and SQLAlchemy refuses a table defined twice in one MetaData, so a second store in
# the same process (a restart, a second test server) would fail.
_TaskModel = create_task_model(TASKS_TABLE, _Base)
_PushConfigModel = create_push_notification_config_model(PUSH_CONFIGS_TABLE, _Base)


def _async_database_url(database_url: str) -> URL:
    """`database_url` as the app spells it (sqlite, postgresql+psycopg) on an async driver."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        query = dict(url.query)
        if "sslmode" in query:  # libpq's name; asyncpg takes the same modes as `ssl`
            query["ssl"] = query.pop("sslmode")
        return url.set(drivername="postgresql+asyncpg", query=query)
    raise ValueError(f"The demo agent keeps tasks in SQLite or PostgreSQL, not {backend!r}.")


class _DemoTaskStore(DatabaseTaskStore):
    """a2a-sdk's DatabaseTaskStore on the demo agent's own table."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)  # the default table name builds no model
        self.task_model = _TaskModel


class _DemoPushConfigStore(DatabasePushNotificationConfigStore):
    """a2a-sdk's DatabasePushNotificationConfigStore on the demo agent's own table."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)  # the default table name builds no model (as for tasks)
        self.config_model = _PushConfigModel


class _Owner(User):
    """A stored task's owner, to read and write it through the store's owner-scoped API."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def user_name(self) -> str:
        return self._name


async def _fail_interrupted(store: DatabaseTaskStore) -> int:
    """Mark failed every task a restart cut off (submitted or working); return how many."""
    model = store.task_model
    running = [TaskState.Name(state) for state in _RUNNING_STATES]
    async with store.async_session_maker() as session:
        found = await session.execute(
            select(model.id, model.owner).where(model.status["state"].as_string().in_(running))
        )
        rows = found.all()
    for task_id, owner in rows:
        context = ServerCallContext(user=_Owner(owner or ""))
        task = await store.get(task_id, context)
        if task is None or task.status.state not in _RUNNING_STATES:
            continue
        await store.save(_failed_by_restart(task), context)
    return len(rows)


def _failed_by_restart(task: Task) -> Task:
    if task.status.HasField("message"):
        task.history.append(task.status.message)  # as the SDK does on a status update
    status = TaskStatus(
        state=TaskState.TASK_STATE_FAILED,
        message=Message(
            role=Role.ROLE_AGENT,
            message_id=str(uuid.uuid4()),
            task_id=task.id,
            context_id=task.context_id,
            parts=[new_text_part(RESTARTED_TEXT)],
        ),
    )
    status.timestamp.FromDatetime(datetime.now(UTC))  # also the row's last_updated
    task.status.CopyFrom(status)
    return task


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class PersistentTaskStore(TaskStore):
    """A DatabaseTaskStore whose engine is made, prepared and disposed by the app's lifespan.

    So the engine and every connection in its pool belong to the loop that serves the
    agent, whichever thread built the app. `push_configs` is the push config store on
    the same engine, for the request handler and the push sender.
    """

    def __init__(self, database_url: str) -> None:
        self._url = _async_database_url(database_url)  # a bad URL fails in build_app
        self._store: DatabaseTaskStore | None = None
        self._push: DatabasePushNotificationConfigStore | None = None
        self.push_configs: PushNotificationConfigStore = _PersistentPushConfigs(self)

    async def open(self) -> None:
        """Make the engine, create the tables if need be, and fail what a restart cut off."""
        engine = create_async_engine(self._url)
        if engine.dialect.name == "sqlite":
            # Many visitors' tasks are written at once: wait for the lock instead of failing
            # ("database is locked"), and let readers go on while one writes (WAL).
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        store = _DemoTaskStore(engine)
        push = _DemoPushConfigStore(engine)
        try:
            await store.initialize()
            await push.initialize()
            await _fail_interrupted(store)
        except BaseException:
            await engine.dispose()
            raise
        self._store, self._push = store, push

    async def close(self) -> None:
        """Dispose of the engine (and its pool); a second call does nothing."""
        store, self._store, self._push = self._store, None, None
        if store is not None:
            await store.engine.dispose()

    @property
    def _opened(self) -> DatabaseTaskStore:
        if self._store is None:
            raise RuntimeError("The demo agent's task store opens with the app's lifespan.")
        return self._store

    @property
    def opened_push_configs(self) -> DatabasePushNotificationConfigStore:
        """The database push config store, once `open` made it."""
        if self._push is None:
            raise RuntimeError("The demo agent's push config store opens with the app's lifespan.")
        return self._push

    async def save(self, task: Task, context: ServerCallContext) -> None:
        await self._opened.save(task, context)

    async def get(self, task_id: str, context: ServerCallContext) -> Task | None:
        return await self._opened.get(task_id, context)

    async def list(self, params: ListTasksRequest, context: ServerCallContext) -> ListTasksResponse:
        return await self._opened.list(params, context)

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        await self._opened.delete(task_id, context)


class _PersistentPushConfigs(PushNotificationConfigStore):
    """The push config store the handler holds from the start; the database store behind
    it exists once the lifespan opened the engine."""

    def __init__(self, tasks: PersistentTaskStore) -> None:
        self._tasks = tasks

    async def set_info(
        self,
        task_id: str,
        notification_config: TaskPushNotificationConfig,
        context: ServerCallContext,
    ) -> TaskPushNotificationConfig:
        return await self._tasks.opened_push_configs.set_info(task_id, notification_config, context)

    async def get_info(
        self, task_id: str, context: ServerCallContext
    ) -> list[TaskPushNotificationConfig]:
        return await self._tasks.opened_push_configs.get_info(task_id, context)

    async def get_info_for_dispatch(self, task_id: str) -> list[TaskPushNotificationConfig]:
        # Overridden on purpose: the base class falls back to an owner-less get_info, which
        # finds no config of any visitor and drops every notification (its docstring says).
        return await self._tasks.opened_push_configs.get_info_for_dispatch(task_id)

    async def delete_info(
        self, task_id: str, context: ServerCallContext, config_id: str | None = None
    ) -> None:
        await self._tasks.opened_push_configs.delete_info(task_id, context, config_id)
