"""The durable workspace: workspaces, agents, conversations, turns, streams, shares.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "a2a_workspaces",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("current_agent", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    op.create_table(
        "a2a_agents",
        sa.Column("workspace_id", sa.String(100), primary_key=True),
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("binding", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("current_conversation", sa.String(100), nullable=False),
    )
    op.create_table(
        "a2a_conversations",
        sa.Column("workspace_id", sa.String(100), primary_key=True),
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("agent_url", sa.String(2048), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "a2a_turns",
        sa.Column("workspace_id", sa.String(100), primary_key=True),
        sa.Column("conversation_id", sa.String(100), primary_key=True),
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("bytes", sa.Integer, nullable=False),
    )
    op.create_table(
        "a2a_streams",
        sa.Column("workspace_id", sa.String(100), primary_key=True),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("bytes", sa.Integer, nullable=False),
    )
    op.create_table(
        "a2a_shares",
        sa.Column("token", sa.String(100), primary_key=True),
        sa.Column("workspace_id", sa.String(100), nullable=False),
        sa.Column("conversation_id", sa.String(100), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
    )
    op.create_index("a2a_shares_workspace", "a2a_shares", ["workspace_id"])
    op.create_index("a2a_conversations_agent", "a2a_conversations", ["workspace_id", "agent_url"])


def downgrade() -> None:
    for table in ("a2a_shares", "a2a_streams", "a2a_turns", "a2a_conversations", "a2a_agents",
                  "a2a_workspaces"):  # fmt: skip
        op.drop_table(table)
