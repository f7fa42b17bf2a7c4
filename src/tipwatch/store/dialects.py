"""What differs between storage engines, registered per engine.

Each engine registers how to open it with SQLAlchemy, how to hand an ibis backend over the
same data, and how to append many rows at once. The rest of tipwatch never asks which engine
it runs on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from tipwatch.errors import MissingExtraError, StoreError


@dataclass(frozen=True)
class Dialect:
    """How tipwatch talks to one storage engine."""

    name: str
    matches: Callable[[str], bool]
    sqlalchemy_url: Callable[[str], sa.URL]
    ibis_backend: Callable[[sa.Engine], Any]
    bulk_insert: Callable[[sa.Connection, str, pa.Table], None]
    describe: Callable[[str], str]


_DIALECTS: list[Dialect] = []


def register(dialect: Dialect) -> Dialect:
    """Add a storage engine; later registrations win over earlier ones."""
    _DIALECTS.insert(0, dialect)
    return dialect


def for_url(url: str) -> Dialect:
    """Return the engine that handles ``url`` (a PostgreSQL URL or a DuckDB file path)."""
    for dialect in _DIALECTS:
        if dialect.matches(url):
            return dialect
    raise StoreError(f"tipwatch cannot store data at {url!r}: give a DuckDB file or a postgresql:// URL.")


# --- DuckDB: the embedded default ----------------------------------------------------------


def _duckdb_path(url: str) -> str:
    return url.removeprefix("duckdb:///") if url.startswith("duckdb:///") else url


def _duckdb_raw(conn: sa.Connection):
    # duckdb-engine wraps the DuckDB connection; the wrapper forwards attribute access.
    return conn.connection.driver_connection


def _duckdb_ibis(engine: sa.Engine):
    import ibis

    raw = engine.raw_connection()
    duck = raw.driver_connection._ConnectionWrapper__c  # the DuckDB connection itself
    # A cursor is a second connection to the same database instance: it sees committed data
    # and leaves the SQLAlchemy connection's transactions alone.
    return ibis.duckdb.from_connection(duck.cursor())


def _duckdb_bulk(conn: sa.Connection, table: str, rows: pa.Table) -> None:
    raw = _duckdb_raw(conn)
    view = f"_tipwatch_in_{table}"
    raw.register(view, rows)
    try:
        cols = ", ".join(f'"{c}"' for c in rows.column_names)
        raw.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{view}"')
    finally:
        raw.unregister(view)


def _duckdb_url(url: str) -> sa.URL:
    path = _duckdb_path(url)
    if path != ":memory:":
        parent = Path(path).expanduser().resolve().parent
        if not parent.is_dir():
            raise StoreError(f"The folder for the store {path} does not exist.")
    return sa.make_url(f"duckdb:///{path}")


register(
    Dialect(
        name="duckdb",
        matches=lambda url: "://" not in url or url.startswith("duckdb:///"),
        sqlalchemy_url=_duckdb_url,
        ibis_backend=_duckdb_ibis,
        bulk_insert=_duckdb_bulk,
        describe=lambda url: f"DuckDB file {_duckdb_path(url)}",
    )
)


# --- PostgreSQL: multi-user deployments --------------------------------------------------


def _pg_url(url: str) -> sa.URL:
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise MissingExtraError("A PostgreSQL store", "postgres") from exc
    return sa.make_url(url).set(drivername="postgresql+psycopg")


def _pg_ibis(engine: sa.Engine):
    import ibis

    u = engine.url
    return ibis.postgres.connect(
        host=u.host or "localhost",
        port=u.port or 5432,
        user=u.username,
        password=u.password,
        database=u.database,
    )


#: Rows per CSV chunk written to COPY: large enough to keep Python out of the loop, small enough
#: that a chunk's text stays a few megabytes.
_PG_CHUNK = 100_000


def _pg_bulk(conn: sa.Connection, table: str, rows: pa.Table) -> None:
    """COPY the rows in as CSV text written by Arrow, never one Python row at a time.

    Every valid value is quoted and a null is an unquoted empty field, so COPY tells an empty
    text (``""``) from a missing one (NULL).
    """
    import pyarrow.csv as pacsv

    raw = conn.connection.driver_connection  # a psycopg connection, inside our transaction
    cols = ", ".join(f'"{c}"' for c in rows.column_names)
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    with raw.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN WITH (FORMAT csv)') as copy:
        for start in range(0, rows.num_rows, _PG_CHUNK):
            buf = pa.BufferOutputStream()
            pacsv.write_csv(rows.slice(start, _PG_CHUNK), buf, write_options=options)
            copy.write(buf.getvalue().to_pybytes())


register(
    Dialect(
        name="postgresql",
        matches=lambda url: url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")),
        sqlalchemy_url=_pg_url,
        ibis_backend=_pg_ibis,
        bulk_insert=_pg_bulk,
        describe=lambda url: f"PostgreSQL database {sa.make_url(url).database}",
    )
)
