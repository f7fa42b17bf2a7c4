"""Indexed, read-only access to the released figures of one report.

The report lays out figures that already passed the privacy layer; it never adds, divides or
fills in a number. This module only looks figures up (by country, indicator and year) so that
tables, charts and alternative texts all read the same cell.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from tipwatch.report.fmt import is_percent
from tipwatch.report.i18n import _
from tipwatch.report.model import IndicatorMeta, ReportInput

BELOW_THRESHOLD = "below_threshold"
MISSING = "missing"
SUPPRESSED = "suppressed"
# Assembled from several source rows of which some were <5, so it cannot be added up.
INCOMPLETE = "incomplete"
# Statuses that carry no number even when a value happens to be present.
_NO_NUMBER = frozenset({BELOW_THRESHOLD, MISSING, SUPPRESSED, INCOMPLETE})
# A row is the headline figure when it is not broken down by any of these.
_BREAKDOWNS = ("sex", "age", "form")
TOTAL = "total"


def _num(value: object) -> float | None:
    """A finite float, or None for NaN/None/pd.NA."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _count(value: object) -> int | None:
    number = _num(value)
    return None if number is None else int(number)


@dataclass(frozen=True)
class Figure:
    """One released cell: a country's (or the region's) value of an indicator in a year.

    Attributes:
        country: ISO3 code, or the region id for regional figures.
        year: The year.
        indicator: Indicator id.
        value: The number, or None when withheld or missing.
        status: ``reported``, ``below_threshold``, ``computed``, ``missing``, ``suppressed``, ...
        unit: The indicator's unit.
        flag: An anomaly flag such as ``ratio_above_100``, or None.
        reporting: Regional figures only: members whose number was added.
        below_threshold: Regional figures only: members whose figure was ``<5``.
        members: Regional figures only: members of the region that year.
    """

    country: str
    year: int
    indicator: str
    value: float | None
    status: str
    unit: str
    flag: str | None = None
    reporting: int | None = None
    below_threshold: int | None = None
    members: int | None = None

    @property
    def withheld(self) -> bool:
        """True for a source's ``<5``."""
        return self.status == BELOW_THRESHOLD

    @property
    def number(self) -> float | None:
        """The value when the figure may be shown as a number, else None."""
        return None if self.status in _NO_NUMBER else self.value

    @property
    def has_coverage(self) -> bool:
        """True when the regional coverage counts are known."""
        return self.reporting is not None and self.members is not None


def short_name(inp: ReportInput) -> str:
    """The region's name for running text and tables: "ASEAN" rather than its long form.

    Args:
        inp: The report input.

    Returns:
        The region id when it is an acronym and the full name is long, else the full name.
    """
    rid, name = inp.region_id, inp.region_name
    acronym = rid.isalpha() and rid.isupper() and 3 <= len(rid) <= 8
    return rid if acronym and len(name) > 20 else name


class Figures:
    """The headline figures of a `ReportInput`, indexed for lookup.

    A headline figure is one not broken down (sex, age and form all ``total``). An indicator that
    only exists broken down along one of its breakdowns (the share of victims by form of
    exploitation) is shown as one column per category instead: ``victims_form_share:other``,
    titled "Share of victims by form: other". `indicators` lists what the report shows.

    Args:
        inp: The report input.
    """

    def __init__(self, inp: ReportInput) -> None:
        self.inp = inp
        self.region = inp.region_id
        self.years: list[int] = list(range(inp.years[0], inp.years[1] + 1))
        self.members: list[tuple[str, str]] = list(inp.members)
        self._names = {iso: name for iso, name in inp.members}
        self._names[inp.region_id] = short_name(inp)
        self.meta: dict[str, IndicatorMeta] = {m.id: m for m in inp.indicators}
        self.inp_ids = frozenset(self.meta)
        self._cells: dict[tuple[str, str, int], Figure] = {}
        self.indicators: list[IndicatorMeta] = self._index(inp)

    def _index(self, inp: ReportInput) -> list[IndicatorMeta]:
        tidy = inp.tidy
        rows = tidy.loc[tidy["year"].between(inp.years[0], inp.years[1])]
        present = [c for c in _BREAKDOWNS if c in rows.columns]
        headline: set[str] = set()
        split: dict[str, dict[str, dict[str, list[dict]]]] = {}
        for row in rows.to_dict("records"):
            indicator = str(row["indicator"])
            broken = [(c, str(row[c])) for c in present if str(row[c] or TOTAL) != TOTAL]
            if not broken:
                headline.add(indicator)
                self._add(indicator, row)
            elif len(broken) == 1:
                column, category = broken[0]
                split.setdefault(indicator, {}).setdefault(column, {}).setdefault(
                    category, []).append(row)
        shown: list[IndicatorMeta] = []
        for meta in inp.indicators:
            parts = split.get(meta.id, {})
            dimension = next((c for c in meta.breakdowns if c in parts), None)
            if meta.id in headline or dimension is None:
                shown.append(meta)
                continue
            # Categories in code order, "other" last: the order a reader expects.
            for category in sorted(parts[dimension], key=lambda c: (c == "other", c)):
                # The category's words are a message (`localise.data_messages`, codelists/form.csv).
                sub = replace(meta, id=f"{meta.id}:{category}",
                              title=_("{indicator}: {category}").format(
                                  indicator=meta.title, category=_(category.replace("_", " "))))
                self.meta[sub.id] = sub
                shown.append(sub)
                for row in parts[dimension][category]:
                    self._add(sub.id, row)
        return shown

    def _add(self, indicator: str, row: dict) -> None:
        meta = self.meta.get(indicator) or self.meta.get(indicator.split(":")[0])
        unit = row.get("unit")
        if not isinstance(unit, str) or not unit:
            unit = meta.unit if meta else ""
        flag = row.get("flag")
        figure = Figure(
            country=str(row["country"]),
            year=int(row["year"]),
            indicator=indicator,
            value=_num(row.get("value")),
            status=str(row.get("status") or MISSING),
            unit=unit,
            flag=flag if isinstance(flag, str) and flag else None,
            reporting=_count(row.get("reporting")),
            below_threshold=_count(row.get("below_threshold")),
            members=_count(row.get("members")),
        )
        # The privacy layer releases one row per key; keep the first if not.
        self._cells.setdefault((figure.country, indicator, figure.year), figure)

    def name(self, country: str) -> str:
        """Display name of a member or of the region.

        Args:
            country: ISO3 code or the region id.

        Returns:
            The name given in the input, or the code itself.
        """
        return self._names.get(country, country)

    def get(self, country: str, indicator: str, year: int) -> Figure | None:
        """Look up one figure.

        Args:
            country: ISO3 code or the region id.
            indicator: Indicator id.
            year: The year.

        Returns:
            The figure, or None when the input has no row for it.
        """
        return self._cells.get((country, indicator, year))

    def series(self, country: str, indicator: str) -> list[Figure]:
        """All figures of one country and indicator, in year order.

        Args:
            country: ISO3 code or the region id.
            indicator: Indicator id.

        Returns:
            The figures that exist, oldest first.
        """
        found = (self.get(country, indicator, year) for year in self.years)
        return [f for f in found if f is not None]

    def has_data(self, indicators: Iterable[str], countries: Iterable[str] | None = None) -> bool:
        """Tell whether any figure other than ``missing`` exists.

        Args:
            indicators: Indicator ids.
            countries: Restrict to these countries; all (members and region) when None.

        Returns:
            True when at least one figure, ``<5`` or suppressed cell exists.
        """
        wanted = set(indicators)
        allowed = None if countries is None else set(countries)
        return any(
            f.status != MISSING
            for (country, indicator, _), f in self._cells.items()
            if indicator in wanted and (allowed is None or country in allowed)
        )

    def indicators_with_data(self, country: str | None = None) -> list[IndicatorMeta]:
        """Indicators that have figures, in the input's order.

        Args:
            country: Only figures of this country (or the region id); any country when None.

        Returns:
            The indicators' metadata.
        """
        countries = None if country is None else [country]
        return [m for m in self.indicators if self.has_data([m.id], countries)]

    @staticmethod
    def counts(indicators: Sequence[IndicatorMeta]) -> list[IndicatorMeta]:
        """The count indicators (persons, offences, ...) among ``indicators``."""
        return [m for m in indicators if not is_percent(m.unit)]

    @staticmethod
    def percents(indicators: Sequence[IndicatorMeta]) -> list[IndicatorMeta]:
        """The percentage indicators (shares, ratios) among ``indicators``."""
        return [m for m in indicators if is_percent(m.unit)]

    def latest_year(self, indicators: Iterable[str]) -> int | None:
        """The year to compare members in: the latest that at least half of them reported.

        The last year of a release is often thin (GLOTIP 2023 has few 2021 figures), and a
        comparison of two members is no comparison. So take the latest year in which at least
        half the members have a figure (or ``<5``) for any of ``indicators``, else the latest
        year in which any member has one.

        Args:
            indicators: Indicator ids.

        Returns:
            The year, or None when no member has any figure.
        """
        wanted = set(indicators)
        members = {iso for iso, _ in self.members}
        reporters: dict[int, set[str]] = {}
        for (country, indicator, year), f in self._cells.items():
            if indicator in wanted and country in members and f.status != MISSING:
                reporters.setdefault(year, set()).add(country)
        if not reporters:
            return None
        enough = [y for y, who in reporters.items() if 2 * len(who) >= len(members)]
        return max(enough or reporters)


# ---------------------------------------------------------------------------------------------
# External assessments: the US TIP Report's tier placements


NOT_RANKED = "not_ranked"


@dataclass(frozen=True)
class Placement:
    """One released tier placement: a member's US TIP Report tier in a report year.

    Attributes:
        country: ISO3 code.
        year: The TIP report year.
        tier: tipwatch's code (``1``, ``2``, ``2WL``, ``3``, ``special``), None when not ranked.
        label: The tier's name (``Tier 2 Watch List``), ``""`` when not ranked.
        rank: What a chart plots (1, 2, 2.5, 3), None for a special case or not ranked.
        status: ``reported`` or ``not_ranked``.
    """

    country: str
    year: int
    tier: str | None
    label: str
    rank: float | None
    status: str

    @property
    def ranked(self) -> bool:
        """True when the report gave the member a tier it can be charted at."""
        return self.rank is not None


class Tiers:
    """The released tier placements of a `ReportInput`, indexed by member and report year.

    Args:
        inp: The report input.
    """

    def __init__(self, inp: ReportInput) -> None:
        self.years: list[int] = list(range(inp.years[0], inp.years[1] + 1))
        self.sources = list(inp.tier_sources)
        self._cells: dict[tuple[str, int], Placement] = {}
        for row in inp.tiers.to_dict("records"):
            year = int(row["year"])
            if not inp.years[0] <= year <= inp.years[1]:
                continue
            tier = row.get("tier")
            label = row.get("label")
            placement = Placement(
                country=str(row["country"]), year=year,
                tier=tier if isinstance(tier, str) and tier else None,
                label=label if isinstance(label, str) else "",
                rank=_num(row.get("value")), status=str(row.get("status") or NOT_RANKED),
            )
            self._cells.setdefault((placement.country, year), placement)
        #: The report years the placements cover: a member with no row in one was not ranked.
        self.covered: list[int] = sorted({year for _, year in self._cells})

    def get(self, country: str, year: int) -> Placement | None:
        """One member's placement in a report year, None when the placements do not cover it."""
        return self._cells.get((country, year))

    def series(self, country: str) -> list[Placement]:
        """A member's placements (and years not ranked) in report-year order."""
        found = (self.get(country, year) for year in self.covered)
        return [p for p in found if p is not None]

    def has(self, country: str) -> bool:
        """True when the member has at least one placement (ranked or a special case)."""
        return any(p.status != NOT_RANKED for p in self.series(country))
