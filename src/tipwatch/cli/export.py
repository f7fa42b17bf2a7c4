"""`tipwatch export`: the store as a Parquet lake, for Spark or any engine that reads Parquet."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from tipwatch import settings
from tipwatch.cli import app, out
from tipwatch.cli.options import Db
from tipwatch.errors import InputError

Parquet = Annotated[
    Path | None,
    typer.Option("--parquet", help="Folder to write the lake into: one hive-partitioned Parquet dataset per table."),
]
Force = Annotated[bool, typer.Option("--force", help="Replace the folder if it exists.")]


@app.command("export")
def export_cmd(db: Db = None, parquet: Parquet = None, force: Force = False) -> None:
    """Write the store as a read-only Parquet lake, for Spark or any engine that reads Parquet.

    Read it back with tipwatch indicators --engine spark --lake DIR (docs/spark.md).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tipwatch.lake import export_lake
    from tipwatch.store import open_store

    if parquet is None:
        raise InputError("Say where to write the lake: tipwatch export --parquet DIR.")
    start = time.perf_counter()
    with open_store(settings.resolve_db(db)) as store, Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            transient=True) as progress:
        task = progress.add_task("exporting", total=None)

        def step(done: int, total: int, table: str) -> None:
            progress.update(task, completed=done, total=total, description=f"exporting {table}")

        manifest = export_lake(store, parquet, replace=force, progress=step)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    out.print(f"wrote a Parquet lake of {len(manifest['tables'])} tables ({rows:,} rows): {parquet}")
    out.print(f"  snapshot {manifest['snapshot'][:12]}…; read it with: tipwatch indicators --engine spark "
              f"--lake {parquet}")
    out.print(f"done in {time.perf_counter() - start:.1f} s")
