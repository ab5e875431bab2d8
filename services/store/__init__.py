"""The durable workspace: what a user did, kept in SQLite (default) or PostgreSQL.

`Store` holds agents, conversations, turns, the inspector's streams and shares per
workspace; `StoreError` says in one sentence why the database cannot be used. Nothing here
imports Streamlit; `services.session` opens the store and names the workspace.
"""

from services.store.errors import StoreError
from services.store.store import Limits, SavedAgent, SavedWorkspace, Share, Store

__all__ = ["Limits", "SavedAgent", "SavedWorkspace", "Share", "Store", "StoreError"]
