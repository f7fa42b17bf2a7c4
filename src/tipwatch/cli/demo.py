"""`tipwatch demo`: the store from the bundled GLOTIP release, then the ASEAN Progress Report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from tipwatch import settings
from tipwatch.cli import app, out
from tipwatch.cli.imports import summary
from tipwatch.cli.options import Db
from tipwatch.cli.report import run_report

BUNDLED = Path(__file__).resolve().parents[1] / "bundled" / "unodc-glotip-2023" / "data_glotip.xlsx"


@app.command("demo")
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the report.")] = Path("tipwatch-report"),
    db: Db = None,
) -> None:
    """Import UNODC's 2023 GLOTIP release (bundled) and write the ASEAN report 2003–2021."""
    from tipwatch.ingest import import_file
    from tipwatch.store import open_store

    start = time.perf_counter()
    url = settings.resolve_db(db)
    with open_store(url) as store:
        result = import_file(store, BUNDLED)
    verb = "already in the store" if result.unchanged else "imported"
    out.print(f"UNODC GLOTIP release of {result.vintage:%d %B %Y}: {verb} ({url})")
    if not result.unchanged:
        for line in summary(result.report)[:3]:
            out.print(f"  {line}")
    paths = run_report(db, "ASEAN", (2003, 2021), out_dir)
    for kind, path in paths.items():
        out.print(f"wrote {kind.upper()}: {path}")
    out.print(f"done in {time.perf_counter() - start:.1f} s")
