"""Sign-ins a user chose to keep in the workspace, sealed with the deployment's key.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "a2a_sign_ins",
        sa.Column("workspace_id", sa.String(100), primary_key=True),
        sa.Column("agent_url", sa.String(2048), primary_key=True),
        # Fernet-encrypted JSON (token, refresh token, client); never readable without
        # the key, which lives in secrets, not here.
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("a2a_sign_ins")
