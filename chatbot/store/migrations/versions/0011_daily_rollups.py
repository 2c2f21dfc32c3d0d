"""daily rollups: the dashboard's figures for each settled UTC day, kept instead of counted again; indexes for the
days still counted (takes by time, ratings by time)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_rollups",
        sa.Column("day", sa.String(length=10), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_state_changes_taken", "state_changes", ["to_state", "created_at", "from_state",
                                                                "conversation_id"])
    op.create_index("ix_conversations_rated", "conversations", ["rated_at", "rating", "id"])


def downgrade() -> None:
    op.drop_index("ix_conversations_rated", table_name="conversations")
    op.drop_index("ix_state_changes_taken", table_name="state_changes")
    op.drop_table("daily_rollups")
