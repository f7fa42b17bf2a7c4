"""The privacy layer: the one exit for every number tipwatch publishes.

Every output — report, indicator export, later the dashboard and API — asks `release` for the
figures of its audience; nothing reaches a person any other way. This first version applies
*primary suppression*: counts from 1 to k−1 are withheld (k = 5 by default, GLOTIP's own
threshold, so a ``<5`` published by UNODC and a small count computed by tipwatch look alike).
Figures already below threshold at the source stay so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tipwatch.errors import InputError

#: Units whose values are counts of people or events (ratios and shares are not counts).
COUNT_UNITS = frozenset({"persons", "offences", "cases", "requests"})
DEFAULT_K = 5
RELEASED = "tipwatch_released_for"


@dataclass(frozen=True)
class Audience:
    """Who a release is for: ``public``, ``regional`` or ``national:ISO3``."""

    kind: str
    country: str | None = None
    k: int = DEFAULT_K

    @property
    def name(self) -> str:
        return f"national:{self.country}" if self.kind == "national" else self.kind


def audience(text: str, k: int = DEFAULT_K) -> Audience:
    """Parse an audience given on the command line.

    Raises:
        InputError: Not ``public``, ``regional`` or ``national:ISO3``.
    """
    kind, _, country = text.partition(":")
    if kind in ("public", "regional") and not country:
        return Audience(kind, None, k)
    if kind == "national" and len(country) == 3 and country.isalpha():
        return Audience("national", country.upper(), k)
    raise InputError(f"{text} is not an audience: use public, regional or national:ISO3 (e.g. national:THA).")


def release(table: pd.DataFrame, aud: Audience) -> pd.DataFrame:
    """The figures of ``table`` that ``aud`` may see, small counts withheld.

    Args:
        table: A tidy table with at least ``value``, ``status`` and ``unit`` columns.
        aud: The audience.

    Returns:
        A copy, marked as released for ``aud`` (``DataFrame.attrs``); withheld counts have no
        value and the status ``suppressed``.
    """
    out = table.copy()
    small = (
        out["unit"].isin(COUNT_UNITS)
        & out["value"].notna()
        & (out["value"] >= 1)
        & (out["value"] < aud.k)
    )
    out.loc[small, "value"] = np.nan
    out.loc[small, "status"] = "suppressed"
    out.attrs[RELEASED] = aud.name
    return out


def release_wide(table: pd.DataFrame, aud: Audience, counts: list[str],
                 derived: dict[str, str | tuple[str, ...]] | None = None) -> pd.DataFrame:
    """Release a wide table (one count per column), withholding small counts.

    Args:
        table: A table such as an attrition cohort or a cooperation matrix.
        aud: The audience.
        counts: Columns holding counts of persons, cases or requests.
        derived: Columns computed from a count (a share, a median) → the count they rest on. A
            derived value is withheld with its count: a median of three durations describes three
            people.

    Returns:
        A copy with withheld cells set to NaN, marked as released for ``aud``.
    """
    out = table.copy()
    small = {}
    for col in counts:
        v = pd.to_numeric(out[col], errors="coerce")
        small[col] = v.notna() & (v >= 1) & (v < aud.k)
        out[col] = v.mask(small[col])
    for col, bases in (derived or {}).items():
        # A share rests on its numerator and its denominator: withheld when either is.
        hidden = pd.Series(False, index=out.index)
        for base in (bases,) if isinstance(bases, str) else bases:
            hidden |= small[base] | out[base].isna()
        out[col] = pd.to_numeric(out[col], errors="coerce").mask(hidden)
    out.attrs[RELEASED] = aud.name
    return out


def require_released(table: pd.DataFrame, what: str) -> str:
    """Refuse a table that did not pass `release`; return its audience.

    Raises:
        RuntimeError: ``table`` never passed the privacy layer (a defect, not a user error).
    """
    aud = table.attrs.get(RELEASED)
    if aud is None:
        raise RuntimeError(f"{what} was given figures that did not pass tipwatch.privacy.release")
    return aud
