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

import collections
import contextlib
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

from tipwatch.report.casework import PARTIAL_MARK, SYNTHETIC_LABEL, WITHIN_YEARS, Casework, num
from tipwatch.report.figures import Figure, Figures, Placement, Tiers
from tipwatch.report.fmt import SUPPRESSED, WITHHELD, Formatter, is_percent
from tipwatch.report.i18n import N_, _, ngettext
from tipwatch.report.model import IndicatorMeta

FONT = "DejaVu Sans"
# A4 minus 2 x 18 mm margins is 174 mm, about 650 CSS px: charts are drawn at print size.
PAGE_WIDTH = 620
# Plot height of a country profile's trend chart, in px (a profile fits one A4 page).
PROFILE_CHART_HEIGHT = 64
#: What a profile's trend chart marks on its axis, for the chart's caption.
TREND_MARK_NOTE = N_("△ on the axis: figure {withheld}, withheld")


def trend_mark_note() -> str:
    """`TREND_MARK_NOTE` in the report's language."""
    return _(TREND_MARK_NOTE).format(withheld=WITHHELD)
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
    if spec.get("config", {}).get("aria") is False:
        # Vega labels groups and headers even so, in English ("group mark container", "Title
        # text '…'"); inside an SVG that is one image they are presentational anyway.
        markup = _VEGA_ARIA.sub("", markup)
    return _label(markup, str(spec.get("description", "")))


# The ARIA attributes Vega writes on the elements inside a chart's SVG.
_VEGA_ARIA = re.compile(r'\saria-(?:label|roledescription)="[^"]*"')


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
    largest cost after WeasyPrint. Start the renderer early (the helper's start-up and its first,
    slow chart then overlap with building the specs). `render` draws them all now; `start` has
    the helper draw them while this process does other work (the PDF's layout). Both fall back
    to this process alone if the helper fails. Use it as a context manager so the helper always
    ends.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._warming = False
        # Only a real Python interpreter can run the helper (not, say, an embedding server).
        if not Path(sys.executable).name.lower().startswith("python"):
            return
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _HELPER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
            )
            # vl-convert's first chart starts its JavaScript engine (about 0.3 s): let the helper
            # do that now, while this process builds the specs.
            self._proc.stdin.write(json.dumps(_WARM_UP) + "\n")  # type: ignore[union-attr]
            self._proc.stdin.flush()  # type: ignore[union-attr]
            self._warming = True
        except OSError:
            self.close()

    def _warmed(self) -> None:
        # Read the warm-up chart's answer, once, before the first real one.
        if self._warming and self._proc is not None:
            self._warming = False
            if not self._proc.stdout.readline():  # type: ignore[union-attr]
                raise OSError("the chart helper ended")

    def __enter__(self) -> SvgRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the helper process."""
        if self._proc is not None:
            if self._proc.stdin and not self._proc.stdin.closed:
                with contextlib.suppress(OSError):  # the helper is gone already
                    self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def start(self, specs: Sequence[Spec]) -> Drawing:
        """Have the helper draw every spec in the background, in order.

        This process is then free for other work (laying out the PDF, which needs the charts
        only when it reaches their images); `Drawing.get` waits for one chart, and draws it here
        if the helper cannot.

        Args:
            specs: Vega-Lite specs.

        Returns:
            The drawing in progress.
        """
        return Drawing(self, specs)

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
            try:
                self._warmed()
            except (OSError, ValueError):
                return
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


class Drawing:
    """Charts drawn in the background by the helper process (see `SvgRenderer.start`).

    The helper takes charts from the front, in order, with the next one already waiting in its
    pipe: it never idles while this process holds the GIL. A caller that needs a chart the helper
    has not delivered yet does not sit idle either: it draws charts from the back meanwhile, or
    the one it needs when the helper has not taken it, so both cores work until every chart is
    drawn.

    Args:
        renderer: The renderer whose helper draws; without one, everything is drawn here.
        specs: Vega-Lite specs.
    """

    # Charts sent to the helper ahead of its answers.
    AHEAD = 2

    def __init__(self, renderer: SvgRenderer, specs: Sequence[Spec]) -> None:
        self._renderer = renderer
        self._specs = list(specs)
        self._out: dict[int, str] = {}
        self._taken: set[int] = set()
        self._sent: collections.deque[int] = collections.deque()
        self._slots = threading.Semaphore(self.AHEAD)
        self._done = threading.Condition()
        self._helping = renderer._proc is not None and bool(self._specs)
        self._writing = self._helping
        if self._helping:
            threading.Thread(target=self._writer, daemon=True).start()
            threading.Thread(target=self._reader, daemon=True).start()

    def _take(self, indices: Sequence[int]) -> int | None:
        # The first of `indices` nobody has taken yet; the caller holds the lock.
        index = next((i for i in indices if i not in self._taken), None)
        if index is not None:
            self._taken.add(index)
        return index

    def _deliver(self, index: int, markup: str) -> None:
        with self._done:
            self._out.setdefault(index, markup)
            self._done.notify_all()

    def _writer(self) -> None:
        # Sends specs, at most AHEAD unanswered; separate from the reader, so that a full pipe
        # one way never waits on a full pipe the other way.
        proc = self._renderer._proc
        try:
            while True:
                self._slots.acquire()
                with self._done:
                    index = self._take(range(len(self._specs))) if self._helping else None
                    if index is None:
                        break
                    self._sent.append(index)
                    self._done.notify_all()
                proc.stdin.write(json.dumps(self._specs[index]) + "\n")  # type: ignore[union-attr]
                proc.stdin.flush()  # type: ignore[union-attr]
        except (OSError, ValueError, AttributeError):
            pass  # the helper died: the reader hands its charts back
        finally:
            with self._done:
                self._writing = False
                self._done.notify_all()

    def _reader(self) -> None:
        proc = self._renderer._proc
        try:
            self._renderer._warmed()
            while True:
                with self._done:
                    self._done.wait_for(lambda: bool(self._sent) or not self._writing)
                    if not self._sent:
                        break
                    index = self._sent[0]
                line = proc.stdout.readline()  # type: ignore[union-attr]
                if not line:
                    raise OSError("the chart helper ended")
                markup = _finish(self._specs[index], json.loads(line))
                with self._done:
                    self._sent.popleft()
                    self._out.setdefault(index, markup)
                    self._done.notify_all()
                self._slots.release()
        except (OSError, ValueError, AttributeError):
            pass  # the helper died: what it did not deliver is drawn here
        finally:
            with self._done:
                self._helping = False
                for index in self._sent:  # sent, never answered
                    if index not in self._out:
                        self._taken.discard(index)
                self._sent.clear()
                self._done.notify_all()
            self._slots.release()  # a writer waiting for a slot sees that the helper is gone

    def get(self, index: int) -> str:
        """One chart's SVG, as `svg` would draw it.

        Args:
            index: Position of the spec.

        Returns:
            The SVG markup.
        """
        while True:
            with self._done:
                if index in self._out:
                    return self._out[index]
                mine = self._take([index])
                if mine is None:  # the helper is drawing it: draw another meanwhile
                    mine = self._take(range(len(self._specs) - 1, index, -1))
                if mine is None:
                    self._done.wait_for(lambda: index in self._out or not self._helping,
                                        timeout=HELPER_TIMEOUT)
                    if index not in self._out and index not in self._taken:
                        continue
                    if index not in self._out:  # a stuck helper: draw it here after all
                        mine = index
            if mine is not None:
                self._deliver(mine, svg(self._specs[mine]))

    def result(self) -> list[str]:
        """Every chart's SVG, in order, once drawn; ends the helper.

        Returns:
            One SVG per spec; byte-identical to ``svg(spec)``.
        """
        drawn = [self.get(i) for i in range(len(self._specs))]
        self._renderer.close()
        return drawn


# A tiny chart the helper draws first, to start vl-convert's engine before the real work.
_WARM_UP: Spec = {"data": {"values": [{"x": 0}]}, "mark": "point",
                  "encoding": {"x": {"field": "x", "type": "quantitative"}}}


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


# Hover targets laid over a line's points on the web page: invisible, but big enough to find.
HOVER_POINT: dict[str, Any] = {"type": "point", "opacity": 0, "size": 110, "filled": True}
# Encodings a hover target keeps from its line: where the point is, and what it says.
_HOVER_CHANNELS = ("x", "y", "xOffset", "yOffset", "tooltip")


def interactive(spec: Spec) -> Spec:
    """The spec the web page draws with vega-embed: the static one, with tooltips that work.

    A tooltip on a line mark belongs to the whole path, so Vega would show the first point's
    figure wherever the line is hovered. Here each line with a tooltip becomes a layer of the
    line without it and of invisible points that carry it, one per year. The static SVGs (PDF,
    screen readers) are drawn from the spec as built, which has no such points.

    Args:
        spec: A Vega-Lite spec as returned by the builders here.

    Returns:
        A new spec; ``spec`` is left as it was.
    """
    return _hover_lines(spec)


def _hover_lines(node: Any) -> Any:
    if isinstance(node, list):
        return [_hover_lines(item) for item in node]
    if not isinstance(node, dict):
        return node
    mark = node.get("mark")
    kind = mark.get("type") if isinstance(mark, dict) else mark
    encoding = node.get("encoding")
    if kind == "line" and isinstance(encoding, dict) and "tooltip" in encoding:
        line = {key: node[key] for key in ("mark", "encoding", "params") if key in node}
        line["encoding"] = {k: v for k, v in encoding.items() if k != "tooltip"}
        points = {"mark": HOVER_POINT,
                  "encoding": {k: encoding[k] for k in _HOVER_CHANNELS if k in encoding}}
        # What else the unit holds (its filter, size, data) now applies to both layers.
        outer = {key: value for key, value in node.items() if key not in line}
        return {**outer, "layer": [line, points]}
    # Data rows need no walk; the rest may hold layers, facets or concatenations.
    return {key: value if key in ("datasets", "data", "config") else _hover_lines(value)
            for key, value in node.items()}


# ---------------------------------------------------------------------------------------------
# Shared pieces

class Tip:
    """A tooltip field whose title is a message: calling it gives the tooltip in the report's language.

    Module constants are made at import, outside any language; the tooltip itself is made when a
    chart is built (inside `tipwatch.report.i18n.use`), so its title is in the report's language.
    """

    def __init__(self, shorthand: str, title: str, **options: Any) -> None:
        self.shorthand, self.title, self.options = shorthand, title, options

    def __call__(self) -> alt.Tooltip:
        return alt.Tooltip(self.shorthand, title=_(self.title), **self.options)


# What the web page's tooltips say: the year and the figure as the tables print it, under the
# words a reader would use.
TIP_YEAR = Tip("year:Q", N_("year"), format="d")
TIP_FIGURE = Tip("label:N", N_("figure"))
TIP_INDICATOR = Tip("indicator:N", N_("indicator"))
TIP_COUNTRY = Tip("country:N", N_("country"))


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
    if fmt.language != "en":
        # Vega writes its own ARIA labels in English ("X-axis for a linear scale …", a mark's
        # data fields by name): off in any other language. Readers lose nothing: the static SVG
        # is one image (role="img") named by the translated description, the live chart is
        # aria-hidden, and `_finish` removes what Vega still labels.
        spec["config"]["aria"] = False
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
        if withheld:
            return _("{withheld} in {years}").format(withheld=WITHHELD, years=fmt.year_list(withheld))
        return _("no figures")
    first, last = numbers[0], numbers[-1]
    if first is last:
        return _("{value} in {year}").format(value=fmt.value(first.number, first.unit), year=first.year)  # type: ignore[arg-type]
    values = {"first": fmt.value(first.number, first.unit), "first_year": first.year,  # type: ignore[arg-type]
              "last": fmt.value(last.number, last.unit), "last_year": last.year}  # type: ignore[arg-type]
    peak = max(numbers, key=lambda f: (f.number, -f.year))
    if peak is not first and peak is not last:
        return _("from {first} in {first_year} to {last} in {last_year} (highest {peak} in {peak_year})").format(
            peak=fmt.value(peak.number, peak.unit), peak_year=peak.year, **values)  # type: ignore[arg-type]
    return _("from {first} in {first_year} to {last} in {last_year}").format(**values)


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
    reported = _("members with a number")
    below = _("members with {withheld}, not added").format(withheld=WITHHELD)
    rows: list[dict[str, Any]] = []
    for meta in indicators:
        found = [figs.get(figs.region, meta.id, year) for year in figs.years]
        values = [f.number if f else None for f in found]
        for year, figure, value, dot in zip(figs.years, found, values, _isolated(values),
                                            strict=True):
            # A row for every year, so that a year without a figure breaks the line.
            coverage = (fmt.coverage(figure.reporting, figure.below_threshold or 0, figure.members)  # type: ignore[arg-type]
                        if figure is not None and figure.has_coverage else "")
            rows.append({"panel": _panel(meta, indicators), "year": year, "layer": "line", "value": value,
                         "dot": dot, "label": _tooltip_value(figure, fmt), "indicator": meta.title,
                         "coverage": coverage})
            if figure is not None and figure.has_coverage:
                rows.append({"panel": _panel(meta, indicators), "year": year, "layer": "bar", "part": reported,
                             "members": figure.reporting, "order": 0, "indicator": meta.title,
                             "coverage": coverage})
                if figure.below_threshold:
                    rows.append({"panel": _panel(meta, indicators), "year": year, "layer": "bar", "part": below,
                                 "members": figure.below_threshold, "order": 1, "indicator": meta.title,
                                 "coverage": coverage})
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
            tooltip=[TIP_INDICATOR(), TIP_YEAR(), alt.Tooltip("coverage:N", title=_("coverage"))],
        )
    )
    line = (
        alt.Chart()
        .transform_filter(alt.datum.layer == "line")
        .mark_line(color=REGION_COLOUR, strokeWidth=2, strokeJoin="round",
                   invalid="break-paths-show-domains")
        .encode(x=x, y=alt.Y("value:Q", title=None, axis=value_axis),
                tooltip=[TIP_INDICATOR(), TIP_YEAR(), alt.Tooltip("label:N", title=figs.name(figs.region)),
                         alt.Tooltip("coverage:N", title=_("coverage"))])
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
    description = _(
        "Line charts of the regional figures of {region}, {years}: {phrases}; bars (right axis) count the "
        "members whose figures each year adds up, and those with {withheld}."
    ).format(region=figs.name(figs.region), years=fmt.year_range((figs.years[0], figs.years[-1])),
             phrases="; ".join(phrases), withheld=WITHHELD)
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
                         "country": name, "value": value, "year": year,
                         "label": _tooltip_value(figure, fmt), "pos": value or 0})
    names = [name for _, name in figs.members]
    columns = _panel_columns(len(indicators))
    width = (PAGE_WIDTH - 110 - 40 * columns) // columns
    colours = indicator_colours(indicators)
    y = alt.Y("country:N", sort=names, title=None, axis=alt.Axis(labelLimit=100))
    tooltip = [TIP_COUNTRY(), TIP_INDICATOR(), TIP_YEAR(), TIP_FIGURE()]
    bars = alt.Chart().mark_bar(height=9).encode(
        x=alt.X("value:Q", title=None, axis=alt.Axis(format=",~f", tickCount=3)),
        y=y,
        color=alt.Color("indicator:N", scale=colours, legend=None),
        tooltip=tooltip,
    )
    labels = alt.Chart().mark_text(align="left", dx=3, fontSize=9, color="#333333").encode(
        x=alt.X("pos:Q"), y=y, text="label:N", tooltip=tooltip,
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
            phrases.append(_("{indicator}: no member figures").format(indicator=meta.title.lower()))
            continue
        top, bottom = numbers[0], numbers[-1]
        phrase = _("{indicator} highest in {country} ({value})").format(
            indicator=meta.title.lower(), country=figs.name(top.country), value=fmt.value(top.number, top.unit))  # type: ignore[arg-type]
        if bottom is not top:
            phrase += ", " + _("lowest in {country} ({value})").format(
                country=figs.name(bottom.country), value=fmt.value(bottom.number, bottom.unit))  # type: ignore[arg-type]
        withheld = [figs.name(f.country) for f in figures if f.withheld]
        if withheld:
            phrase += ", " + _("{withheld} in {countries}").format(withheld=WITHHELD, countries=", ".join(withheld))
        phrases.append(phrase)
    description = _("Bar charts comparing members in {year}: {phrases}.").format(year=year, phrases="; ".join(phrases))
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
                tooltip=[TIP_INDICATOR(), TIP_YEAR(), TIP_FIGURE()])
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
        .encode(x=x, y=alt.datum(0), color=alt.Color("indicator:N", scale=colours, title=None),
                tooltip=[TIP_INDICATOR(), TIP_YEAR(), TIP_FIGURE()])
    )
    # Low: the chart shares its member's profile page with the key figures, notes, tier strip
    # and legal-framework checklist (one profile, one page); the table below has the figures.
    # What the △ means is said in the figure's caption (`TREND_MARK_NOTE`), not under the plot.
    chart = alt.layer(line, dots, withheld, data=_DATA).properties(
        width=PAGE_WIDTH - 60, height=PROFILE_CHART_HEIGHT)
    phrases = [f"{m.title.lower()} {_trend_phrase(figs.series(country, m.id), fmt)}"
               for m in indicators]
    description = _("Line chart of {country}, {years}: {phrases}.").format(
        country=figs.name(country), years=fmt.year_range((figs.years[0], figs.years[-1])), phrases="; ".join(phrases))
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
                    "above": above, "label": _tooltip_value(figure, fmt), "indicator": meta.title,
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
                tooltip=[TIP_COUNTRY(), TIP_INDICATOR(), TIP_YEAR(), TIP_FIGURE()])
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
        .encode(x=x, y=y, tooltip=[TIP_COUNTRY(), TIP_INDICATOR(), TIP_YEAR(), TIP_FIGURE()])
    )
    chart = (
        _panels(alt.LayerChart(layer=[lines, dots, above], width=width, height=150),
                indicators, columns, {"row": 14, "column": 20})
    )
    phrases = []
    for meta in indicators:
        series = figs.series(figs.region, meta.id)
        if any(f.number is not None for f in series):
            phrases.append(_("{indicator} in {region} {trend}").format(
                indicator=meta.title.lower(), region=figs.name(figs.region), trend=_trend_phrase(series, fmt)))
            continue
        numbers = [f for c in countries for f in figs.series(c, meta.id) if f.number is not None]
        if numbers:
            low = min(numbers, key=lambda f: (f.number, f.year))
            high = max(numbers, key=lambda f: (f.number, -f.year))
            phrases.append(_("{indicator} ranged from {low} ({low_country}, {low_year}) to {high} "
                             "({high_country}, {high_year})").format(
                indicator=meta.title.lower(), low=fmt.value(low.number, low.unit),  # type: ignore[arg-type]
                low_country=figs.name(low.country), low_year=low.year,
                high=fmt.value(high.number, high.unit),  # type: ignore[arg-type]
                high_country=figs.name(high.country), high_year=high.year))
        else:
            phrases.append(_("{indicator}: no figures").format(indicator=meta.title.lower()))
    flagged = sum(1 for r in rows if r["above"])
    tail = ("; " + ngettext("{n} value above 100% drawn at the top edge", "{n} values above 100% drawn at the top edge",
                            flagged).format(n=flagged) if flagged else "")
    description = _("Line charts of percentages by member: {phrases}.").format(phrases="; ".join(phrases) + tail)
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


# ---------------------------------------------------------------------------------------------
# Case records (components 4, 6 and 7)
#
# Drawn from `tipwatch.report.casework.Casework`, the same rows its tables print. A withheld
# cell (NaN) is never drawn as a value: bars and lines leave it out, and a label says "x". When
# the case records are synthetic, the chart's own title says so in red, and so does its
# alternative text.

# Light to dark: investigated, prosecuted, convicted.
FUNNEL_COLOURS = [LIGHT, "#8fb3d9", "#1f4e79"]
# Oldest to latest of the sentence years.
YEAR_BLUES = ["#b9cfe6", "#6f9bc8", "#1f4e79"]


def _casework_spec(chart: alt.TopLevelMixin, fmt: Formatter, cw: Casework, description: str,
                   rows: list[dict[str, Any]], subject: str) -> Spec:
    if cw.synthetic:
        description = f"{_(SYNTHETIC_LABEL)}. {description}"
    spec = _config(chart, fmt, description, rows)
    if cw.synthetic:
        spec["title"] = {
            "text": f"{_(SYNTHETIC_LABEL)} · {subject}",
            "subtitle": _("Synthetic case records (tipwatch synth): no real country"),
            "anchor": "start", "color": MARK_COLOUR, "fontSize": 11, "fontWeight": "bold",
            "subtitleColor": MARK_COLOUR, "subtitleFontSize": 9, "offset": 6,
        }
    return spec


def _casework_year_axis(years: Sequence[int], max_ticks: int = 11, font_size: int = 10) -> alt.X:
    first, last = years[0], years[-1]
    step = next(s for s in (1, 2, 5, 10, 20) if (last - first) // s + 1 <= max_ticks)
    return alt.X(
        "year:Q", title=None,
        scale=alt.Scale(domain=[first, last], nice=False, padding=8),
        axis=alt.Axis(format="d", values=[y for y in years if y % step == 0] or [first, last],
                      grid=False, labelFontSize=font_size),
    )


def _member_colours(names: Sequence[str]) -> alt.Scale:
    return alt.Scale(domain=list(names), range=(PALETTE + PALETTE_EXTRA)[: len(names)])


def attrition_funnel(cw: Casework, fmt: Formatter, year: int) -> Spec:
    """Cohort attrition of one complete cohort: nested bars per member and for the region.

    Each row is 100 % of the persons investigated in the cohort year; the darker bars on it are
    the shares prosecuted and convicted within the window. Incomplete (right-censored) cohorts
    are not in it. A withheld count draws no bar and is labelled ``x``.

    Args:
        cw: The case records.
        fmt: The formatter.
        year: The cohort year.

    Returns:
        A Vega-Lite spec with its alternative text in ``description``.
    """
    stages = [_("Investigated"), _("Prosecuted within {years} years").format(years=WITHIN_YEARS),
              _("Convicted within {years} years").format(years=WITHIN_YEARS)]
    funnel = cw.funnel(year)
    rows: list[dict[str, Any]] = []
    for r in funnel:
        label = _("{name} (sum)").format(name=r["name"]) if r["region"] else r["name"]
        shares = [100.0 if r["investigated"] is not None else None,
                  r["prosecuted_share"], r["convicted_share"]]
        for stage, share in zip(stages, shares, strict=True):
            rows.append({"layer": "bar", "country": label, "stage": stage, "share": share,
                         "label": fmt.percent(share) if share is not None else SUPPRESSED})
        parts = [f"n={fmt.number(r['investigated'])}" if r["investigated"] is not None
                 else f"n={SUPPRESSED}"]
        parts += [fmt.percent(s) if s is not None else SUPPRESSED for s in shares[1:]]
        rows.append({"layer": "label", "country": label, "text": " · ".join(parts)})
    names = [r["country"] for r in rows if r["layer"] == "label"]
    region = _("{name} (sum)").format(name=cw.region)
    y = alt.Y("country:N", sort=names, title=None,
              axis=alt.Axis(labelLimit=120, ticks=False, domain=False,
                            labelFontWeight=alt.ExprRef(
                                f"datum.value === {json.dumps(region)} ? 'bold' : 'normal'")))
    bars = (
        alt.Chart()
        .transform_filter(alt.datum.layer == "bar")
        .mark_bar(height=11)
        .encode(
            x=alt.X("share:Q", stack=None, title=_("% of persons investigated"),
                    scale=alt.Scale(domain=[0, 100], nice=False),
                    axis=alt.Axis(values=[0, 25, 50, 75, 100], labelExpr="datum.label + '%'")),
            y=y,
            color=alt.Color("stage:N", title=None, sort=stages,
                            scale=alt.Scale(domain=stages, range=FUNNEL_COLOURS)),
            tooltip=[TIP_COUNTRY(), alt.Tooltip("stage:N", title=_("stage")), TIP_FIGURE()],
        )
    )
    labels = (
        alt.Chart()
        .transform_filter(alt.datum.layer == "label")
        .mark_text(align="left", dx=5, fontSize=9, color="#333333")
        .encode(x=alt.datum(100), y=y, text="text:N")
    )
    chart = alt.layer(bars, labels, data=_DATA).properties(
        width=PAGE_WIDTH - 300, height=17 * len(names))
    members = [r for r in funnel if not r["region"] and r["convicted_share"] is not None]
    phrases = []
    total = next((r for r in funnel if r["region"]), None)
    if total is not None and total["investigated"] is not None:
        phrases.append(_(
            "{region}, adding up {added} members: {investigated} persons investigated, {prosecuted} prosecuted "
            "and {convicted} convicted within {years} years").format(
                region=cw.region, added=fmt.number(total["added"]), investigated=fmt.number(total["investigated"]),
                prosecuted=fmt.percent(total["prosecuted_share"] or 0),
                convicted=fmt.percent(total["convicted_share"] or 0), years=WITHIN_YEARS))
    if members:
        high = max(members, key=lambda r: (r["convicted_share"], r["name"]))
        low = min(members, key=lambda r: (r["convicted_share"], r["name"]))
        phrases.append(_("convicted share highest in {high} ({high_share}), lowest in {low} ({low_share})").format(
            high=high["name"], high_share=fmt.percent(high["convicted_share"]),
            low=low["name"], low_share=fmt.percent(low["convicted_share"])))
    withheld = [r["name"] for r in funnel if not r["region"]
                and None in (r["investigated"], r["prosecuted"], r["convicted"])]
    if withheld:
        phrases.append(_("counts withheld ({suppressed}) for {names}").format(
            suppressed=SUPPRESSED, names=", ".join(withheld)))
    description = _("Bar chart of cohort attrition for the persons first investigated in {year}: the shares "
                    "prosecuted and convicted within {years} years. {phrases}.").format(
                        year=year, years=WITHIN_YEARS, phrases="; ".join(phrases))
    return _casework_spec(chart, fmt, cw, description, rows, _("Attrition, {year} cohort").format(year=year))


def verdict_durations(cw: Casework, fmt: Formatter) -> Spec:
    """Median days from investigation to first-instance verdict, one line per member.

    A year whose median is withheld (fewer defendants than the threshold) is an open triangle
    on the axis, not a value; a line breaks where a year has no median.

    Args:
        cw: The case records.
        fmt: The formatter.

    Returns:
        A Vega-Lite spec with its alternative text in ``description``.
    """
    years = cw.years("durations")
    countries = cw.countries("durations")
    rows: list[dict[str, Any]] = []
    latest: list[tuple[float, str, int]] = []
    for iso in countries:
        found = [cw.record("durations", iso, year) for year in years]
        values = [num(r["median_days"]) if r is not None and num(r["n"]) is not None else None
                  for r in found]
        for year, r, value, dot in zip(years, found, values, _isolated(values), strict=True):
            withheld = r is not None and num(r["n"]) is None
            rows.append({"country": cw.name(iso), "year": year, "value": value, "dot": dot,
                         "withheld": withheld,
                         "label": (SUPPRESSED if withheld else "–" if value is None
                                   else _("{days} days").format(days=fmt.number(value, decimals=1)))})
        shown = [(v, y) for v, y in zip(values, years, strict=True) if v is not None]
        if shown:
            latest.append((shown[-1][0], cw.name(iso), shown[-1][1]))
    names = [cw.name(c) for c in countries]
    colours = _member_colours(names)
    x = _casework_year_axis(years)
    colour = alt.Color("country:N", scale=colours, title=None,
                       legend=alt.Legend(columns=5, labelLimit=110))
    line = (
        alt.Chart()
        .mark_line(strokeWidth=1.6, strokeJoin="round", invalid="break-paths-show-domains")
        .encode(x=x, y=alt.Y("value:Q", title=_("median days"),
                             axis=alt.Axis(format=",~f", tickCount=5)), color=colour,
                tooltip=[TIP_COUNTRY(), TIP_YEAR(), alt.Tooltip("label:N", title=_("median"))])
    )
    dots = (alt.Chart().transform_filter(alt.datum.dot)
            .mark_point(filled=True, size=24, opacity=1)
            .encode(x=x, y=alt.Y("value:Q"), color=colour))
    withheld = (alt.Chart().transform_filter(alt.datum.withheld)
                .mark_point(shape="triangle-up", filled=False, size=40, strokeWidth=1.3)
                .encode(x=x, y=alt.datum(0), color=colour,
                        tooltip=[TIP_COUNTRY(), TIP_YEAR(), alt.Tooltip("label:N", title=_("median"))]))
    chart = alt.layer(line, dots, withheld, data=_DATA).properties(
        width=PAGE_WIDTH - 70, height=170,
        title=alt.Title(_("△ on the axis: median withheld ({suppressed})").format(suppressed=SUPPRESSED), fontSize=9,
                        fontWeight="normal", color="#555555", anchor="end", orient="bottom"),
    )
    period = fmt.year_range((years[0], years[-1])) if years else ""
    description = _("Line chart of the median days from investigation to verdict by member, {period}").format(
        period=period)
    if latest:
        low, high = min(latest), max(latest)
        description += "; " + _("latest medians from {low} days ({low_country}, {low_year}) to {high} days "
                                "({high_country}, {high_year})").format(
            low=fmt.number(low[0], decimals=1), low_country=low[1], low_year=low[2],
            high=fmt.number(high[0], decimals=1), high_country=high[1], high_year=high[2])
    return _casework_spec(chart, fmt, cw, description + ".", rows, _("Time to verdict"))


def sentence_ranges(cw: Casework, fmt: Formatter) -> Spec:
    """Prison sentences by member in the latest years: median (dot) and quartiles (bar).

    Args:
        cw: The case records.
        fmt: The formatter.

    Returns:
        A Vega-Lite spec with its alternative text in ``description``.
    """
    years = cw.sentence_years()
    countries = cw.countries("sentences")
    rows: list[dict[str, Any]] = []
    for iso in countries:
        for year in years:
            r = cw.record("sentences", iso, year)
            if r is None or num(r["with_sentence"]) is None:
                continue
            q1, median, q3 = (num(r[c]) for c in ("q1_months", "median_months", "q3_months"))
            if median is None:
                continue
            rows.append({"country": cw.name(iso), "year": str(year), "median": median,
                         "q1": q1 if q1 is not None else median,
                         "q3": q3 if q3 is not None else median,
                         "label": _("median {median} months, quartiles {q1}–{q3}").format(
                             median=fmt.number(median, decimals=1),
                             q1=fmt.number(q1 if q1 is not None else median, decimals=1),
                             q3=fmt.number(q3 if q3 is not None else median, decimals=1))})
    names = [cw.name(c) for c in countries]
    labels = [str(y) for y in years]
    y = alt.Y("country:N", sort=names, title=None, axis=alt.Axis(labelLimit=110, ticks=False))
    offset = alt.YOffset("year:N", sort=labels, scale=alt.Scale(domain=labels, paddingInner=0.2))
    colour = alt.Color("year:N", title=None, sort=labels,
                       scale=alt.Scale(domain=labels, range=YEAR_BLUES[-len(labels):]))
    x = alt.X("q1:Q", title=_("months of prison (quartiles and median)"),
              axis=alt.Axis(format=",~f", tickCount=6))
    tooltip = [TIP_COUNTRY(), alt.Tooltip("year:N", title=_(TIP_YEAR.title)),
               alt.Tooltip("label:N", title=_("prison sentences"))]
    ranges = alt.Chart().mark_rule(strokeWidth=2.2).encode(x=x, x2="q3:Q", y=y, yOffset=offset,
                                                           color=colour, tooltip=tooltip)
    medians = (alt.Chart().mark_point(filled=True, size=26, opacity=1, shape="diamond")
               .encode(x=alt.X("median:Q"), y=y, yOffset=offset, color=colour, tooltip=tooltip))
    chart = alt.layer(ranges, medians, data=_DATA).properties(
        width=PAGE_WIDTH - 130, height=alt.Step(6))
    last = [r for r in rows if years and r["year"] == str(years[-1])]
    description = _("Range chart of the prison sentences by member, {years}: a bar from the first to the third "
                    "quartile, a diamond at the median").format(years=fmt.year_list(years) if years else _("no years"))
    if last:
        low = min(last, key=lambda r: (r["median"], r["country"]))
        high = max(last, key=lambda r: (r["median"], r["country"]))
        description += "; " + _("in {year} medians from {low} months ({low_country}) to {high} months "
                                "({high_country})").format(
            year=years[-1], low=fmt.number(low["median"], decimals=1), low_country=low["country"],
            high=fmt.number(high["median"], decimals=1), high_country=high["country"])
    return _casework_spec(chart, fmt, cw, description + ".", rows, _("Sentences"))


def witness_trends(cw: Casework, fmt: Formatter) -> Spec:
    """The region's victims as witnesses by year: three small panels.

    Panels: victims identified and who testified; protected and compensated; testified per
    identified (a period ratio). Each is the members' released figures added up.

    Args:
        cw: The case records.
        fmt: The formatter.

    Returns:
        A Vega-Lite spec with its alternative text in ``description``.
    """
    years = cw.years("witnesses")
    panels = {
        _("Identified and testified"): ("identified", "testified"),
        _("Protected and compensated"): ("protected", "compensated"),
        _("Testified ÷ identified (%)"): ("testified_share",),
    }
    series = {"identified": _("Identified"), "testified": _("Testified"), "protected": _("Protected"),
              "compensated": _("Compensated"), "testified_share": _("Testified ÷ identified")}
    sums = {year: cw.witness_sums(year) for year in years}
    rows: list[dict[str, Any]] = []
    for panel, columns in panels.items():
        for column in columns:
            values = [sums[year][column].value for year in years]
            text = fmt.percent if column == "testified_share" else fmt.number
            for year, value, dot in zip(years, values, _isolated(values), strict=True):
                rows.append({"panel": panel, "series": series[column], "year": year,
                             "value": value, "dot": dot,
                             "label": "–" if value is None else text(value)})
    x = _casework_year_axis(years, max_ticks=6, font_size=8)
    colour = alt.Color("series:N", title=None, sort=list(series.values()),
                       scale=alt.Scale(domain=list(series.values()),
                                       range=[REGION_COLOUR, PALETTE[0], PALETTE[1], PALETTE[4],
                                              PALETTE[2]]))
    y = alt.Y("value:Q", title=None, axis=alt.Axis(format=",~f", tickCount=4))
    line = (alt.Chart().mark_line(strokeWidth=1.8, invalid="break-paths-show-domains")
            .encode(x=x, y=y, color=colour,
                    tooltip=[alt.Tooltip("series:N", title=_("victims")), TIP_YEAR(), TIP_FIGURE()]))
    dots = (alt.Chart().transform_filter(alt.datum.dot).mark_point(filled=True, size=22, opacity=1)
            .encode(x=x, y=y, color=colour))
    width = (PAGE_WIDTH - 3 * 50) // 3
    chart = alt.FacetChart(
        data=_DATA,
        spec=alt.LayerChart(layer=[line, dots], width=width, height=120),
        facet=alt.Facet("panel:N", sort=list(panels), title=None),
        columns=3, spacing={"column": 22},
        resolve=alt.Resolve(scale=alt.ScaleResolveMap(y="independent")),
    )
    period = fmt.year_range((years[0], years[-1])) if years else ""
    phrases = []
    for column in ("identified", "testified", "testified_share"):
        values = [(sums[y][column].value, y) for y in years if sums[y][column].value is not None]
        if values:
            text = fmt.percent if column == "testified_share" else fmt.number
            first, last = values[0], values[-1]
            phrases.append(_("{series} {first} in {first_year}, {last} in {last_year}").format(
                series=series[column].lower(), first=text(first[0]), first_year=first[1],
                last=text(last[0]), last_year=last[1]))
    description = _("Line charts of victims as witnesses in {region}, {period}, members' released figures "
                    "added up: {phrases}.").format(region=cw.region, period=period, phrases="; ".join(phrases))
    return _casework_spec(chart, fmt, cw, description, rows, _("Victims as witnesses"))


def cooperation_heatmap(cw: Casework, fmt: Formatter) -> Spec:
    """Requests sent by requesting member (rows) to requested country (columns), all types.

    A cell adds up the types' released counts; ``+`` marks a cell that left withheld types out
    (the true number is higher), ``x`` one whose every type was withheld.

    Args:
        cw: The case records.
        fmt: The formatter.

    Returns:
        A Vega-Lite spec with its alternative text in ``description``.
    """
    requesting, requested = cw.requesting(), cw.requested()
    pairs = cw.pair_sums()
    rows: list[dict[str, Any]] = []
    for (a, b), total in sorted(pairs.items()):
        label = (SUPPRESSED if total.value is None
                 else fmt.number(total.value) + (PARTIAL_MARK if total.withheld else ""))
        rows.append({"from": cw.name(a), "to": b, "value": total.value, "label": label,
                     "to_name": cw.name(b)})
    top = max((r["value"] for r in rows if r["value"] is not None), default=1) or 1
    for r in rows:
        r["dark"] = r["value"] is not None and r["value"] > top / 2
    names = [cw.name(c) for c in requesting]
    outside = [c for c in requested if c not in dict(cw.inp.members)]
    x = alt.X("to:N", sort=requested, title=_("Requested country"),
              axis=alt.Axis(orient="top", labelAngle=0, ticks=False, domain=False, labelFontSize=9,
                            labelColor=alt.ExprRef(
                                f"indexof({json.dumps(outside)}, datum.value) >= 0 "
                                f"? '{GREY}' : '#333333'")))
    y = alt.Y("from:N", sort=names, title=_("Requesting member"),
              axis=alt.Axis(ticks=False, domain=False, labelLimit=110))
    tooltip = [alt.Tooltip("from:N", title=_("requesting member")),
               alt.Tooltip("to_name:N", title=_("requested country")),
               alt.Tooltip("label:N", title=_("requests sent"))]
    cells = (
        alt.Chart()
        .transform_filter("datum.value !== null")
        .mark_rect(stroke="#ffffff", strokeWidth=1)
        # No colour legend: every cell prints its number (and WeasyPrint drops SVG gradients).
        .encode(x=x, y=y, tooltip=tooltip, color=alt.Color(
            "value:Q", title=_("Requests sent"), legend=None,
            scale=alt.Scale(range=["#e8eef5", "#1f4e79"], domainMin=0)))
    )
    withheld = (
        alt.Chart()
        .transform_filter("datum.value === null")
        .mark_rect(stroke="#ffffff", strokeWidth=1, color="#eceff2")
        .encode(x=x, y=y, tooltip=tooltip)
    )
    text = (
        alt.Chart()
        .mark_text(fontSize=8)
        .encode(x=x, y=y, text="label:N", tooltip=tooltip,
                color=alt.condition(alt.datum.dark, alt.value("#ffffff"), alt.value("#333333")))
    )
    chart = alt.layer(withheld, cells, text, data=_DATA).properties(
        width=alt.Step(max(18, min(30, (PAGE_WIDTH - 140) // max(1, len(requested))))),
        height=alt.Step(18),
    )
    shown = sorted((r for r in rows if r["value"] is not None),
                   key=lambda r: (-r["value"], r["from"], r["to"]))
    phrases = [_("{requesting} requesting members, {requested} requested countries").format(
        requesting=len(names), requested=len(requested))]
    if shown:
        phrases.append(_("most requests: {pairs}").format(pairs=", ".join(
            _("{sender} to {receiver} ({label})").format(sender=r["from"], receiver=cw.name(r["to"]), label=r["label"])
            for r in shown[:3])))
    partial = sum(1 for p in pairs.values() if p.withheld)
    if partial:
        phrases.append(_("{n} pairs with some counts withheld ({suppressed} or {partial})").format(
            n=partial, suppressed=SUPPRESSED, partial=PARTIAL_MARK))
    description = _("Heatmap of cooperation requests sent, all types: {phrases}.").format(phrases="; ".join(phrases))
    return _casework_spec(chart, fmt, cw, description, rows, _("Cooperation requests"))


# ---------------------------------------------------------------------------------------------
# External assessments (country profiles)

TIER_COLOUR = "#1f4e79"
# A tier strip's cell fill and text colour by tier code, light (Tier 1) to dark (Tier 3), as the
# tiers' ranks order them; the codes are those the profile's tier table prints.
TIER_NOT_RANKED = "n.r."
TIER_CELLS = {
    "1": ("#dbe7f3", "#1d232a"),
    "2": ("#9ecae1", "#1d232a"),
    "2WL": ("#4a90c2", "#ffffff"),
    "3": (TIER_COLOUR, "#ffffff"),
    "special": ("#eeeeee", "#1d232a"),
    TIER_NOT_RANKED: ("#eeeeee", "#1d232a"),
}


def _tier_runs(series: Sequence[Placement], fmt: Formatter) -> list[str]:
    """"Tier 2 in 2003–2005", "Tier 2 Watch List in 2006", …: consecutive years with one placement."""
    runs: list[tuple[str, list[int]]] = []
    for p in series:
        what = _(p.label) if p.tier else _("not ranked")
        if runs and runs[-1][0] == what and runs[-1][1][-1] == p.year - 1:
            runs[-1][1].append(p.year)
        else:
            runs.append((what, [p.year]))
    return [_("{tier} in {years}").format(tier=what, years=fmt.year_range((years[0], years[-1])))
            for what, years in runs]


def tier_history(tiers: Tiers, fmt: Formatter, country: str, name: str) -> Spec:
    """A member's US TIP Report tier by report year: a strip of one cell a year, its code printed.

    A strip rather than a step line keeps a country profile on one page: it is a fifth of the
    height and still reads at a glance. Cells darken from Tier 1 to Tier 3 (the Watch List sits
    between Tier 2 and Tier 3); a year the report did not rank the member, or ranked it a special
    case, is a pale cell marked ``n.r.`` or ``special``; the report years the placements do not
    cover have no cell at all. The x axis spans the report's years, as the profile's trend chart.

    Args:
        tiers: The released placements.
        fmt: The formatter.
        country: ISO3 code.
        name: The member's display name.

    Returns:
        A Vega-Lite spec with its alternative text in ``description``.
    """
    series = tiers.series(country)
    rows = []
    for p in series:
        code = p.tier or TIER_NOT_RANKED
        fill, ink = TIER_CELLS.get(code, TIER_CELLS[TIER_NOT_RANKED])
        # A cell is 0.9 of a year wide, centred on it, so neighbouring years stay apart.
        rows.append({"year": p.year, "start": p.year - 0.45, "end": p.year + 0.45, "code": code,
                     "tier": _(p.label) if p.tier else _("not ranked"), "fill": fill, "ink": ink})
    x = _casework_year_axis(tiers.years, max_ticks=20)
    year = x.to_dict()  # the cells' edges take the year axis's scale and ticks
    tooltip = [alt.Tooltip("year:Q", format="d", title=_("report year")),
               alt.Tooltip("tier:N", title=_("tier"))]
    cells = (
        alt.Chart()
        .mark_rect(stroke="#ffffff", strokeWidth=0.5)
        .encode(x=alt.X("start:Q", scale=year["scale"], axis=year["axis"], title=None), x2="end:Q",
                color=alt.Color("fill:N", scale=None), tooltip=tooltip)
    )
    codes = (
        alt.Chart()
        .mark_text(fontSize=9, fontWeight="bold", baseline="middle")
        .encode(x=x, text="code:N", color=alt.Color("ink:N", scale=None))
    )
    # The codes are explained by the legend of the table printed with the strip.
    chart = alt.layer(cells, codes, data=_DATA).properties(width=PAGE_WIDTH - 60, height=18)
    phrases = _tier_runs(series, fmt)
    uncovered = [y for y in tiers.years if y not in tiers.covered]
    if uncovered:
        phrases.append(_("no placement held for {years}").format(years=fmt.year_list(uncovered)))
    description = _("Strip of {name}'s US TIP Report tier by report year, {years}, one cell a year: {phrases}.").format(
        name=name, years=fmt.year_range((tiers.years[0], tiers.years[-1])), phrases="; ".join(phrases))
    return _config(chart, fmt, description, rows)
