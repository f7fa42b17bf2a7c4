"""Primary suppression: counts from 1 to k−1 are withheld.

k = 5 by default, GLOTIP's own threshold, so a ``<5`` published by UNODC and a small count
computed by tipwatch look alike. A zero is published: it describes nobody. A figure a source
already withheld (status ``below_threshold``) stays withheld, under its own status.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Units whose values are counts of people or events (ratios and shares are not counts).
COUNT_UNITS = frozenset({"persons", "offences", "cases", "requests"})
#: Statuses that carry a number: the source's own, or tipwatch's count from records.
NUMBERS = ("reported", "computed")
#: The status of a figure tipwatch withheld for the audience (printed ``x``).
SUPPRESSED = "suppressed"


def small(values, k) -> np.ndarray:
    """Which ``values`` are counts from 1 to k−1 (``k`` a number or one per value)."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(v) & (v >= 1) & (v < np.asarray(k, dtype=float))


def sensitive(table: pd.DataFrame, k) -> np.ndarray:
    """The rows of a tidy table whose count must be withheld (``value``, ``status``, ``unit``)."""
    counts = table["unit"].isin(COUNT_UNITS).to_numpy()
    return counts & small(table["value"], k)
