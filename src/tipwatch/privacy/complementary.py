"""Complementary suppression: withhold further figures so that no withheld count can be worked out.

The method is the protection-level model of cell suppression (Fischetti & Salazar-González,
"Models and algorithms for optimizing cell suppression in tabular data with linear
constraints", *JASA* 95, 2000; Hundepool et al., *Statistical Disclosure Control*, Wiley 2012,
ch. 4), solved by the greedy linear-programming heuristic that τ-ARGUS and sdcTable also offer
beside their optimal models:

- An attacker knows the published figures, the table's relations (`relations`) and that
  counts are not negative. A withheld count is *protected* when the attacker cannot narrow it
  to an interval narrower than the protection width ``w``: concretely, when two other tables
  are consistent with everything published, one where the count is ``LPL = min(value, w)``
  lower and one where it is ``UPL = w − LPL`` higher (so the attacker cannot rule out that
  the cell is empty, nor place it within ``w``).
- Each such alternative table differs from the true one by a *move* ``y`` with
  ``M @ y = 0`` that touches only withheld cells and keeps every cell within what is known
  of it. For each sensitive cell and each direction, a linear programme finds the cheapest
  move (cost: 1 + the value of each published cell it touches, nothing for cells already
  withheld), and the cells it touches are withheld.
- Withholding only grows, so a move found for one cell stays valid for the rest: when it
  ends, every sensitive cell has both its moves, which is exactly what the attacker's linear
  programme (`attack`) would find. Moves found earlier are tried first, so most cells need
  no programme of their own.

The linear programmes are solved with HiGHS (through ``highspy``), one model per connected
part of the table, changed and solved again from the previous basis for each cell. The result
is not the fewest cells possible (that is the optimal model, a mixed-integer programme far
slower on tables this size) but it is always safe.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from tipwatch.privacy.relations import Structure

_EPS = 1e-7


@dataclass
class Result:
    """What complementary suppression did.

    Attributes:
        withheld: Mask over the structure's cells: withheld after complementary suppression.
        complementary: How many published cells it withheld.
        programmes: How many linear programmes it solved.
        unprotectable: Sensitive cells that no set of withheld cells protects (e.g. pinned by
            figures that must stay published); empty for the tables tipwatch builds itself.
    """

    withheld: np.ndarray
    complementary: int = 0
    programmes: int = 0
    unprotectable: list[int] = field(default_factory=list)


_highs_banner_done = False


def _highs():
    """A silent HiGHS instance.

    HiGHS prints a copyright banner on standard output when the first instance of a process is
    built, before any option can be set; CSV that tipwatch writes to standard output must not
    start with it, so that first construction runs with standard output sent to /dev/null.
    """
    global _highs_banner_done
    import highspy

    if _highs_banner_done:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _highs_banner_done = True
    h.setOptionValue("output_flag", False)
    return h


def components(matrix: sp.csr_matrix) -> np.ndarray:
    """The connected part of each cell: cells linked through a chain of relations."""
    n = matrix.shape[1]
    if matrix.shape[0] == 0:
        return np.arange(n)
    a = abs(matrix).astype(bool).astype(np.int8)
    graph = (a.T @ a).tocsr()
    return connected_components(graph, directed=False)[1]


def protection_levels(values: np.ndarray, width: np.ndarray, lower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper protection levels: down to the known floor (0) when ``width`` allows."""
    lpl = np.minimum(values - lower, width)
    return lpl, width - lpl


class _Part:
    """One connected part of the table as a HiGHS model of moves ``y = y⁺ − y⁻``."""

    def __init__(self, h, s: Structure, cells: np.ndarray, withheld: np.ndarray, fixed: np.ndarray) -> None:
        import highspy

        self.h, self.cells = h, cells
        sub = s.matrix[:, cells].tocsr()
        rows = np.flatnonzero(np.diff(sub.indptr) > 0)
        m = sub[rows].tocsc()
        self.k = k = len(cells)
        a = sp.hstack([m, -m]).tocsc()
        self.value = s.values[cells]
        self.up_room = np.where(fixed[cells], 0.0, s.upper[cells] - self.value)
        self.down_room = np.where(fixed[cells], 0.0, self.value - s.lower[cells])
        self.cost = np.where(withheld[cells], 0.0, 1.0 + self.value)
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = 2 * k, m.shape[0]
        lp.col_cost_ = np.concatenate([self.cost, self.cost])
        lp.col_lower_ = np.zeros(2 * k)
        lp.col_upper_ = np.minimum(np.concatenate([self.up_room, self.down_room]), inf)
        lp.row_lower_ = np.zeros(m.shape[0])
        lp.row_upper_ = np.zeros(m.shape[0])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr
        lp.a_matrix_.index_ = a.indices
        lp.a_matrix_.value_ = a.data
        h.clearModel()
        h.passModel(lp)
        self.inf = inf
        self.moves: list[np.ndarray] = []

    def reach(self, p: int) -> tuple[float, float]:
        """How far up and down cell ``p`` can go along the moves found so far."""
        if not self.moves:
            return 0.0, 0.0
        f = np.array(self.moves)
        f = f[np.abs(f[:, p]) > _EPS]
        if not len(f):
            return 0.0, 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            neg, pos = f < -_EPS, f > _EPS
            # Forward (t > 0): cells going down are limited by their room down, up by room up.
            fwd = np.minimum(np.where(neg, self.down_room / -f, np.inf).min(axis=1),
                             np.where(pos, self.up_room / f, np.inf).min(axis=1))
            back = np.minimum(np.where(pos, self.down_room / f, np.inf).min(axis=1),
                              np.where(neg, self.up_room / -f, np.inf).min(axis=1))
        yp = f[:, p]
        up = np.where(yp > 0, fwd * yp, back * -yp)
        down = np.where(yp > 0, back * yp, fwd * -yp)
        return float(up.max()), float(down.max())

    def move(self, p: int, amount: float, up: bool) -> np.ndarray | None:
        """The cheapest move that shifts cell ``p`` by ``amount`` (None: there is none)."""
        import highspy

        h, k = self.h, self.k
        plus, minus = (amount, 0.0) if up else (0.0, amount)
        h.changeColBounds(p, plus, plus)
        h.changeColBounds(k + p, minus, minus)
        h.run()
        ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        y = None
        if ok:
            x = np.asarray(h.getSolution().col_value)
            y = x[:k] - x[k:]
        h.changeColBounds(p, 0.0, min(self.up_room[p], self.inf))
        h.changeColBounds(k + p, 0.0, min(self.down_room[p], self.inf))
        return y

    def withhold(self, local: np.ndarray) -> None:
        """Cells now withheld cost nothing to move through."""
        if len(local):
            self.cost[local] = 0.0
            idx = np.concatenate([local, local + self.k]).astype(np.int32)
            self.h.changeColsCost(len(idx), idx, np.zeros(len(idx)))


def protect(s: Structure, withheld: np.ndarray, sensitive: np.ndarray, width, *,
            fixed: np.ndarray | None = None) -> Result:
    """Withhold further cells until every sensitive cell is protected.

    Args:
        s: The table's cells and relations.
        withheld: Cells already withheld (primary suppression; a structure's remainders are
            always withheld). Length ``s.cells`` or all cells.
        sensitive: Cells to protect (length as ``withheld``).
        width: The protection width, one number or one per cell.
        fixed: Published cells that must stay published (e.g. published by another table).

    Returns:
        The cells withheld afterwards, and what it took.
    """
    n = len(s.values)
    w = np.zeros(n, dtype=bool)
    w[: len(withheld)] = withheld
    w |= s.remainders
    sens = np.zeros(n, dtype=bool)
    sens[: len(sensitive)] = sensitive
    fix = np.zeros(n, dtype=bool)
    if fixed is not None:
        fix[: len(fixed)] = fixed
    fix &= ~w
    wid = np.zeros(n)
    wid[: len(sensitive)] = np.broadcast_to(np.asarray(width, dtype=float), (len(sensitive),))
    result = Result(w.copy())
    if not sens.any() or s.matrix.shape[0] == 0:
        return result
    lpl_all, upl_all = protection_levels(s.values, wid, s.lower)
    part_of = components(s.matrix)
    in_relation = np.diff(s.matrix.tocsc().indptr) > 0
    h = None
    matrix = s.matrix.tocsc()
    for part in np.unique(part_of[sens & in_relation]):
        cells = np.flatnonzero(part_of == part)
        if h is None:
            h = _highs()
        model = _Part(h, Structure(s.values, s.lower, s.upper, matrix, s.cells), cells, result.withheld, fix)
        local = np.flatnonzero(sens[cells])
        # Largest first: its moves are the longest, and often protect the smaller ones too.
        for p in local[np.argsort(-s.values[cells][local], kind="stable")]:
            lpl, upl = lpl_all[cells[p]], upl_all[cells[p]]
            up_now, down_now = model.reach(p)
            for amount, up, have in ((upl, True, up_now), (lpl, False, down_now)):
                if amount <= _EPS or have >= amount - _EPS:
                    continue
                y = model.move(p, amount, up)
                result.programmes += 1
                if y is None:
                    result.unprotectable.append(int(cells[p]))
                    continue
                touched = np.flatnonzero(np.abs(y) > _EPS)
                new = touched[~result.withheld[cells[touched]]]
                result.withheld[cells[new]] = True
                model.withhold(new)
                model.moves.append(np.where(np.abs(y) > _EPS, y, 0.0))
    result.complementary = int((result.withheld & ~w).sum())
    return result
