"""The additive structure of a published table: which of its figures are sums of which.

Someone who wants a withheld count uses the relations that hold among the published figures:
a total is the sum of its parts. This module writes down, for each kind of table tipwatch
publishes, the relations that actually hold in the numbers released, as a sparse matrix
``M`` with ``M @ values == 0`` (one row per relation: +1 for the total, −1 for each part).
Complementary suppression (`complementary`) protects against them and the attacker
(`attack`) uses them; both read only this `Structure`.

Relations of the tidy indicator table (`tidy`):

- **Breakdowns.** Along each of ``sex``, ``age`` and ``form``, the figure ``total`` and its
  categories, for one indicator, country (or region) and year, the other breakdowns fixed.
  Counts tipwatch computes from records add up exactly. A source such as GLOTIP reports each
  figure separately, so its parts need not add up: a relation is kept only when the numbers
  say so. Parts that fall short of the total leave a *remainder* (records of no published
  category, or a source's ``<5`` parts: then it lies between 1 and 4 for each of them), which
  is a cell nobody sees; parts that exceed the total are no relation at all.
- **Regions.** A region's figure is the sum of its members' numbers (members whose figure is
  a source's ``<5`` are not in it, and say so by their status): exact by construction.

Relations of a wide table (`wide`): a column that is the sum of others in the same row
(cooperation requests: ``sent = executed + refused + pending + withdrawn``), and a column that
counts a subset of another's persons (``prosecuted_within ≤ investigated``: a remainder).

Relations of a tabulation (`lattice`): each cell of a tabulation by some dimensions is the
sum of the cells one dimension finer; the margins (down to the grand total) are the
tabulations by fewer dimensions, which tipwatch publishes as well.

Running totals across years would add one relation per year; tipwatch publishes none today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tipwatch.privacy.primary import COUNT_UNITS, NUMBERS

#: The largest count a source's ``<5`` can hide (GLOTIP: 1 to 4).
BELOW_THRESHOLD_MAX = 4
BREAKDOWNS = ("sex", "age", "form")
#: Relative tolerance when deciding whether published numbers add up.
_TOL = 1e-9


@dataclass
class Structure:
    """The cells of a table and the linear relations among them.

    Attributes:
        values: The true value of every cell: the table's own cells first (``cells`` of them),
            then remainders, which are never published.
        lower: What anyone knows a cell is at least (0 for a count; n for a sum of n ``<5``).
        upper: What anyone knows a cell is at most (infinity unless a ``<5`` bounds it).
        matrix: One row per relation, ``matrix @ values == 0``.
        cells: How many of the cells are the table's own (publishable) cells.
        names: A label per relation (what it sums), for messages and tests.
    """

    values: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    matrix: sp.csr_matrix
    cells: int
    names: list[str] = field(default_factory=list)

    @property
    def remainders(self) -> np.ndarray:
        """Mask of the cells nobody sees (remainders)."""
        mask = np.zeros(len(self.values), dtype=bool)
        mask[self.cells:] = True
        return mask

    def check(self) -> float:
        """The largest violation of a relation by the true values (0 for a consistent table)."""
        if self.matrix.shape[0] == 0:
            return 0.0
        return float(np.abs(self.matrix @ np.nan_to_num(self.values)).max())


class _Builder:
    """Collects relations ``total = Σ parts (+ remainder)`` and builds the `Structure`."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = np.asarray(values, dtype=float)
        self.cells = len(self.values)
        self.rem_values: list[np.ndarray] = []
        self.rem_lower: list[np.ndarray] = []
        self.rem_upper: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.data: list[np.ndarray] = []
        self.n_rel = 0
        self.n_rem = 0
        self.names: list[str] = []

    def add(self, totals: np.ndarray, part_rel: np.ndarray, part_idx: np.ndarray, name: str,
            remainder: np.ndarray | None = None, rem_lower: np.ndarray | None = None,
            rem_upper: np.ndarray | None = None) -> None:
        """Add ``len(totals)`` relations at once.

        Args:
            totals: The cell of each relation's total.
            part_rel: For each part, which relation (0-based, into ``totals``) it belongs to.
            part_idx: For each part, its cell.
            name: What these relations are.
            remainder: Per relation, the remainder's value, or NaN for none.
            rem_lower: Per relation, the remainder's known lower bound.
            rem_upper: Per relation, the remainder's known upper bound.
        """
        m = len(totals)
        if m == 0:
            return
        base = self.n_rel
        self.rows += [base + np.arange(m), base + np.asarray(part_rel)]
        self.cols += [np.asarray(totals), np.asarray(part_idx)]
        self.data += [np.ones(m), -np.ones(len(part_idx))]
        if remainder is not None:
            has = ~np.isnan(remainder)
            r = np.flatnonzero(has)
            ids = self.cells + self.n_rem + np.arange(len(r))
            self.rows.append(base + r)
            self.cols.append(ids)
            self.data.append(-np.ones(len(r)))
            self.rem_values.append(remainder[has])
            self.rem_lower.append((rem_lower if rem_lower is not None else np.zeros(m))[has])
            self.rem_upper.append((rem_upper if rem_upper is not None else np.full(m, np.inf))[has])
            self.n_rem += len(r)
        self.names += [name] * m
        self.n_rel += m

    def build(self) -> Structure:
        n = self.cells + self.n_rem
        if self.n_rel:
            matrix = sp.csr_matrix((np.concatenate(self.data), (np.concatenate(self.rows),
                                    np.concatenate(self.cols))), shape=(self.n_rel, n))
        else:
            matrix = sp.csr_matrix((0, n))
        values = np.concatenate([self.values, _cat(self.rem_values)])
        lower = np.concatenate([np.zeros(self.cells), _cat(self.rem_lower)])
        upper = np.concatenate([np.full(self.cells, np.inf), _cat(self.rem_upper)])
        return Structure(values, lower, upper, matrix, self.cells, self.names)


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) <= _TOL * np.maximum(1.0, np.abs(b))


def _sums(builder: _Builder, key: np.ndarray, is_total: np.ndarray, is_part: np.ndarray,
          is_below: np.ndarray, values: np.ndarray, name: str, exact_only: bool = False) -> None:
    """Relations ``total = Σ parts`` within groups of equal ``key`` (one total per group).

    ``is_below`` marks parts that are a source's ``<5`` (their value unknown, 1 to 4 each).
    """
    if key.size == 0:
        return
    n_keys = int(key.max()) + 1 if key.size else 0
    n_tot = np.bincount(key[is_total], minlength=n_keys)
    tot_of = np.full(n_keys, -1)
    tot_of[key[is_total]] = np.flatnonzero(is_total)
    parts_sum = np.bincount(key[is_part], weights=values[is_part], minlength=n_keys)
    n_parts = np.bincount(key[is_part], minlength=n_keys)
    n_below = np.bincount(key[is_below], minlength=n_keys)
    ok = (n_tot == 1) & ((n_parts + n_below) > 0)
    total_value = np.where(tot_of >= 0, values[np.maximum(tot_of, 0)], np.nan)
    rem = total_value - parts_sum
    exact = _close(total_value, parts_sum) & (n_below == 0)
    if exact_only:
        ok &= exact
    else:
        # A shortfall is a remainder nobody sees; parts exceeding the total are no relation.
        below_fits = (n_below == 0) | ((rem >= n_below - _TOL) & (rem <= BELOW_THRESHOLD_MAX * n_below + _TOL))
        ok &= (exact | (rem > 0)) & below_fits
    keys = np.flatnonzero(ok)
    rel_of = np.full(n_keys, -1)
    rel_of[keys] = np.arange(len(keys))
    part_cells = np.flatnonzero(is_part)
    part_cells = part_cells[rel_of[key[part_cells]] >= 0]
    remainder = np.where(exact[keys], np.nan, np.maximum(rem[keys], 0.0))
    lower = np.where(n_below[keys] > 0, n_below[keys], 0.0)
    upper = np.where(n_below[keys] > 0, BELOW_THRESHOLD_MAX * n_below[keys], np.inf)
    builder.add(tot_of[keys], rel_of[key[part_cells]], part_cells, name, remainder, lower, upper)


def _codes(frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
    if frame.empty:
        return np.zeros(0, dtype=int)
    return frame.groupby(cols, sort=False, dropna=False).ngroup().to_numpy()


def tidy(table: pd.DataFrame) -> Structure:
    """The relations among the counts of a tidy indicator table (`tipwatch.indicators.compute`).

    Args:
        table: Columns ``country, year, indicator, sex, age, form, value, status, unit`` and,
            for regional rows, ``members`` (not null).

    Returns:
        The structure; its cells are the table's rows, in order.
    """
    t = table.reset_index(drop=True)
    values = t["value"].to_numpy(dtype=float)
    status = t["status"].to_numpy(dtype=object)
    count = t["unit"].isin(COUNT_UNITS).to_numpy()
    number = count & np.isin(status, NUMBERS) & ~np.isnan(values)
    below = count & (status == "below_threshold")
    regional = t["members"].notna().to_numpy() if "members" in t else np.zeros(len(t), dtype=bool)
    b = _Builder(np.nan_to_num(values))
    vals = np.nan_to_num(values)
    for dim in BREAKDOWNS:
        others = ["indicator", "country", "year", *(d for d in BREAKDOWNS if d != dim)]
        key = _codes(t, others)
        is_total = number & (t[dim] == "total").to_numpy()
        not_total = (t[dim] != "total").to_numpy()
        _sums(b, key, is_total, number & not_total, below & not_total, vals, f"{dim} breakdown")
    # A region is the sum of its members' numbers; members' "<5" are not in it.
    key = _codes(t, ["indicator", "year", *BREAKDOWNS])
    _sums(b, key, number & regional, number & ~regional, np.zeros(len(t), dtype=bool), vals,
          "region = sum of members", exact_only=True)
    return b.build()


def wide(table: pd.DataFrame, counts: list[str], sums: dict[str, list[str]] | None = None,
         within: dict[str, list[str]] | None = None) -> Structure:
    """The relations within each row of a wide table (one count per column).

    Args:
        table: The table.
        counts: Its count columns; cell ``(row i, counts[j])`` is cell ``i * len(counts) + j``.
        sums: ``total column → part columns`` that add up exactly in every row.
        within: ``column → columns`` each counting a subset of its persons (a remainder each).

    Returns:
        The structure (relations only for rows where every count involved is known).
    """
    n, m = len(table), len(counts)
    vals = np.column_stack([pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float) for c in counts]) \
        if m else np.zeros((n, 0))
    known = ~np.isnan(vals)
    b = _Builder(np.nan_to_num(vals).ravel())
    col = {c: j for j, c in enumerate(counts)}
    rows = np.arange(n)
    for total, parts in (sums or {}).items():
        ok = known[:, col[total]] & np.all([known[:, col[p]] for p in parts], axis=0)
        r = rows[ok]
        pv = sum(vals[r, col[p]] for p in parts)
        r = r[_close(vals[r, col[total]], pv)]
        k = len(r)
        b.add(r * m + col[total], np.repeat(np.arange(k), len(parts)),
              (r[:, None] * m + np.array([col[p] for p in parts])[None, :]).ravel(), f"{total} = sum of parts")
    for total, parts in (within or {}).items():
        for p in parts:
            ok = known[:, col[total]] & known[:, col[p]] & (vals[:, col[p]] <= vals[:, col[total]])
            r = rows[ok]
            rem = vals[r, col[total]] - vals[r, col[p]]
            b.add(r * m + col[total], np.arange(len(r)), r * m + col[p], f"{p} within {total}",
                  np.where(rem > 0, rem, np.nan))
    return b.build()


@dataclass
class Lattice:
    """A tabulation with all its margins, as one table of cells.

    Attributes:
        cells: One row per cell: the ``by`` columns (a margin's summed-out columns hold
            `MARGIN`), ``level`` (how many ``by`` columns it is broken down by) and the count.
        structure: Each cell is the sum of the cells one dimension finer.
    """

    cells: pd.DataFrame
    structure: Structure


#: The value a margin's summed-out dimension holds in `Lattice.cells`.
MARGIN = "\x00all"


def lattice(finest: pd.DataFrame, by: list[str], count: str) -> Lattice:
    """Every tabulation by a subset of ``by`` (down to the grand total), from the finest one.

    Args:
        finest: The tabulation by all of ``by``, one row per combination present (a missing
            combination counts 0); missing values are a category of their own.
        by: Its dimensions.
        count: Its count column.
    """
    frames = []
    for level in range(len(by) + 1):
        for dims in combinations(by, level):
            if dims:
                g = finest.groupby(list(dims), dropna=False, sort=False)[count].sum().reset_index()
            else:
                g = pd.DataFrame({count: [finest[count].sum()]})
            for d in by:
                if d not in dims:
                    g[d] = MARGIN
            g["level"] = level
            frames.append(g[[*by, "level", count]])
    cells = pd.concat(frames, ignore_index=True)
    keys = cells[by].astype(object).where(cells[by].notna(), "\x00missing")
    vals = cells[count].to_numpy(dtype=float)
    b = _Builder(vals)
    for d in by:
        # Each cell with d summed out is the sum of the cells that have a value for d.
        others = [c for c in by if c != d]
        key = _codes(keys, others) if others else np.zeros(len(cells), dtype=int)
        is_total = (keys[d] == MARGIN).to_numpy()
        _sums(b, key, is_total, ~is_total, np.zeros(len(cells), dtype=bool), vals, f"sum over {d}",
              exact_only=True)
    return Lattice(cells, b.build())
