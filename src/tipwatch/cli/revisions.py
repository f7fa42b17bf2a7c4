"""`tipwatch revisions`: what the newest release changed against the one before."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from tipwatch import privacy, settings
from tipwatch.cli import app, out
from tipwatch.cli.options import Audience, Db, Json


def _fmt(value, status) -> str:
    if status == "below_threshold":
        return "<5"
    if status is None or (isinstance(status, float)):
        return "—"
    if value is None or value != value:
        return status
    return f"{value:,.0f}"


@app.command("revisions")
def revisions_cmd(
    db: Db = None,
    source: Annotated[str, typer.Option("--source", help="Source whose releases to compare.")] = "glotip",
    audience: Audience = "regional",
    limit: Annotated[int, typer.Option("--limit", help="Rows to print (0: all).")] = 50,
    as_json: Json = False,
) -> None:
    """List figures a newer release revised, added or removed (figure, old value, new value)."""
    from tipwatch.store import open_store
    from tipwatch.store.revisions import revisions

    aud = privacy.audience(audience)
    with open_store(settings.resolve_db(db)) as store:
        res = revisions(store.ibis, source)
    # Old and new figures leave through the privacy layer like every other number.
    old = privacy.release(res.rename(columns={"old_value": "value", "old_status": "status"}), aud)
    new = privacy.release(res.rename(columns={"new_value": "value", "new_status": "status"}), aud)
    res = res.assign(old_value=old["value"], old_status=old["status"],
                     new_value=new["value"], new_status=new["status"])
    if as_json:
        out.print_json(json.dumps({"old": res.attrs["old"], "new": res.attrs["new"],
                                   "revisions": json.loads(res.to_json(orient="records"))}))
        return
    counts = res["change"].value_counts().to_dict()
    out.print(f"{res.attrs['new']} against {res.attrs['old']}: "
              + ", ".join(f"{counts.get(k, 0):,} {k}" for k in ("revised", "added", "removed")))
    table = Table("area", "year", "indicator", "breakdown", "old", "new", "change")
    shown = res if limit == 0 else res.head(limit)
    for r in shown.itertuples():
        parts = [p for p in (r.sex, r.age, r.form, r.citizenship, r.repatriated_to) if p != "total"]
        table.add_row(r.area, str(r.year), r.indicator, " ".join(parts) or "total",
                      _fmt(r.old_value, r.old_status), _fmt(r.new_value, r.new_status), r.change)
    out.print(table)
    if limit and len(res) > limit:
        out.print(f"… {len(res) - limit:,} more (--limit 0 shows all, --json for machines)")
