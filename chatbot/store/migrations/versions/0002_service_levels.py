"""service levels: ratings, out-of-hours notice, auto-assignment offers

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rating_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("after_hours_notice_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("offered_to", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("offered_agents", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        for column in (
            "offered_agents",
            "offer_expires_at",
            "offered_to",
            "after_hours_notice_at",
            "rated_at",
            "rating_comment",
            "rating",
        ):
            batch_op.drop_column(column)
