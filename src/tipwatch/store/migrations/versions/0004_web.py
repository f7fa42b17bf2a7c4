"""The web application: people, sessions, API tokens, uploads and their workflow, the audit log,
publications.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("country", sa.String(3), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("format", sa.Text, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("problems", sa.Integer, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("submission_id", sa.String(40), nullable=True),
        sa.Column("restates", sa.String(32), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("logged_at", sa.DateTime, nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.Text, nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("client", sa.Text, nullable=True),
    )
    op.create_table(
        "publications",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("published_at", sa.DateTime, nullable=False),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("first_year", sa.Integer, nullable=False),
        sa.Column("last_year", sa.Integer, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("report_state", sa.String(16), nullable=False),  # building, ready, failed
        sa.Column("report_html", sa.LargeBinary, nullable=True),
        sa.Column("report_pdf", sa.LargeBinary, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("publications")
    op.drop_table("audit_log")
    op.drop_table("uploads")
    op.drop_table("api_tokens")
    op.drop_table("web_sessions")
    op.drop_table("users")
