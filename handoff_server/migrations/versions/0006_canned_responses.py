"""Keep the canned responses agents insert in their replies, and say where a transfer went.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the canned_responses table and give state transitions a detail."""
    with op.batch_alter_table("transitions") as batch:
        batch.add_column(sa.Column("detail", sa.String(255)))
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("shortcut", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_canned_responses"),
        sa.UniqueConstraint("shortcut", name="uq_canned_responses_shortcut"),
    )


def downgrade() -> None:
    """Drop the canned_responses table and the transitions' detail."""
    op.drop_table("canned_responses")
    with op.batch_alter_table("transitions") as batch:
        batch.drop_column("detail")
