"""The committee's questions (issue 14)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.add_column(sa.Column("added_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("signed_off_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("revised_due_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("retarget_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("rag_override", sa.String(length=16), nullable=True))
        batch.create_index("ix_item_added_on", ["added_on"])
        batch.create_index("ix_item_signed_off_on", ["signed_off_on"])
    # Items already stored joined the tracker when their report was published, else when created.
    op.execute(
        "UPDATE item SET added_on = (SELECT report.published FROM report WHERE report.id = item.report_id) "
        "WHERE added_on IS NULL"
    )
    op.execute("UPDATE item SET added_on = CAST(created_at AS DATE) WHERE added_on IS NULL")
    op.create_table(
        "committee_meeting",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=80), nullable=False, server_default="JAC"),
        sa.Column("met_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_by_aad_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=True),
        sa.Column("source_activity_id", sa.String(length=200), nullable=True),
        sa.UniqueConstraint("name", "met_on", name="uq_committee_meeting_name_met_on"),
    )
    op.create_index("ix_committee_meeting_met_on", "committee_meeting", ["met_on"])
    op.create_table(
        "inspection",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", "starts_on", name="uq_inspection_name_starts_on"),
    )
    op.create_index("ix_inspection_starts_on", "inspection", ["starts_on"])


def downgrade() -> None:
    op.drop_index("ix_inspection_starts_on", table_name="inspection")
    op.drop_table("inspection")
    op.drop_index("ix_committee_meeting_met_on", table_name="committee_meeting")
    op.drop_table("committee_meeting")
    with op.batch_alter_table("item") as batch:
        batch.drop_index("ix_item_signed_off_on")
        batch.drop_index("ix_item_added_on")
        for name in ("rag_override", "retarget_count", "revised_due_date", "signed_off_on", "added_on"):
            batch.drop_column(name)
