"""Index conversations by assigned_at for the median wait.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Let the median wait read the latest claims without sorting every conversation."""
    op.create_index("ix_conversations_assigned_at", "conversations", ["assigned_at"])


def downgrade() -> None:
    """Drop the assigned_at index."""
    op.drop_index("ix_conversations_assigned_at", table_name="conversations")
