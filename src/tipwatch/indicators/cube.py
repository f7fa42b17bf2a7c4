"""The cube as the indicators see it: current figures only.

Among the submissions of one source and scope, the newest vintage is current (ties go to the
later import), whatever the order in which releases were imported. Older vintages stay in the
store for `tipwatch revisions`.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from tipwatch import reference


def current_submissions(backend, synthetic: bool | None = None) -> ir.Table:
    """Submissions that are current: newest vintage per source and scope.

    Args:
        backend: An ibis backend over a store.
        synthetic: True: only synthetic sources (`reference/data/sources.csv`); False: only real
            ones; None: both.
    """
    subs = backend.table("submissions")
    if synthetic is not None:
        flagged = [k for k, v in reference.sources().items() if v["synthetic"]]
        subs = subs.filter(subs.source.isin(flagged) if synthetic else ~subs.source.isin(flagged))
    newest = ibis.row_number().over(
        group_by=[subs.source, subs.scope],
        order_by=[subs.vintage.desc(), subs.imported_at.desc(), subs.id.desc()],
    )
    return subs.mutate(_n=newest).filter(ibis._._n == 0).drop("_n")


def current_observations(backend, *, synthetic: bool = False) -> ir.Table:
    """Observations of current submissions, one source per figure.

    When two sources give the same country, year and indicator (UNODC's aggregate and the
    country's own case records, say), the source with the higher precedence in
    `reference/data/sources.csv` is used. Synthetic submissions are left out unless
    ``synthetic`` is true, and then only synthetic ones are used: they never mix with real data.
    """
    obs = backend.table("observations")
    known = reference.sources()
    prec = ibis.memtable(
        [{"source": k, "precedence": v["precedence"], "synthetic": v["synthetic"]} for k, v in known.items()],
        schema={"source": "string", "precedence": "int64", "synthetic": "boolean"},
    )
    cur = current_submissions(backend).select(submission_id="id", source="source")
    cur = cur.left_join(prec, "source").select(
        "submission_id", precedence=ibis.coalesce(ibis._.precedence, 0),
        synthetic=ibis.coalesce(ibis._.synthetic, False))
    cur = cur.filter(cur.synthetic == synthetic)
    t = obs.inner_join(cur, "submission_id")
    best = t.precedence.max().over(group_by=[t.area, t.year, t.indicator])
    t = t.mutate(_best=best)
    return t.filter(t.precedence == t._best).select(*obs.columns)
