"""Share and own your data: read-only links to a conversation's snapshot, the whole
workspace in one file, and forgetting everything.

Whatever leaves the app here has its secrets masked and carries no credentials.
"""

from __future__ import annotations

import json
from typing import Any

from services.session import _keys as keys
from services.session._agents import conversation, current_agent, stop_reply, workspace
from services.session._resources import redactor
from services.session._store import store, store_problem, workspace_id
from services.store import Share, StoreError
from services.store.workspace import AgentEntry, export_conversation, stored_url

__all__ = [
    "WORKSPACE_FORMAT",
    "export_workspace",
    "forget_workspace",
    "revoke_share",
    "share_conversation",
    "shared",
    "shares",
]

WORKSPACE_FORMAT = "a2a-streamlit/workspace@1"


def _shown_agent_url(entry: AgentEntry | None = None) -> str:
    entry = entry or current_agent()
    return stored_url(entry) if entry is not None else ""


def share_conversation() -> str:
    """A read-only link token for a snapshot of the current conversation (secrets
    masked, no credentials). Raises `StoreError` when there is no store to keep it."""
    kept = store()
    if kept is None:
        raise StoreError(store_problem() or "Sharing needs the database, which is not open.")
    current = conversation()
    snapshot = export_conversation(current, _shown_agent_url(), redactor())
    return kept.share(workspace_id(), current, snapshot)


def shared(token: str) -> tuple[str, bool] | None:
    """A shared snapshot's file text and whether it was revoked; None if unknown."""
    kept = store()
    return kept.read_share(token) if kept is not None else None


def shares() -> list[Share]:
    kept = store()
    return kept.shares(workspace_id()) if kept is not None else []


def revoke_share(token: str) -> None:
    if (kept := store()) is not None:
        kept.revoke_share(workspace_id(), token)


def export_workspace() -> str:
    """Every conversation of every agent, each in the conversation file format, in one
    JSON file (secrets masked)."""
    files = [
        json.loads(export_conversation(c, _shown_agent_url(e), redactor()))
        for e in workspace().agents.values()
        for c in e.conversations
        if c.turns
    ]
    return json.dumps({"format": WORKSPACE_FORMAT, "conversations": files}, ensure_ascii=False)


def forget_workspace() -> None:
    """Delete everything this workspace holds, here and in the store, and start afresh."""
    stop_reply()
    if (kept := store()) is not None:
        kept.forget(workspace_id()).result(timeout=10)
    forgotten: tuple[keys.Key[Any], ...] = (
        keys.WORKSPACE,
        keys.RECORDER,
        keys.RESUME,
        keys.HISTORY_SHOWN,
        keys.CONNECT_ERROR,
    )
    for key in forgotten:
        key.pop()
