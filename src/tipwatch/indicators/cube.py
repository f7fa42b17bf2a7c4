"""The cube as the indicators see it: current figures only.

Among the submissions of one source and scope, the newest vintage is current (ties go to the
later import), whatever the order in which releases were imported. Older vintages stay in the
store for `tipwatch revisions`.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir


def current_submissions(backend) -> ir.Table:
    """Submissions that are current: newest vintage per source and scope."""
    subs = backend.table("submissions")
    newest = ibis.row_number().over(
        group_by=[subs.source, subs.scope],
        order_by=[subs.vintage.desc(), subs.imported_at.desc(), subs.id.desc()],
    )
    return subs.mutate(_n=newest).filter(ibis._._n == 0).drop("_n")


def current_observations(backend) -> ir.Table:
    """Observations of current submissions."""
    obs = backend.table("observations")
    cur = current_submissions(backend).select(submission_id="id")
    return obs.semi_join(cur, "submission_id")
