"""Under faults (outbox, per-person questions) (issue 16)

Revision ID: 0005
Revises: 0004

Per-person questions need no table of their own: each is a ``bot_state`` row (etag-checked) keyed
by conversation and person.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reply_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("service_url", sa.Text(), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("activities", sa.JSON(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint("key", name="uq_reply_outbox_key"),
    )
    op.create_index("ix_reply_outbox_state", "reply_outbox", ["state"])
    op.create_index("ix_reply_outbox_created_at", "reply_outbox", ["created_at"])
    # Conversation and team ids are Teams' to choose, of any length: posting needs them whole.
    with op.batch_alter_table("subscription") as batch:
        batch.alter_column(
            "conversation_id", type_=sa.Text(), existing_type=sa.String(length=400), existing_nullable=False
        )
        batch.alter_column(
            "team_id", type_=sa.Text(), existing_type=sa.String(length=400), existing_nullable=True
        )


def downgrade() -> None:
    with op.batch_alter_table("subscription") as batch:
        batch.alter_column(
            "team_id", type_=sa.String(length=400), existing_type=sa.Text(), existing_nullable=True
        )
        batch.alter_column(
            "conversation_id", type_=sa.String(length=400), existing_type=sa.Text(), existing_nullable=False
        )
    op.drop_index("ix_reply_outbox_created_at", table_name="reply_outbox")
    op.drop_index("ix_reply_outbox_state", table_name="reply_outbox")
    op.drop_table("reply_outbox")
