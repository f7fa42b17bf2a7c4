"""Settings read from the environment, declared once."""

from __future__ import annotations

import os

DEFAULT_DB = "./tipwatch.duckdb"
DB_ENV = "TIPWATCH_DB"


def resolve_db(db: str | None) -> str:
    """Return the store location: ``--db``, else ``$TIPWATCH_DB``, else ``./tipwatch.duckdb``."""
    return db or os.environ.get(DB_ENV) or DEFAULT_DB
