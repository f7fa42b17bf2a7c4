"""`tipwatch report`: the Progress Report as HTML and PDF."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from tipwatch import settings
from tipwatch.cli import app, out
from tipwatch.cli.options import Audience, Db, Region, Years, parse_years

Out = Annotated[Path, typer.Option("--out", help="Folder to write index.html and report.pdf into.")]
Lang = Annotated[str, typer.Option("--lang", help="Language of the report text (en).")]


def run_report(db: str | None, region: str, years: tuple[int, int], out_dir: Path,
               audience: str = "public", synthetic_casework: bool = False) -> dict[str, Path]:
    """Build and write a report, showing progress; return the files written."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tipwatch.report.build import build_input
    from tipwatch.report.render import render_report
    from tipwatch.store import open_store

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  transient=True) as progress:
        task = progress.add_task("computing indicators", total=3)
        with open_store(settings.resolve_db(db)) as store:
            inp = build_input(store, region, years, audience, synthetic_casework=synthetic_casework)
        progress.update(task, advance=1, description="drawing charts and writing HTML and PDF")
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = render_report(inp, out_dir)
        progress.update(task, advance=2)
    return paths


@app.command("report")
def report_cmd(
    db: Db = None,
    region: Region = "ASEAN",
    years: Years = "2003-2021",
    out_dir: Out = Path("tipwatch-report"),
    audience: Audience = "public",
    lang: Lang = "en",
    synthetic: Annotated[bool, typer.Option(
        "--synthetic", help="Fill the case-record chapters from synthetic records (labelled as such).")] = False,
) -> None:
    """Write the regional Progress Report (HTML and PDF)."""
    from tipwatch.errors import InputError

    if lang != "en":
        raise InputError(f"The report is not yet available in {lang!r}: only en.")
    start = time.perf_counter()
    paths = run_report(db, region, parse_years(years), out_dir, audience, synthetic_casework=synthetic)
    for kind, path in paths.items():
        out.print(f"wrote {kind.upper()}: {path}")
    out.print(f"report written in {time.perf_counter() - start:.1f} s")
