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


def downgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.drop_index("ix_item_signed_off_on")
        batch.drop_index("ix_item_added_on")
        for name in ("rag_override", "retarget_count", "revised_due_date", "signed_off_on", "added_on"):
            batch.drop_column(name)
