"""Options shared by several commands, declared once."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from tipwatch.errors import InputError

Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store: a DuckDB file or postgresql:// URL [default: $TIPWATCH_DB, then ./tipwatch.duckdb]",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Lake = Annotated[
    Path | None,
    typer.Option("--lake", help="Read a Parquet lake written by `tipwatch export --parquet` instead of a store."),
]
Engine = Annotated[
    str | None, typer.Option("--engine", help="Engine that reads the --lake: duckdb or spark [default: duckdb]"),
]
Region = Annotated[str, typer.Option("--region", help="Region id, e.g. ASEAN.")]
Years = Annotated[str | None, typer.Option("--years", help="Years as FIRST-LAST, e.g. 2003-2021.")]
Audience = Annotated[
    str, typer.Option("--audience", help="public, regional or national:ISO3: whose figures to release.")
]


def parse_years(text: str | None) -> tuple[int, int] | None:
    """``2003-2021`` → ``(2003, 2021)``; a single year is a one-year span."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d{4})\s*(?:[-–]\s*(\d{4})\s*)?", text)
    if not m:
        raise InputError(f"{text} is not a span of years: write it as FIRST-LAST, e.g. 2003-2021.")
    lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
    if lo > hi:
        raise InputError(f"{text} runs backwards: write the first year first, e.g. {hi}-{lo}.")
    return lo, hi
