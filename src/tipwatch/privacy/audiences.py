"""Audiences and what each may see: settings as data, in ``reference/data/privacy.yaml``.

An audience is ``public`` (the published report, dashboard and exports), ``regional`` (the
secretariat) or ``national:ISO3`` (a country's focal point: that country's own figures under
the national settings, every other figure under the public ones).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import yaml

from tipwatch.errors import InputError
from tipwatch.reference import DATA

#: GLOTIP's own threshold: UNODC prints counts from 1 to 4 as "<5".
DEFAULT_K = 5
KINDS = ("public", "regional", "national")


@cache
def settings() -> dict:
    """The privacy settings (``reference/data/privacy.yaml``), read once."""
    return yaml.safe_load((DATA / "privacy.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Audience:
    """Who a release is for, and the disclosure rules that follow from it.

    Attributes:
        kind: ``public``, ``regional`` or ``national``.
        country: The country of a ``national`` audience (ISO3), else None.
        k: Counts from 1 to k−1 are withheld (primary suppression).
        width: Protection width: each withheld count must stay within an interval at least this
            wide for an attacker who solves the published sums.
        complementary: Withhold further figures so that withheld ones cannot be worked out.
        dp: Add discrete Laplace noise (differential privacy) to tipwatch's own counts.
        epsilon: The privacy budget of one release when ``dp`` is on.
        others: For a ``national`` audience, the rules for every other country's figures.
    """

    kind: str
    country: str | None = None
    k: int = DEFAULT_K
    width: float = float(DEFAULT_K)
    complementary: bool = True
    dp: bool = False
    epsilon: float = 1.0
    others: Audience | None = None

    @property
    def name(self) -> str:
        return f"national:{self.country}" if self.kind == "national" else self.kind

    def _per_cell(self, countries, own: float, other: float) -> np.ndarray:
        codes = np.asarray(countries, dtype=object)
        if self.kind != "national" or self.others is None:
            return np.full(len(codes), own, dtype=float)
        return np.where(codes == self.country, own, other).astype(float)

    def k_for(self, countries) -> np.ndarray:
        """The threshold k of each figure, by the country it describes."""
        return self._per_cell(countries, self.k, self.others.k if self.others else self.k)

    def width_for(self, countries) -> np.ndarray:
        """The protection width of each figure, by the country it describes."""
        return self._per_cell(countries, self.width, self.others.width if self.others else self.width)

    def settings_text(self) -> dict[str, str]:
        """How this audience's figures were protected, for a report's settings table."""
        dp = f"on: ε = {self.epsilon:g} for the release (discrete Laplace, OpenDP)" if self.dp else "off"
        return {
            "suppression threshold k": str(self.k),
            "complementary suppression": (f"on: protection width {self.width:g}" if self.complementary
                                          else "OFF: small counts can be worked out by subtraction"),
            "differential privacy": dp,
        }


def _rules(kind: str) -> dict:
    known = settings()["audiences"]
    if kind not in known:
        raise InputError(f"privacy.yaml has no settings for the {kind} audience.")
    return known[kind]


def _from_settings(kind: str, country: str | None) -> Audience:
    r = _rules(kind)
    dp = r.get("differential_privacy") or {}
    return Audience(kind, country, k=int(r.get("k", DEFAULT_K)),
                    width=float(r.get("protection_width", r.get("k", DEFAULT_K))),
                    complementary=bool(r.get("complementary", True)),
                    dp=bool(dp.get("enabled", False)), epsilon=float(dp.get("epsilon", 1.0)))


def audience(text: str, k: int | None = None, *, complementary: bool | None = None,
             dp: bool | None = None, epsilon: float | None = None) -> Audience:
    """Parse an audience given on the command line, with its settings from ``privacy.yaml``.

    Args:
        text: ``public``, ``regional`` or ``national:ISO3``.
        k: Override the threshold (the protection width follows it unless the settings set one).
        complementary: Override complementary suppression (off only to demonstrate the attack).
        dp: Override differential privacy.
        epsilon: Override the privacy budget.

    Raises:
        InputError: Not ``public``, ``regional`` or ``national:ISO3``, or k below 1.
    """
    kind, _, country = text.partition(":")
    if kind in ("public", "regional") and not country:
        aud = _from_settings(kind, None)
    elif kind == "national" and len(country) == 3 and country.isalpha():
        aud = replace(_from_settings("national", country.upper()), others=_from_settings("public", None))
    else:
        raise InputError(f"{text} is not an audience: use public, regional or national:ISO3 (e.g. national:THA).")
    changes: dict = {}
    if k is not None:
        if k < 1:
            raise InputError(f"k = {k} is not a threshold: use 1 (withhold nothing) or more.")
        changes["k"] = int(k)
        changes["width"] = min(aud.width, float(k)) if k < aud.k else aud.width
    if complementary is not None:
        changes["complementary"] = complementary
    if dp is not None:
        changes["dp"] = dp
    if epsilon is not None:
        if epsilon <= 0:
            raise InputError(f"ε = {epsilon} is not a privacy budget: use a positive number, e.g. 1.0.")
        changes["epsilon"] = float(epsilon)
    return replace(aud, **changes) if changes else aud
