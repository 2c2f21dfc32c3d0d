"""handoff index: state changes towards a person, found without reading every change (the admin dashboard)

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


def downgrade() -> None:
    op.drop_index("ix_state_changes_to_state", table_name="state_changes")
