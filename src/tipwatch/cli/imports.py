"""`tipwatch import FILE` and `tipwatch validate FILE`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tipwatch import settings
from tipwatch.cli import app, out
from tipwatch.cli.options import Db, Json
from tipwatch.errors import InputError

Format = Annotated[str | None, typer.Option("--format", help="Skip detection: the format's name, e.g. glotip.")]
Vintage = Annotated[
    str | None, typer.Option("--vintage", help="Release date YYYY-MM-DD, for a file that lost its banner.")
]
Crosswalks = Annotated[
    list[Path] | None,
    typer.Option("--crosswalk", help="A crosswalk file of your own (CSV: domain,label,code,basis,note); "
                                      "repeat for several. Tried before the bundled ones."),
]
Year = Annotated[int | None, typer.Option("--year", help="The year the file is about, when it does not say "
                                                         "(e.g. a tier list of one TIP Report).")]


def _vintage(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text} is not a date: write the release date as YYYY-MM-DD.") from None


def _harmonisation(report: dict) -> list[str]:
    """What the crosswalks did: rows each touched, and what nothing could map, with suggestions."""
    h = report.get("harmonisation") or {}
    lines = [f"crosswalk {name}: {n:,} row{'s' if n != 1 else ''}" for name, n in (h.get("crosswalks") or {}).items()]
    for u in h.get("unmapped") or []:
        hint = f"; did you mean {' or '.join(u['suggestions'])}?" if u.get("suggestions") else ""
        rows = f"{u['rows']:,} row{'s' if u['rows'] != 1 else ''}"
        lines.append(f"not mapped: {u['field']} {u['value']!r} ({rows}){hint}")
    return lines


def summary(report: dict) -> list[str]:
    """Human lines for an import report."""
    if "summary" in report:  # a format that words its own report
        return [*report["summary"], *_harmonisation(report), *(f"warning: {w}" for w in report.get("warnings", []))]
    if "tables" in report:  # a case-level submission
        tables = ", ".join(f"{name} {n:,}" for name, n in report["tables"].items())
        return [f"{report['country']}, {report['period'][0]} to {report['period'][1]} ({report['source']})",
                f"rows stored: {tables}",
                f"figures counted into the cube: {report['figures_counted']:,}",
                *(f"warning: {w}" for w in report.get("warnings", []))]
    lines = [
        f"rows read {report['rows_read']:,}; stored {report['rows_stored']:,}; "
        f"exact duplicates collapsed {report['duplicates_collapsed']:,}",
        f"values <5 kept as below threshold: {report['below_threshold']:,}; "
        f"thousands separators removed: {report['thousands_separators']:,}",
    ]
    if report.get("aggregate_rows"):
        agg = ", ".join(f"{k} {v}" for k, v in report["aggregate_rows"].items())
        lines.append(f"UNODC regional aggregate rows (kept apart from countries): {agg}")
    for name, entry in report.get("rows_without_iso3", {}).items():
        lines.append(f"{entry['rows']} rows for {name} had no ISO3 code: stored as {entry['code']}")
    unmapped = report.get("citizenship_unmapped") or {}
    lines.append(f"citizenship labels mapped to codes: {report.get('citizenship_mapped', 0):,} rows; "
                 f"not mappable: {sum(unmapped.values())} rows")
    for label, n in unmapped.items():
        lines.append(f"  not mapped: {label!r} ({n} row{'s' if n > 1 else ''})")
    if report.get("same_label_rows"):
        lines.append(f"rows the source labels alike, kept apart by their order: {report['same_label_rows']}")
    return lines


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="The file to import.", show_default=False)],
    db: Db = None,
    format: Format = None,
    vintage: Vintage = None,
    crosswalk: Crosswalks = None,
    year: Year = None,
    as_json: Json = False,
) -> None:
    """Detect, validate and load a file; on any problem nothing is stored (exit 1)."""
    from tipwatch.ingest import import_file, registry
    from tipwatch.store import open_store

    with open_store(settings.resolve_db(db)) as store:
        result = import_file(store, file, format=format, vintage=_vintage(vintage),
                             crosswalks=tuple(crosswalk or ()), year=year)
    if as_json:
        out.print_json(json.dumps({"submission": result.submission_id, "format": result.format,
                                   "detected": result.detected, "vintage": result.vintage.isoformat(),
                                   "unchanged": result.unchanged, "report": result.report}))
        return
    how = "detected from its content" if result.detected else "as given with --format"
    out.print(f"{escape(file.name)}: {escape(registry.get(result.format).title)} ({how})")
    if result.unchanged:
        out.print(f"{file.name} was imported before (submission {result.submission_id}): nothing changed.")
        return
    out.print(f"[bold]imported[/] {file.name} as {result.format}, release of {result.vintage:%d %B %Y} "
              f"(submission {result.submission_id})")
    for line in summary(result.report):
        out.print(f"  {escape(line)}")


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="The file to check.", show_default=False)],
    format: Format = None,
    vintage: Vintage = None,
    crosswalk: Crosswalks = None,
    year: Year = None,
    as_json: Json = False,
) -> None:
    """Check a file without storing it: every problem, with its line."""
    from tipwatch.ingest import InvalidFile, parse_file

    try:
        _, batch = parse_file(file, format=format, vintage=_vintage(vintage), crosswalks=tuple(crosswalk or ()),
                              year=year)
    except InvalidFile as exc:
        if as_json:
            out.print_json(json.dumps({"valid": False, "problems": exc.as_json()}))
            raise typer.Exit(1) from None
        raise
    if as_json:
        out.print_json(json.dumps({"valid": True, "format": batch.format, "report": batch.report}))
        return
    out.print(f"{file.name}: a valid {batch.format} file, release of {batch.vintage:%d %B %Y}")
    for line in summary(batch.report):
        out.print(f"  {escape(line)}")
