"""two-factor sign-in (TOTP secret, last used step, recovery codes) and staff's private notes on conversations

Revision ID: 0010
Revises: 0009

The TOTP secret is stored encrypted with the server's ``CHATBOT_TOTP_KEY`` (AES-GCM, chatbot/shared/totp.py);
recovery codes only as SHA-256 digests (80 random bits each). Notes are a table of their own, never a kind of
message, so no query that builds what a visitor sees can reach them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("totp_secret", sa.String(length=200), nullable=True))
        users.add_column(sa.Column("totp_pending", sa.String(length=200), nullable=True))
        users.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "recovery_codes",
        sa.Column("code_hash", sa.String(length=64), primary_key=True),
        sa.Column("user_id", sa.String(length=32), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                  index=True),
    )
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "notes",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(length=32),
                  sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("author_name", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notes")
    op.drop_table("recovery_codes")
    with op.batch_alter_table("users") as users:
        users.drop_column("totp_last_step")
        users.drop_column("totp_pending")
        users.drop_column("totp_secret")
