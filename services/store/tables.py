"""The store's tables, for queries. The migrations create them: they are the one source of
schema truth, and a test checks that the two agree."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "agent_checks",
    "agents",
    "conversations",
    "metadata",
    "push_configs",
    "push_deliveries",
    "shares",
    "side_by_side_runs",
    "sign_ins",
    "streams",
    "turns",
    "workspaces",
]

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
    Column("tenant", String(255), nullable=False, default=""),  # 0005
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

push_configs = Table(
    "a2a_push_configs",
    metadata,
    Column("id", String(64), primary_key=True),  # random, URL-safe: in the webhook's path
    Column("workspace_id", String(100), nullable=False),
    Column("token_sha256", String(64), nullable=False),  # the token itself is never kept
    Column("agent_url", String(2048), nullable=False),
    Column("task_id", String(255), nullable=False),  # "" when made before the task was
    Column("created_at", Float, nullable=False),
    Column("jwks_url", String(2048), nullable=True),  # where the agent's JWT keys are
    Column("jwt_audience", String(2048), nullable=True),
    Column("require_jwt", Boolean, nullable=False),
    Index("a2a_push_configs_workspace", "workspace_id", "task_id"),
)

push_deliveries = Table(
    "a2a_push_deliveries",
    metadata,
    # Arrival order: "newest first" and "since" are by id.
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("config_id", String(64), nullable=False),
    Column("workspace_id", String(100), nullable=False),  # the config's, copied
    Column("received_at", Float, nullable=False),
    Column("task_id", String(255), nullable=False),  # parsed from the body ("" if none)
    Column("kind", String(40), nullable=False),  # task, message, status-update, artifact-update
    Column("state", String(40), nullable=False),  # the task's state, as the spec spells it
    Column("verified", Boolean, nullable=False),  # a JWT came with it and was verified
    Column("body", Text, nullable=False),  # the JSON as received (at most 1 MB)
    Column("bytes", Integer, nullable=False),
    Index("a2a_push_deliveries_workspace", "workspace_id", "id"),
    Index("a2a_push_deliveries_task", "workspace_id", "task_id", "id"),
    Index("a2a_push_deliveries_config", "config_id", "id"),
    sqlite_autoincrement=True,
)


agent_checks = Table(
    "a2a_agent_checks",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("workspace_id", String(100), nullable=False),
    Column("agent_url", String(2048), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("report", Text, nullable=False),  # the report as JSON, no secrets in it
    Index("a2a_agent_checks_workspace", "workspace_id", "id"),
    sqlite_autoincrement=True,
)


sign_ins = Table(
    "a2a_sign_ins",
    metadata,
    Column("workspace_id", String(100), primary_key=True),
    Column("agent_url", String(2048), primary_key=True),
    Column("sealed", Text, nullable=False),  # Fernet-encrypted; the key is in secrets
    Column("updated_at", Float, nullable=False),
)


side_by_side_runs = Table(
    "a2a_side_by_side_runs",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("workspace_id", String(100), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("prompt", Text, nullable=False),
    Column("agents", Text, nullable=False),  # per agent: reply, metrics, verdict, as JSON
    Index("a2a_side_by_side_runs_workspace", "workspace_id", "id"),
    sqlite_autoincrement=True,
)
