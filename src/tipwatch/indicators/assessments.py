"""External assessments as reports and exports read them: the US TIP Report's tier placements.

An assessment grades a government; it is not a figure of the cube and is never added to one. It
is read here with ibis expressions that run unchanged on DuckDB and PostgreSQL, and leaves
tipwatch, like every number, through the privacy layer, under a unit that is not a count
(``tier``; ``countries`` for the summary), so nothing in it is withheld.

Which placements are current: among the submissions that are current (`cube.current_submissions`:
newest vintage per source and scope), each report year's placements come from the newest one that
covers that year. A tier list of the 2016 report imported beside a 2001–2015 panel adds 2016; a
corrected 2015 list replaces the panel's 2015, and no year ever mixes two releases.
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import ibis.expr.types as ir

from tipwatch import reference
from tipwatch.indicators.cube import current_submissions

#: The series of the ``assessments`` table these functions read.
SERIES = "us_tip_tier"
#: Units under which tiers and the tier summary are released (not counts of people or events).
TIER_UNIT = "tier"
SUMMARY_UNIT = "countries"
#: Columns of `tiers`, in order.
TIER_COLUMNS = ("country", "year", "tier", "value", "status", "unit")
#: Columns of `tier_summary`, in order.
SUMMARY_COLUMNS = ("year", "tier", "rank", "value", "share", "status", "unit")


def tier_labels() -> dict[str, str]:
    """tipwatch's tier codes → their labels (``2WL`` → ``Tier 2 Watch List``), best first."""
    return {str(t["code"]): t["label"] for t in reference.assessment(SERIES)["tiers"]}


def placements(backend, series: str = SERIES) -> ir.Table:
    """The current rows of one series of the ``assessments`` table (every column of the table).

    Args:
        backend: An ibis backend over a store (`Store.ibis`).
        series: The series, e.g. ``us_tip_tier``.
    """
    a = backend.table("assessments")
    a = a.filter(a.series == series)
    subs = current_submissions(backend).select(
        submission_id="id", vintage="vintage", imported_at="imported_at")
    t = a.inner_join(subs, "submission_id")
    releases = t.select("year", "submission_id", "vintage", "imported_at").distinct()
    # Newest release per report year; ties go to the later import, then the id (deterministic).
    newest = ibis.row_number().over(
        group_by=releases.year,
        order_by=[releases.vintage.desc(), releases.imported_at.desc(), releases.submission_id.desc()],
    )
    chosen = releases.mutate(_n=newest).filter(ibis._._n == 0).select("year", "submission_id")
    return t.inner_join(chosen, ["year", "submission_id"]).select(*a.columns)


def _memberships(region: str) -> ir.Table:
    """The region's members with the first and the last year of membership (null: open)."""
    region = reference.region_id(region)
    rows = []
    for m in reference.memberships():
        if m.region == region:
            # A member on 31 December counts for the year (`reference.members`): the year it joined
            # counts, the year it left does not.
            rows.append({"country": m.iso3, "since": m.joined.year if m.joined else None,
                         "until": m.left.year - 1 if m.left else None})
    return ibis.memtable(rows, schema={"country": "string", "since": "int64", "until": "int64"})


def _in_region(t: ir.Table, region: str) -> ir.Table:
    mem = _memberships(region)
    return t.semi_join(mem, [
        t.country == mem.country,
        mem.since.isnull() | (mem.since <= t.year),
        mem.until.isnull() | (mem.until >= t.year),
    ])


def tiers(backend, countries: Iterable[str] | None = None, years: tuple[int, int] | None = None, *,
          region: str | None = None, unranked: bool = False) -> ir.Table:
    """Tier placements by country and report year.

    Args:
        backend: An ibis backend over a store.
        countries: ISO3 codes to keep (default: all).
        years: First and last report year, inclusive (default: all).
        region: Keep the region's members, each for the years it was a member (``ASEAN``).
        unranked: Also give a row, with status ``not_ranked`` and no tier, for each kept country
            and each report year the series covers in which the country has no placement. The
            countries are ``countries``, else the region's members, else every country placed at
            least once.

    Returns:
        ``country, year, tier, value, status, unit``: ``tier`` is tipwatch's code (``1``, ``2``,
        ``2WL``, ``3``, ``special``), ``value`` its rank (1, 2, 2.5, 3; null for a special case
        or not ranked), ``status`` ``reported`` or ``not_ranked``, ``unit`` ``tier``.
    """
    p = placements(backend)
    if years is not None:
        p = p.filter(p.year.between(years[0], years[1]))
    covered = p.select("year").distinct()
    wanted = None if countries is None else sorted(set(countries))
    if wanted is not None:
        p = p.filter(p.country.isin(wanted))
    if region is not None:
        p = _in_region(p, region)
    out = p.select(
        # PostgreSQL types country as VARCHAR(3): one plain string type on every engine, for the union.
        country=p.country.cast("string"), year=p.year.cast("int64"), tier=p.value, value=p.rank.cast("float64"),
        status=ibis.literal("reported"), unit=ibis.literal(TIER_UNIT))
    if unranked:
        if wanted is not None:
            who = ibis.memtable({"country": wanted}, schema={"country": "string"})
        elif region is not None:
            who = _memberships(region).select("country").distinct()
        else:
            who = p.select("country").distinct()
        grid = who.cross_join(covered)
        if region is not None:
            grid = _in_region(grid, region)
        missing = grid.anti_join(out, ["country", "year"]).select(
            country=grid.country.cast("string"), year=grid.year.cast("int64"), tier=ibis.null("string"),
            value=ibis.null("float64"), status=ibis.literal("not_ranked"), unit=ibis.literal(TIER_UNIT))
        out = out.union(missing)
    return out.select(*TIER_COLUMNS)


def tier_years(backend, years: tuple[int, int] | None = None) -> ir.Table:
    """The report years the current placements cover (one column, ``year``)."""
    p = placements(backend)
    if years is not None:
        p = p.filter(p.year.between(years[0], years[1]))
    return p.select(year=p.year.cast("int64")).distinct()


def tier_summary(backend, years: tuple[int, int] | None = None, *, region: str | None = None) -> ir.Table:
    """Number and share of ranked countries per tier per report year.

    A special case has no rank and is not counted (as in Kelley & Heiss's ``map_tiers_summary.csv``,
    whose shares are of the countries ranked that year).

    Args:
        backend: An ibis backend over a store.
        years: First and last report year, inclusive (default: all).
        region: Count only the region's members (default: every country).

    Returns:
        ``year, tier, rank, value, share, status, unit``: ``value`` is the number of countries,
        ``share`` that number over the countries ranked that year (0–1), ``status`` ``computed``,
        ``unit`` ``countries``.
    """
    t = tiers(backend, years=years, region=region)
    ranked = t.filter(t.value.notnull())
    g = ranked.group_by(["year", "tier"]).aggregate(rank=ranked.value.max(), countries=ranked.count())
    ranked_that_year = g.countries.sum().over(group_by=g.year)
    return g.select(
        year=g.year, tier=g.tier, rank=g.rank, value=g.countries.cast("int64"),
        share=g.countries.cast("float64") / ranked_that_year.cast("float64"),
        status=ibis.literal("computed"), unit=ibis.literal(SUMMARY_UNIT),
    ).select(*SUMMARY_COLUMNS)


__all__ = [
    "SERIES", "SUMMARY_COLUMNS", "SUMMARY_UNIT", "TIER_COLUMNS", "TIER_UNIT", "placements", "tier_labels",
    "tier_summary", "tier_years", "tiers",
]
