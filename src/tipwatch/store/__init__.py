"""The store: raw files, submissions and the observations cube, on DuckDB or PostgreSQL.

`open_store` opens (and if need be creates and migrates) the store at a URL. The schema is
`schema.py`; its history is the Alembic migrations in `migrations/`, one for every engine.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.ddl.impl import DefaultImpl

from tipwatch.errors import StoreError
from tipwatch.store import dialects
from tipwatch.store.schema import metadata

MIGRATIONS = Path(__file__).parent / "migrations"


class DuckDBImpl(DefaultImpl):
    """Alembic knows no DuckDB; DuckDB's DDL is close enough to PostgreSQL's."""

    __dialect__ = "duckdb"
    transactional_ddl = True


class Store:
    """An open store. Use as a context manager, or call `close`.

    Args:
        url: A DuckDB file path (``./tipwatch.duckdb``) or a ``postgresql://`` URL.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = dialects.for_url(url)
        self.engine = sa.create_engine(self.dialect.sqlalchemy_url(url))
        try:
            self.migrate()
        except sa.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            raise StoreError(_explain(url, self.dialect.describe(url), exc)) from exc

    def migrate(self) -> None:
        """Bring the schema to the newest migration (a no-op when it is there)."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    @cached_property
    def ibis(self):
        """An ibis backend reading this store (for the indicators)."""
        return self.dialect.ibis_backend(self.engine)

    def raw_content(self, file_hash: str) -> bytes:
        """A stored file's bytes exactly as received (the SHA-256 of the result is ``file_hash``).

        Raises:
            StoreError: The store holds no file with that hash.
        """
        from tipwatch.store.schema import raw_files

        with self.engine.connect() as conn:
            row = conn.execute(sa.select(raw_files.c.content, raw_files.c.content_codec, raw_files.c.size_bytes)
                               .where(raw_files.c.file_hash == file_hash)).first()
        if row is None:
            raise StoreError(f"The store holds no file {file_hash[:12]}….")
        content = bytes(row.content)
        if row.content_codec is None:
            return content
        return pa.decompress(content, decompressed_size=row.size_bytes, codec=row.content_codec, asbytes=True)

    def bulk_insert(self, conn: sa.Connection, table: str, rows: pa.Table) -> None:
        """Append ``rows`` to ``table`` inside the caller's transaction."""
        self.dialect.bulk_insert(conn, table, rows)

    def close(self) -> None:
        """Release connections and the DuckDB file lock."""
        if "ibis" in self.__dict__:
            self.__dict__.pop("ibis").disconnect()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_store(url: str) -> Store:
    """Open the store at ``url``, creating it if it does not exist yet."""
    return Store(url)


def _explain(url: str, what: str, exc: Exception) -> str:
    text = str(getattr(exc, "orig", exc))
    if "lock" in text.lower():
        return f"The {what} is in use by another tipwatch process; close that one and try again."
    if "not a valid DuckDB database" in text or "Invalid Input Error" in text:
        return f"{url} is not a tipwatch store (not a DuckDB database file)."
    if "connection" in text.lower() or "could not" in text.lower():
        return f"Cannot connect to the {what}: {text.splitlines()[0]}"
    return f"Cannot open the {what}: {text.splitlines()[0]}"


__all__ = ["Store", "open_store", "metadata"]
