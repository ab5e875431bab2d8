"""Push notifications from the session's side: where agents reach this app's webhook, a
message sent to run in the background, and its reply filled from the workspace's inbox.

The webhook itself is `services.push` (a route on Streamlit's own port); it stores each
delivery in the workspace that owns the push config. A background reply is rebuilt from
all its task's deliveries each time it is caught up, so a reload, a second tab or the
next day shows where the task got to, and a notification sent twice counts once.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st
from a2a.types.a2a_pb2 import StreamResponse

from services.client import agent, push
from services.errors import AppError
from services.inspector import deliveries
from services.inspector.capture import StreamRecord
from services.replies import PartView, Reply, to_reply_event
from services.session import _keys as keys
from services.session._agents import agent_info, agent_url, conversation, workspace
from services.session._resources import redactor
from services.session._runtime import runtime
from services.session._settings import settings
from services.session._store import TURN_WAIT, save_conversation, save_turn, store, workspace_id
from services.store import StoreError
from services.store.push import Delivery, PushConfig

__all__ = [
    "add_task_push_config",
    "catch_up",
    "delete_task_push_config",
    "push_inbox",
    "push_record",
    "push_refusal",
    "push_tasks",
    "push_url_for",
    "send_in_background",
    "task_push_configs",
]

PUSH_PATH = "/a2a/push/"
CATCH_UP_LIMIT = 1_000  # the receiver keeps at most this many per config


def push_url_for(config_id: str) -> str:
    """The webhook URL an agent is given: `public_url`, else the address the browser used
    (right for an agent on this machine, such as the demo agent)."""
    base = settings().public_url
    if not base:
        page = urlsplit(str(st.context.url or ""))
        base = f"{page.scheme}://{page.netloc}" if page.netloc else ""
    return f"{base}{PUSH_PATH}{config_id}"


def push_refusal() -> str:
    """Why this session cannot ask for push notifications now, in one sentence ("" if it
    can)."""
    info = agent_info()
    if info is None:
        return "Connect to an agent first."
    if not info.push_notifications:
        return "This agent's card says it does not send push notifications."
    if store() is None:
        return "Notifications are kept in the workspace's database, which cannot be opened."
    return ""


def _new_config(task_id: str = "") -> tuple[PushConfig, str]:
    kept = store()
    if kept is None:
        raise AppError(push_refusal() or "The workspace's database cannot be opened.")
    try:
        return kept.create_push_config(workspace_id(), agent_url(), task_id)
    except StoreError as error:
        raise AppError(str(error)) from error


def send_in_background(text: str, files: list[PartView] | None = None) -> Reply:
    """Send `text` to run in the background: the agent answers at once with its task and
    notifies this app's webhook as it goes; the reply fills from those notifications."""
    if refusal := push_refusal():
        raise AppError(refusal)
    conv = conversation()
    options = agent.SendOptions(
        context_id=conv.context_id,
        task_id=conv.task_id,
        files=tuple(files or ()),
        accepted_output_modes=tuple(conv.accepted_output_modes),
        history_length=conv.history_length,
        extensions=tuple(conv.extensions),
    )
    config, token = _new_config()
    conv.add_user(text, files)
    st.query_params[keys.CONVERSATION_PARAM] = conv.id
    save_conversation(workspace(), conv)
    save_turn(conv, len(conv.turns) - 1, wait=TURN_WAIT)
    reply = conv.add_reply()
    reply.background = True
    try:
        started = push.send_in_background(
            runtime(), agent_url(), text, options, push_url_for(config.id), token
        )
    except AppError as error:
        reply.fail(str(error), error.detail)
        _forget_config(config.id)
    else:
        reply.apply(started.event)
        if not started.task_id:  # the agent answered at once: nothing will be pushed
            reply.finish()
            _forget_config(config.id)
    save_turn(conv, len(conv.turns) - 1, wait=TURN_WAIT)
    return reply


def _forget_config(config_id: str) -> None:
    if (kept := store()) is not None:
        try:
            kept.delete_push_config(workspace_id(), config_id)
        except StoreError:
            pass  # an unused config: the limit will drop it with the workspace


def _event(delivery: Delivery) -> StreamResponse | None:
    """A delivery's body as a StreamResponse (a bare Task, as 0.3 agents send, wrapped)."""
    return deliveries.stream_response(delivery.body)


def catch_up(reply: Reply) -> bool:
    """Rebuild a background `reply` from every notification its task received; True if it
    changed. Kept in the workspace when it did."""
    kept = store()
    if kept is None or not reply.task_id:
        return False
    try:
        received = kept.deliveries(workspace_id(), reply.task_id, limit=CATCH_UP_LIMIT)
    except StoreError:
        return False
    rebuilt = Reply(
        task_id=reply.task_id,
        context_id=reply.context_id,
        state=reply.state,
        background=True,
        started_at=reply.started_at,
        stream_id=reply.stream_id,
    )
    rebuilt.event_count = 1  # the task the send returned
    for delivery in reversed(received):  # oldest first
        if (response := _event(delivery)) is not None:
            rebuilt.apply(to_reply_event(response, delivery.received_at))
    if rebuilt.settled:
        rebuilt.finish()
    if (rebuilt.event_count, rebuilt.state) == (reply.event_count, reply.state):
        return False  # nothing new since the last catch-up
    conv = conversation()
    index = next((i for i, t in enumerate(conv.turns) if t.reply is reply), None)
    if index is None:
        return False
    conv.turns[index].reply = rebuilt
    save_turn(conv, index)
    return True


def push_inbox(task_id: str) -> list[Delivery]:
    """The notifications this workspace received for `task_id`, newest first."""
    kept = store()
    if kept is None:
        return []
    try:
        return kept.deliveries(workspace_id(), task_id, limit=100)
    except StoreError:
        return []


def push_tasks() -> list[str]:
    """The tasks this workspace received notifications for, the latest news first."""
    kept = store()
    if kept is None:
        return []
    try:
        received = kept.deliveries(workspace_id(), limit=CATCH_UP_LIMIT)
    except StoreError:
        return []
    return list(dict.fromkeys(d.task_id for d in received if d.task_id))


def push_record(task_id: str) -> StreamRecord:
    """`task_id`'s notifications as a stream record for the inspector, oldest first."""
    kept = store()
    received: list[Delivery] = []
    config: PushConfig | None = None
    if kept is not None:
        try:
            received = kept.deliveries(workspace_id(), task_id, limit=CATCH_UP_LIMIT)
            config = kept.push_config(received[0].config_id) if received else None
        except StoreError:
            pass  # shown as a task with no notifications
    return deliveries.push_record(
        task_id,
        received[::-1],
        agent_url=config.agent_url if config is not None else "",
        redactor=redactor(),
    )


def task_push_configs(task_id: str) -> list[push.PushConfig]:
    """The push configs the agent holds for `task_id`."""
    return push.list_push_configs(runtime(), agent_url(), task_id)


def add_task_push_config(task_id: str) -> push.PushConfig:
    """Ask the agent to notify this app's webhook of `task_id` (never another URL: the
    demo agent may post to any address on its own machine)."""
    if refusal := push_refusal():
        raise AppError(refusal)
    config, token = _new_config(task_id)
    try:
        return push.create_push_config(
            runtime(), agent_url(), task_id, push_url_for(config.id), token, config_id=config.id
        )
    except AppError:
        _forget_config(config.id)
        raise


def delete_task_push_config(task_id: str, config_id: str) -> None:
    """Delete the agent's config and, if it was this app's, the webhook and its inbox."""
    push.delete_push_config(runtime(), agent_url(), task_id, config_id)
    _forget_config(config_id)
