"""Every number, date and coverage phrase the report prints, in one place.

The templates and chart builders never format a value themselves: they ask a `Formatter`. Adding
a language means adding its Babel locale here (and translating the templates' prose), not hunting
for ``f"{value:,}"`` across the renderer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent, get_decimal_symbol, get_group_symbol

from tipwatch.report.i18n import _

# GLOTIP prints counts below five as "<5"; the report prints them exactly so, never as a number.
WITHHELD = "<5"
# En dash: the conventional mark for "no figure" in statistical tables.
MISSING = "–"
# Figures removed by the privacy layer for this audience (not the same as a source's "<5").
SUPPRESSED = "x"
# A figure assembled from parts of which some were "<5", so it could not be added up.
INCOMPLETE = "i"
# Printed after a figure that carries an anomaly flag; the flag's note explains it.
FLAG_MARK = "⚠"

# Units whose values are percentages on a 0–100 scale (a conviction ratio of 1,320 % is 1320.0).
PERCENT_UNITS = frozenset({"%", "percent", "percentage"})


def is_percent(unit: str | None) -> bool:
    """Tell whether an indicator unit is a percentage.

    Args:
        unit: The indicator's unit, e.g. ``"persons"`` or ``"%"``.

    Returns:
        True when values in this unit are percentages on a 0–100 scale.
    """
    return (unit or "").strip().lower() in PERCENT_UNITS


@dataclass(frozen=True)
class Formatter:
    """Locale-aware formatting of the report's numbers, dates and phrases.

    Attributes:
        locale: A Babel locale identifier, e.g. ``"en"``.
    """

    locale: str = "en"

    def number(self, value: float, *, decimals: int = 0) -> str:
        """Format a count or other plain number.

        Args:
            value: The number.
            decimals: Digits after the decimal separator; counts have none.

        Returns:
            The number with the locale's grouping, e.g. ``"1,233"``.
        """
        pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
        return format_decimal(value, pattern, locale=self.locale)

    def percent(self, value: float) -> str:
        """Format a percentage given on a 0–100 scale.

        Args:
            value: The percentage, e.g. ``45.0`` for 45 %.

        Returns:
            The localised percentage, e.g. ``"45%"``.
        """
        # Babel expects a fraction; one decimal only below 10 % where it still says something.
        pattern = "#,##0.#%" if abs(value) < 10 else "#,##0%"
        return format_percent(value / 100, pattern, locale=self.locale)

    def value(self, value: float, unit: str | None) -> str:
        """Format a figure according to its unit.

        Args:
            value: The figure.
            unit: The indicator's unit.

        Returns:
            A percentage for percent units, otherwise a number (integers without decimals).
        """
        if is_percent(unit):
            return self.percent(value)
        return self.number(value, decimals=0 if float(value).is_integer() else 1)

    def signed(self, value: float, unit: str | None = None) -> str:
        """Format a change with an explicit sign, e.g. ``"+1,020"`` or ``"-56"``.

        Args:
            value: The change.
            unit: ``"%"`` for a change in percent (0–100 scale); anything else for a count.

        Returns:
            The signed, localised change.
        """
        if is_percent(unit):
            return format_percent(value / 100, "+#,##0%;-#,##0%", locale=self.locale)
        return format_decimal(value, "+#,##0;-#,##0", locale=self.locale)

    def date(self, value: date) -> str:
        """Format a date in the locale's long form, e.g. ``"30 May 2023"`` style for the locale.

        Args:
            value: The date.

        Returns:
            The localised date.
        """
        return format_date(value, "long", locale=self.locale)

    def year_range(self, years: tuple[int, int]) -> str:
        """Format an inclusive range of years, e.g. ``"2003–2021"``.

        Args:
            years: First and last year.

        Returns:
            One year when both are equal, else the two joined by an en dash.
        """
        first, last = years
        return str(first) if first == last else f"{first}–{last}"

    def year_list(self, years: Iterable[int]) -> str:
        """Compress years into ranges, e.g. ``[2003, 2004, 2005, 2010]`` → ``"2003–2005, 2010"``.

        Args:
            years: Years in any order; duplicates are ignored.

        Returns:
            The years as comma-separated ranges.
        """
        ordered = sorted(set(years))
        runs: list[tuple[int, int]] = []
        for year in ordered:
            if runs and runs[-1][1] == year - 1:
                runs[-1] = (runs[-1][0], year)
            else:
                runs.append((year, year))
        return ", ".join(self.year_range(run) for run in runs)

    def coverage(self, reporting: int, below: int, members: int) -> str:
        """Say how many members a regional figure is made of.

        Args:
            reporting: Members whose number was added to the regional figure.
            below: Members whose figure was ``<5`` and is therefore not added.
            members: Members of the region that year.

        Returns:
            E.g. ``"8 of 10 members reported; 1 reported <5, not added"``.
        """
        if below:
            return _("{reporting} of {members} members reported; {below} reported {withheld}, not added").format(
                reporting=self.number(reporting), members=self.number(members), below=self.number(below),
                withheld=WITHHELD)
        return _("{reporting} of {members} members reported").format(
            reporting=self.number(reporting), members=self.number(members))

    def coverage_short(self, reporting: int, below: int, members: int) -> str:
        """The compact form of `coverage` for crowded tables, e.g. ``"8/10 · 1 <5"``.

        Args:
            reporting: Members whose number was added.
            below: Members whose figure was ``<5``.
            members: Members of the region that year.

        Returns:
            The compact coverage note.
        """
        text = f"{self.number(reporting)}/{self.number(members)}"
        if below:
            text += f" · {self.number(below)} {WITHHELD}"
        return text

    def unit(self, unit: str) -> str:
        """An indicator's unit as printed, e.g. ``"persons"`` (the unit's message in the report's language).

        Args:
            unit: The unit, as in `reference/data/indicators.yaml`.

        Returns:
            The unit in the current language.
        """
        return _(unit) if unit else unit

    def d3_number_locale(self) -> dict[str, object]:
        """The locale's number symbols in d3-format's shape, so chart axes match the tables.

        Returns:
            A d3 number-locale object for the Vega-Lite ``config.locale.number`` setting.
        """
        return {
            "decimal": get_decimal_symbol(self.locale),
            "thousands": get_group_symbol(self.locale),
            "grouping": [3],
            "currency": ["", ""],
            "percent": "%",
        }

    @property
    def language(self) -> str:
        """The ISO 639 language code, for the HTML ``lang`` attribute."""
        return Locale.parse(self.locale).language
