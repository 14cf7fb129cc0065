"""Meet people where they work in Teams (issue 15)

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
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("aad_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("conversation_id", sa.String(length=400), nullable=True),
        sa.Column("service_url", sa.Text(), nullable=True),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=True),
        sa.Column("remind", sa.Boolean(), nullable=True),
        sa.Column("remind_changed_by", sa.String(length=200), nullable=True),
        sa.Column("remind_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("aad_id", name="uq_person_aad_id"),
    )
    op.create_table(
        "reminder_delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint("person_id", "period", name="uq_reminder_delivery_person_id_period"),
    )


def downgrade() -> None:
    op.drop_table("reminder_delivery")
    op.drop_table("person")
