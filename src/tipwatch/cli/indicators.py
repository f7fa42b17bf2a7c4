"""`tipwatch indicators`: the tidy indicator table, released for an audience."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tipwatch import privacy, reference
from tipwatch.cli import app, out
from tipwatch.cli.options import Audience, Db, Engine, Json, Lake, Years, parse_years
from tipwatch.errors import InputError


def released_indicators(db: str | None, region: str | None, years: str | None, audience: str,
                        lake: Path | None = None, engine: str | None = None):
    """The tidy table for ``region`` and ``years``, through the privacy layer.

    The figures come from the store at ``db``, or from the Parquet lake ``lake`` read by ``engine``
    (`tipwatch.lake.open_data`): the same indicator expressions either way.
    """
    from tipwatch.indicators import compute
    from tipwatch.lake import open_data

    aud = privacy.audience(audience)
    if region is not None:
        try:
            region = reference.region_id(region)
        except KeyError as exc:
            raise InputError(str(exc.args[0])) from None
    with open_data(db, lake, engine) as data:
        tidy = compute(data.ibis, region=region, years=parse_years(years)).to_pandas()
    tidy = tidy.sort_values(["indicator", "country", "year", "sex", "age", "form"], ignore_index=True)
    return privacy.release(tidy, aud)


@app.command("indicators")
def indicators_cmd(
    db: Db = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Region id, e.g. ASEAN (default: every country).")
    ] = None,
    years: Years = None,
    audience: Audience = "public",
    fmt: Annotated[str, typer.Option("--format", help="csv, json or parquet.")] = "csv",
    out_file: Annotated[Path | None, typer.Option("--out", help="File to write (default: standard output).")] = None,
    as_json: Json = False,
    lake: Lake = None,
    engine: Engine = None,
) -> None:
    """Write the tidy indicator table: country, year, indicator, sex, age, form, value, status, …"""
    fmt = "json" if as_json else fmt
    if fmt not in ("csv", "json", "parquet"):
        raise InputError(f"{fmt} is not an output format: use csv, json or parquet.")
    if fmt == "parquet" and out_file is None:
        raise InputError("Parquet is binary: give a file with --out.")
    tidy = released_indicators(db, region, years, audience, lake, engine)
    tidy = tidy.astype({"reporting": "Int64", "below_threshold": "Int64", "members": "Int64"})
    if fmt == "parquet":
        tidy.to_parquet(out_file, index=False)
    else:
        text = (tidy.to_csv(index=False, float_format="%.10g") if fmt == "csv"
                else tidy.to_json(orient="records", indent=1))
        if out_file is None:
            sys.stdout.write(text)
            return
        out_file.write_text(text, encoding="utf-8")
    out.print(f"wrote {len(tidy):,} rows to {out_file}", highlight=False)
