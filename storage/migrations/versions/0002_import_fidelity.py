"""Real trackers in (import fidelity) (issue 13)

Revision ID: 0002
Revises: 0001

- report.published_precision: day | month | year | financial_year ("2019" stays a year).
- item.extra_columns: the force's own columns the tracker has no column for, by header.
- item.import_base: what the last import set per field, for the three-way merge of files with no
  version column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report") as batch:
        batch.add_column(
            sa.Column("published_precision", sa.String(length=16), nullable=False, server_default="day")
        )
    with op.batch_alter_table("item") as batch:
        batch.add_column(sa.Column("extra_columns", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("import_base", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.drop_column("import_base")
        batch.drop_column("extra_columns")
    with op.batch_alter_table("report") as batch:
        batch.drop_column("published_precision")
