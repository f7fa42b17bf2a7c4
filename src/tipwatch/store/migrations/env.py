"""Alembic environment: one migration history for DuckDB and PostgreSQL.

tipwatch runs migrations itself (`tipwatch.store.migrate`) and hands Alembic an open
connection; there is no alembic.ini to keep in step.
"""

from alembic import context

from tipwatch.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
