"""dashboard indexes: state changes towards a person, and conversations by start, read without their rows

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_state_changes_to_state", "state_changes", ["to_state", "conversation_id", "from_state"])
    op.create_index("ix_conversations_created", "conversations", ["created_at", "state", "after_hours_notice_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_conversations_created", table_name="conversations")
    op.drop_index("ix_state_changes_to_state", table_name="state_changes")
