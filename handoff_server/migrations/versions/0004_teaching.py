"""Let supervisors teach unanswered questions to FAQs, or dismiss them.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Give unanswered questions a status and create the taught_paraphrases table."""
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="open"))
        batch.create_index("ix_unanswered_questions_status", ["status"])
    op.create_table(
        "taught_paraphrases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("faq_id", sa.String(255), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("question_id", sa.Integer),
        sa.Column("taught_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_taught_paraphrases"),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["unanswered_questions.id"],
            name="fk_taught_paraphrases_question_id_unanswered_questions",
        ),
    )


def downgrade() -> None:
    """Drop taught_paraphrases and the status of unanswered questions."""
    op.drop_table("taught_paraphrases")
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.drop_index("ix_unanswered_questions_status")
        batch.drop_column("status")
