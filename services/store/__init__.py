"""The durable workspace: what a user did, kept in SQLite (default) or PostgreSQL.

`Store` holds agents, conversations, turns, the inspector's streams, shares and push
notifications (`PushConfig`, `Delivery`) per workspace; `StoreError` says in one sentence
why the database cannot be used. Nothing here imports Streamlit: `services.store.opener`
opens the process's one store, `services.session` names the workspace.
"""

from services.store.errors import StoreError
from services.store.push import Delivery, PushConfig
from services.store.store import Limits, SavedAgent, SavedWorkspace, Share, Store

__all__ = [
    "Delivery",
    "Limits",
    "PushConfig",
    "SavedAgent",
    "SavedWorkspace",
    "Share",
    "Store",
    "StoreError",
]
