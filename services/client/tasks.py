"""Tasks on an agent: list, read, cancel, subscribe, and reconnect a broken reply.

Async functions run on the session's loop through the agent's a2a-sdk client; the sync
twins are what pages call. Task views are plain data (`TaskSummary`, `TaskDetail`), with
a `Reply` built from the task so pages draw it exactly as the chat does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime

from a2a.types.a2a_pb2 import (
    GetTaskRequest,
    ListTasksRequest,
    Role,
    StreamResponse,
    SubscribeToTaskRequest,
    Task,
    TaskState,
)
from google.protobuf.json_format import MessageToDict

from services.client import resources
from services.client.agent import connection_for
from services.errors import AppError, translate_errors
from services.inspector.capture import capturing
from services.replies import (
    FINAL_STATES,
    PartView,
    Reply,
    ReplyEvent,
    Turn,
    state_name,
    to_reply_event,
)
from services.runtime import EventStream, SessionRuntime

__all__ = [
    "STATES",
    "TaskDetail",
    "TaskFilter",
    "TaskPage",
    "TaskSummary",
    "get_task",
    "list_tasks",
    "reconnect",
    "subscribe",
]

STATES = [state_name(s) for s in TaskState.values() if s != TaskState.TASK_STATE_UNSPECIFIED]


@dataclass(frozen=True)
class TaskSummary:
    id: str
    context_id: str
    state: str
    updated: str  # the status timestamp, ISO 8601
    preview: str
    artifacts: int


@dataclass(frozen=True)
class TaskPage:
    tasks: list[TaskSummary]
    next_page_token: str = ""
    total_size: int = 0


@dataclass
class TaskDetail:
    """A task as GetTask returned it: its reply view, its history, its raw JSON."""

    id: str
    context_id: str
    state: str
    reply: Reply
    history: list[Turn] = field(default_factory=list)
    raw: dict[str, object] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.state not in FINAL_STATES


def _preview(task: Task) -> str:
    texts = [p.text for p in task.status.message.parts if p.text]
    if not texts and task.history:
        texts = [p.text for p in task.history[-1].parts if p.text]
    text = " ".join(" ".join(texts).split())
    return text if len(text) <= 80 else text[:79] + "…"


def _summary(task: Task) -> TaskSummary:
    stamp = task.status.timestamp.ToJsonString() if task.status.HasField("timestamp") else ""
    return TaskSummary(
        task.id,
        task.context_id,
        state_name(task.status.state),
        stamp,
        _preview(task),
        len(task.artifacts),
    )


def _detail(task: Task) -> TaskDetail:
    reply = Reply()
    reply.apply(to_reply_event(StreamResponse(task=task)))
    reply.finish()
    history = [
        Turn(
            "user" if message.role == Role.ROLE_USER else "agent",
            "".join(p.text for p in message.parts),
            files=[PartView.from_proto(p) for p in message.parts if not p.HasField("text")],
        )
        for message in task.history
    ]
    return TaskDetail(
        task.id, task.context_id, state_name(task.status.state), reply, history, MessageToDict(task)
    )


@dataclass(frozen=True)
class TaskFilter:
    """What ListTasks should return: by context, state, last update; one page of it."""

    context_id: str = ""
    state: str = ""
    updated_after: datetime | None = None
    page_size: int = 20
    page_token: str = ""

    def request(self) -> ListTasksRequest:
        request = ListTasksRequest(
            context_id=self.context_id,
            page_size=self.page_size,
            page_token=self.page_token,
            include_artifacts=True,
        )
        if self.state:
            request.status = TaskState.Value("TASK_STATE_" + self.state.upper().replace("-", "_"))
        if self.updated_after is not None:
            request.status_timestamp_after.FromDatetime(self.updated_after)
        return request


async def alist_tasks(runtime: SessionRuntime, url: str, where: TaskFilter) -> TaskPage:
    """One page of the agent's tasks (ListTasks), filtered."""
    connection = await connection_for(runtime, url)
    request = where.request()
    with translate_errors(url):
        response = await connection.client.list_tasks(request)
    return TaskPage(
        [_summary(t) for t in response.tasks], response.next_page_token, response.total_size
    )


async def aget_task(runtime: SessionRuntime, url: str, task_id: str) -> TaskDetail:
    connection = await connection_for(runtime, url)
    with translate_errors(url):
        task = await connection.client.get_task(GetTaskRequest(id=task_id))
    return _detail(task)


async def asubscribe(runtime: SessionRuntime, url: str, task_id: str) -> AsyncIterator[ReplyEvent]:
    """A running task's events from now on (SubscribeToTask), its current state first."""
    connection = await connection_for(runtime, url)
    info = connection.info
    record = (await resources.arecorder(runtime)).begin(
        f"Subscribe to {task_id[:8]}", url, binding=info.binding, version=info.protocol_version
    )
    error = ""
    with capturing(record):
        try:
            with translate_errors(url, streaming=True):
                async for response in connection.client.subscribe(
                    SubscribeToTaskRequest(id=task_id)
                ):
                    event = to_reply_event(response)
                    record.add_event(event)
                    yield event
        except AppError as failure:
            error = str(failure)
            raise
        finally:
            record.finish(error)


async def areconnect(runtime: SessionRuntime, url: str, task_id: str) -> AsyncIterator[ReplyEvent]:
    """What a broken reply missed: the task as it is now, then (if it still runs) its
    live events, then the task once more, so artifacts cut short are filled in whole."""
    connection = await connection_for(runtime, url)
    with translate_errors(url):
        task = await connection.client.get_task(GetTaskRequest(id=task_id))
    yield to_reply_event(StreamResponse(task=task))
    if state_name(task.status.state) in FINAL_STATES:
        return
    async for event in asubscribe(runtime, url, task_id):
        yield event
    with translate_errors(url):
        task = await connection.client.get_task(GetTaskRequest(id=task_id))
    yield to_reply_event(StreamResponse(task=task))


# --- sync twins for the script thread -----------------------------------------------------


def list_tasks(runtime: SessionRuntime, url: str, where: TaskFilter | None = None) -> TaskPage:
    """One page of the agent's tasks (ListTasks), filtered."""
    return runtime.call(alist_tasks, runtime, url, where or TaskFilter())


def get_task(runtime: SessionRuntime, url: str, task_id: str) -> TaskDetail:
    return runtime.call(aget_task, runtime, url, task_id)


def subscribe(
    runtime: SessionRuntime, url: str, task_id: str, checkpoint: Callable[[], None] | None = None
) -> EventStream[ReplyEvent]:
    """Stream a running task's events (replaces this session's other stream)."""
    return runtime.stream(lambda: asubscribe(runtime, url, task_id), checkpoint=checkpoint)


def reconnect(
    runtime: SessionRuntime, url: str, task_id: str, checkpoint: Callable[[], None] | None = None
) -> EventStream[ReplyEvent]:
    """Stream what a broken reply missed (see `areconnect`)."""
    return runtime.stream(lambda: areconnect(runtime, url, task_id), checkpoint=checkpoint)
