"""The indicator registry: each indicator is one ibis expression plus its metadata.

Metadata (component, title, unit, definition, counting rule, breakdowns) is data, in
`reference/data/indicators.yaml`; the expression is code, registered here under the same id.
Report, dashboard, API and export all use these definitions; no figure is written twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import ibis.expr.types as ir

from tipwatch import reference

#: How regional figures are made from members' figures: counts are summed, ratios are the
#: ratio of summed numerators and denominators over members that report both.
Kind = Literal["count", "ratio"]


@dataclass(frozen=True)
class Indicator:
    """A registered indicator.

    Attributes:
        id: Stable identifier, e.g. ``detected_victims``.
        kind: ``count`` or ``ratio`` (decides how a region's figure is made).
        compute: Builds the country-level expression from the current observations. It returns
            the columns of `tipwatch.indicators.COUNTRY_COLUMNS`, plus ``num`` and ``den`` for
            ratios.
        meta: The indicator's entry in ``indicators.yaml``.
    """

    id: str
    kind: Kind
    compute: Callable[[ir.Table], ir.Table]
    meta: dict

    @property
    def component(self) -> int:
        return int(self.meta["component"])

    @property
    def unit(self) -> str:
        return self.meta["unit"]

    @property
    def breakdowns(self) -> tuple[str, ...]:
        return tuple(self.meta.get("breakdowns") or ())


_REGISTRY: dict[str, Indicator] = {}


def register(id: str, kind: Kind):
    """Decorator: register ``fn`` as the expression of indicator ``id``.

    Raises:
        KeyError: ``id`` has no entry in ``indicators.yaml`` (every indicator is documented).
    """
    meta = {m["id"]: m for m in reference.indicator_meta()}

    def wrap(fn: Callable[[ir.Table], ir.Table]) -> Callable[[ir.Table], ir.Table]:
        if id not in meta:
            raise KeyError(f"indicator {id} has no metadata in indicators.yaml")
        _REGISTRY[id] = Indicator(id, kind, fn, meta[id])
        return fn

    return wrap


def indicators() -> dict[str, Indicator]:
    """Registered indicators, in the order of ``indicators.yaml``."""
    order = [m["id"] for m in reference.indicator_meta()]
    return {i: _REGISTRY[i] for i in order if i in _REGISTRY}
