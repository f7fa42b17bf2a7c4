"""`tipwatch privacy`: k-anonymity of victim records before they leave as microdata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tipwatch import reference, settings
from tipwatch.cli import app, out
from tipwatch.cli.options import Db, Json
from tipwatch.errors import InputError

privacy_app = typer.Typer(help="Check and reach k-anonymity of victim records (microdata exports).",
                          no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")

Source = Annotated[str, typer.Option("--source", help="Source of the records: ctdc, or ctdc_synthetic.")]
K = Annotated[int | None, typer.Option("--k", help="Smallest group allowed [default: privacy.yaml, 11 as CTDC].")]
Qi = Annotated[list[str] | None, typer.Option(
    "--qi", help="A quasi-identifier (repeat) [default: privacy.yaml: sex, age_broad, citizenship, "
                 "exploitation_country, year].")]

#: Columns of an export: what a record says, never its reference (that would link it back).
EXPORT = ("year", "sex", "age_broad", "age_group", "citizenship", "exploitation_country",
          "forced_labour", "sexual_exploitation", "other_exploitation")


def _records(db: str | None, source: str, qis: list[str] | None):
    from tipwatch.indicators.victims import records
    from tipwatch.store import open_store

    if source not in reference.sources():
        raise InputError(f"{source} is not a known source (known: {', '.join(reference.sources())}).")
    with open_store(settings.resolve_db(db)) as store:
        recs = records(store.ibis, source).to_pandas()
    if recs.empty:
        raise InputError(f"The store holds no {source} victim records: import the file first (tipwatch import FILE).")
    unknown = [q for q in (qis or []) if q not in recs.columns]
    if unknown:
        raise InputError(f"{unknown[0]} is not a column of victim records: use one of {', '.join(EXPORT)}.")
    return recs.sort_values("line", ignore_index=True)


@privacy_app.command("check")
def check_cmd(db: Db = None, source: Source = "ctdc", k: K = None, qi: Qi = None, as_json: Json = False,
              limit: Annotated[int, typer.Option("--limit", help="Records to list (0: all).")] = 20) -> None:
    """Say which victim records break k-anonymity (exit 1 if any do)."""
    from tipwatch.privacy import kanon

    dk, dq = kanon.defaults()
    k, qis = k or dk, qi or dq
    recs = _records(db, source, qis)
    bad = kanon.check(recs, k, qis)
    if as_json:
        out.print_json(json.dumps({
            "source": source, "k": k, "quasi_identifiers": qis, "records": len(recs), "breaking": len(bad),
            "records_breaking": json.loads(bad[["line", "record_ref", *qis, "group_size"]].to_json(orient="records")),
        }))
    elif bad.empty:
        out.print(f"All {len(recs):,} {escape(source)} records are {k}-anonymous on {', '.join(qis)}.")
    else:
        out.print(f"{len(bad):,} of {len(recs):,} {escape(source)} records are in a group smaller than {k} "
                  f"on {', '.join(qis)}:")
        view = Table("line", "record", *qis, "group size")
        shown = bad if limit == 0 else bad.head(limit)
        for r in shown.itertuples(index=False):
            row = r._asdict()
            view.add_row(str(row["line"]), escape(str(row["record_ref"])),
                         *(escape("(missing)" if row[q] is None or row[q] != row[q] else str(row[q])) for q in qis),
                         str(row["group_size"]))
        out.print(view)
        if limit and len(bad) > limit:
            out.print(f"… {len(bad) - limit:,} more (--limit 0 lists all)")
        out.print("tipwatch privacy export generalises and suppresses them.")
    if not bad.empty:
        raise typer.Exit(1)


@privacy_app.command("export")
def export_cmd(out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
               db: Db = None, source: Source = "ctdc", k: K = None, qi: Qi = None) -> None:
    """Write the victim records k-anonymised: quasi-identifiers generalised, then records suppressed."""
    from tipwatch.privacy import kanon

    dk, dq = kanon.defaults()
    k, qis = k or dk, qi or dq
    recs = _records(db, source, qis)
    res = kanon.anonymise(recs[[c for c in EXPORT if c in recs.columns]], k, qis)
    assert kanon.check(res.records, k, qis).empty  # the export is what the check accepts
    res.records.to_csv(out_file, index=False)
    steps = "; ".join(f"{q} → {' → '.join(s)}" for q, s in res.generalised.items()) or "none"
    out.print(f"wrote {len(res.records):,} records to {escape(str(out_file))}, {k}-anonymous on {', '.join(qis)}")
    out.print(f"generalised: {escape(steps)}; suppressed: {res.suppressed:,} records")
