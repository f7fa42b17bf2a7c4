"""What a newer release changed: figure by figure, old value against new.

A figure is identified across releases by `schema.FIGURE_KEY` (area, year, indicator,
breakdowns, the source's label and its rank among alike-labelled rows).
"""

from __future__ import annotations

import ibis
import pandas as pd

from tipwatch.errors import InputError
from tipwatch.store.schema import FIGURE_KEY

COLUMNS = (*FIGURE_KEY, "unit", "old_value", "old_status", "new_value", "new_status", "change")


def releases(backend, source: str | None = None) -> pd.DataFrame:
    """Submissions (of ``source``, or all), as versions: oldest first within each source and scope.

    Columns: ``id, source, scope, vintage, imported_at, rows_stored, version`` (1, 2, … within
    the source and scope, in the order that decides which is current) and ``current``.
    """
    subs = backend.table("submissions")
    if source is not None:
        subs = subs.filter(subs.source == source)
    df = (subs.select("id", "source", "scope", "vintage", "imported_at", "rows_stored")
          .to_pandas().sort_values(["source", "scope", "vintage", "imported_at", "id"], ignore_index=True))
    df["version"] = df.groupby(["source", "scope"]).cumcount() + 1
    df["current"] = df["version"] == df.groupby(["source", "scope"])["version"].transform("max")
    return df


def revisions(backend, source: str = "glotip", old: str | None = None, new: str | None = None) -> pd.DataFrame:
    """Figures that differ between two releases of ``source`` (default: the two newest).

    Returns:
        One row per revised, added or removed figure, with ``change`` saying which.

    Raises:
        InputError: Fewer than two releases of the source are stored.
    """
    rel = releases(backend, source)
    if old is None and new is None and len(rel):
        rel = rel[rel.scope == rel.iloc[-1]["scope"]]
    if len(rel) < 2 and (old is None or new is None):
        raise InputError(
            f"Only {len(rel)} release of {source} is stored: import another release to see what it revised."
        )
    new_id = new or rel.iloc[-1]["id"]
    old_id = old or rel.iloc[-2]["id"]
    obs = backend.table("observations")
    key = list(FIGURE_KEY)
    a = obs.filter(obs.submission_id == old_id).select(*key, "unit", old_value="value", old_status="status")
    b = obs.filter(obs.submission_id == new_id).select(*key, new_unit="unit", new_value="value",
                                                       new_status="status")
    j = a.outer_join(b, key)
    cols = {k: ibis.coalesce(j[k], j[f"{k}_right"]) for k in key}
    j = j.select(**cols, unit=ibis.coalesce(j.unit, j.new_unit), old_value=j.old_value,
                 old_status=j.old_status, new_value=j.new_value, new_status=j.new_status)
    change = ibis.cases(
        (j.old_status.isnull(), "added"),
        (j.new_status.isnull(), "removed"),
        else_="revised",
    )
    differs = (
        j.old_status.isnull() | j.new_status.isnull() | (j.old_status != j.new_status)
        | (j.old_value.isnull() != j.new_value.isnull())
        | (j.old_value != j.new_value).fill_null(False)
    )
    res = j.filter(differs).mutate(change=change).order_by(key).to_pandas()
    res.attrs["old"], res.attrs["new"] = old_id, new_id
    return res[list(COLUMNS)]
