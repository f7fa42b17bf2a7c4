"""One schema, one migration history, on both engines."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.migration import MigrationContext

from tipwatch.store import open_store
from tipwatch.store.schema import metadata


def test_migrations_create_exactly_the_schema(store_url):
    """The tables the migrations make have the columns `schema.py` declares, on each engine.

    (Read from information_schema: SQLAlchemy's reflection does not work on DuckDB.)
    """
    with open_store(store_url) as store, store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0005"
        for table in metadata.sorted_tables:
            rows = conn.execute(sa.text(
                "select column_name, is_nullable from information_schema.columns "
                "where table_name = :t order by ordinal_position"), {"t": table.name}).all()
            assert [(r[0], r[1] == "YES") for r in rows] == [
                (c.name, bool(c.nullable) and not c.primary_key) for c in table.columns]


def test_opening_twice_migrates_once(store_url):
    open_store(store_url).close()
    with open_store(store_url) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from alembic_version").scalar() == 1


def test_db_from_environment(tmp_path, monkeypatch):
    from tipwatch.settings import resolve_db

    monkeypatch.setenv("TIPWATCH_DB", str(tmp_path / "env.duckdb"))
    assert resolve_db(None) == str(tmp_path / "env.duckdb")
    assert resolve_db("other.duckdb") == "other.duckdb"
    monkeypatch.delenv("TIPWATCH_DB")
    assert resolve_db(None) == "./tipwatch.duckdb"


def test_every_received_file_comes_back_byte_for_byte(store_url, tmp_path):
    """Raw files are stored compressed; what comes back is what was received (its SHA-256 is its key)."""
    import hashlib
    import shutil

    from tipwatch.ingest import import_file
    from tipwatch.ingest.template import EXAMPLE
    from tipwatch.store.schema import raw_files

    folder = tmp_path / "tha"
    shutil.copytree(EXAMPLE, folder)
    with open_store(store_url) as store:
        result = import_file(store, folder)
        with store.engine.connect() as conn:
            (file_hash, codec, size), = conn.execute(
                sa.select(raw_files.c.file_hash, raw_files.c.content_codec, raw_files.c.size_bytes)).all()
        content = store.raw_content(file_hash)
    assert codec == "lz4" and result.submission_id.endswith(file_hash[:24])
    assert len(content) == size and hashlib.sha256(content).hexdigest() == file_hash
