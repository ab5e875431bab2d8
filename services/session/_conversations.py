"""The current agent's conversations: choosing, naming, exporting and importing them, how
much of a long one the Chat page draws, the `?c=` link, and sending a message.
"""

from __future__ import annotations

import streamlit as st
from a2a.types.a2a_pb2 import SendMessageRequest

from services.client import agent, composer
from services.replies import Conversation, PartView, Reply, ReplyEvent
from services.runtime import EventStream
from services.session import _keys as keys
from services.session._agents import agent_url, conversation, current_agent, stop_reply, workspace
from services.session._resources import redactor
from services.session._runtime import checkpoint, runtime
from services.session._store import (
    TURN_WAIT,
    save_conversation,
    save_selection,
    save_turn,
    store,
    workspace_id,
    writer_for,
)
from services.store.live import ReplyWriter
from services.store.workspace import export_conversation, import_conversation

__all__ = [
    "HISTORY_PAGE",
    "composer_draft",
    "conversations",
    "delete_conversation",
    "export_current_conversation",
    "follow_conversation_link",
    "history_start",
    "import_conversation_file",
    "new_conversation",
    "queue_prompt",
    "rename_conversation",
    "reply_writer",
    "select_conversation",
    "send",
    "set_conversation_options",
    "show_earlier_history",
    "take_queued_prompt",
]

HISTORY_PAGE = 40  # turns the Chat page draws at first, and how many more each time


def conversations() -> list[Conversation]:
    entry = current_agent()
    return list(entry.conversations) if entry else []


def new_conversation() -> None:
    stop_reply()
    if entry := current_agent():
        save_conversation(workspace(), entry.new_conversation())


def select_conversation(conversation_id: str) -> None:
    stop_reply()
    if entry := current_agent():
        entry.select_conversation(conversation_id)
        save_selection(workspace())


def rename_conversation(conversation_id: str, title: str) -> None:
    if entry := current_agent():
        entry.rename_conversation(conversation_id, title)
        save_conversation(workspace(), entry.conversation)


def delete_conversation(conversation_id: str, agent_url: str = "") -> None:
    """Delete it (the current agent's, or `agent_url`'s) here and, for good, in the store."""
    stop_reply()
    if entry := (workspace().agents.get(agent_url) if agent_url else current_agent()):
        entry.delete_conversation(conversation_id)
        if (kept := store()) is not None:
            kept.delete_conversation(workspace_id(), conversation_id)
        save_selection(workspace())


def set_conversation_options(output_modes: list[str], history_length: int | None) -> None:
    """The current conversation's acceptedOutputModes and historyLength."""
    current = conversation()
    if (current.accepted_output_modes, current.history_length) == (output_modes, history_length):
        return  # drawn on every run: write only a change
    current.accepted_output_modes = list(output_modes)
    current.history_length = history_length
    save_conversation(workspace(), current)


def export_current_conversation() -> str:
    """The current conversation as JSON, secrets masked."""
    return export_conversation(conversation(), agent_url(), redactor())


def import_conversation_file(text: str) -> Conversation:
    """Add a conversation exported by this app to the current agent and open it."""
    imported, _from_url = import_conversation(text)
    entry = current_agent()
    if entry is not None:
        entry.add_conversation(imported)
        save_conversation(workspace(), imported, turns_too=True)
    return imported


def history_start(current: Conversation) -> int:
    """The index of the first turn the Chat page draws (the latest pages of it)."""
    shown = keys.HISTORY_SHOWN.get_or({})
    return max(0, len(current.turns) - shown.get(current.id, HISTORY_PAGE))


def show_earlier_history(conversation_id: str) -> None:
    """Draw one more page of a conversation's earlier turns."""
    shown = keys.HISTORY_SHOWN.setdefault(dict)
    shown[conversation_id] = shown.get(conversation_id, HISTORY_PAGE) + HISTORY_PAGE


def follow_conversation_link() -> str:
    """Keep `?c=` naming the open conversation. On a session's first Chat run, open the
    conversation the URL names if this workspace has it; if not, one sentence says so
    (an id in a URL grants nothing: it opens only in the workspace that owns it)."""
    wanted = st.query_params.get(keys.CONVERSATION_PARAM, "")
    problem = ""
    if not keys.LINK_FOLLOWED.get():
        keys.LINK_FOLLOWED.set(True)
        space = workspace()
        owner = next(
            (e for e in space.agents.values() if any(c.id == wanted for c in e.conversations)),
            None,
        )
        if owner is not None:
            space.select(owner.url)
            owner.select_conversation(wanted)
            save_selection(space)
        elif wanted:
            problem = (
                "The conversation in this link is not in this workspace: a link opens only "
                "in the browser (or for the person signed in) that made it."
            )
    current = conversation()
    if current.turns and wanted != current.id:
        st.query_params[keys.CONVERSATION_PARAM] = current.id
    elif not current.turns and wanted and not problem:
        del st.query_params[keys.CONVERSATION_PARAM]
    return problem


def queue_prompt(text: str) -> None:
    """Queue a prompt to send on the next run (a skill example clicked in the sidebar)."""
    keys.QUEUED_PROMPT.set(text)


def has_queued_prompt() -> bool:
    return bool(keys.QUEUED_PROMPT.get())


def take_queued_prompt() -> str:
    return keys.QUEUED_PROMPT.pop() or ""


def _send_options(conv: Conversation, files: list[PartView] | None = None) -> agent.SendOptions:
    """What a message sent now in `conv` goes with (the chat's and the composer's draft)."""
    return agent.SendOptions(
        context_id=conv.context_id,
        task_id=conv.task_id,
        files=tuple(files or ()),
        accepted_output_modes=tuple(conv.accepted_output_modes),
        history_length=conv.history_length,
        extensions=tuple(conv.extensions),
    )


def composer_draft() -> str:
    """The request the chat would send next in the current conversation, as JSON."""
    return composer.draft_request(_send_options(conversation()))


def send(
    text: str,
    files: list[PartView] | None = None,
    *,
    request: SendMessageRequest | None = None,
) -> tuple[Reply, EventStream[ReplyEvent]]:
    """Add `text` (and files) and an empty reply to the conversation; start the stream.

    With `request` (the composer's, checked by `composer.parse_request`) that request is
    sent as it is; the history shows its text parts, and its files, as the user's turn.
    """
    conv = conversation()
    options = _send_options(conv, files)
    if request is not None:
        text, files = composer.request_turn(request)
    conv.add_user(text, files)
    st.query_params[keys.CONVERSATION_PARAM] = conv.id  # a reload now lands on this conversation
    save_conversation(workspace(), conv)
    save_turn(conv, len(conv.turns) - 1, wait=TURN_WAIT)  # kept before it leaves
    reply = conv.add_reply()
    stream = agent.send_message(
        runtime(),
        agent_url(),
        text or "(composed request)",
        options=options,
        checkpoint=checkpoint,
        request=request,
    )
    return reply, stream


def reply_writer(reply: Reply) -> ReplyWriter | None:
    """What writes `reply` (a turn of the current conversation) while it streams; None
    without a store. It holds no Streamlit object, so a page can call it in a `finally`."""
    return writer_for(conversation(), reply)
