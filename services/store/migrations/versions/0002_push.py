"""Push notifications received on the app's own port: the configs, and what arrived.

`a2a_push_configs` holds one row per webhook URL handed to an agent; its token is kept
as a SHA-256 hash only. `a2a_push_deliveries` holds what the agent posted there, newest
first by `id`, capped per config by the store.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# SQLite numbers a table's rows itself only for an INTEGER PRIMARY KEY; PostgreSQL gets
# a BIGINT identity, so a busy receiver never runs out of ids.
_DELIVERY_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "a2a_push_configs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("workspace_id", sa.String(100), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("agent_url", sa.String(2048), nullable=False),
        sa.Column("task_id", sa.String(255), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("jwks_url", sa.String(2048), nullable=True),
        sa.Column("jwt_audience", sa.String(2048), nullable=True),
        sa.Column("require_jwt", sa.Boolean, nullable=False),
    )
    op.create_index("a2a_push_configs_workspace", "a2a_push_configs", ["workspace_id", "task_id"])
    op.create_table(
        "a2a_push_deliveries",
        sa.Column("id", _DELIVERY_ID, primary_key=True, autoincrement=True),
        sa.Column("config_id", sa.String(64), nullable=False),
        sa.Column("workspace_id", sa.String(100), nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("task_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("state", sa.String(40), nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("bytes", sa.Integer, nullable=False),
        sqlite_autoincrement=True,  # ids never reused: a page polling "since id N" misses none
    )
    # "Deliveries of workspace W (and task T), newest first", and the per-config cap.
    op.create_index("a2a_push_deliveries_workspace", "a2a_push_deliveries", ["workspace_id", "id"])
    op.create_index(
        "a2a_push_deliveries_task", "a2a_push_deliveries", ["workspace_id", "task_id", "id"]
    )
    op.create_index("a2a_push_deliveries_config", "a2a_push_deliveries", ["config_id", "id"])


def downgrade() -> None:
    op.drop_table("a2a_push_deliveries")
    op.drop_table("a2a_push_configs")
