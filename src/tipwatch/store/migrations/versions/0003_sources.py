"""Real-world sources: victim records (CTDC and the like), external assessments (US TIP tiers),
and the codec of a stored raw file.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("raw_files", sa.Column("content_codec", sa.Text, nullable=True))
    op.create_table(
        "victim_records",
        sa.Column("submission_id", sa.String(40), nullable=False),
        sa.Column("record_ref", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=True),
        sa.Column("sex", sa.Text, nullable=False),
        sa.Column("age_broad", sa.Text, nullable=True),
        sa.Column("age_group", sa.Text, nullable=False),
        sa.Column("citizenship", sa.Text, nullable=True),
        sa.Column("exploitation_country", sa.Text, nullable=True),
        sa.Column("forced_labour", sa.Boolean, nullable=True),
        sa.Column("sexual_exploitation", sa.Boolean, nullable=True),
        sa.Column("other_exploitation", sa.Boolean, nullable=True),
        sa.Column("forms", sa.Text, nullable=True),
        sa.Column("line", sa.Integer, nullable=False),
    )
    op.create_table(
        "assessments",
        sa.Column("submission_id", sa.String(40), nullable=False),
        sa.Column("series", sa.Text, nullable=False),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("rank", sa.Float, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("line", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("assessments")
    op.drop_table("victim_records")
    op.drop_column("raw_files", "content_codec")
