"""The attacker: how well can withheld counts be worked out from what is published beside them?

Given a published table and its relations (`relations.Structure`), the attacker takes every
published figure as known and every withheld one as unknown, and solves two linear
programmes per withheld cell (``scipy.optimize.linprog``, HiGHS): the smallest and the largest
value the cell can take while every relation holds and no count is negative. A table is safe
when each sensitive cell's interval is at least the protection width; with primary
suppression alone it is not (a total minus its published parts gives the withheld part).

This is an audit, written apart from `complementary` on purpose: it uses a different solver
interface and knows nothing of how the cells were chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from tipwatch.privacy.complementary import components
from tipwatch.privacy.relations import Structure

#: Slack for the solver's floating point: an interval this much short of the width still passes.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Interval:
    """What the attacker learns about one withheld cell."""

    cell: int
    value: float
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


def intervals(s: Structure, withheld: np.ndarray, targets: np.ndarray | None = None) -> list[Interval]:
    """The attacker's interval for each target cell.

    Args:
        s: The table's cells and relations.
        withheld: Mask of the withheld cells (length ``s.cells`` or all cells); the structure's
            remainders are always unknown.
        targets: Mask of the cells to bound (default: every withheld table cell).

    Returns:
        One `Interval` per target, in cell order.
    """
    n = len(s.values)
    unknown = np.zeros(n, dtype=bool)
    unknown[: len(withheld)] = withheld
    unknown |= s.remainders
    want = np.zeros(n, dtype=bool)
    if targets is None:
        want[: s.cells] = unknown[: s.cells]
    else:
        want[: len(targets)] = targets
    want &= unknown
    out: list[Interval] = []
    idx = np.flatnonzero(unknown)
    if not len(idx):
        return out
    m = s.matrix.tocsc()
    known_part = m[:, ~unknown] @ s.values[~unknown]
    sub = m[:, idx]
    in_relation = np.diff(sub.indptr) > 0
    part_of = components(sub.tocsr())
    for j in np.flatnonzero(want[idx] & ~in_relation):
        c = idx[j]
        out.append(Interval(int(c), float(s.values[c]), float(s.lower[c]), float(s.upper[c])))
    subr = sub.tocsr()
    for part in np.unique(part_of[want[idx] & in_relation]):
        local = np.flatnonzero(part_of == part)
        a = subr[:, local]
        rows = np.flatnonzero(np.diff(a.indptr) > 0)
        a_eq, b_eq = a[rows], -known_part[rows]
        cells = idx[local]
        bounds = list(zip(s.lower[cells], np.where(np.isinf(s.upper[cells]), None, s.upper[cells]), strict=True))
        for j in np.flatnonzero(want[cells]):
            c = np.zeros(len(local))
            c[j] = 1.0
            lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            if lo.status == 2 or hi.status == 2:
                raise ValueError("the published figures contradict the table's relations")
            low = float(lo.fun) if lo.status == 0 else float(s.lower[cells[j]])
            high = float(-hi.fun) if hi.status == 0 else np.inf
            out.append(Interval(int(cells[j]), float(s.values[cells[j]]), low, high))
    return sorted(out, key=lambda i: i.cell)


def recoverable(s: Structure, withheld: np.ndarray, sensitive: np.ndarray, width) -> list[Interval]:
    """The sensitive cells the attacker can place in an interval narrower than ``width``.

    Args:
        s: The table's cells and relations.
        withheld: Mask of withheld cells.
        sensitive: Mask of the cells that must be protected (the counts from 1 to k−1).
        width: The protection width, one number or one per cell.

    Returns:
        The intervals that are too narrow (empty: the table is safe).
    """
    width = np.broadcast_to(np.asarray(width, dtype=float), (len(sensitive),))
    found = intervals(s, withheld, sensitive & withheld[: len(sensitive)])
    bad = [i for i in found if i.width < width[i.cell] - TOLERANCE]
    # A sensitive cell that was published at all is the worst case: known exactly.
    shown = np.flatnonzero(sensitive & ~withheld[: len(sensitive)])
    bad += [Interval(int(c), float(s.values[c]), float(s.values[c]), float(s.values[c])) for c in shown]
    return sorted(bad, key=lambda i: i.cell)
