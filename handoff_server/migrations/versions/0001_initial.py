"""Create the handoff tables.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

OPEN_HANDOFF = sa.text("state IN ('queued', 'assigned')")


def upgrade() -> None:
    """Create every table of the first release."""
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("last_seen_at", sa.Double),
        sa.PrimaryKeyConstraint("id", name="pk_agents"),
        sa.UniqueConstraint("username", name="uq_agents_username"),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("page_url", sa.Text),
        sa.Column("kiosk_id", sa.String(255)),
        sa.Column("kiosk_location", sa.String(255)),
        sa.Column("locale", sa.String(35)),
        sa.Column("customer_name", sa.String(255)),
        sa.Column("customer_email", sa.String(255)),
        sa.Column("customer_phone", sa.String(64)),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("sentiment", sa.Double),
        sa.Column("summary", sa.Text),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("assignee_id", sa.Integer),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("notified_position", sa.Integer),
        sa.Column("offline_contact", sa.String(255)),
        sa.Column("rating", sa.Integer),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("assigned_at", sa.Double),
        sa.Column("closed_at", sa.Double),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["agents.id"], name="fk_conversations_assignee_id_agents"
        ),
    )
    op.create_index("ix_conversations_queue", "conversations", ["state", "priority", "created_at"])
    op.create_index(
        "uq_conversations_open_sender",
        "conversations",
        ["sender_id"],
        unique=True,
        sqlite_where=OPEN_HANDOFF,
        postgresql_where=OPEN_HANDOFF,
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("agent_id", sa.Integer),
        sa.Column("idempotency_key", sa.String(255)),
        sa.Column("intent", sa.String(255)),
        sa.Column("confidence", sa.Double),
        sa.Column("sentiment", sa.Double),
        sa.Column("faq_hits", sa.JSON),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_messages_conversation_id_conversations",
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_messages_agent_id_agents"),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_id_seq"),
        sa.UniqueConstraint(
            "conversation_id", "idempotency_key", name="uq_messages_conversation_id_idempotency_key"
        ),
    )
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, nullable=False),
        sa.Column("agent_id", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notes"),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name="fk_notes_conversation_id_conversations"
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_notes_agent_id_agents"),
    )
    op.create_index("ix_notes_conversation_id", "notes", ["conversation_id"])
    op.create_table(
        "transitions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transitions"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_transitions_conversation_id_conversations",
        ),
    )
    op.create_index("ix_transitions_conversation_id", "transitions", ["conversation_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    event_sequence = op.create_table(
        "event_sequence",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_event_sequence"),
    )
    op.bulk_insert(event_sequence, [{"id": 1, "last_event_id": 0}])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("intent", sa.String(64), nullable=False),
        sa.Column("entities", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("lease_until", sa.Double),
        sa.Column("next_attempt_at", sa.Double, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("delivered_at", sa.Double),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_outbox_conversation_id_conversations",
        ),
    )
    op.create_index("ix_outbox_status", "outbox", ["status"])


def downgrade() -> None:
    """Drop every table of the first release."""
    for table in (
        "outbox",
        "event_sequence",
        "events",
        "transitions",
        "notes",
        "messages",
        "conversations",
        "agents",
    ):
        op.drop_table(table)
