"""Agent check runs kept in the workspace that ran them, to read again and compare.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "a2a_agent_checks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("workspace_id", sa.String(100), nullable=False),
        sa.Column("agent_url", sa.String(2048), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("report", sa.Text, nullable=False),  # the report as JSON, no secrets in it
        sqlite_autoincrement=True,
    )
    op.create_index("a2a_agent_checks_workspace", "a2a_agent_checks", ["workspace_id", "id"])


def downgrade() -> None:
    op.drop_table("a2a_agent_checks")
