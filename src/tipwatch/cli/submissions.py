"""`tipwatch submissions`: every submission version kept, and what each changed."""

from __future__ import annotations

import json
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from tipwatch import settings
from tipwatch.cli import app, out
from tipwatch.cli.options import Db, Json


@app.command("submissions")
def submissions_cmd(
    db: Db = None,
    source: Annotated[str | None, typer.Option("--source", help="Only this source (glotip, casefile, …).")] = None,
    as_json: Json = False,
) -> None:
    """List every submission version, which one is current, and what each changed in the cube."""
    from tipwatch.store import open_store
    from tipwatch.store.revisions import releases, revisions

    with open_store(settings.resolve_db(db)) as store:
        rel = releases(store.ibis, source)
        changes = []
        for r in rel.itertuples():
            if r.version == 1:
                changes.append(None)
                continue
            prev = rel[(rel.source == r.source) & (rel.scope == r.scope) & (rel.version == r.version - 1)]
            diff = revisions(store.ibis, r.source, old=prev.iloc[0]["id"], new=r.id)
            changes.append(diff["change"].value_counts().to_dict())
    rel["changes"] = changes
    if as_json:
        out.print_json(json.dumps(json.loads(rel.to_json(orient="records", date_format="iso"))))
        return
    if rel.empty:
        out.print("The store holds no submissions yet: tipwatch import FILE adds one.")
        return
    table = Table("source", "scope", "version", "vintage", "imported", "rows", "current", "changed in the cube")
    for r in rel.itertuples():
        changed = "first version" if r.changes is None else ", ".join(
            f"{r.changes.get(k, 0):,} {k}" for k in ("revised", "added", "removed"))
        table.add_row(r.source, r.scope, str(r.version), f"{pd.Timestamp(r.vintage):%Y-%m-%d}",
                      f"{r.imported_at:%Y-%m-%d %H:%M}",
                      f"{r.rows_stored:,}", "yes" if r.current else "", changed)
    out.print(table)
