"""`tipwatch assessments`: the US TIP Report tier placements held, or their summary by year."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from tipwatch import privacy, reference, settings
from tipwatch.cli import app, out
from tipwatch.cli.options import Audience, Db, Json, Years, parse_years
from tipwatch.errors import InputError

FORMATS = ("table", "csv", "json")
#: What a cell of the table says for a country the report did not rank that year.
NOT_RANKED = "–"


def released_tiers(db: str | None, region: str | None, years: str | None, audience: str, *,
                   summary: bool) -> pd.DataFrame:
    """Tier placements (or their summary), released for ``audience`` through the privacy layer.

    Raises:
        InputError: Unknown region or audience, or the store holds no placements.
    """
    from tipwatch.indicators import assessments
    from tipwatch.store import open_store

    aud = privacy.audience(audience)
    if region is not None:
        try:
            region = reference.region_id(region)
        except KeyError as exc:
            raise InputError(str(exc.args[0])) from None
    span = parse_years(years)
    with open_store(settings.resolve_db(db)) as store:
        if summary:
            table = assessments.tier_summary(store.ibis, span, region=region).to_pandas()
            table = table.sort_values(["year", "rank"], ignore_index=True)
        else:
            table = assessments.tiers(store.ibis, years=span, region=region, unranked=True).to_pandas()
            table = table.sort_values(["country", "year"], ignore_index=True)
    if table.empty:
        raise InputError("The store holds no US TIP Report tier placements"
                         + (f" for {region}" if region else "") + (f" in {years}" if years else "")
                         + ": import a tier file first (tipwatch import FILE).")
    # Tiers are public assessments, not counts: the privacy layer passes them whole, but they
    # leave through it like every other number.
    released = privacy.release(table, aud)
    if summary:  # numbers of countries, which the release gives back as floats
        released["value"] = released["value"].astype("Int64")
    return released


def _tier_text(tier: object, status: str) -> str:
    return NOT_RANKED if status == "not_ranked" else str(tier)


def _print_table(table: pd.DataFrame, *, summary: bool) -> None:
    from tipwatch.indicators.assessments import tier_labels

    if summary:
        labels = tier_labels()
        t = Table("report year", "tier", "countries", "share")
        for r in table.itertuples():
            t.add_row(str(r.year), labels.get(r.tier, r.tier), f"{r.value:,}", f"{100 * r.share:.1f}%")
        out.print(t)
        return
    years = sorted(table["year"].unique())
    names = reference.countries()
    out.print("US TIP Report tier by report year")
    t = Table("country", *(str(y) for y in years))
    cells = {(r.country, r.year): _tier_text(r.tier, r.status) for r in table.itertuples()}
    for iso in sorted(table["country"].unique()):
        name = names[iso].name if iso in names else iso
        t.add_row(f"{name} ({iso})", *(cells.get((iso, y), "") for y in years))
    # As wide as the years need, whatever the terminal: a folded tier table cannot be read.
    Console(highlight=False, width=max(out.width, 40 + 7 * len(years))).print(t)
    out.print(f"2WL: Tier 2 Watch List; {NOT_RANKED}: not ranked that year; empty: not a member that year.")


@app.command("assessments")
def assessments_cmd(
    db: Db = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Region id, e.g. ASEAN (default: every country).")
    ] = None,
    years: Years = None,
    summary: Annotated[bool, typer.Option("--summary", help="Number and share of ranked countries per tier "
                                                            "per report year, instead of each placement.")] = False,
    audience: Audience = "public",
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    out_file: Annotated[Path | None, typer.Option("--out", help="File to write (default: standard output).")] = None,
    as_json: Json = False,
) -> None:
    """US TIP Report tier placements by country and report year (an external assessment)."""
    fmt = "json" if as_json else fmt
    if fmt not in FORMATS:
        raise InputError(f"{fmt} is not an output format: use table, csv or json.")
    table = released_tiers(db, region, years, audience, summary=summary)
    if fmt == "table":
        _print_table(table, summary=summary)
        return
    if summary:
        table = table[["year", "tier", "value", "share"]].rename(columns={"value": "countries"})
    else:
        table = table[["country", "year", "tier", "value", "status"]].rename(columns={"value": "rank"})
    # Shares keep every digit (repr), so that a summary can be compared to a published one.
    text = (table.to_csv(index=False, lineterminator="\n") if fmt == "csv"
            else json.dumps(json.loads(table.to_json(orient="records")), indent=1) + "\n")
    if out_file is None:
        sys.stdout.write(text)
        return
    out_file.write_text(text, encoding="utf-8")
    out.print(f"wrote {len(table):,} rows to {out_file}", highlight=False)
