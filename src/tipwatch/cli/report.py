"""`tipwatch report`: the Progress Report as HTML and PDF."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from tipwatch.cli import app, out
from tipwatch.cli.options import Audience, Db, Engine, Lake, Region, Years, parse_years

Out = Annotated[Path, typer.Option("--out", help="Folder to write index.html and report.pdf into.")]
Lang = Annotated[str, typer.Option(
    "--lang", help="Language of the report's text, numbers and dates: en (English) or id (Bahasa Indonesia).")]


def run_report(db: str | None, region: str, years: tuple[int, int], out_dir: Path,
               audience: str = "public", synthetic_casework: bool = False,
               lake: Path | None = None, engine: str | None = None, lang: str = "en") -> dict[str, Path]:
    """Build and write a report, showing progress; return the files written.

    The report reads the store at ``db``, or the Parquet lake ``lake`` through ``engine``, and is
    written in ``lang`` (a language of `tipwatch.report.i18n.LANGUAGES`).
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tipwatch.lake import open_data
    from tipwatch.report.build import build_input
    from tipwatch.report.render import render_report

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  transient=True) as progress:
        task = progress.add_task("computing indicators", total=3)
        with open_data(db, lake, engine) as store:
            inp = build_input(store, region, years, audience, synthetic_casework=synthetic_casework)
        progress.update(task, advance=1, description="drawing charts and writing HTML and PDF")
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = render_report(inp, out_dir, locale=lang)
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
    lake: Lake = None,
    engine: Engine = None,
) -> None:
    """Write the regional Progress Report (HTML and PDF)."""
    from tipwatch.report import i18n

    i18n.check(lang)  # before the store is read: an unknown language fails at once
    start = time.perf_counter()
    paths = run_report(db, region, parse_years(years), out_dir, audience, synthetic_casework=synthetic,
                       lake=lake, engine=engine, lang=lang)
    for kind, path in paths.items():
        out.print(f"wrote {kind.upper()}: {path}")
    out.print(f"report written in {time.perf_counter() - start:.1f} s")
