"""The Parquet lake: a read-only snapshot of the store that any engine can read, Spark included.

`export_lake` writes the store as one Parquet dataset per table, hive-partitioned by country and
year (`layout`), with a ``manifest.json`` that states the snapshot (the same SHA-256 a report
prints for the store it was made from), every table's columns and types, and its row count.
`Lake` opens one through a registered engine (`engines`: ``duckdb`` in-process, ``spark`` on a
local or real cluster) and, like `tipwatch.store.Store`, exposes ``.ibis``: the indicators,
the case-record analyses and the report run on it unchanged. A lake is never written to after
its export: to refresh it, export again.

Example:
    >>> from tipwatch.lake import Lake, export_lake          # doctest: +SKIP
    >>> export_lake(store, "lake")                           # doctest: +SKIP
    >>> with Lake("lake", engine="spark") as lake:           # doctest: +SKIP
    ...     compute(lake.ibis, region="ASEAN").to_pandas()
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import ibis.expr.datatypes as dt

from tipwatch import __version__
from tipwatch.errors import InputError
from tipwatch.lake import engines
from tipwatch.lake.layout import LAYOUTS, keyed_rows

MANIFEST = "manifest.json"
FORMAT = "tipwatch-lake"
FORMAT_VERSION = 1
#: Rows per Arrow batch streamed from the store to the Parquet writer: bounds the exporter's memory.
BATCH_ROWS = 250_000


@dataclass(frozen=True)
class LakeTable:
    """One table of a lake, as its manifest describes it.

    Attributes:
        name: The store table, and the lake's folder for it.
        folder: Where its Parquet files are.
        rows: How many rows it holds.
        columns: The store's columns in order, with their ibis types.
        partition_by: The partition keys in folder order with their types (a key that is also a
            column has the column's type).
    """

    name: str
    folder: Path
    rows: int
    columns: dict[str, dt.DataType]
    partition_by: dict[str, dt.DataType]


def _manifest(path: Path) -> dict:
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path} is not a tipwatch lake (it has no {MANIFEST}): write one with "
                         "tipwatch export --parquet DIR.") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"The lake's {MANIFEST} cannot be read: {exc}.") from None
    if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
        raise InputError(f"{path} is not a tipwatch lake of version {FORMAT_VERSION}: export it again.")
    return data


class Lake:
    """An open lake. Use as a context manager, or call `close`.

    Args:
        path: The lake's folder (it holds ``manifest.json``).
        engine: A registered engine that reads it (``duckdb``, ``spark``).

    Raises:
        InputError: ``path`` is not a lake, or the engine is unknown.
        MissingExtraError: The engine's optional extra is not installed.
    """

    def __init__(self, path: str | Path, engine: str = "duckdb") -> None:
        self.path = Path(path)
        self.manifest = _manifest(self.path)
        self.snapshot: str = self.manifest["snapshot"]
        self.tables = {
            name: LakeTable(
                name=name, folder=self.path / name, rows=int(spec["rows"]),
                columns={c: dt.dtype(t) for c, t in spec["columns"].items()},
                partition_by={k: dt.dtype(t) for k, t in spec["partition_by"].items()},
            )
            for name, spec in self.manifest["tables"].items()
        }
        #: The registered engine that reads it (`engines.Engine`; not a SQLAlchemy engine).
        self.reader = engines.get(engine)
        self._backend, self._close = self.reader.open(self)

    @property
    def ibis(self):
        """An ibis backend reading this lake (for the indicators), like `Store.ibis`."""
        return self._backend

    def close(self) -> None:
        """Release the engine (a Spark session this lake started is stopped)."""
        if self._close is not None:
            self._close()
            self._close = None

    def __enter__(self) -> Lake:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def export_lake(store, out: str | Path, *, replace: bool = False,
                progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Write ``store`` as a Parquet lake in ``out`` (streamed: no table is held in memory whole).

    The lake is written beside ``out`` first and moved into place when complete, so a folder
    called ``out`` is always a whole snapshot.

    Args:
        store: An open `tipwatch.store.Store` (DuckDB or PostgreSQL).
        out: The lake's folder. It must not exist, or be empty, unless ``replace``.
        replace: Replace an existing lake (or any folder) at ``out``.
        progress: Called as ``progress(done, total, table)`` before each table.

    Returns:
        The manifest written.

    Raises:
        InputError: ``out`` exists and is not empty, and ``replace`` is false.
    """
    from tipwatch.report.build import snapshot_hash
    from tipwatch.store.schema import metadata

    out = Path(out)
    if out.exists() and not replace and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} already exists and is not empty: give another folder, or --force to replace it.")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.with_name(f".{out.name}.partial-{uuid.uuid4().hex[:8]}")
    work.mkdir()
    manifest = {
        "format": FORMAT, "version": FORMAT_VERSION,
        "snapshot": snapshot_hash(store),
        "exported_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "tipwatch": __version__,
        "store_engine": store.dialect.name,
        "tables": {},
    }
    try:
        for i, (name, layout) in enumerate(LAYOUTS.items()):
            if progress is not None:
                progress(i, len(LAYOUTS), name)
            columns = [c.name for c in metadata.tables[name].columns if c.name not in layout.drop]
            expr = keyed_rows(store.ibis, layout, columns)
            schema = expr.schema()
            folder = work / name
            folder.mkdir()
            target = _sql_text(str(folder if layout.partition_by else folder / "data_0.parquet"))
            options = "FORMAT parquet, COMPRESSION zstd"
            if layout.partition_by:
                keys = ", ".join(f'"{k}"' for k in layout.partition_by)
                options += f", PARTITION_BY ({keys}), OVERWRITE_OR_IGNORE"
            write = _WRITERS.get(store.ibis.name, _copy_streamed)
            rows = write(store.ibis, expr, f"TO {target} ({options})")
            manifest["tables"][name] = {
                "rows": int(rows),
                "partition_by": {k: str(schema[k]) for k in layout.partition_by},
                "columns": {c: str(schema[c]) for c in columns},
            }
        if progress is not None:
            progress(len(LAYOUTS), len(LAYOUTS), "manifest")
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    work.rename(out)
    return manifest


def _copy_in_place(backend, expr, copy_to: str) -> int:
    """A DuckDB store writes the files itself: one streaming ``COPY``, no Arrow in between."""
    import ibis

    return backend.con.execute(f"COPY ({ibis.to_sql(expr, dialect='duckdb')}) {copy_to}").fetchone()[0]


def _copy_streamed(backend, expr, copy_to: str) -> int:
    """Any other store streams Arrow batches into an in-memory DuckDB, which writes the files."""
    import duckdb

    writer = duckdb.connect()
    try:
        writer.execute("SET preserve_insertion_order = false")  # lets partitions be written in parallel
        writer.register("_lake_rows", expr.to_pyarrow_batches(chunk_size=BATCH_ROWS))
        return writer.execute(f"COPY (SELECT * FROM _lake_rows) {copy_to}").fetchone()[0]
    finally:
        writer.close()


#: How a store of each engine (ibis backend name) writes a query's rows as Parquet.
_WRITERS: dict[str, Callable[[object, object, str], int]] = {"duckdb": _copy_in_place}


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def open_data(db: str | None = None, lake: str | Path | None = None, engine: str | None = None):
    """What the indicators read: the store at ``db``, or the lake at ``lake`` through ``engine``.

    Both have ``.ibis`` and are context managers, so commands take either.

    Args:
        db: A store URL (default: ``$TIPWATCH_DB``, then ``./tipwatch.duckdb``).
        lake: A lake written by `export_lake`; read instead of a store.
        engine: The engine that reads ``lake`` (default ``duckdb``).

    Raises:
        InputError: An engine without a lake, or both a store and a lake.
    """
    if lake is None:
        if engine is not None:
            raise InputError(f"--engine {engine} reads a Parquet lake: give it with --lake DIR "
                             "(tipwatch export --parquet DIR writes one from the store).")
        from tipwatch import settings
        from tipwatch.store import open_store

        return open_store(settings.resolve_db(db))
    if db is not None:
        raise InputError("Give either --db (a store) or --lake (a Parquet lake), not both.")
    return Lake(lake, engine or "duckdb")


__all__ = ["MANIFEST", "Lake", "LakeTable", "export_lake", "open_data"]
