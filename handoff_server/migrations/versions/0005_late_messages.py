"""Keep the customer messages that reach a conversation after an agent resolved it.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Mark messages that arrived after resolve."""
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Drop the mark."""
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("late")
