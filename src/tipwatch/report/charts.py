"""The report's charts: Altair builders that return Vega-Lite specs, and their SVG rendering.

Specs are plain dicts (as in splink's charts) so the same spec can drive an interactive chart on
the web page. Every spec carries its alternative text in the Vega-Lite ``description`` field; a
one-sentence summary generated from the same figures the chart draws. `svg` turns a spec into an
inline SVG with that text as its accessible name, without a browser (vl-convert runs Vega in an
embedded engine).

Charts plot released figures only. A source's ``<5`` is drawn as a marker, never as a value;
regional lines are drawn together with how many members they are made of; a line breaks where a
year has no figure instead of bridging the gap.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert as vlc

from tipwatch.report.figures import Figure, Figures
from tipwatch.report.fmt import WITHHELD, Formatter, is_percent
from tipwatch.report.model import IndicatorMeta

FONT = "DejaVu Sans"
# A4 minus 2 x 18 mm margins is 174 mm, about 650 CSS px: charts are drawn at print size.
PAGE_WIDTH = 620
# Tableau 10: a categorical palette that stays distinct in print.
PALETTE = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
]
# Tableau 20's extra hues, for regions with more than ten members (ASEAN from 2026 has eleven).
PALETTE_EXTRA = ["#a0cbe8", "#ffbe7d", "#8cd17d", "#b6992d", "#f1ce63", "#86bcb6", "#d37295"]
REGION_COLOUR = "#222222"
MARK_COLOUR = "#c0392b"
GREY = "#9aa3ad"
LIGHT = "#d5dae0"
SHARE_CAP = 100.0

Spec = dict[str, Any]
# Charts name their data and the rows are attached to the finished spec: Altair deep-copies
# inline data at every layer(), facet() and configure() call, which costs more than the drawing.
_DATA = alt.NamedData(name="figures")


# ---------------------------------------------------------------------------------------------
# Rendering


def svg(spec: Spec) -> str:
    """Render a Vega-Lite spec to an inline, accessible, deterministic SVG.

    Args:
        spec: A Vega-Lite spec as returned by the builders here; its ``description`` becomes the
            SVG's accessible name (``role="img"``, ``aria-label`` and ``<title>``).

    Returns:
        The SVG markup, ready to inline in HTML. The same spec always gives the same bytes.
    """
    return _finish(spec, vlc.vegalite_to_svg(spec))


def _finish(spec: Spec, markup: str) -> str:
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    prefix = "c" + hashlib.sha256(canonical.encode()).hexdigest()[:10]
    markup = _renumber_ids(markup, prefix)
    return _label(markup, str(spec.get("description", "")))


# The helper process: plain vl-convert over JSON lines. Run with ``python -c`` so it needs nothing
# but vl-convert (no import of tipwatch, no re-run of the caller's script as multiprocessing's
# "spawn" would do).
_HELPER = (
    "import json, sys\n"
    "import vl_convert\n"
    "for line in sys.stdin:\n"
    "    sys.stdout.write(json.dumps(vl_convert.vegalite_to_svg(json.loads(line))) + '\\n')\n"
    "    sys.stdout.flush()\n"
)


# Seconds the helper may still need once this process has drawn its share; far more than a chart.
HELPER_TIMEOUT = 60


class SvgRenderer:
    """Renders many specs to SVG on two cores: half here, half in a helper process.

    vl-convert takes 0.1–0.2 s per chart and holds the GIL, so a report's charts are the second
    largest cost after WeasyPrint. Start the renderer early (the helper's start-up then overlaps
    with building the specs); `render` falls back to this process alone if the helper fails.
    Use it as a context manager so the helper always ends.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        # Only a real Python interpreter can run the helper (not, say, an embedding server).
        if not Path(sys.executable).name.lower().startswith("python"):
            return
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _HELPER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
            )
        except OSError:
            self._proc = None

    def __enter__(self) -> SvgRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the helper process."""
        if self._proc is not None:
            if self._proc.stdin and not self._proc.stdin.closed:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def render(self, specs: Sequence[Spec]) -> list[str]:
        """Render specs to SVG, as `svg` would, in the same order.

        Args:
            specs: Vega-Lite specs.

        Returns:
            One SVG per spec; byte-identical to ``svg(spec)``.
        """
        proc = self._proc
        if proc is None or len(specs) < 4:
            return [svg(spec) for spec in specs]
        out: dict[int, str] = {}
        # Work from both ends: the helper takes charts from the front, one at a time, this
        # process from the back, until they meet. That balances itself whatever the charts cost.
        lock = threading.Lock()
        ends = {"front": 0, "back": len(specs) - 1}

        def take(end: str) -> int | None:
            with lock:
                if ends["front"] > ends["back"]:
                    return None
                index = ends[end]
                ends[end] += 1 if end == "front" else -1
                return index

        def helper() -> None:
            while (index := take("front")) is not None:
                try:
                    proc.stdin.write(json.dumps(specs[index]) + "\n")  # type: ignore[union-attr]
                    proc.stdin.flush()  # type: ignore[union-attr]
                    line = proc.stdout.readline()  # type: ignore[union-attr]
                    out[index] = _finish(specs[index], json.loads(line))
                except (OSError, ValueError):
                    return  # the helper died: its chart is drawn below

        thread = threading.Thread(target=helper, daemon=True)
        thread.start()
        while (index := take("back")) is not None:
            out[index] = svg(specs[index])
        thread.join(timeout=HELPER_TIMEOUT)
        if thread.is_alive():  # a stuck helper: end it; its pending chart is drawn here
            proc.kill()
            thread.join()
        self.close()
        # Whatever the helper did not deliver is drawn here.
        return [out[i] if i in out else svg(specs[i]) for i in range(len(specs))]


def _renumber_ids(markup: str, prefix: str) -> str:
    # Vega numbers clip paths and gradients with a counter that lives as long as the engine
    # ("clip7" on one call, "clip14" on the next), and two inline SVGs with the same id clash in
    # one HTML page. Renumber per chart, under a prefix derived from the spec.
    ids: dict[str, str] = {}
    for match in re.finditer(r'\sid="([^"]+)"', markup):
        ids.setdefault(match.group(1), f"{prefix}-{len(ids)}")
    if not ids:
        return markup

    def swap(match: re.Match[str]) -> str:
        return match.group(1) + ids.get(match.group(2), match.group(2)) + match.group(3)

    return re.sub(r'(\sid="|url\(#|href="#)([^")]+)([")])', swap, markup)


def _label(markup: str, description: str) -> str:
    text = html.escape(description, quote=True)
    head, sep, rest = markup.partition(">")
    if not sep or not head.startswith("<svg"):
        raise ValueError("vl-convert did not return an SVG document")
    head = head.replace(' class="marks"', ' class="marks chart"', 1)
    return f'{head} role="img" aria-label="{text}"><title>{text}</title>{rest}'


# ---------------------------------------------------------------------------------------------
# Shared pieces


def _config(
    chart: alt.TopLevelMixin, fmt: Formatter, description: str, rows: list[dict[str, Any]]
) -> Spec:
    # Config, description and data are set on the finished dict rather than through Altair's
    # configure_*() chain: each chained call deep-copies the whole chart.
    # Not validated here: Altair's JSON-schema validation costs more than drawing the chart, and
    # the test suite validates every builder's output against the Vega-Lite schema.
    spec = chart.to_dict(validate=False)
    spec["description"] = description
    spec["config"] = {**spec.get("config", {}), **_CONFIG,
                      "locale": {"number": fmt.d3_number_locale()}}
    spec["datasets"] = {_DATA.name: rows}
    return spec


_CONFIG: dict[str, Any] = {
    "font": FONT,
    "padding": 4,
    "view": {"stroke": None, "continuousWidth": 300, "continuousHeight": 200},
    "axis": {
        "labelFontSize": 10, "titleFontSize": 10, "titleFontWeight": "normal",
        "gridColor": "#e6e9ed", "domainColor": "#8a939c", "tickColor": "#8a939c",
        "labelColor": "#333333", "titleColor": "#333333",
    },
    "header": {"labelFontSize": 11, "labelFontWeight": "bold", "labelLimit": 0},
    "legend": {
        "labelFontSize": 10, "titleFontSize": 10, "orient": "bottom", "direction": "horizontal",
        "symbolSize": 60, "columns": 3, "labelLimit": 170,
    },
}


def _isolated(values: Sequence[float | None]) -> list[bool]:
    """Which values have no neighbour on either side: a line alone would not show them."""
    present = [v is not None for v in values]
    return [
        here and not (i > 0 and present[i - 1]) and not (i + 1 < len(present) and present[i + 1])
        for i, here in enumerate(present)
    ]


def _year_axis(figs: Figures, max_ticks: int = 8) -> alt.X:
    first, last = figs.years[0], figs.years[-1]
    # Explicit ticks: Vega's own would put "2019.5" (printed "2020") between short runs of years.
    step = next(s for s in (1, 2, 5, 10, 20, 50) if (last - first) // s + 1 <= max_ticks)
    ticks = [y for y in figs.years if y % step == 0] or [first, last]
    return alt.X(
        "year:Q",
        title=None,
        scale=alt.Scale(domain=[first, last], nice=False, padding=8),
        axis=alt.Axis(format="d", values=ticks, labelOverlap=True, grid=False),
    )


def _panels(
    panel: alt.LayerChart,
    indicators: Sequence[IndicatorMeta],
    columns: int,
    spacing: dict[str, int],
    resolve: alt.Resolve | None = None,
) -> alt.FacetChart:
    # One constructor call instead of .facet().resolve_*(): every chained call deep-copies.
    return alt.FacetChart(
        data=_DATA,
        spec=panel,
        facet=alt.Facet("panel:N", sort=[_panel(m, indicators) for m in indicators], title=None,
                        header=alt.Header(labelExpr="split(datum.value, '|')")),
        columns=columns,
        spacing=spacing,
        resolve=resolve if resolve is not None else alt.Undefined,
    )


def _panel(meta: IndicatorMeta, indicators: Sequence[IndicatorMeta]) -> str:
    """A panel's title, wrapped to its panel's width ("|" marks a line break).

    Vega does not wrap header labels, and an unwrapped long title would widen its column (and
    the whole chart, which the page then shrinks).
    """
    columns = _panel_columns(len(indicators))
    chars = max(14, (PAGE_WIDTH // columns - 40) // 7)  # about 7 px per bold 11 px character
    return "|".join(textwrap.wrap(meta.title, chars))


def _panel_columns(count: int) -> int:
    return 1 if count == 1 else 2 if count in (2, 4) else 3


def indicator_colours(indicators: Sequence[IndicatorMeta]) -> alt.Scale:
    """A colour scale giving each indicator a fixed hue, in the indicators' order.

    Args:
        indicators: The indicators, in display order.

    Returns:
        An ordinal colour scale over the indicators' titles.
    """
    titles = [m.title for m in indicators]
    return alt.Scale(domain=titles, range=(PALETTE + PALETTE_EXTRA)[: len(titles)])


def _trend_phrase(series: Sequence[Figure], fmt: Formatter) -> str:
    numbers = [f for f in series if f.number is not None]
    withheld = [f.year for f in series if f.withheld]
    if not numbers:
        return f"{WITHHELD} in {fmt.year_list(withheld)}" if withheld else "no figures"
    first, last = numbers[0], numbers[-1]
    if first is last:
        phrase = f"{fmt.value(first.number, first.unit)} in {first.year}"  # type: ignore[arg-type]
    else:
        phrase = (
            f"from {fmt.value(first.number, first.unit)} in {first.year} "  # type: ignore[arg-type]
            f"to {fmt.value(last.number, last.unit)} in {last.year}"  # type: ignore[arg-type]
        )
        peak = max(numbers, key=lambda f: (f.number, -f.year))
        if peak is not first and peak is not last:
            phrase += f" (highest {fmt.value(peak.number, peak.unit)} in {peak.year})"  # type: ignore[arg-type]
    return phrase


# ---------------------------------------------------------------------------------------------
# Builders


def regional_trend(figs: Figures, fmt: Formatter, indicators: Sequence[IndicatorMeta]) -> Spec:
    """Regional figure of each indicator over the years, with its coverage underneath.

    One panel per indicator: the line is the regional figure (right-hand bars share the panel):
    grey bars count the members whose number it adds up, orange bars stacked on them the members
    that reported ``<5`` (not added), so a year with ``<5`` figures is visibly marked.

    Args:
        figs: The figures.
        fmt: The formatter.
        indicators: Indicators, one panel each: all counts, or all percentages.

    Returns:
        A Vega-Lite spec with its alternative text in ``description``.
    """
    reported = "members with a number"
    below = f"members with {WITHHELD}, not added"
    rows: list[dict[str, Any]] = []
    for meta in indicators:
        found = [figs.get(figs.region, meta.id, year) for year in figs.years]
        values = [f.number if f else None for f in found]
        for year, figure, value, dot in zip(figs.years, found, values, _isolated(values),
                                            strict=True):
            # A row for every year, so that a year without a figure breaks the line.
            rows.append({"panel": _panel(meta, indicators), "year": year, "layer": "line", "value": value,
                         "dot": dot, "label": _tooltip_value(figure, fmt)})
            if figure is not None and figure.has_coverage:
                rows.append({"panel": _panel(meta, indicators), "year": year, "layer": "bar", "part": reported,
                             "members": figure.reporting, "order": 0})
                if figure.below_threshold:
                    rows.append({"panel": _panel(meta, indicators), "year": year, "layer": "bar", "part": below,
                                 "members": figure.below_threshold, "order": 1})
    columns = _panel_columns(len(indicators))
    width = (PAGE_WIDTH - 64 * columns) // columns
    x = _year_axis(figs)
    # Shares and ratios get a "%" on their axis; one chart holds either counts or percentages.
    percent = all(is_percent(m.unit) for m in indicators)
    value_axis = alt.Axis(format=",~f", tickCount=4,
                          labelExpr="datum.label + '%'" if percent else alt.Undefined)
    bars = (
        alt.Chart()
        .transform_filter(alt.datum.layer == "bar")
        .mark_bar(size=max(2, min(7, int(width * 0.6) // len(figs.years))))
        .encode(
            x=x,
            y=alt.Y("members:Q", title=None, stack="zero",
                    scale=alt.Scale(domain=[0, _max_members(figs)], nice=False),
                    axis=alt.Axis(orient="right", grid=False, values=_member_ticks(figs),
                                  format="d", titleColor=GREY, labelColor=GREY)),
            color=alt.Color("part:N", title=None,
                            scale=alt.Scale(domain=[reported, below], range=[LIGHT, "#f4b183"])),
            order=alt.Order("order:Q"),
        )
    )
    line = (
        alt.Chart()
        .transform_filter(alt.datum.layer == "line")
        .mark_line(color=REGION_COLOUR, strokeWidth=2, strokeJoin="round",
                   invalid="break-paths-show-domains")
        .encode(x=x, y=alt.Y("value:Q", title=None, axis=value_axis),
                tooltip=[alt.Tooltip("year:Q", format="d"), alt.Tooltip("label:N")])
    )
    dots = (
        alt.Chart()
        .transform_filter((alt.datum.layer == "line") & alt.datum.dot)
        .mark_point(filled=True, size=22, color=REGION_COLOUR, opacity=1)
        .encode(x=x, y=alt.Y("value:Q"))
    )
    chart = (
        _panels(alt.LayerChart(layer=[bars, alt.LayerChart(layer=[line, dots])],
                               resolve=alt.Resolve(scale=alt.ScaleResolveMap(y="independent")),
                               width=width, height=130),
                indicators, columns, {"row": 16, "column": 20},
                alt.Resolve(scale=alt.ScaleResolveMap(y="independent"),
                            axis=alt.AxisResolveMap(x="independent")))
    )
    phrases = [
        f"{m.title.lower()} {_trend_phrase(figs.series(figs.region, m.id), fmt)}"
        for m in indicators
    ]
    description = (
        f"Line charts of the regional figures of {figs.name(figs.region)}, "
        f"{fmt.year_range((figs.years[0], figs.years[-1]))}: " + "; ".join(phrases)
        + f"; bars (right axis) count the members whose figures each year adds up, and those "
        f"with {WITHHELD}."
    )
    return _config(chart, fmt, description, rows)


def country_comparison(
    figs: Figures, fmt: Formatter, indicators: Sequence[IndicatorMeta], year: int
) -> Spec:
    """Members compared in one year: one bar panel per count indicator.

    A ``<5`` is written as ``<5`` at the axis, with no bar; a missing figure as ``–``.

    Args:
        figs: The figures.
        fmt: The formatter.
        indicators: Count indicators, one panel each.
        year: The year compared.

    Returns:
        A Vega-Lite spec with its alternative text in ``description``.
    """
    rows: list[dict[str, Any]] = []
    for meta in indicators:
        for iso, name in figs.members:
            figure = figs.get(iso, meta.id, year)
            value = figure.number if figure else None
            rows.append({"panel": _panel(meta, indicators), "indicator": meta.title,
                         "country": name, "value": value,
                         "label": _tooltip_value(figure, fmt), "pos": value or 0})
    names = [name for _, name in figs.members]
    columns = _panel_columns(len(indicators))
    width = (PAGE_WIDTH - 110 - 40 * columns) // columns
    colours = indicator_colours(indicators)
    y = alt.Y("country:N", sort=names, title=None, axis=alt.Axis(labelLimit=100))
    bars = alt.Chart().mark_bar(height=9).encode(
        x=alt.X("value:Q", title=None, axis=alt.Axis(format=",~f", tickCount=3)),
        y=y,
        color=alt.Color("indicator:N", scale=colours, legend=None),
    )
    labels = alt.Chart().mark_text(align="left", dx=3, fontSize=9, color="#333333").encode(
        x=alt.X("pos:Q"), y=y, text="label:N"
    )
    chart = (
        _panels(alt.LayerChart(layer=[bars, labels], width=width, height=14 * len(names)),
                indicators, columns, {"row": 12, "column": 16},
                alt.Resolve(scale=alt.ScaleResolveMap(x="independent")))
    )
    phrases = []
    for meta in indicators:
        figures = [f for f in (figs.get(iso, meta.id, year) for iso, _ in figs.members) if f]
        numbers = sorted((f for f in figures if f.number is not None),
                         key=lambda f: (-f.number, f.country))  # type: ignore[operator]
        if not numbers:
            phrases.append(f"{meta.title.lower()}: no member figures")
            continue
        top, bottom = numbers[0], numbers[-1]
        phrase = (f"{meta.title.lower()} highest in {figs.name(top.country)} "
                  f"({fmt.value(top.number, top.unit)})")  # type: ignore[arg-type]
        if bottom is not top:
            phrase += (f", lowest in {figs.name(bottom.country)} "
                       f"({fmt.value(bottom.number, bottom.unit)})")  # type: ignore[arg-type]
        withheld = [figs.name(f.country) for f in figures if f.withheld]
        if withheld:
            phrase += f", {WITHHELD} in {', '.join(withheld)}"
        phrases.append(phrase)
    description = f"Bar charts comparing members in {year}: " + "; ".join(phrases) + "."
    return _config(chart, fmt, description, rows)


def country_trend(
    figs: Figures, fmt: Formatter, country: str, indicators: Sequence[IndicatorMeta]
) -> Spec:
    """One member's count indicators over the years, one line each.

    A year whose figure is ``<5`` is drawn as an open triangle on the axis, not as a value.

    Args:
        figs: The figures.
        fmt: The formatter.
        country: ISO3 code.
        indicators: Count indicators, one line each (e.g. detected victims, prosecuted,
            convicted).

    Returns:
        A Vega-Lite spec with its alternative text in ``description``.
    """
    rows: list[dict[str, Any]] = []
    for meta in indicators:
        found = [figs.get(country, meta.id, year) for year in figs.years]
        values = [f.number if f else None for f in found]
        for year, figure, value, dot in zip(figs.years, found, values, _isolated(values),
                                            strict=True):
            rows.append({"indicator": meta.title, "year": year, "value": value, "dot": dot,
                         "withheld": bool(figure and figure.withheld),
                         "label": _tooltip_value(figure, fmt)})
    x = _year_axis(figs, max_ticks=20)
    colours = indicator_colours(indicators)
    line = (
        alt.Chart()
        .mark_line(strokeWidth=2, strokeJoin="round", invalid="break-paths-show-domains")
        .encode(x=x, y=alt.Y("value:Q", title=None, axis=alt.Axis(format=",~f", tickCount=5)),
                # Two legend columns: indicator titles are long and the chart is page-wide.
                color=alt.Color("indicator:N", scale=colours, title=None,
                                legend=alt.Legend(columns=2, labelLimit=PAGE_WIDTH // 2 - 30)),
                tooltip=[alt.Tooltip("year:Q", format="d"), "indicator:N", "label:N"])
    )
    dots = (
        alt.Chart()
        .transform_filter(alt.datum.dot)
        .mark_point(filled=True, size=28, opacity=1)
        .encode(x=x, y=alt.Y("value:Q"), color=alt.Color("indicator:N", scale=colours, title=None))
    )
    withheld = (
        alt.Chart()
        .transform_filter(alt.datum.withheld)
        .mark_point(shape="triangle-up", filled=False, size=45, strokeWidth=1.5)
        .encode(x=x, y=alt.datum(0), color=alt.Color("indicator:N", scale=colours, title=None))
    )
    chart = alt.layer(line, dots, withheld, data=_DATA).properties(
        width=PAGE_WIDTH - 60, height=150,
        title=alt.Title(f"△ on the axis: figure {WITHHELD}, withheld", fontSize=9,
                        fontWeight="normal", color="#555555", anchor="end", orient="bottom"),
    )
    phrases = [f"{m.title.lower()} {_trend_phrase(figs.series(country, m.id), fmt)}"
               for m in indicators]
    description = (
        f"Line chart of {figs.name(country)}, "
        f"{fmt.year_range((figs.years[0], figs.years[-1]))}: " + "; ".join(phrases) + "."
    )
    return _config(chart, fmt, description, rows)


def share_lines(figs: Figures, fmt: Formatter, indicators: Sequence[IndicatorMeta]) -> Spec:
    """Percentage indicators (female share, child share, ratios) by member, region in black.

    Values above 100 % (a flagged period ratio) are drawn at the top edge as red triangles so
    one anomaly does not flatten every other line.

    Args:
        figs: The figures.
        fmt: The formatter.
        indicators: Percentage indicators, one panel each.

    Returns:
        A Vega-Lite spec with its alternative text in ``description``.
    """
    countries = [iso for iso, _ in figs.members] + [figs.region]
    rows: list[dict[str, Any]] = []
    for meta in indicators:
        for iso in countries:
            if not figs.has_data([meta.id], [iso]):
                continue
            found = [figs.get(iso, meta.id, year) for year in figs.years]
            numbers = [f.number if f else None for f in found]
            # An anomaly above the cap breaks the line and is drawn as a marker instead.
            line = [None if v is not None and v > SHARE_CAP else v for v in numbers]
            for year, figure, value, dot, drawn in zip(figs.years, found, numbers,
                                                       _isolated(line), line, strict=True):
                above = value is not None and value > SHARE_CAP
                rows.append({
                    "panel": _panel(meta, indicators), "year": year, "country": figs.name(iso),
                    "value": SHARE_CAP if above else value, "line": drawn, "dot": dot,
                    "above": above, "label": _tooltip_value(figure, fmt),
                })
    names = [figs.name(c) for c in countries]
    palette = (PALETTE + PALETTE_EXTRA)[: len(names) - 1] + [REGION_COLOUR]
    colour = alt.Color("country:N", title=None, scale=alt.Scale(domain=names, range=palette))
    columns = _panel_columns(len(indicators))
    width = (PAGE_WIDTH - 50 * columns) // columns
    x = _year_axis(figs)
    scale = alt.Scale(domain=[0, SHARE_CAP], clamp=True)
    axis = alt.Axis(format="d", tickCount=5, labelExpr="datum.label + '%'")
    y = alt.Y("value:Q", title=None, scale=scale, axis=axis)
    lines = (
        alt.Chart()
        .mark_line(strokeWidth=1.2, strokeJoin="round", invalid="break-paths-show-domains")
        .encode(x=x, y=alt.Y("line:Q", title=None, scale=scale, axis=axis), color=colour,
                strokeWidth=alt.condition(alt.datum.country == figs.name(figs.region),
                                          alt.value(2.6), alt.value(1.2)),
                tooltip=[alt.Tooltip("year:Q", format="d"), "country:N", "label:N"])
    )
    dots = (
        alt.Chart()
        .transform_filter(alt.datum.dot)
        .mark_point(filled=True, size=16, opacity=1)
        .encode(x=x, y=alt.Y("line:Q", title=None, scale=scale, axis=axis), color=colour)
    )
    above = (
        alt.Chart()
        .transform_filter(alt.datum.above)
        .mark_point(shape="triangle-up", filled=True, size=55, color=MARK_COLOUR)
        .encode(x=x, y=y)
    )
    chart = (
        _panels(alt.LayerChart(layer=[lines, dots, above], width=width, height=150),
                indicators, columns, {"row": 14, "column": 20})
    )
    phrases = []
    for meta in indicators:
        series = figs.series(figs.region, meta.id)
        if any(f.number is not None for f in series):
            phrases.append(f"{meta.title.lower()} in {figs.name(figs.region)} "
                           f"{_trend_phrase(series, fmt)}")
            continue
        numbers = [f for c in countries for f in figs.series(c, meta.id) if f.number is not None]
        if numbers:
            low = min(numbers, key=lambda f: (f.number, f.year))
            high = max(numbers, key=lambda f: (f.number, -f.year))
            phrases.append(
                f"{meta.title.lower()} ranged from {fmt.value(low.number, low.unit)} "  # type: ignore[arg-type]
                f"({figs.name(low.country)}, {low.year}) to "
                f"{fmt.value(high.number, high.unit)} "  # type: ignore[arg-type]
                f"({figs.name(high.country)}, {high.year})"
            )
        else:
            phrases.append(f"{meta.title.lower()}: no figures")
    flagged = sum(1 for r in rows if r["above"])
    tail = (f"; {flagged} value{'s' if flagged != 1 else ''} above 100% drawn at the top edge"
            if flagged else "")
    description = "Line charts of percentages by member: " + "; ".join(phrases) + tail + "."
    return _config(chart, fmt, description, rows)


def _tooltip_value(figure: Figure | None, fmt: Formatter) -> str:
    if figure is None or (figure.number is None and not figure.withheld):
        return "–"
    if figure.withheld:
        return WITHHELD
    return fmt.value(figure.number, figure.unit)  # type: ignore[arg-type]


def _member_ticks(figs: Figures) -> list[int]:
    top = _max_members(figs)
    return sorted({0, top // 2, top}) if top > 2 else list(range(top + 1))


def _max_members(figs: Figures) -> int:
    counts = [
        f.members
        for m in figs.indicators
        for f in figs.series(figs.region, m.id)
        if f.members is not None
    ]
    return max(counts, default=len(figs.members)) or 1
