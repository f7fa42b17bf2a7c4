"""`tipwatch victims`: counts and shares of stored victim records (CTDC), released for an audience."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from tipwatch import privacy, reference, settings
from tipwatch.cli import app, out
from tipwatch.cli.options import Audience, Db, Json
from tipwatch.errors import InputError

FORMATS = ("table", "csv", "json")


def released_victims(db: str | None, source: str, by: list[str], exclude_unknown: bool, audience: str
                     ) -> pd.DataFrame:
    """The tabulation of `tipwatch.indicators.victims.tabulate`, through the privacy layer.

    Raises:
        InputError: An unknown ``--by`` or source, or no records of the source in the store.
    """
    from tipwatch.indicators.victims import DIMENSIONS, tabulate
    from tipwatch.store import open_store

    unknown = [b for b in by if b not in DIMENSIONS]
    if unknown:
        raise InputError(f"{unknown[0]} is not something to count by: use {', '.join(DIMENSIONS)}.")
    if source not in reference.sources():
        raise InputError(f"{source} is not a known source (known: {', '.join(reference.sources())}).")
    aud = privacy.audience(audience)
    with open_store(settings.resolve_db(db)) as store:
        table = tabulate(store.ibis, source=source, by=tuple(by), exclude_unknown=exclude_unknown).to_pandas()
    if table.empty or table["victims"].sum() == 0:
        raise InputError(f"The store holds no {source} victim records: import the file first "
                         "(tipwatch import FILE).")
    cols = [c for c in table.columns if c not in ("victims", "share")]
    if "year" in cols:
        table = table.sort_values(cols, na_position="last", kind="stable", ignore_index=True)
    else:
        table = table.sort_values(["victims", *cols], ascending=[False, *([True] * len(cols))],
                                  na_position="last", kind="stable", ignore_index=True)
    table["victims"] = table["victims"].astype("int64")
    # Counts of persons: 1 to k-1 withheld, and what would give them away: the margins other
    # tabulations publish, and the grand total a share reveals. A share goes with its count.
    return privacy.release_tabulation(table, aud, cols, "victims", {"share": "victims"})


def _cell(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "(missing)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@app.command("victims")
def victims_cmd(
    db: Db = None,
    by: Annotated[list[str] | None, typer.Option(
        "--by", help="Count by: year, sex, age_broad, age_group, citizenship, exploitation_country, flow "
                     "(citizenship → country of exploitation), forced_labour, sexual_exploitation, "
                     "other_exploitation. Repeat for a cross-tabulation.")] = None,
    share: Annotated[bool, typer.Option("--share", help="Add each count's share of all records selected, in %.")
                     ] = False,
    exclude_unknown: Annotated[bool, typer.Option(
        "--exclude-unknown", help="Leave out records whose citizenship or country of exploitation is coded "
                                  "unknown (CTDC's 0); records where they are missing stay.")] = False,
    source: Annotated[str, typer.Option("--source", help="ctdc, or ctdc_synthetic for CTDC's synthetic data.")
                      ] = "ctdc",
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    audience: Audience = "public",
    as_json: Json = False,
) -> None:
    """Count the victim records of a source's current release: by year, sex, age, citizenship, flow, …"""
    fmt = "json" if as_json else fmt
    if fmt not in FORMATS:
        raise InputError(f"{fmt} is not an output format: use {', '.join(FORMATS)}.")
    table = released_victims(db, source, list(by or []), exclude_unknown, audience)
    privacy.require_released(table, "tipwatch victims")
    if not share:
        table = table.drop(columns=["share"])
    if fmt == "csv":
        # float_format: a share with all the digits it has (72.798475…), a count as an integer.
        sys.stdout.write(table.to_csv(index=False, float_format="%.10g"))
        return
    if fmt == "json":
        out.print_json(json.dumps(json.loads(table.to_json(orient="records", double_precision=10))))
        return
    view = Table()
    for col in table.columns:
        view.add_column(col.replace("_", " "), justify="right" if col in ("victims", "share") else "left")
    for row in table.itertuples(index=False):
        cells = []
        for col, value in zip(table.columns, row, strict=True):
            if col == "victims":
                cells.append("<5 (withheld)" if pd.isna(value) else f"{int(value):,}")
            elif col == "share":
                cells.append("–" if pd.isna(value) else f"{value:.2f} %")
            else:
                cells.append(escape(_cell(value)))
        view.add_row(*cells)
    out.print(view)
    total = table["victims"].sum()
    out.print(f"{len(table):,} rows; {int(total):,} records (source {escape(source)}, audience {escape(audience)})")
