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
        assert MigrationContext.configure(conn).get_current_revision() == "0002"
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
