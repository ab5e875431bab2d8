"""The store's tables, for queries. The migrations create them: they are the one source of
schema truth, and a test checks that the two agree."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, String, Table, Text

__all__ = ["agents", "conversations", "metadata", "shares", "streams", "turns", "workspaces"]

metadata = MetaData()

workspaces = Table(
    "a2a_workspaces",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("current_agent", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("seen_at", Float, nullable=False),
)

agents = Table(
    "a2a_agents",
    metadata,
    Column("workspace_id", String(100), primary_key=True),
    Column("url", String(2048), primary_key=True),
    Column("name", Text, nullable=False, default=""),
    Column("binding", String(40), nullable=False, default=""),
    Column("position", Integer, nullable=False, default=0),
    Column("current_conversation", String(100), nullable=False, default=""),
)

conversations = Table(
    "a2a_conversations",
    metadata,
    Column("workspace_id", String(100), primary_key=True),
    Column("id", String(100), primary_key=True),
    Column("agent_url", String(2048), nullable=False),
    Column("document", Text, nullable=False),  # the conversation without its turns, as JSON
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

turns = Table(
    "a2a_turns",
    metadata,
    Column("workspace_id", String(100), primary_key=True),
    Column("conversation_id", String(100), primary_key=True),
    Column("id", String(100), primary_key=True),
    Column("seq", BigInteger, nullable=False),  # order within the conversation
    Column("document", Text, nullable=False),  # the turn (and its reply) as JSON
    Column("bytes", Integer, nullable=False),
)

streams = Table(
    "a2a_streams",
    metadata,
    Column("workspace_id", String(100), primary_key=True),
    Column("id", Integer, primary_key=True),  # the inspector's stream number
    Column("started_at", Float, nullable=False),
    Column("document", Text, nullable=False),  # the stream as the inspector's JSON Lines
    Column("bytes", Integer, nullable=False),
)

shares = Table(
    "a2a_shares",
    metadata,
    Column("token", String(100), primary_key=True),
    Column("workspace_id", String(100), nullable=False),
    Column("conversation_id", String(100), nullable=False),
    Column("document", Text, nullable=False),  # the snapshot, as a conversation file
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)
