"""The current agent's tasks: the Tasks page's list and its paging, one task's detail,
cancelling, following one live, continuing one in the chat, and reconnecting a reply
whose stream broke.
"""

from __future__ import annotations

from services.client import agent, tasks
from services.replies import Conversation, Reply, ReplyEvent, Turn
from services.runtime import EventStream
from services.session import _keys as keys
from services.session._agents import agent_url, current_agent, stop_reply, workspace
from services.session._runtime import checkpoint, runtime
from services.session._store import save_conversation

__all__ = [
    "cancel_task",
    "get_task",
    "list_tasks",
    "open_task_in_chat",
    "queue_reconnect",
    "reconnect",
    "set_tasks_page_token",
    "subscribe_task",
    "take_queued_reconnect",
    "tasks_page_token",
]


def tasks_page_token() -> str:
    """Where the Tasks page's list starts ("" is the first page)."""
    return keys.TASKS_PAGE.get_or("")


def set_tasks_page_token(token: str) -> None:
    keys.TASKS_PAGE.set(token)


def list_tasks(where: tasks.TaskFilter) -> tasks.TaskPage:
    return tasks.list_tasks(runtime(), agent_url(), where)


def get_task(task_id: str) -> tasks.TaskDetail:
    return tasks.get_task(runtime(), agent_url(), task_id)


def cancel_task(task_id: str) -> str:
    return agent.cancel_task(runtime(), agent_url(), task_id)


def subscribe_task(task_id: str) -> EventStream[ReplyEvent]:
    return tasks.subscribe(runtime(), agent_url(), task_id, checkpoint=checkpoint)


def open_task_in_chat(detail: tasks.TaskDetail) -> None:
    """A new conversation that continues the task: its history, its context, and (if it
    waits for input) the task itself, so the next message answers it."""
    entry = current_agent()
    if entry is None:
        return
    stop_reply()
    opened = Conversation(
        turns=[t for t in detail.history if t.role == "user"],
        title=f"Task {detail.id[:8]}",
        seed_context_id=detail.context_id,
        seed_task_id=detail.id if detail.reply.needs_input else "",
    )
    opened.turns.append(Turn("agent", reply=detail.reply))
    entry.add_conversation(opened)
    save_conversation(workspace(), opened, turns_too=True)


def queue_reconnect(turn_index: int) -> None:
    keys.QUEUED_RECONNECT.set(turn_index)


def take_queued_reconnect() -> int | None:
    return keys.QUEUED_RECONNECT.pop()


def reconnect(reply: Reply, *, resumed: bool = False) -> EventStream[ReplyEvent]:
    """Follow a broken reply's task again: the task now, its live events, then the task
    again. `resumed`: by itself, after the session it streamed in ended."""
    reply.resume()
    reply.resumed = reply.resumed or resumed
    return tasks.reconnect(runtime(), agent_url(), reply.task_id, checkpoint=checkpoint)
