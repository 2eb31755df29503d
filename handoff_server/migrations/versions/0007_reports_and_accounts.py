"""FAQ decisions for reports, question embeddings for grouping, deactivated accounts.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create faq_decisions; index conversations; add question embeddings, agents' active."""
    op.create_table(
        "faq_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("faq_id", sa.String(255)),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_faq_decisions"),
    )
    op.create_index(
        "ix_faq_decisions_reports", "faq_decisions", ["created_at", "kind", "sender_id"]
    )
    op.create_index("ix_faq_decisions_sender_id", "faq_decisions", ["sender_id"])
    op.create_index("ix_conversations_sender_id", "conversations", ["sender_id"])
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.add_column(sa.Column("embedding", sa.JSON))
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("tokens_valid_after", sa.Double))


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("tokens_valid_after")
        batch.drop_column("active")
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.drop_column("embedding")
    op.drop_index("ix_conversations_created_at", "conversations")
    op.drop_index("ix_conversations_sender_id", "conversations")
    op.drop_table("faq_decisions")
