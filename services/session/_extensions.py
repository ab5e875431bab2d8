"""Extensions and tenants for the pages: the current agent's declared extensions, the
current conversation's activated ones, what a required one missing says, an agent's tenant.
"""

from __future__ import annotations

from services.client.agent import AgentInfo
from services.client.extensions import (
    ExtensionInfo,
    card_extensions,
    missing_required,
    required_sentence,
)
from services.session._agents import conversation, workspace
from services.session._store import save_conversation

__all__ = [
    "agent_extensions",
    "extension_refusals",
    "set_conversation_extensions",
]


def agent_extensions(info: AgentInfo | None) -> tuple[ExtensionInfo, ...]:
    """The extensions the agent's card declares (uri, description, required)."""
    return card_extensions(info.card) if info is not None else ()


def set_conversation_extensions(uris: list[str]) -> None:
    """The extensions the current conversation activates on each of its requests."""
    current = conversation()
    if current.extensions == list(uris):
        return  # drawn on every run: write only a change
    current.extensions = list(uris)
    save_conversation(workspace(), current)


def extension_refusals(info: AgentInfo | None) -> list[str]:
    """One sentence per required extension the current conversation does not activate:
    a message would be refused by the agent, so it is not sent."""
    declared = agent_extensions(info)
    return [required_sentence(uri) for uri in missing_required(declared, conversation().extensions)]
