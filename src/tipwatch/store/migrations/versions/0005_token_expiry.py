"""API tokens expire: the moment after which a token is refused (NULL: only when revoked, as
every token created before this revision).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime, nullable=True))


def downgrade() -> None:
    op.drop_column("api_tokens", "expires_at")
