"""Table view models: the rows and formatted cells the templates print.

Every cell goes through `cell`, so a source's ``<5`` is always printed as ``<5``, a missing figure
as ``–`` and a flagged figure with a visible mark, whichever table it sits in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tipwatch.report import fmt as F
from tipwatch.report.figures import (
    BELOW_THRESHOLD,
    INCOMPLETE,
    MISSING,
    SUPPRESSED,
    Figure,
    Figures,
    Tiers,
)
from tipwatch.report.fmt import Formatter, is_percent
from tipwatch.report.i18n import N_, _
from tipwatch.report.model import IndicatorMeta

# The English texts below are catalogue messages (N_), translated where they are printed.
# Short names of anomaly flags, for the country profiles' status notes.
FLAG_LABELS: dict[str, str] = {"ratio_above_100": N_("period ratio above 100%")}
# The mark printed after a flagged figure, when not `fmt.FLAG_MARK`.
FLAG_MARKS: dict[str, str] = {"incomplete_cohort": "†"}
# What each anomaly flag means, printed as the footnote of every table that shows the flag.
FLAG_NOTES: dict[str, str] = {
    "ratio_above_100": N_(
        "Period ratio above 100%: more persons were convicted than prosecuted in the same year. "
        "Convictions may follow prosecutions begun in earlier years, or the two figures may be "
        "counted differently (UNODC's GLOTIP shows Indonesia 2017: 330 convicted, 25 prosecuted). "
        "Read it as an anomaly, not as a conviction rate."
    ),
    "incomplete_cohort": N_(
        "Incomplete cohort: its follow-up window is not wholly inside the period the case records "
        "cover (right-censored when it runs past the last year), so more of its persons may yet "
        "be prosecuted or convicted. Not a final figure; left out of the funnel."
    ),
}

# Legend entries: symbol and meaning, ``{withheld}`` standing for `fmt.WITHHELD` (see `legend_entry`).
LEGEND_WITHHELD = (
    F.WITHHELD,
    N_("figure below 5, withheld by the source; never added to a regional figure"),
)
LEGEND_MISSING = (F.MISSING, N_("no figure"))
LEGEND_SUPPRESSED = (F.SUPPRESSED, N_("withheld for this audience by disclosure control"))
LEGEND_INCOMPLETE = (
    F.INCOMPLETE,
    N_("incomplete: some of the source figures it is made of were {withheld}, so it is not given"),
)
LEGEND_COVERAGE = (
    N_("n/N · k {withheld}"),
    N_("coverage: n of the region's N members reported a number, which is added; k reported "
       "{withheld}, not added"),
)


def legend_entry(entry: tuple[str, str]) -> tuple[str, str]:
    """A legend entry of this module in the report's language, ``{withheld}`` filled in."""
    return tuple(_(text).format(withheld=F.WITHHELD) for text in entry)  # type: ignore[return-value]


@dataclass(frozen=True)
class Cell:
    """One printed table cell.

    Attributes:
        text: What is printed.
        kind: ``number``, ``withheld``, ``missing``, ``suppressed``, ``incomplete``, ``text`` or
            ``empty`` (nothing to say, e.g. no request between two countries); the CSS class.
        mark: A visible mark after the text, e.g. ``⚠``.
        flag: The anomaly flag behind ``mark``.
        note: A second, smaller line (e.g. regional coverage).
        key: ``country:indicator:year`` of the figure, for the web page and tests.
    """

    text: str
    kind: str = "number"
    mark: str = ""
    flag: str = ""
    note: str = ""
    key: str = ""


@dataclass
class Row:
    """A table row: a header cell then data cells.

    Attributes:
        label: The row header (a year, a country, ...).
        cells: The data cells.
        kind: ``""``, ``region`` (a regional row) or ``group`` (a spanning sub-heading).
        key: An identifier for the row (``data-row``).
    """

    label: str
    cells: list[Cell] = field(default_factory=list)
    kind: str = ""
    key: str = ""


@dataclass
class Table:
    """A table with its caption, legend and number.

    Attributes:
        id: HTML id, unique in the report.
        caption: The caption without the "Table N." prefix.
        columns: Column headers, the first one over the row headers.
        rows: The rows.
        number: Table number, set by the renderer in reading order.
        size: ``""`` or ``small`` (narrow tables laid out side by side).
        note: A sentence printed under the table, e.g. which years had no figure at all.
        badge: A label printed before the caption, e.g. "Synthetic data".
        note_legend: What the cells' second lines mean, when not a regional coverage; None
            for the coverage legend.
        legend_extra: Further legend entries, printed last.
    """

    id: str
    caption: str
    columns: list[str]
    rows: list[Row]
    number: int = 0
    size: str = ""
    note: str = ""
    badge: str = ""
    note_legend: tuple[str, str] | None = None
    legend_extra: list[tuple[str, str]] = field(default_factory=list)

    @property
    def widths(self) -> list[float]:
        """Column widths in percent of the table.

        Tables use CSS ``table-layout: fixed`` (WeasyPrint measures every cell of an automatic
        table twice, which doubled the print time), so widths are set here from the longest
        text of each column: row headers from years to member names, numbers, and text columns
        such as coverage.
        """
        body = [row for row in self.rows if row.kind != "group"]
        label = max((len(row.label) for row in body), default=4)
        weights = [min(3.0, max(1.0, 0.17 * label))]
        for index in range(1, len(self.columns)):
            longest = max((len(row.cells[index - 1].text) for row in body), default=0)
            weights.append(min(4.5, max(1.4, 0.085 * longest)))
        total = sum(weights)
        return [round(100 * w / total, 2) for w in weights]

    @property
    def wide(self) -> bool:
        """True for tables with so many columns that their headers need hyphenation."""
        return len(self.columns) >= 9

    @property
    def legend(self) -> list[tuple[str, str]]:
        """The symbols used in this table with their meaning, in a fixed order."""
        cells = [c for row in self.rows for c in row.cells]
        kinds = {c.kind for c in cells}
        entries: list[tuple[str, str]] = []
        if "withheld" in kinds:
            entries.append(legend_entry(LEGEND_WITHHELD))
        if "missing" in kinds:
            entries.append(legend_entry(LEGEND_MISSING))
        if "suppressed" in kinds:
            entries.append(legend_entry(LEGEND_SUPPRESSED))
        if "incomplete" in kinds:
            entries.append(legend_entry(LEGEND_INCOMPLETE))
        if any(c.note and c.kind != "text" for c in cells):
            entries.append(self.note_legend or legend_entry(LEGEND_COVERAGE))
        for flag in sorted({c.flag for c in cells if c.flag}):
            entries.append((FLAG_MARKS.get(flag, F.FLAG_MARK),
                            _(FLAG_NOTES[flag]) if flag in FLAG_NOTES else flag.replace("_", " ")))
        return entries + list(self.legend_extra)


def cell(figure: Figure | None, fmt: Formatter, *, coverage: str = "") -> Cell:
    """Format one figure for a table.

    Args:
        figure: The figure, or None when the input has no row for it.
        fmt: The formatter.
        coverage: ``""``, ``short`` or ``long``: print a regional figure's coverage as a note.

    Returns:
        ``<5`` for a source's below-threshold figure, ``–`` for a missing one, ``x`` for one the
        privacy layer suppressed, ``i`` for one incomplete because some of its parts are ``<5``,
        else the formatted number (with ``⚠`` when flagged).
    """
    if figure is None:
        return Cell(F.MISSING, "missing")
    key = f"{figure.country}:{figure.indicator}:{figure.year}"
    note = ""
    if coverage and figure.has_coverage:
        args = (figure.reporting or 0, figure.below_threshold or 0, figure.members or 0)
        note = fmt.coverage_short(*args) if coverage == "short" else fmt.coverage(*args)
    if figure.status == BELOW_THRESHOLD:
        return Cell(F.WITHHELD, "withheld", key=key, note=note)
    if figure.status == SUPPRESSED:
        return Cell(F.SUPPRESSED, "suppressed", key=key, note=note)
    if figure.status == INCOMPLETE:
        return Cell(F.INCOMPLETE, "incomplete", key=key, note=note)
    if figure.number is None:
        return Cell(F.MISSING, "missing", key=key, note=note)
    flag = figure.flag or ""
    return Cell(
        fmt.value(figure.number, figure.unit),
        "number",
        mark=F.FLAG_MARK if flag else "",
        flag=flag,
        note=note,
        key=key,
    )


def _drop_empty_years(
    rows: list[Row], fmt: Formatter, keep: Callable[[int], bool] | None = None
) -> tuple[list[Row], str]:
    """Leave out years in which no cell has a figure, and say which years those were.

    A 19-year table of mostly dashes hides the years that matter; the note keeps the gap visible.
    ``keep`` keeps a year regardless (e.g. a regional year made only of ``<5`` figures).
    """
    kept = [
        r for r in rows
        if any(c.kind not in ("missing", "text") for c in r.cells) or (keep and keep(int(r.key)))
    ]
    empty = [int(r.key) for r in rows if r not in kept]
    if not empty or not kept:
        return rows, ""
    return kept, _("No figures for {years}.").format(years=fmt.year_list(empty))


def _any_withheld(figs: Figures, indicators: Sequence[IndicatorMeta]) -> Callable[[int], bool]:
    def keep(year: int) -> bool:
        found = (figs.get(figs.region, m.id, year) for m in indicators)
        return any(f is not None and (f.below_threshold or 0) > 0 for f in found)

    return keep


def regional_by_year(figs: Figures, fmt: Formatter, indicators: Sequence[IndicatorMeta]) -> Table:
    """Regional figure of several indicators by year, each with its compact coverage.

    Args:
        figs: The figures.
        fmt: The formatter.
        indicators: The indicators, one column each.

    Returns:
        A table with one row per year.
    """
    rows, note = _drop_empty_years([
        Row(
            str(year),
            [cell(figs.get(figs.region, m.id, year), fmt, coverage="short") for m in indicators],
            key=str(year),
        )
        for year in figs.years
    ], fmt, _any_withheld(figs, indicators))
    return Table(
        id="t-regional-" + "-".join(m.id for m in indicators),
        caption=(_("{region}: regional figures by year, with coverage (%)")
                 if all(is_percent(m.unit) for m in indicators)
                 else _("{region}: regional figures by year, with coverage")).format(region=figs.name(figs.region)),
        columns=[_("Year"), *(m.title for m in indicators)],
        rows=rows,
        note=note,
    )


def regional_indicator(figs: Figures, fmt: Formatter, indicator: IndicatorMeta) -> Table:
    """One indicator's regional figure by year with its coverage spelled out.

    Args:
        figs: The figures.
        fmt: The formatter.
        indicator: The indicator.

    Returns:
        A three-column table: year, regional figure, coverage.
    """
    rows = []
    for year in figs.years:
        figure = figs.get(figs.region, indicator.id, year)
        value = cell(figure, fmt)
        coverage = ""
        if figure is not None and figure.has_coverage:
            coverage = fmt.coverage(
                figure.reporting or 0, figure.below_threshold or 0, figure.members or 0
            )
        rows.append(Row(str(year), [value, Cell(coverage, "text")], key=str(year)))
    rows, note = _drop_empty_years(rows, fmt, _any_withheld(figs, [indicator]))
    return Table(
        id=f"t-regional-{indicator.id}",
        caption=_("{indicator}, {region} ({unit})").format(
            indicator=indicator.title, region=figs.name(figs.region), unit=fmt.unit(indicator.unit)),
        columns=[_("Year"), _("Regional figure"), _("Coverage")],
        rows=rows,
        note=note,
    )


def country_by_year(
    figs: Figures, fmt: Formatter, country: str, indicators: Sequence[IndicatorMeta], *, id: str
) -> Table:
    """One country's figures: years down, indicators across.

    Args:
        figs: The figures.
        fmt: The formatter.
        country: ISO3 code.
        indicators: The indicators, one column each.
        id: HTML id of the table.

    Returns:
        A table with one row per year.
    """
    rows, note = _drop_empty_years([
        Row(str(year), [cell(figs.get(country, m.id, year), fmt) for m in indicators], key=str(year))
        for year in figs.years
    ], fmt)
    return Table(
        id=id,
        caption=figs.name(country),
        columns=[_("Year"), *(m.title for m in indicators)],
        rows=rows,
        size="small" if len(indicators) <= 3 else "",
        note=note,
    )


def countries_in_year(
    figs: Figures, fmt: Formatter, indicators: Sequence[IndicatorMeta], year: int
) -> Table:
    """Members compared in one year, with the regional figure and its coverage last.

    Args:
        figs: The figures.
        fmt: The formatter.
        indicators: The indicators, one column each.
        year: The year compared.

    Returns:
        A table with one row per member and one for the region.
    """
    rows = [
        Row(name, [cell(figs.get(iso, m.id, year), fmt) for m in indicators], key=iso)
        for iso, name in figs.members
    ]
    rows.append(
        Row(
            figs.name(figs.region),
            [cell(figs.get(figs.region, m.id, year), fmt, coverage="short") for m in indicators],
            kind="region",
            key=figs.region,
        )
    )
    return Table(
        id=f"t-countries-{year}",
        caption=_("Members compared, {year}").format(year=year),
        columns=[_("Member"), *(m.title for m in indicators)],
        rows=rows,
    )


def years_by_country(figs: Figures, fmt: Formatter, indicator: IndicatorMeta) -> Table:
    """One indicator for every member and the region: years down, countries across.

    Args:
        figs: The figures.
        fmt: The formatter.
        indicator: The indicator.

    Returns:
        A table with one row per year.
    """
    countries = [iso for iso, _ in figs.members] + [figs.region]
    rows, note = _drop_empty_years([
        Row(str(year), [cell(figs.get(c, indicator.id, year), fmt) for c in countries], key=str(year))
        for year in figs.years
    ], fmt)
    return Table(
        id=f"t-countries-{indicator.id}",
        caption=_("{indicator} by member ({unit})").format(indicator=indicator.title, unit=fmt.unit(indicator.unit)),
        columns=[_("Year"), *(figs.name(c) for c in countries)],
        rows=rows,
        note=note,
    )


def _changed(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def baseline(figs: Figures, fmt: Formatter) -> Table:
    """The "decade of progress" table: baseline against latest figure per indicator and country.

    Args:
        figs: The figures (the baseline table is read from ``figs.inp.baseline``).
        fmt: The formatter.

    Returns:
        A table grouped by indicator, members first and the region last in each group.
    """
    frame = figs.inp.baseline
    records = {
        (str(r["indicator"]), str(r["country"])): r for r in frame.to_dict("records")
    } if len(frame) else {}
    order = [iso for iso, _ in figs.members] + [figs.region]
    rows: list[Row] = []
    for meta in figs.inp.indicators:
        # A member with no figure in either year says nothing about progress: left out.
        group = [
            records[(meta.id, c)] for c in order
            if (meta.id, c) in records
            and {records[(meta.id, c)].get("baseline_status"),
                 records[(meta.id, c)].get("latest_status")} - {MISSING, None}
        ]
        if not group:
            continue
        rows.append(Row(f"{meta.title} ({fmt.unit(meta.unit)})", kind="group", key=meta.id))
        for record in group:
            country = str(record["country"])
            before = _baseline_figure(record, "baseline", meta)
            after = _baseline_figure(record, "latest", meta)
            # Never derive a change from a "<5" or a suppressed figure: it would reveal it.
            hidden = {before.status, after.status} & {BELOW_THRESHOLD, SUPPRESSED, INCOMPLETE}
            change = None if hidden else _changed(record.get("change"))
            change_pct = None if hidden else _changed(record.get("change_pct"))
            change_text = (
                F.MISSING
                if change is None
                else (_("{change} pp").format(change=fmt.signed(change)) if is_percent(meta.unit)
                      else fmt.signed(change))
            )
            rows.append(
                Row(
                    figs.name(country),
                    [
                        Cell(str(before.year) if before.year else F.MISSING, "text"),
                        cell(before, fmt),
                        Cell(str(after.year) if after.year else F.MISSING, "text"),
                        cell(after, fmt),
                        Cell(change_text, "missing" if change is None else "number"),
                        Cell(
                            F.MISSING if change_pct is None else fmt.signed(change_pct, "%"),
                            "missing" if change_pct is None else "number",
                        ),
                    ],
                    kind="region" if country == figs.region else "",
                    key=f"{meta.id}:{country}",
                )
            )
    return Table(
        id="t-baseline",
        caption=_("Decade of progress: baseline against latest figure"),
        size="long",
        columns=[_("Member"), _("Baseline year"), _("Baseline"), _("Latest year"), _("Latest"), _("Change"),
                 _("Change (%)")],
        rows=rows,
    )


def _baseline_figure(record: dict, prefix: str, meta: IndicatorMeta) -> Figure:
    year = record.get(f"{prefix}_year")
    return Figure(
        country=str(record["country"]),
        year=int(year) if _changed(year) is not None else 0,
        indicator=meta.id,
        value=_changed(record.get(f"{prefix}_value")),
        status=str(record.get(f"{prefix}_status") or "missing"),
        unit=meta.unit,
    )


#: How a tier table prints a year the report did not rank the member.
NOT_RANKED_TEXT = "n.r."
#: Legend entries of a tier table, printed when their symbol appears in it.
TIER_LEGEND = {
    "2WL": N_("Tier 2 Watch List"),
    "special": N_("special case: listed by the report but not ranked"),
    NOT_RANKED_TEXT: N_("not ranked by the report that year"),
}


def tier_history(tiers: Tiers, fmt: Formatter, country: str, name: str, *, id: str) -> Table:
    """A member's US TIP Report tier in each report year the placements cover: years across.

    Args:
        tiers: The released placements.
        fmt: The formatter.
        country: ISO3 code.
        name: The member's display name.
        id: HTML id of the table.

    Returns:
        A one-row table; its note names the report years no placement covers.
    """
    series = tiers.series(country)
    # Tiers are codes, not numbers: printed as text, like "n.r." beside them.
    cells = [Cell(p.tier or NOT_RANKED_TEXT, "text", key=f"{country}:us_tip_tier:{p.year}") for p in series]
    shown = {c.text for c in cells}
    uncovered = [y for y in tiers.years if y not in tiers.covered]
    return Table(
        id=id,
        caption=_("{name}: US TIP Report tier by report year").format(name=name),
        columns=[_("Year"), *(str(p.year) for p in series)],
        rows=[Row(_("Tier"), cells, key="us_tip_tier")],
        note=_("No tier placement held for {years}.").format(years=fmt.year_list(uncovered)) if uncovered else "",
        legend_extra=[(symbol, _(meaning)) for symbol, meaning in TIER_LEGEND.items() if symbol in shown],
    )
