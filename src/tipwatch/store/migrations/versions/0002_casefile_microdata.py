"""Case-level microdata: cases, persons, proceedings, services, cooperation requests.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("submission_id", sa.String(40), nullable=False),
        sa.Column("case_ref", sa.Text, nullable=False),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("offence", sa.Text, nullable=True),
        sa.Column("form", sa.Text, nullable=True),
        sa.Column("cross_border", sa.Boolean, nullable=True),
        sa.Column("line", sa.Integer, nullable=False),
    )
    op.create_table(
        "persons",
        sa.Column("submission_id", sa.String(40), nullable=False),
        sa.Column("person_ref", sa.Text, nullable=False),
        sa.Column("case_ref", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("sex", sa.Text, nullable=False),
        sa.Column("age", sa.Integer, nullable=True),
        sa.Column("age_group", sa.Text, nullable=False),
        sa.Column("citizenship", sa.Text, nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
    )
    op.create_table(
        "proceedings",
        sa.Column("submission_id", sa.String(40), nullable=False),
        sa.Column("person_ref", sa.Text, nullable=False),
        sa.Column("case_ref", sa.Text, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("event_date", sa.Date, nullable=False),
        sa.Column("outcome", sa.Text, nullable=True),
        sa.Column("sentence_months", sa.Float, nullable=True),
        sa.Column("fine", sa.Float, nullable=True),
        sa.Column("assets_confiscated", sa.Float, nullable=True),
        sa.Column("line", sa.Integer, nullable=False),
    )
    op.create_table(
        "services",
        sa.Column("submission_id", sa.String(40), nullable=False),
        sa.Column("person_ref", sa.Text, nullable=False),
        sa.Column("case_ref", sa.Text, nullable=False),
        sa.Column("service", sa.Text, nullable=False),
        sa.Column("service_date", sa.Date, nullable=False),
        sa.Column("provider", sa.Text, nullable=True),
        sa.Column("amount", sa.Float, nullable=True),
        sa.Column("line", sa.Integer, nullable=False),
    )
    op.create_table(
        "cooperation_requests",
        sa.Column("submission_id", sa.String(40), nullable=False),
        sa.Column("request_ref", sa.Text, nullable=False),
        sa.Column("case_ref", sa.Text, nullable=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("requesting_country", sa.String(3), nullable=False),
        sa.Column("requested_country", sa.String(3), nullable=False),
        sa.Column("sent_on", sa.Date, nullable=False),
        sa.Column("received_on", sa.Date, nullable=True),
        sa.Column("executed_on", sa.Date, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("refusal_grounds", sa.Text, nullable=True),
        sa.Column("line", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("cooperation_requests", "services", "proceedings", "persons", "cases"):
        op.drop_table(table)
