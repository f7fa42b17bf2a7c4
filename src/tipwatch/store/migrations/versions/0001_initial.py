"""Initial schema: raw files, submissions, the observations cube.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "raw_files",
        sa.Column("file_hash", sa.String(64), primary_key=True),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("vintage", sa.Date, nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.Column("rows_read", sa.Integer, nullable=False),
        sa.Column("rows_stored", sa.Integer, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
        sa.UniqueConstraint("source", "file_hash", name="uq_submissions_source_file"),
    )
    op.create_table(
        "observations",
        sa.Column("submission_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("area", sa.Text, nullable=False),
        sa.Column("area_kind", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("indicator", sa.Text, nullable=False),
        sa.Column("sex", sa.Text, nullable=False),
        sa.Column("age", sa.Text, nullable=False),
        sa.Column("form", sa.Text, nullable=False),
        sa.Column("citizenship", sa.Text, nullable=False),
        sa.Column("repatriated_to", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("legal_basis", sa.Text, nullable=True),
        sa.Column("sheet", sa.Text, nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("submission_id", "seq", name="pk_observations"),
    )


def downgrade() -> None:
    op.drop_table("observations")
    op.drop_table("submissions")
    op.drop_table("raw_files")
