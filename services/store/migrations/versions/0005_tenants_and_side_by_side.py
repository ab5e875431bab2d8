"""An agent's tenant, and side-by-side runs kept in the workspace that ran them.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing agents have no tenant: "" (the server default fills the rows already there).
    op.add_column(
        "a2a_agents",
        sa.Column("tenant", sa.String(255), nullable=False, server_default=""),
    )
    op.create_table(
        "a2a_side_by_side_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("workspace_id", sa.String(100), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        # Per agent: url, name, reply text, metrics, verdict, error; as JSON, no secrets.
        sa.Column("agents", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "a2a_side_by_side_runs_workspace", "a2a_side_by_side_runs", ["workspace_id", "id"]
    )


def downgrade() -> None:
    op.drop_table("a2a_side_by_side_runs")
    with op.batch_alter_table("a2a_agents") as batch:
        batch.drop_column("tenant")
