"""`tipwatch template`: the blank submission template, or the worked example."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tipwatch.cli import app, out


@app.command("template")
def template_cmd(
    out_file: Annotated[Path, typer.Option("--out", help="Workbook to write.")] = Path("tipwatch-template.xlsx"),
    csv_dir: Annotated[
        Path | None, typer.Option("--csv", help="Also write the CSV files and their Table Schema here.")
    ] = None,
    example: Annotated[bool, typer.Option("--example", help="Fill it with the worked example.")] = False,
) -> None:
    """Write the case-level submission template (a sheet per table, instructions, code lists)."""
    from tipwatch.ingest.template import write_csv, write_workbook

    write_workbook(out_file, example=example)
    out.print(f"wrote {out_file}")
    if csv_dir is not None:
        write_csv(csv_dir, example=example)
        out.print(f"wrote the CSV template and datapackage.json into {csv_dir}")
