"""Differential privacy for public releases: OpenDP's discrete Laplace on tipwatch's own counts.

Only counts tipwatch computes from records (status ``computed``, country rows) are noised: a
figure a source already published (GLOTIP's) is public as it stands, and noise would only make
it wrong. Noise goes on the finest cells — those that are no relation's total — and every
total is then the sum of its noisy parts, so a table still adds up after noise (a region is
the sum of its members, a total the sum of its sex or age parts). A noisy count below zero is
set to zero before the sums are taken (post-processing, which costs no privacy).

Budget: ``epsilon`` is the budget of one release. Within one indicator and year a person is
counted once ("persons, not cases"), in one finest cell, so adding or removing a person moves
that table's cells by 1 in total (L1 sensitivity 1). The budget is split evenly over the
tables noised (basic composition): ``epsilon / tables`` each, and the ε OpenDP reports for each
table's measurement is added up into the release's total, which the output's metadata and the
report state.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd

from tipwatch.errors import MissingExtraError
from tipwatch.privacy.primary import COUNT_UNITS
from tipwatch.privacy.relations import Structure

MECHANISM = "discrete Laplace (OpenDP make_laplace on integers), L1 sensitivity 1 per indicator and year"


def _opendp():
    try:
        import opendp.prelude as dp
    except ImportError:
        raise MissingExtraError("Differential privacy", "dp") from None
    dp.enable_features("contrib")
    return dp


def leaves(table: pd.DataFrame, s: Structure) -> np.ndarray:
    """The cells that get noise: tipwatch's own country counts that are no relation's total."""
    totals = np.zeros(len(s.values), dtype=bool)
    coo = s.matrix.tocoo()
    totals[coo.col[coo.data > 0]] = True
    regional = table["members"].notna().to_numpy() if "members" in table else np.zeros(len(table), dtype=bool)
    own = (table["status"].to_numpy(dtype=object) == "computed") & table["unit"].isin(COUNT_UNITS).to_numpy() \
        & table["value"].notna().to_numpy() & ~regional
    return own & ~totals[: s.cells]


def resum(values: np.ndarray, s: Structure) -> np.ndarray:
    """Every total set to the sum of its parts, innermost first, until nothing changes."""
    v = np.concatenate([values, s.values[s.cells:]]).astype(float)
    coo = s.matrix.tocoo()
    total_of = np.full(s.matrix.shape[0], -1)
    total_of[coo.row[coo.data > 0]] = coo.col[coo.data > 0]
    parts = s.matrix.multiply(s.matrix < 0).tocsr()
    for _ in range(16):
        new = v.copy()
        new[total_of] = -(parts @ v)
        if np.allclose(new, v):
            break
        v = new
    return v[: s.cells]


def noisy_tidy(table: pd.DataFrame, s: Structure, epsilon: float) -> tuple[pd.Series, dict]:
    """Noisy values for a tidy table, and the budget spent.

    Args:
        table: The tidy table (`tipwatch.indicators.compute`), index 0..n−1.
        s: Its relations (`relations.tidy`).
        epsilon: The release's privacy budget.

    Returns:
        The new ``value`` column, and the budget record: mechanism, total ε, ε per table,
        tables, noise scale, cells noised, OpenDP version.

    Raises:
        MissingExtraError: OpenDP is not installed (``pip install 'tipwatch[dp]'``).
    """
    dp = _opendp()
    leaf = leaves(table, s)
    groups = table.loc[leaf, ["indicator", "year"]].drop_duplicates()
    n_tables = len(groups)
    values = table["value"].to_numpy(dtype=float).copy()
    record = {"mechanism": MECHANISM, "epsilon": 0.0, "epsilon_per_table": None, "tables": n_tables,
              "scale": None, "cells_noised": int(leaf.sum()), "opendp": _version()}
    if n_tables == 0:
        return pd.Series(values, index=table.index), record
    per_table = epsilon / n_tables
    scale = 1.0 / per_table
    meas = dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=scale)
    spent = 0.0
    codes = table.loc[leaf].groupby(["indicator", "year"], sort=False).ngroup().to_numpy()
    cells = np.flatnonzero(leaf)
    for g in range(n_tables):
        idx = cells[codes == g]
        noisy = meas([int(round(x)) for x in values[idx]])
        values[idx] = np.maximum(np.asarray(noisy, dtype=float), 0.0)
        spent += float(meas.map(d_in=1))
    record.update(epsilon=spent, epsilon_per_table=float(meas.map(d_in=1)), scale=scale)
    keep = np.isnan(table["value"].to_numpy(dtype=float))
    out = resum(np.nan_to_num(values), s)
    out[keep] = np.nan
    return pd.Series(out, index=table.index), record


def _version() -> str | None:
    try:
        return version("opendp")
    except PackageNotFoundError:
        return None
