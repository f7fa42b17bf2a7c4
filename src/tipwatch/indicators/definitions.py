"""tipwatch's built-in indicators (v1), from aggregate counts such as GLOTIP's.

Counting rules (also printed in the report's methodology annex):

- UNODC counts **persons**, not cases, for persons brought into formal contact, prosecuted and
  convicted; a person counts in the year of the event.
- Only ``Dimension == Total`` figures are unduplicated: the same victims appear again under
  each breakdown, so breakdowns are never summed into totals.
- ``<5`` (status ``below_threshold``) is a count from 1 to 4: never added as a number. A figure
  assembled from several source rows is ``incomplete`` when some of them are ``<5``.
- The conviction ratio is a *period* ratio (convicted in year Y ÷ prosecuted in year Y). It can
  exceed 100% because the two counts are not the same persons; such values are flagged
  ``ratio_above_100`` (Indonesia 2017: 330 convicted, 25 prosecuted).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from tipwatch.indicators.registry import indicators, register

BREAKDOWNS = ("sex", "age", "form")
#: Statuses that carry a number: the source's own, or tipwatch's count from case records.
NUMBERS = ("reported", "computed")


def _rows(obs: ir.Table, source_indicator: str, breakdowns: tuple[str, ...]) -> ir.Table:
    """Country rows of one source indicator, with only the allowed breakdowns."""
    cond = (
        (obs.indicator == source_indicator)
        & (obs.area_kind == "country")
        & (obs.citizenship == "total")
        & (obs.repatriated_to == "total")
    )
    for b in BREAKDOWNS:
        if b not in breakdowns:
            cond &= obs[b] == "total"
    return obs.filter(cond)


def collapse(t: ir.Table) -> ir.Table:
    """One figure per country, year and breakdown, from however many source rows.

    Rows the source labels alike (UNODC folds sub-forms into "Other forms of exploitation")
    are added up, unless one of them is ``<5``: then the figure is ``incomplete``.
    """
    keys = ["area", "year", *BREAKDOWNS]
    g = t.group_by(keys).agg(
        total=t.value.sum(),
        n=t.count(),
        n_reported=t.count(where=t.status == "reported"),
        n_known=t.count(where=t.status.isin(NUMBERS)),
        n_below=t.count(where=t.status == "below_threshold"),
    )
    status = ibis.cases(
        (g.n_reported == g.n, "reported"),
        (g.n_known == g.n, "computed"),  # counted by tipwatch from case records
        (g.n_below == g.n, "below_threshold"),
        (g.n_below > 0, "incomplete"),
        else_="missing",
    )
    return g.select(
        country=g.area,
        year=g.year.cast("int64"),
        sex=g.sex,
        age=g.age,
        form=g.form,
        value=ibis.ifelse(g.n_known == g.n, g.total, ibis.null("float64")),
        status=status,
    )


def count(obs: ir.Table, indicator_id: str) -> ir.Table:
    """A count indicator: the source's figures, collapsed to one per breakdown."""
    ind = _meta(indicator_id)
    return collapse(_rows(obs, indicator_id, tuple(ind.get("breakdowns") or ())))


def ratio(num: ir.Table, den: ir.Table, *, join_on: tuple[str, ...], scale: float = 100.0,
          flag_above: float | None = None, flag: str = "") -> ir.Table:
    """``num / den`` per country and year (and ``join_on`` breakdowns), with its status.

    The result is ``computed`` when both parts are reported numbers and the denominator is
    positive; otherwise it takes the status of the part that stops it (``below_threshold`` first).
    """
    keys = ["country", "year", *join_on]
    n = num.rename(num_value="value", num_status="status")
    d = den.rename(den_value="value", den_status="status").select(
        *keys, "den_value", "den_status"
    )
    j = n.inner_join(d, keys)
    ok = j.num_status.isin(NUMBERS) & j.den_status.isin(NUMBERS) & (j.den_value > 0)
    value = ibis.ifelse(ok, j.num_value / j.den_value * scale, ibis.null("float64"))
    status = ibis.cases(
        (ok, "computed"),
        ((j.num_status == "below_threshold") | (j.den_status == "below_threshold"), "below_threshold"),
        ((j.num_status == "incomplete") | (j.den_status == "incomplete"), "incomplete"),
        else_="missing",
    )
    flagged = (
        ibis.ifelse(ok & (value > flag_above), flag, ibis.null("string"))
        if flag_above is not None
        else ibis.null("string")
    )
    return j.select(
        "country", "year", "sex", "age", "form",
        value=value, status=status, flag=flagged,
        num=ibis.ifelse(ok, j.num_value, ibis.null("float64")),
        den=ibis.ifelse(ok, j.den_value, ibis.null("float64")),
    )


def _meta(indicator_id: str) -> dict:
    from tipwatch import reference

    return next(m for m in reference.indicator_meta() if m["id"] == indicator_id)


def _total(t: ir.Table) -> ir.Table:
    return t.filter((t.sex == "total") & (t.age == "total") & (t.form == "total"))


for _id in ("detected_victims", "persons_formal_contact", "offences", "persons_prosecuted",
            "persons_convicted"):
    register(_id, "count")(lambda obs, _id=_id: count(obs, _id))


@register("victims_female_share", "ratio")
def victims_female_share(obs: ir.Table) -> ir.Table:
    """Female detected victims (all ages) ÷ all detected victims."""
    v = count(obs, "detected_victims")
    female = v.filter((v.sex == "female") & (v.age == "total") & (v.form == "total"))
    return ratio(female.mutate(sex=ibis.literal("total")), _total(v), join_on=("sex", "age", "form"))


@register("victims_child_share", "ratio")
def victims_child_share(obs: ir.Table) -> ir.Table:
    """Detected victims aged 0–17 (both sexes) ÷ all detected victims."""
    v = count(obs, "detected_victims")
    child = v.filter((v.sex == "total") & (v.age == "child") & (v.form == "total"))
    return ratio(child.mutate(age=ibis.literal("total")), _total(v), join_on=("sex", "age", "form"))


@register("victims_form_share", "ratio")
def victims_form_share(obs: ir.Table) -> ir.Table:
    """Detected victims by form of exploitation ÷ all detected victims."""
    v = count(obs, "detected_victims")
    parts = v.filter((v.sex == "total") & (v.age == "total") & (v.form != "total"))
    den = _total(v).drop("form")
    return ratio(parts, den, join_on=("sex", "age"))


@register("conviction_ratio", "ratio")
def conviction_ratio(obs: ir.Table) -> ir.Table:
    """Period ratio: persons convicted in year Y ÷ persons prosecuted in year Y, in percent."""
    conv = _total(count(obs, "persons_convicted"))
    pros = _total(count(obs, "persons_prosecuted"))
    return ratio(conv, pros, join_on=("sex", "age", "form"), flag_above=100.0, flag="ratio_above_100")


__all__ = ["collapse", "count", "indicators", "ratio"]
