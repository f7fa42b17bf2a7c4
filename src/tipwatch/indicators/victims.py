"""Victim records (CTDC's global dataset and the like): the cube's count and the tabulations.

Two things are written here once, as ibis expressions that run unchanged on DuckDB and
PostgreSQL:

- `count_records`: the counting rule that turns victim records into the cube's
  ``victims_registered`` figures (the importer runs it before anything is stored);
- `tabulate`: counts and shares of the stored records of a source's current release, by year,
  sex, age band, citizenship, country of exploitation, flow or form of exploitation — what
  ``tipwatch victims`` prints after the privacy layer.

Counting rule of ``victims_registered`` (also in indicators.yaml and docs/sources.md):
a record counts once, in the year of its registration, in its country of exploitation. Records
without a year or without a known country of exploitation (CTDC's ``0``, or no value) stay in
``victim_records`` but are not counted into the cube: the cube has no "unknown country" area.
Breakdowns: every sex × age group cell with its margins (``total``), and one row per
citizenship with sex and age ``total``; in the cube, ``unknown`` citizenship covers both CTDC's
``0`` and a missing value (the records keep them apart).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from tipwatch.indicators.cube import current_submissions
from tipwatch.indicators.definitions import count
from tipwatch.indicators.registry import register

INDICATOR = "victims_registered"

#: ``--by`` dimensions of `tabulate` → the victim_records columns they group by.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "year": ("year",),
    "sex": ("sex",),
    "age_broad": ("age_broad",),
    "age_group": ("age_group",),
    "citizenship": ("citizenship",),
    "exploitation_country": ("exploitation_country",),
    "flow": ("citizenship", "exploitation_country"),
    "forced_labour": ("forced_labour",),
    "sexual_exploitation": ("sexual_exploitation",),
    "other_exploitation": ("other_exploitation",),
}

#: The code a source uses for "known not to be known" (CTDC's ``0``), as stored.
UNKNOWN = "unknown"


register(INDICATOR, "count")(lambda obs: count(obs, INDICATOR))


def count_records(records: ir.Table, *, weight: str | None = None) -> ir.Table:
    """The cube rows of ``victims_registered`` counted from victim records.

    Args:
        records: Victim records with at least ``year``, ``sex``, ``age_group``, ``citizenship``,
            ``exploitation_country`` and ``line``.
        weight: A column saying how many records each row stands for, when ``records`` holds
            each distinct combination of values once (with its first record's line); None: a
            row is a record.

    Returns:
        One row per country of exploitation (``area``), year and breakdown: ``area, year, sex,
        age, citizenship, value, line`` (``line``: the first record counted, to find it in the
        file), ordered.
    """
    t = records.filter(
        records.year.notnull()
        & records.exploitation_country.notnull()
        & (records.exploitation_country != UNKNOWN)
    )
    t = t.mutate(area=t.exploitation_country, cit=ibis.coalesce(t.citizenship, UNKNOWN))
    total = ibis.literal("total")

    def value(table: ir.Table) -> ir.IntegerScalar:
        return table.count() if weight is None else table[weight].sum()

    parts = []
    for by_sex in (True, False):
        for by_age in (True, False):
            keys = ["area", "year", *(["sex"] if by_sex else []), *(["age_group"] if by_age else [])]
            g = t.group_by(keys).agg(value=value(t), line=t.line.min())
            parts.append(g.select(
                "area", "year",
                sex=g.sex if by_sex else total,
                age=g.age_group if by_age else total,
                citizenship=total,
                value="value", line="line",
            ))
    g = t.group_by(["area", "year", "cit"]).agg(value=value(t), line=t.line.min())
    parts.append(g.select("area", "year", sex=total, age=total, citizenship=g.cit, value="value", line="line"))
    out = ibis.union(*parts)
    return out.order_by(["area", "year", "sex", "age", "citizenship"])


def records(backend, source: str) -> ir.Table:
    """The stored victim records of ``source``'s current submissions (newest release per scope)."""
    subs = current_submissions(backend).filter(ibis._.source == source).select(submission_id="id")
    vr = backend.table("victim_records")
    return vr.semi_join(subs, "submission_id")


def tabulate(backend, *, source: str = "ctdc", by: tuple[str, ...] = (), exclude_unknown: bool = False
             ) -> ir.Table:
    """Counts of victim records by ``by``, with each count's share of all the records selected.

    Args:
        backend: An ibis backend over a store (`Store.ibis`).
        source: The source whose current release is counted (``ctdc``, ``ctdc_synthetic``).
        by: Keys of `DIMENSIONS`, in the order of the output's columns (``flow`` gives
            ``citizenship`` and ``exploitation_country``). None: one row, all records.
        exclude_unknown: Leave out records whose citizenship or country of exploitation is
            ``unknown`` (CTDC's ``0``), as the published CTDC analyses do; records where either
            is missing (no value) are kept.

    Returns:
        The ``by`` columns, ``victims`` (records) and ``share`` (percent of all records selected).
    """
    t = records(backend, source)
    if exclude_unknown:
        for col in ("citizenship", "exploitation_country"):
            t = t.filter(ibis.coalesce(t[col], "") != UNKNOWN)
    cols = list(dict.fromkeys(c for key in by for c in DIMENSIONS[key]))
    g = t.group_by(cols).agg(victims=t.count()) if cols else t.aggregate(victims=t.count())
    # NULLIF: no records at all gives no share, not a division by zero (PostgreSQL raises on one).
    return g.mutate(share=g.victims.cast("float64") * 100.0 / g.victims.sum().over().cast("float64").nullif(0))


__all__ = ["DIMENSIONS", "INDICATOR", "UNKNOWN", "count_records", "records", "tabulate"]
