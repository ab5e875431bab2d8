"""The session's agents and their conversations, as plain data with pure operations.

`Workspace` holds the agents this session knows (from secrets, configuration, or added
in the session), which one is selected, and for each its credentials, binding choice,
card summary and conversations. Conversations export to JSON (secrets redacted, file
bytes as base64) and import back for reading offline or continuing.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from services.client.agent import AgentInfo
from services.client.auth import Credentials
from services.errors import AppError
from services.formats import CONVERSATION_FORMAT, FileRejected, read_conversation, to_json_value
from services.redact import Redactor
from services.replies import Conversation, Reply
from services.store import SavedWorkspace

__all__ = [
    "AgentEntry",
    "ConversationFileError",
    "Workspace",
    "DEMO_ALIAS",
    "export_conversation",
    "import_conversation",
    "restore",
    "stored_url",
]

Source = Literal["configured", "secrets", "demo", "session"]


@dataclass
class AgentEntry:
    """One agent this session can talk to, with everything kept for it."""

    url: str
    name: str = ""
    source: Source = "session"
    credentials: Credentials = field(default_factory=Credentials)
    binding: str = ""  # "" lets the card decide; else "JSONRPC", "HTTP+JSON" or "GRPC"
    jwks_url: str = ""  # where its card's signature keys are ("" : the signature's jku)
    tenant: str = ""  # sent on every request to it (A2A `tenant`); "" sends none
    info: AgentInfo | None = None
    error: AppError | None = None
    conversations: list[Conversation] = field(default_factory=lambda: [Conversation()])
    current_conversation: str = ""

    @property
    def label(self) -> str:
        return self.name or (self.info.name if self.info else "") or self.url

    @property
    def conversation(self) -> Conversation:
        found = next((c for c in self.conversations if c.id == self.current_conversation), None)
        if found is None:
            found = self.conversations[-1]
            self.current_conversation = found.id
        return found

    def new_conversation(self) -> Conversation:
        conversation = Conversation()
        self.conversations.append(conversation)
        self.current_conversation = conversation.id
        return conversation

    def add_conversation(self, conversation: Conversation) -> Conversation:
        if any(c.id == conversation.id for c in self.conversations):
            conversation.id = uuid.uuid4().hex[:8]  # the same file imported twice: two of it
        self.conversations.append(conversation)
        self.current_conversation = conversation.id
        return conversation

    def select_conversation(self, conversation_id: str) -> None:
        if any(c.id == conversation_id for c in self.conversations):
            self.current_conversation = conversation_id

    def rename_conversation(self, conversation_id: str, title: str) -> None:
        for conversation in self.conversations:
            if conversation.id == conversation_id:
                conversation.title = title.strip()

    def delete_conversation(self, conversation_id: str) -> None:
        """Delete it; the agent always keeps at least one (empty) conversation."""
        self.conversations = [c for c in self.conversations if c.id != conversation_id]
        if not self.conversations:
            self.conversations.append(Conversation())
        if self.current_conversation == conversation_id:
            self.current_conversation = self.conversations[-1].id


@dataclass
class Workspace:
    """The agents of one browser session, in the order they were added."""

    agents: dict[str, AgentEntry] = field(default_factory=dict)
    current: str = ""

    @property
    def agent(self) -> AgentEntry | None:
        return self.agents.get(self.current)

    def add(self, url: str, **settings: Any) -> AgentEntry:
        """The entry for `url`, created with `settings` if new (existing ones are kept)."""
        url = url.strip()
        if url not in self.agents:
            self.agents[url] = AgentEntry(url, **settings)
        return self.agents[url]

    def select(self, url: str) -> AgentEntry:
        self.current = url
        return self.agents[url]

    def remove(self, url: str) -> None:
        """Forget an agent and its conversations; another one is selected."""
        self.agents.pop(url, None)
        if self.current == url:
            self.current = next(iter(self.agents), "")


# --- conversation files ----------------------------------------------------------------------


class ConversationFileError(FileRejected):
    """A file that is not a conversation exported by this app (str(): one sentence)."""


def export_conversation(
    conversation: Conversation, agent_url: str, redactor: Redactor | None = None
) -> str:
    """The conversation as JSON: its messages, tasks, artifacts and files, secrets masked."""
    body = {
        "format": CONVERSATION_FORMAT,
        "agent_url": agent_url,
        "conversation": to_json_value(conversation),
    }
    text = json.dumps(body, ensure_ascii=False, indent=1)
    return redactor.text(text) if redactor else text


def import_conversation(text: str) -> tuple[Conversation, str]:
    """A conversation exported by `export_conversation`, and the agent URL it was with."""
    try:
        return read_conversation(text)
    except FileRejected as error:
        raise ConversationFileError(str(error)) from error


# --- the store's view of a workspace ------------------------------------------------------

# The embedded demo agent listens on a new port each time the app starts: the store keeps
# it under this name, so its conversations are found again after a restart.
DEMO_ALIAS = "embedded-demo-agent"


def stored_url(entry: AgentEntry) -> str:
    """The name an agent is kept under in the store."""
    return DEMO_ALIAS if entry.source == "demo" else entry.url


def restore(space: Workspace, saved: SavedWorkspace) -> list[Reply]:
    """Put what the store kept back into a freshly configured workspace.

    Agents the operator configures keep their settings from configuration; agents a user
    added come back without credentials (those never leave the session that typed them).
    Returns each conversation's last reply whose task had not ended, to resume.
    """
    demo = next((e.url for e in space.agents.values() if e.source == "demo"), "")
    by_stored = {DEMO_ALIAS: demo} if demo else {}

    def live_url(url: str) -> str:
        return by_stored.get(url, "" if url == DEMO_ALIAS else url)

    for kept in saved.agents:
        url = live_url(kept.url)
        if not url:
            continue  # kept for the demo agent, which this deployment does not run
        entry = space.agents.get(url) or space.add(url, name=kept.name, source="session")
        if entry.source == "session":
            entry.binding = kept.binding
            entry.tenant = kept.tenant
        entry.current_conversation = kept.current_conversation or entry.current_conversation
    unfinished: list[Reply] = []
    for url, kept_conversations in saved.conversations.items():
        owner = space.agents.get(live_url(url))
        if owner is None or not kept_conversations:
            continue
        owner.conversations = list(kept_conversations)
        if not any(c.id == owner.current_conversation for c in owner.conversations):
            owner.current_conversation = owner.conversations[-1].id
        for conversation in kept_conversations:
            # Its task had not ended when the reply's session did (cut off mid-stream,
            # or its stream closed with the runtime of a session that went away).
            last = conversation.last_reply
            if last is not None and last.can_reconnect:
                unfinished.append(last)
    if live_url(saved.current_agent) in space.agents:
        space.current = live_url(saved.current_agent)
    return unfinished
