"""Indicators: ibis expressions over the cube, run unchanged on DuckDB, PostgreSQL or Spark.

`compute` gives the tidy table of DESIGN.md — one row per country (or region), year,
indicator and breakdown — for a region's members, plus the region's own figures, which state
their coverage (how many members reported, how many reported only ``<5``).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from tipwatch import reference
from tipwatch.indicators import casefile, definitions, victims  # noqa: F401  (register the built-ins)
from tipwatch.indicators.cube import current_observations, current_submissions
from tipwatch.indicators.definitions import NUMBERS
from tipwatch.indicators.registry import Indicator, indicators

COUNTRY_COLUMNS = ("country", "year", "indicator", "sex", "age", "form", "value", "status", "unit", "flag")
TIDY_COLUMNS = (*COUNTRY_COLUMNS, "reporting", "below_threshold", "members")
_TYPES = {
    "country": "string", "year": "int64", "indicator": "string", "sex": "string", "age": "string",
    "form": "string", "value": "float64", "status": "string", "unit": "string", "flag": "string",
    "reporting": "int64", "below_threshold": "int64", "members": "int64",
}


def _members_table(region: str, years: tuple[int, int]) -> ir.Table:
    rows = [
        {"country": iso3, "year": y}
        for y in range(years[0], years[1] + 1)
        for iso3 in reference.members(region, y)
    ]
    return ibis.memtable(rows, schema={"country": "string", "year": "int64"})


def _typed(t: ir.Table) -> ir.Table:
    return t.select(*(t[c].cast(_TYPES[c]).name(c) for c in TIDY_COLUMNS))


def _country_rows(ind: Indicator, obs: ir.Table) -> ir.Table:
    t = ind.compute(obs)
    extra = {} if "flag" in t.columns else {"flag": ibis.null("string")}
    return t.mutate(indicator=ibis.literal(ind.id), unit=ibis.literal(ind.unit), **extra)


def _regional(ind: Indicator, rows: ir.Table, region: str, members: ir.Table) -> ir.Table:
    """A region's figure from its members' figures, with coverage."""
    keys = ["year", "sex", "age", "form"]
    if ind.kind == "count":
        ok = rows.status.isin(NUMBERS)
        g = rows.group_by(keys).agg(
            value=rows.value.sum(where=ok),
            reporting=rows.count(where=ok),
            below_threshold=rows.count(where=rows.status.isin(["below_threshold", "incomplete"])),
        )
        value = g.value
    else:
        ok = rows.status == "computed"
        g = rows.group_by(keys).agg(
            num=rows.num.sum(where=ok),
            den=rows.den.sum(where=ok),
            reporting=rows.count(where=ok),
            below_threshold=rows.count(where=rows.status.isin(["below_threshold", "incomplete"])),
        )
        value = ibis.ifelse(g.den > 0, g.num / g.den * 100.0, ibis.null("float64"))
    n = members.group_by("year").agg(members=members.count())
    g = g.mutate(value=value).inner_join(n, "year")
    flag = (
        ibis.ifelse(g.value > 100.0, "ratio_above_100", ibis.null("string"))
        if ind.kind == "ratio"
        else ibis.null("string")
    )
    return g.select(
        country=ibis.literal(region),
        year=g.year,
        indicator=ibis.literal(ind.id),
        sex=g.sex, age=g.age, form=g.form,
        value=g.value,
        status=ibis.ifelse(g.reporting > 0, "computed", "missing"),
        unit=ibis.literal(ind.unit),
        flag=flag,
        reporting=g.reporting, below_threshold=g.below_threshold, members=g.members,
    )


def compute(backend, *, region: str | None = None, years: tuple[int, int] | None = None,
            only: list[str] | None = None, synthetic: bool = False) -> ir.Table:
    """The tidy indicator table as one ibis expression (nothing runs until it is executed).

    Args:
        backend: An ibis backend over a store (`Store.ibis`).
        region: A region id (``ASEAN``): its members in each year, plus the region's figures.
            None: every country, no regional figures.
        years: First and last year, inclusive. None: every year.
        only: Indicator ids to compute (default: all registered).
        synthetic: Use synthetic submissions only (and never real ones), for demonstrations.
    """
    obs = current_observations(backend, synthetic=synthetic)
    if years is not None:
        obs = obs.filter(obs.year.between(years[0], years[1]))
    members = None
    if region is not None:
        if years is None:
            span = obs.aggregate(lo=obs.year.min(), hi=obs.year.max()).execute().iloc[0]
            years = (int(span.lo), int(span.hi))
        members = _members_table(region, years)
        obs = obs.semi_join(members, [obs.area == members.country, obs.year == members.year])
    parts = []
    for ind in indicators().values():
        if only and ind.id not in only:
            continue
        rows = _country_rows(ind, obs)
        parts.append(_typed(rows.mutate(
            reporting=ibis.null("int64"), below_threshold=ibis.null("int64"), members=ibis.null("int64"))))
        if members is not None:
            parts.append(_typed(_regional(ind, rows, region, members)))
    return ibis.union(*parts)


def change_from_baseline(tidy: ir.Table, baseline_year: int, latest_year: int) -> ir.Table:
    """Each country's (and region's) headline figures in ``baseline_year`` against ``latest_year``.

    Only totals (no breakdown) are compared. ``change`` and ``change_pct`` are null unless both
    years have a number.
    """
    t = tidy.filter((tidy.sex == "total") & (tidy.age == "total") & (tidy.form == "total"))
    b = t.filter(t.year == baseline_year).select(
        "country", "indicator", baseline_year="year", baseline_value="value", baseline_status="status")
    latest = t.filter(t.year == latest_year).select(
        "country", "indicator", latest_year="year", latest_value="value", latest_status="status")
    j = b.outer_join(latest, ["country", "indicator"])
    j = j.select(
        country=ibis.coalesce(j.country, j.country_right),
        indicator=ibis.coalesce(j.indicator, j.indicator_right),
        baseline_year=ibis.literal(baseline_year, "int64"),
        baseline_value=j.baseline_value,
        baseline_status=ibis.coalesce(j.baseline_status, "missing"),
        latest_year=ibis.literal(latest_year, "int64"),
        latest_value=j.latest_value,
        latest_status=ibis.coalesce(j.latest_status, "missing"),
    )
    change = j.latest_value - j.baseline_value
    return j.mutate(
        change=change,
        change_pct=ibis.ifelse(j.baseline_value > 0, change / j.baseline_value * 100.0,
                               ibis.null("float64")),
    )


__all__ = [
    "COUNTRY_COLUMNS", "TIDY_COLUMNS", "Indicator", "change_from_baseline", "compute",
    "current_observations", "current_submissions", "indicators",
]
