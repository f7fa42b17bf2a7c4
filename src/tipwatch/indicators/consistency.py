"""Cross-source consistency: where two sources give very different figures for the same thing.

The comparisons and their thresholds are data (`reference/data/consistency.yaml`): the same
indicator from two real sources (GLOTIP's aggregate against a country's case records), and
named pairs of related indicators (GLOTIP's detected victims against CTDC's registrations).
Each is made per country and year on totals, between current submissions; synthetic sources
never take part. The report's data-quality annex lists what `discrepancies` finds.
"""

from __future__ import annotations

from functools import cache

import ibis
import ibis.expr.types as ir
import yaml

from tipwatch import reference
from tipwatch.indicators.cube import current_submissions

#: Breakdown columns that must all be ``total`` for a figure to be compared.
_TOTALS = ("sex", "age", "form", "citizenship", "repatriated_to")

COLUMNS = ("comparison", "country", "year", "indicator_a", "source_a", "value_a",
           "indicator_b", "source_b", "value_b", "ratio")


@cache
def comparisons() -> dict:
    """The comparisons of `reference/data/consistency.yaml`, each with its thresholds filled in."""
    spec = yaml.safe_load((reference.DATA / "consistency.yaml").read_text(encoding="utf-8"))
    out = {}
    for c in spec["comparisons"]:
        out[c["id"]] = {**spec["defaults"], **c}
    return out


def _totals(backend) -> ir.Table:
    """Country totals of current real submissions, one row per source, country, year and indicator."""
    obs = backend.table("observations")
    cur = current_submissions(backend, synthetic=False).select(submission_id="id", source="source")
    t = obs.inner_join(cur, "submission_id")
    t = t.filter(t.area_kind == "country", t.value.notnull(), t.status.isin(["reported", "computed"]),
                 *(t[c] == "total" for c in _TOTALS))
    # A source may give one figure twice in one release (GLOTIP's rows "labelled alike"): take
    # the larger, as the report does not add them.
    return t.group_by(["source", "area", "year", "indicator"]).agg(value=t.value.max())


def discrepancies(backend, countries: list[str] | None = None, years: tuple[int, int] | None = None) -> ir.Table:
    """Figures of two sources that differ by more than the comparison's thresholds.

    Args:
        backend: An ibis backend over a store.
        countries: Only these countries (ISO3); None for all.
        years: Only these years, inclusive; None for all.

    Returns:
        The columns of `COLUMNS`, ordered by comparison, country, year and indicator;
        ``ratio`` is the larger value over the smaller (a zero against a positive figure has
        no ratio, and is listed when the difference alone is large enough).
    """
    totals = _totals(backend)
    if countries is not None:
        totals = totals.filter(totals.area.isin(list(countries)))
    if years is not None:
        totals = totals.filter(totals.year.between(*years))
    parts = []
    for cid, c in comparisons().items():
        a, b = totals.view(), totals.view()
        if c.get("same_indicator"):
            pair = a.inner_join(b, [a.area == b.area, a.year == b.year, a.indicator == b.indicator,
                                    a.source < b.source])
        else:
            a = a.filter(a.source == c["a"]["source"], a.indicator == c["a"]["indicator"])
            b = b.filter(b.source == c["b"]["source"], b.indicator == c["b"]["indicator"])
            pair = a.inner_join(b, [a.area == b.area, a.year == b.year])
        t = pair.select(
            comparison=ibis.literal(cid), country=a.area, year=a.year.cast("int64"),
            indicator_a=a.indicator, source_a=a.source, value_a=a.value,
            indicator_b=b.indicator, source_b=b.source, value_b=b.value,
        )
        hi = ibis.greatest(t.value_a, t.value_b)
        lo = ibis.least(t.value_a, t.value_b)
        t = t.mutate(ratio=ibis.ifelse(lo > 0, hi / lo, ibis.null("float64")))
        far = (t.ratio.isnull() | (t.ratio >= c["ratio"])) & ((hi - lo) >= c["min_difference"])
        parts.append(t.filter(far))
    out = ibis.union(*parts)
    return out.select(*COLUMNS).order_by(["comparison", "country", "year", "indicator_a"])





def released(backend, aud, countries: list[str] | None = None, years: tuple[int, int] | None = None):
    """`discrepancies` as a table an audience may see (the privacy layer's one exit).

    Both values are counts of persons or offences: a value from 1 to k−1 is withheld, and the
    ratio with it.

    Args:
        backend: An ibis backend over a store.
        aud: The audience (`tipwatch.privacy.audience`).
        countries: Only these countries (ISO3); None for all.
        years: Only these years, inclusive; None for all.

    Returns:
        A pandas DataFrame marked as released for ``aud``.
    """
    from tipwatch.privacy import release_wide

    table = discrepancies(backend, countries, years).to_pandas()
    return release_wide(table, aud, counts=["value_a", "value_b"], derived={"ratio": ("value_a", "value_b")})
__all__ = ["COLUMNS", "comparisons", "discrepancies", "released"]
