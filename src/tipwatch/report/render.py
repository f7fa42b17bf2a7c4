"""Render a `ReportInput` to a self-contained HTML page and an A4 PDF.

The renderer lays out released figures; it never computes one. It builds a document model
(chapters, figures, tables, and the case-record sections of `tipwatch.report.casework`) from the
input, renders every chart to inline SVG, fills the Jinja2 templates and, for the PDF, hands the
same HTML to WeasyPrint (which starts while a helper process still draws the charts). The web
page also carries each chart's Vega-Lite spec and the vendored Vega libraries (``static/js``),
which draw the charts again with tooltips; the static SVG stays for print, screen readers and
readers without JavaScript. Output is deterministic: the same input gives byte-identical HTML
(no timestamps, no random ids).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import gc
import json
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from tipwatch.report import casework as CW
from tipwatch.report import charts, i18n
from tipwatch.report import checklist as CL
from tipwatch.report import fmt as F
from tipwatch.report import statements as S
from tipwatch.report import tables as T
from tipwatch.report.figures import BELOW_THRESHOLD, INCOMPLETE, SUPPRESSED, Figures, Tiers, short_name
from tipwatch.report.fmt import Formatter
from tipwatch.report.i18n import N_, _
from tipwatch.report.localise import country_name, localise
from tipwatch.report.model import ComponentMeta, IndicatorMeta, ReportInput
from tipwatch.report.tables import Table

FORMATS = ("html", "pdf")
HTML_NAME = "index.html"
PDF_NAME = "report.pdf"
# Settings keys that may name the tipwatch version, in the order they are looked for.
_VERSION_KEYS = ("tipwatch version", "tipwatch_version", "tipwatch", "version")
# The PDF's charts are <img src="tipwatch-chart:N">, fetched from the drawing by number.
CHART_SCHEME = "tipwatch-chart:"
# Settings worth a place on the title page (matched as parts of the key); the annex lists all.
_TITLE_SETTINGS = ("audience", "snapshot", "generated", "date")
#: The settings' names as `tipwatch.report.build.build_input` and the privacy layer
#: (`Audience.settings_text`) write them, and those the annex adds: messages, printed in the
#: report's language. A name not in the catalogue (a setting only some store has) is printed as given.
SETTING_NAMES = (
    N_("tipwatch version"), N_("region"), N_("years"), N_("audience"), N_("suppression threshold k"),
    N_("complementary suppression"), N_("differential privacy"), N_("baseline year"), N_("latest year"),
    N_("data snapshot (SHA-256)"), N_("case records"), N_("members"), N_("number and date format"),
)
#: The settings' values that are words, as the same code writes them; ``{name}`` stands for a
#: figure or a code. `setting_value` prints them in the report's language.
SETTING_VALUES = (
    N_("off"),
    N_("on: protection width {width}"),
    N_("OFF: small counts can be worked out by subtraction"),
    N_("on: ε = {epsilon} for the release (discrete Laplace, OpenDP)"),
    N_("ε = {epsilon} spent by this release: {tables} tables × ε {per_table}"),
    N_("SYNTHETIC (tipwatch synth): for demonstration only"),
    N_("public"), N_("regional"), N_("national:{country}"),
)


def setting_value(value: str, fmt: Formatter) -> str:
    """A setting's value in the report's language.

    Args:
        value: The value as the store's settings give it.
        fmt: The report's formatter.

    Returns:
        The translation of the `SETTING_VALUES` message it matches, with its figures in the
        language's number format; any other value (a version, a hash, a year), and every value
        in English, as it is.
    """
    if fmt.language == "en":
        return value
    for message in SETTING_VALUES:
        found = _setting_pattern(message).fullmatch(value)
        if found:
            return _(message).format(**{name: _setting_figure(text, fmt) for name, text in found.groupdict().items()})
    return value


@functools.cache
def _setting_pattern(message: str) -> re.Pattern[str]:
    # The message's literal text, with a group for each {name}.
    parts = re.split(r"\{(\w+)\}", message)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)))


def _setting_figure(text: str, fmt: Formatter) -> str:
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return fmt.number(float(text), decimals=len(text.partition(".")[2]))
    return text


@dataclass
class Chart:
    """A rendered chart.

    Attributes:
        id: HTML id.
        caption: Caption without the "Figure N." prefix.
        spec: The Vega-Lite spec (its ``description`` is the alternative text).
        number: Figure number in reading order.
        svg: The inline SVG, filled in by `build_document`.
        badge: A label printed before the caption, e.g. "Synthetic data".
        src: The ``<img>`` source when not the SVG's ``data:`` URI (see `url`).
    """

    id: str
    caption: str
    spec: dict[str, Any]
    number: int = 0
    svg: Markup = Markup("")
    badge: str = ""
    src: str = ""

    @property
    def alt(self) -> str:
        """The chart's alternative text."""
        return str(self.spec.get("description", ""))

    @property
    def data_uri(self) -> str:
        """The SVG as a ``data:`` URI, for an ``<img>``."""
        return "data:image/svg+xml;base64," + base64.b64encode(str(self.svg).encode()).decode()

    @property
    def url(self) -> str:
        """Where the PDF's ``<img>`` fetches the chart from while it is still being drawn."""
        return f"{CHART_SCHEME}{self.number}"

    @property
    def spec_json(self) -> Markup:
        """The spec the web page draws interactively, as JSON safe inside a ``<script>``."""
        return _script_json(charts.interactive(self.spec))


@dataclass
class Exhibit:
    """A chart printed together with the table(s) behind it.

    Attributes:
        chart: The chart, or None for tables alone.
        tables: The tables behind the chart.
        layout: ``""`` (stacked) or ``side`` (narrow tables side by side).
        data_note: Where the chart's figures are printed, when not in ``tables``.
    """

    chart: Chart | None
    tables: list[Table] = field(default_factory=list)
    layout: str = ""
    data_note: str = ""

    @property
    def data_ref(self) -> str:
        """"Table 3" / "Tables 3–5": the tables that hold the chart's figures."""
        numbers = [t.number for t in self.tables]
        if not numbers:
            return self.data_note
        if len(numbers) == 1:
            return _("Table {number}").format(number=numbers[0])
        return _("Tables {first}–{last}").format(first=numbers[0], last=numbers[-1])


def render_report(
    inp: ReportInput,
    out_dir: Path,
    formats: Sequence[str] = FORMATS,
    *,
    locale: str = "en",
) -> dict[str, Path]:
    """Write the Progress Report for one region and period.

    Args:
        inp: The released figures and their metadata.
        out_dir: Directory to write into; created if missing.
        formats: Any of ``"html"`` (``index.html``: self-contained, inline CSS, SVG and
            JavaScript for interactive charts, works offline from ``file://``) and ``"pdf"``
            (``report.pdf``: A4, via WeasyPrint).
        locale: Babel locale: the report's language (`i18n.LANGUAGES`: its catalogue translates
            every text) and its number and date formats, e.g. ``"en"`` or ``"id"``.

    Returns:
        The written files by format, e.g. ``{"html": out_dir / "index.html"}``.

    Raises:
        ValueError: When a format is not ``html`` or ``pdf``.
        InputError: When the report is not available in the locale's language.
    """
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"Unknown report format {', '.join(unknown)}; use html or pdf.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _fewer_gc_passes(), i18n.use(i18n.language(locale)):
        return _render_report(inp, out_dir, formats, locale)


def _render_report(inp: ReportInput, out_dir: Path, formats: Sequence[str],
                   locale: str) -> dict[str, Path]:
    written: dict[str, Path] = {}
    if "pdf" not in formats:
        document = build_document(inp, locale=locale)
    else:
        fmt = Formatter(locale)
        # Started first, so that the helper process warms up while the specs are being built.
        with charts.SvgRenderer() as renderer:
            document = _Document(Figures(localise(inp, fmt.language)), fmt).build()
            document["fmt"] = fmt
            # The helper draws the charts while WeasyPrint parses the page and applies its CSS
            # (a third of the PDF's time, on the other core); it asks for each chart only when
            # it builds that chart's <img>. Same page as the HTML, but each chart as an <img>:
            # inline SVG elements would go through WeasyPrint's CSS cascade one by one (about a
            # second for the full report).
            drawing = renderer.start([chart.spec for chart in document["charts"]])
            for chart in document["charts"]:
                chart.src = chart.url
            written["pdf"] = out_dir / PDF_NAME
            _write_pdf(_page(document, inline_svg=False), written["pdf"], drawing=drawing)
            drawn = drawing.result()
        for chart, markup in zip(document["charts"], drawn, strict=True):
            chart.svg = Markup(markup)
    if "html" in formats:
        written["html"] = out_dir / HTML_NAME
        written["html"].write_text(_page(document, inline_svg=True), encoding="utf-8")
    return {kind: written[kind] for kind in FORMATS if kind in written}


def render_html(inp: ReportInput, *, locale: str = "en") -> str:
    """Render the report as one self-contained HTML document.

    Args:
        inp: The released figures and their metadata.
        locale: Babel locale: the report's language and its number and date formats.

    Returns:
        The HTML text, as written to ``index.html``.
    """
    with _fewer_gc_passes(), i18n.use(i18n.language(locale)):
        return _page(build_document(inp, locale=locale), inline_svg=True)


# Threads rendering at the same time share one raised threshold; the last one out restores it.
_GC_LOCK = threading.Lock()
_GC_STATE: dict[str, Any] = {"users": 0, "threshold": None}
# Allocations between two young-generation collections while rendering (Python's default: 700).
GC_THRESHOLD = 20_000


@contextlib.contextmanager
def _fewer_gc_passes() -> Iterator[None]:
    """Run Python's cyclic garbage collector less often while the report is rendered.

    Laying out the PDF allocates millions of small objects, so with the default thresholds the
    collector runs thousands of times, and its older generations walk every object the process
    holds (after `build.build_input`, ibis and pandas make that over half a million). That took
    more than a second of the report's time. Reference counting still frees memory as it goes;
    only reference cycles wait a little longer. The thresholds are restored afterwards.
    """
    with _GC_LOCK:
        if _GC_STATE["users"] == 0:
            _GC_STATE["threshold"] = gc.get_threshold()
            young, *older = _GC_STATE["threshold"]
            if young:  # 0 means the application turned collection off: leave it so
                gc.set_threshold(max(young, GC_THRESHOLD), *older)
        _GC_STATE["users"] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_STATE["users"] -= 1
            if _GC_STATE["users"] == 0:
                gc.set_threshold(*_GC_STATE["threshold"])


def build_document(inp: ReportInput, *, locale: str = "en") -> dict[str, Any]:
    """Build the document model the templates print, with every chart drawn.

    Args:
        inp: The released figures and their metadata.
        locale: Babel locale: the report's language and its number and date formats.

    Returns:
        The title, overview, chapters, profiles and annex, ready for the templates.
    """
    fmt = Formatter(locale)
    # Started first, so that the helper process warms up while the specs are being built.
    with charts.SvgRenderer() as renderer, i18n.use(i18n.language(locale)):
        document = _Document(Figures(localise(inp, fmt.language)), fmt).build()
        document["fmt"] = fmt
        drawn = renderer.render([chart.spec for chart in document["charts"]])
    for chart, markup in zip(document["charts"], drawn, strict=True):
        chart.svg = Markup(markup)
    return document


def _page(document: dict[str, Any], *, inline_svg: bool) -> str:
    template = _environment().get_template("report.html.j2")
    css = resources.files("tipwatch.report").joinpath("static", "report.css").read_text("utf-8")
    # The web page (inline SVG) also draws its charts interactively; WeasyPrint runs no script.
    scripts = _scripts() if inline_svg and document["charts"] else Markup("")
    # The templates' text in the document's language, whoever calls.
    with i18n.use(document["lang"]):
        return template.render(doc=document, css=Markup(css + _page_number_css()), fmt=document["fmt"], F=F,
                               inline_svg=inline_svg, scripts=scripts)


#: The PDF's page number (report.css words it in English), a message of the catalogue.
PAGE_NUMBER = N_("page {page} of {pages}")


def _page_number_css() -> str:
    """A CSS rule after report.css that words the PDF's page numbers in the report's language.

    Returns:
        ``""`` in English (report.css says "page 3 of 40" itself), else e.g. an ``@page`` rule
        whose content is ``"halaman " counter(page) " dari " counter(pages)``.
    """
    words = _(PAGE_NUMBER)
    if words == PAGE_NUMBER:
        return ""
    content = []
    for piece in re.split(r"(\{page\}|\{pages\})", words):
        if piece in ("{page}", "{pages}"):
            content.append(f"counter({piece[1:-1]})")
        elif piece:
            content.append(json.dumps(piece))
    return "\n@page { @bottom-right { content: " + " ".join(content) + "; } }\n"


#: The JavaScript the web page inlines, in order: the vendored libraries (versions, sources and
#: hashes in ``static/js/SOURCE.md``), then tipwatch's own script that mounts the charts.
VENDORED_JS = {
    "vega.min.js": "6.2.0",
    "vega-lite.min.js": "6.4.1",
    "vega-embed.min.js": "7.0.2",
}
_MOUNT_JS = "report.js"
# The last line of a minified build that points at a source map the package does not ship.
_SOURCE_MAP = re.compile(r"\n//# sourceMappingURL=\S*\s*$")


@functools.lru_cache(maxsize=1)
def _scripts() -> Markup:
    """Vega, Vega-Lite, vega-embed and the mounting script, read once per process."""
    folder = resources.files("tipwatch.report").joinpath("static", "js")
    parts = []
    for name in [*VENDORED_JS, _MOUNT_JS]:
        text = _SOURCE_MAP.sub("\n", folder.joinpath(name).read_text("utf-8"))
        # An HTML parser would end the <script> element at the first "</script".
        if "</script" in text.lower():
            raise ValueError(f"{name} cannot be inlined: it contains </script")
        parts.append(f"/* {name} */\n{text.rstrip()}\n")
    return Markup("".join(parts))


def _script_json(value: Any) -> Markup:
    """JSON for a ``<script type="application/json">``: nothing in it can end the element.

    ``<``, ``>`` and ``&`` only occur inside JSON strings, where their ``\\u`` escapes mean
    the same characters.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _write_pdf(page: str, target: Path, drawing: charts.Drawing | None = None) -> None:
    # Imported here: WeasyPrint takes ~2 s to import and the HTML alone does not need it.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class Fetcher(URLFetcher):
        # Charts given by `Chart.url` are fetched from the drawing as they are needed.
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            if drawing is not None and url.startswith(CHART_SCHEME):
                svg = drawing.get(int(url.removeprefix(CHART_SCHEME)) - 1)
                return URLFetcherResponse(url, svg.encode(), {"Content-Type": "image/svg+xml"})
            return super().fetch(url, headers)

    HTML(string=page, base_url=None, url_fetcher=Fetcher()).write_pdf(target)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("tipwatch.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # {% trans %} and _(): the text of the templates is the catalogue's (`tipwatch.report.i18n`).
        extensions=["jinja2.ext.i18n"],
    )
    # A {% trans %} block's line breaks are layout, not part of the message (babel.cfg says the same).
    env.policies["ext.i18n.trimmed"] = True
    i18n.install(env)
    return env


class _Document:
    """Builds the document model the templates print, numbering figures and tables in order."""

    def __init__(self, figs: Figures, fmt: Formatter) -> None:
        self.figs = figs
        self.fmt = fmt
        self.inp = figs.inp
        self.charts: list[Chart] = []
        self.tables = 0
        self.cw = CW.Casework(figs.inp)
        self.tiers = Tiers(figs.inp)
        self.checklist = CL.Checklist(figs.inp)
        # Achievements and challenges: each links its figures to a table registered below.
        self.citations = S.Citations()
        self.statements = S.evaluate(figs, fmt, citations=self.citations)
        self.window = S.window(figs)

    # -- numbering ------------------------------------------------------------------------

    def chart(self, id: str, caption: str, spec: dict[str, Any], badge: str = "") -> Chart:
        chart = Chart(id, caption, spec, number=len(self.charts) + 1, badge=badge)
        self.charts.append(chart)
        return chart

    def table(self, table: Table) -> Table:
        self.tables += 1
        table.number = self.tables
        self.citations.add(table)
        return table

    # -- the document ---------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        inp, fmt = self.inp, self.fmt
        years = fmt.year_range(inp.years)
        name = inp.region_name
        # "the ASEAN Region", as in 2011, rather than "the Association of ... Nations Region".
        short = short_name(inp)
        region_phrase = short if short.lower().endswith("region") else _("{region} Region").format(region=short)
        overview = self.overview()
        components = [self.component(c) for c in inp.components]
        profiles = [self.profile(iso, country) for iso, country in inp.members]
        annex = self.annex()
        return {
            "lang": fmt.language,
            "title": _("Progress Report on Criminal Justice Responses to Trafficking in Persons "
                       "in the {region}").format(region=region_phrase),
            "running_title": _("{region} Progress Report {years}").format(region=short, years=years),
            "region": name,
            "years": years,
            "members": [country for _, country in inp.members],
            "generated": self.generated_line(),
            "overview": overview,
            "components": components,
            "profiles": profiles,
            "tiers_lead": self.tiers_lead(),
            "annex": annex,
            "charts": self.charts,
            "synthetic": self.cw.synthetic and self.cw.any,
            "synthetic_label": _(CW.SYNTHETIC_LABEL),
            "synthetic_sentence": _code(_(CW.SYNTHETIC_SENTENCE)),
            "casework_within": CW.WITHIN_YEARS,
        }

    def generated_line(self) -> str:
        settings = dict(self.inp.settings)
        version = next((settings.pop(k) for k in _VERSION_KEYS if k in settings), "")
        parts = [_("Generated with tipwatch {version}").format(version=version).rstrip()]
        for key, value in settings.items():
            if any(word in key.lower() for word in _TITLE_SETTINGS):
                text = str(value)
                # A SHA-256 identifies the snapshot by its first 12 digits; the annex has it all.
                if "snapshot" in key.lower() and len(text) > 16:
                    text = text[:12] + "…"
                parts.append(f"{_(key.replace('_', ' '))}: {setting_value(text, self.fmt)}")
        return " · ".join(parts)

    def overview(self) -> dict[str, Any]:
        figs, fmt = self.figs, self.fmt
        # The overview opens with the decade of progress, so its table is numbered first.
        decade = S.decade(figs, fmt, T.baseline(figs, fmt), self.table, citations=self.citations)
        present = figs.indicators_with_data()
        counts, percents = figs.counts(present), figs.percents(present)
        exhibits: list[Exhibit] = []
        findings: list[str] = []
        if counts:
            chart = self.chart("fig-regional-trends", _("Regional trends, with the members "
                                                        "behind each figure"), charts.regional_trend(figs, fmt, counts))
            table = self.table(T.regional_by_year(figs, fmt, counts))
            exhibits.append(Exhibit(chart, [table]))
            for meta in counts:
                series = figs.series(figs.region, meta.id)
                findings.append(_("{indicator}: {trend}.").format(indicator=meta.title,
                                                                  trend=_trend_sentence(series, fmt)))
            year = figs.latest_year([m.id for m in counts])
            if year is not None:
                chart = self.chart(
                    "fig-members-compared", _("Members compared, {year}").format(year=year),
                    charts.country_comparison(figs, fmt, counts, year),
                )
                exhibits.append(Exhibit(chart, [self.table(
                    T.countries_in_year(figs, fmt, counts, year))]))
        regional = [m for m in percents if figs.has_data([m.id], [figs.region])]
        if regional:
            # The region's own shares and ratios, with coverage; members' are in the chapters.
            chart = self.chart("fig-shares", _("Shares and ratios, regional"),
                               charts.regional_trend(figs, fmt, regional))
            exhibits.append(Exhibit(chart, [self.table(T.regional_by_year(figs, fmt, regional))]))
        elif percents:
            chart = self.chart("fig-shares", _("Shares and ratios by member"),
                               charts.share_lines(figs, fmt, percents))
            exhibits.append(Exhibit(chart, [
                self.table(T.years_by_country(figs, fmt, m)) for m in percents
            ]))
        reporters = [
            name for iso, name in figs.members if figs.has_data([m.id for m in present], [iso])
        ]
        silent = [name for _, name in figs.members if name not in reporters]
        counted = {"reporting": fmt.number(len(reporters)), "members": fmt.number(len(figs.members))}
        if silent:
            sentence = _("{reporting} of {members} members reported at least one figure; none is held for "
                         "{names}.").format(names=", ".join(silent), **counted)
        else:
            sentence = _("{reporting} of {members} members reported at least one figure.").format(**counted)
        return {
            "exhibits": exhibits,
            "findings": findings,
            "reporting_sentence": sentence,
            "baseline": decade.table,
            "decade": decade,
            "statements": S.findings(self.statements, fmt, self.window, headline=True),
            "casework": self.casework_pointer(),
        }

    def casework_pointer(self) -> list[dict[str, Any]]:
        """The case-record sections the overview points to, grouped by chapter.

        Returns:
            One dict per component with sections: ``component`` (its number) and ``items``
            (``(label, anchor)`` of each section with case records).
        """
        ids = {c.id for c in self.inp.components}
        groups = []
        for cid, names in CW.SECTIONS.items():
            items = [(_(CW.POINTERS[n]), f"casework-{n}") for n in names if not self.cw.empty(n)]
            if cid in ids and items:
                groups.append({"component": cid, "items": items})
        return groups

    def component(self, component: ComponentMeta) -> dict[str, Any]:
        figs, fmt = self.figs, self.fmt
        defined = [m for m in figs.indicators if m.component == component.id]
        present = [m for m in defined if figs.has_data([m.id])]
        result: dict[str, Any] = {
            "id": component.id,
            "anchor": f"component-{component.id}",
            "title": component.title,
            "standard": component.standard,
            "data_needed": component.data_needed,
            "indicators": [m for m in self.inp.indicators if m.component == component.id],
            "has_data": bool(present),
            "no_data": _("No data: tipwatch holds no figures for this component for {region} in {years}.").format(
                region=short_name(self.inp), years=fmt.year_range(self.inp.years)),
            "exhibits": [],
            "countries": [],
            "without": [],
            "layout": "",
            "casework": None,
            "statements": S.findings(self.statements, fmt, self.window, component=component.id),
        }
        names = CW.SECTIONS.get(component.id, ())
        if not present and any(not self.cw.empty(n) for n in names):
            result["no_data"] = _(
                "No aggregate figures: tipwatch holds no reported figures for this component "
                "for {region} in {years}; the case records below answer part of it."
            ).format(region=short_name(self.inp), years=fmt.year_range(self.inp.years))
        if not present:
            # Case-record sections come after the aggregate figures, numbered in reading order.
            result["casework"] = self.casework(names) if names else None
            result["checklist"] = self.checklist.chapter(component, fmt, self.table)
            return result
        counts = figs.counts(present)
        regional_counts = [m for m in counts if figs.has_data([m.id], [figs.region])]
        if regional_counts:
            chart = self.chart(f"fig-component-{component.id}",
                               _("{component}: regional figures").format(component=component.title),
                               charts.regional_trend(figs, fmt, regional_counts))
            tables = [self.table(T.regional_indicator(figs, fmt, m)) for m in regional_counts]
            # Two or more side by side; one alone at full width, where its coverage fits a line.
            layout = "side" if len(tables) > 1 else ""
            result["exhibits"].append(Exhibit(chart, tables, layout=layout))
        # Shares and ratios are charted once, in the overview (one chart per extra chapter would
        # cost print time for the same lines); here they are in the member tables.
        for iso, name in figs.members:
            mine = [m for m in present if figs.has_data([m.id], [iso])]
            if not mine:
                result["without"].append(name)
                continue
            table = T.country_by_year(figs, fmt, iso, present,
                                      id=f"t-component-{component.id}-{iso}")
            result["countries"].append(self.table(table))
        result["layout"] = "side" if len(present) <= 3 else ""
        result["casework"] = self.casework(names) if names else None
        result["checklist"] = self.checklist.chapter(component, fmt, self.table)
        return result

    # -- case records ---------------------------------------------------------------------

    def casework(self, names: Sequence[str]) -> dict[str, Any]:
        """A component's case-record sections, or what case records would answer.

        Args:
            names: The analyses the component shows (keys of `model.CASEWORK`).

        Returns:
            ``sections`` (title, anchor, badge, lead, exhibits, or the no-data sentence of an
            empty table) and, when every table is empty, ``none`` and ``answers`` instead.
        """
        cw, fmt = self.cw, self.fmt
        if all(cw.empty(n) for n in names):
            return {
                "sections": [],
                "none": _("No case records: tipwatch holds no case records for {region} in {years}.").format(
                    region=short_name(self.inp), years=fmt.year_range(self.inp.years)),
                "answers": [(_(CW.TITLES[n]), CW.answer(n)) for n in names],
            }
        build = {
            "attrition": self._attrition, "durations": self._durations,
            "sentences": self._sentences, "witnesses": self._witnesses,
            "cooperation": self._cooperation,
        }
        sections = []
        for name in names:
            section: dict[str, Any] = {
                "name": name, "title": _(CW.TITLES[name]), "anchor": f"casework-{name}",
                "badge": _(CW.SYNTHETIC_LABEL) if cw.synthetic else "", "lead": "", "exhibits": [],
                "empty": "", "notice": "", "answer": CW.answer(name),
            }
            if cw.empty(name):
                section["badge"] = ""  # nothing here is synthetic
                section["empty"] = _("No case records for this: tipwatch holds none for {region} in {years}.").format(
                    region=short_name(self.inp), years=fmt.year_range(self.inp.years))
            else:
                build[name](section)
            sections.append(section)
        return {"sections": sections, "none": "", "answers": []}

    def _casework_chart(self, name: str, caption: str, spec: dict[str, Any]) -> Chart:
        badge = _(CW.SYNTHETIC_LABEL) if self.cw.synthetic else ""
        return self.chart(f"fig-casework-{name}", caption, spec, badge=badge)

    def _attrition(self, section: dict[str, Any]) -> None:
        cw, fmt = self.cw, self.fmt
        year = cw.cohort_year()
        within = CW.WITHIN_YEARS
        incomplete = cw.incomplete_cohorts()
        lead = _("Of the persons first investigated in a year (a cohort), the share prosecuted and "
                 "the share convicted within {years} years. A cohort follows the same persons, unlike the period "
                 "conviction ratio, so it never exceeds 100%.").format(years=within)
        if incomplete:
            lead += " " + _("Cohorts {cohorts} are incomplete for some or all members "
                            "(mostly right-censored: their {years}-year window runs past the end "
                            "of the case records), are marked {mark} and are "
                            "left out of the funnel.").format(cohorts=fmt.year_list(incomplete), years=within,
                                                              mark=T.FLAG_MARKS["incomplete_cohort"])
        section["lead"] = lead
        if year is None:
            section["notice"] = _("No complete cohort yet: no cohort's window lies wholly inside the "
                                  "period the case records cover, so there is no funnel.")
        else:
            chart = self._casework_chart(
                "attrition", _("Attrition of the {year} cohort, the latest complete one: "
                               "prosecuted and convicted within {years} years, by member and for {region}").format(
                                   year=year, years=within, region=cw.region),
                charts.attrition_funnel(cw, fmt, year))
            section["exhibits"].append(Exhibit(chart, [self.table(CW.attrition_funnel_table(cw, fmt, year))]))
        section["exhibits"].append(Exhibit(None, [self.table(CW.attrition_cohorts_table(cw, fmt))]))

    def _durations(self, section: dict[str, Any]) -> None:
        cw, fmt = self.cw, self.fmt
        section["lead"] = _(
            "Median days from a defendant's investigation to the first-instance verdict in the "
            "case, whatever its outcome, by the year of the verdict. Each defendant counts once "
            "per case; medians are interpolated.")
        chart = self._casework_chart(
            "durations", _("Time to verdict: median days from investigation to first-instance "
                           "verdict, by member"), charts.verdict_durations(cw, fmt))
        section["exhibits"].append(Exhibit(chart, [self.table(CW.durations_table(cw, fmt))]))

    def _sentences(self, section: dict[str, Any]) -> None:
        cw, fmt = self.cw, self.fmt
        years = cw.sentence_years()
        section["lead"] = _(
            "Prison sentences given with the convictions of each year (a person convicted in two "
            "cases has two sentences): the median and the quartiles, in months. A sentence changed "
            "on appeal is not followed.")
        chart = self._casework_chart(
            "sentences", _("Prison sentences by member, {years}: median and quartiles").format(
                years=fmt.year_list(years)), charts.sentence_ranges(cw, fmt))
        section["exhibits"].append(Exhibit(chart, [self.table(CW.sentences_table(cw, fmt))]))

    def _witnesses(self, section: dict[str, Any]) -> None:
        cw, fmt = self.cw, self.fmt
        section["lead"] = _(
            "Victims identified, and victims who testified, were granted a protection measure or "
            "were awarded compensation, each counted as persons in the year of the service. "
            "Compensation is a remedy owed to every victim (component 5); the case records give "
            "it with the other services.")
        chart = self._casework_chart(
            "witnesses", _("Victims as witnesses in {region}: members' figures added up").format(region=cw.region),
            charts.witness_trends(cw, fmt))
        section["exhibits"].append(Exhibit(chart, [self.table(CW.witnesses_region_table(cw, fmt))]))

    def _cooperation(self, section: dict[str, Any]) -> None:
        cw, fmt = self.cw, self.fmt
        section["lead"] = _(
            "Requests for mutual legal assistance, extradition, joint investigations and "
            "police-to-police cooperation, by the country that sent them and the country asked, "
            "with their last reported status. The median days to execution count executed "
            "requests only: a request never answered has no duration. A request that both "
            "countries report is counted by each.")
        chart = self._casework_chart(
            "cooperation", _("Cooperation requests sent, requesting member × requested country, "
                             "all types; {suppressed}: withheld, {partial}: some types withheld and not "
                             "added").format(suppressed=F.SUPPRESSED, partial=CW.PARTIAL_MARK),
            charts.cooperation_heatmap(cw, fmt))
        section["exhibits"].append(Exhibit(chart, [
            self.table(CW.cooperation_matrix_table(cw, fmt)),
            self.table(CW.cooperation_status_table(cw, fmt)),
        ]))

    def profile(self, iso: str, name: str) -> dict[str, Any]:
        figs, fmt = self.figs, self.fmt
        # Key figures: indicators as defined, not their per-category columns (e.g. by form of
        # exploitation), which the chapters show; this keeps a profile on one page.
        present = [m for m in figs.indicators_with_data(iso) if m.id in figs.inp_ids]
        result: dict[str, Any] = {
            "iso": iso, "name": name, "anchor": f"profile-{iso}", "table": None, "chart": None,
            "notes": [], "tiers": None, "sources": [],
        }
        if not present:
            self.profile_tiers(result)
            self.profile_checklist(result)
            return result
        result["table"] = self.table(
            T.country_by_year(figs, fmt, iso, present, id=f"t-profile-{iso}")
        )
        result["table"].caption = _("{name}: key figures by year").format(name=name)
        result["table"].size = ""
        counts = figs.counts(present)
        if counts:
            chart = self.chart(f"fig-profile-{iso}", _("{name}: trends ({note})").format(
                name=name, note=charts.trend_mark_note()), charts.country_trend(figs, fmt, iso, counts))
            result["chart"] = Exhibit(chart, data_note=_("Table {number}").format(number=result["table"].number))
        result["notes"] = self.status_notes(iso, present)
        result["sources"].append(_("Figures: the releases and submissions listed in Annex A."))
        self.profile_tiers(result)
        self.profile_checklist(result)
        return result

    def tiers_lead(self) -> str:
        """What the profiles' tier charts show, said once in the chapter's introduction."""
        if not any(self.tiers.has(iso) for iso, _ in self.inp.members):
            return ""
        return _("Each profile also shows the government's tier in the US Department of State's "
                 "Trafficking in Persons Report, by report year (a report covers April of the year "
                 "before to March), one cell a year, darker from Tier 1 to Tier 2, the Tier 2 Watch List "
                 "and Tier 3. "
                 "It is an external assessment of the government, not a figure the member reported, "
                 "and nothing in this report is computed from it.")

    def profile_tiers(self, result: dict[str, Any]) -> None:
        """Add a member's tier-history chart, the table behind it and its source line."""
        iso, name, tiers, fmt = result["iso"], result["name"], self.tiers, self.fmt
        if not tiers.has(iso):
            return
        chart = self.chart(f"fig-tiers-{iso}", _("{name}: US TIP Report tier by report year").format(name=name),
                           charts.tier_history(tiers, fmt, iso, name))
        table = self.table(T.tier_history(tiers, fmt, iso, name, id=f"t-tiers-{iso}"))
        result["tiers"] = Exhibit(chart, [table])
        files = "; ".join(_("{file}, vintage {date}").format(file=s.file_name, date=fmt.date(s.vintage))
                          for s in tiers.sources)
        title = tiers.sources[0].name if tiers.sources else _("US Department of State, Trafficking in Persons Report")
        if files:
            line = _("Tiers: {title}, report years {years} ({files}).")
        else:
            line = _("Tiers: {title}, report years {years}.")
        result["sources"].append(line.format(title=title, years=fmt.year_list(tiers.covered), files=files))

    def profile_checklist(self, result: dict[str, Any]) -> None:
        """Add a member's legal-framework checklist (`report.checklist`); each status links its source."""
        result["checklist"] = self.checklist.profile(result["iso"], result["name"], self.fmt)

    def status_notes(self, iso: str, indicators: Sequence[IndicatorMeta]) -> list[str]:
        """What the reader of a profile should know beyond the table, one line per status.

        Indicators with the same status share a line ("Persons prosecuted, persons convicted:
        figures for 2007–2017; <5 in 2014"), which keeps a profile on one page.
        """
        fmt = self.fmt
        grouped: dict[str, list[str]] = {}
        for meta in indicators:
            series = {f.year: f for f in self.figs.series(iso, meta.id)}
            numbers = [y for y, f in series.items() if f.number is not None]
            withheld = [y for y, f in series.items() if f.status == BELOW_THRESHOLD]
            suppressed = [y for y, f in series.items() if f.status == SUPPRESSED]
            incomplete = [y for y, f in series.items() if f.status == INCOMPLETE]
            parts = [_("figures for {years}").format(years=fmt.year_list(numbers)) if numbers else _("no number")]
            if withheld:
                parts.append(_("{withheld} in {years}").format(withheld=F.WITHHELD, years=fmt.year_list(withheld)))
            if suppressed:
                parts.append(_("withheld for this audience in {years}").format(years=fmt.year_list(suppressed)))
            if incomplete:
                parts.append(_("incomplete (parts {withheld}) in {years}").format(
                    withheld=F.WITHHELD, years=fmt.year_list(incomplete)))
            flags: dict[str, list[int]] = {}
            for year, figure in series.items():
                if figure.flag:
                    flags.setdefault(figure.flag, []).append(year)
            for flag, years in sorted(flags.items()):
                label = _(T.FLAG_LABELS[flag]) if flag in T.FLAG_LABELS else flag.replace("_", " ")
                parts.append(_("{mark} {flag} in {years}").format(mark=F.FLAG_MARK, flag=label,
                                                                  years=fmt.year_list(years)))
            grouped.setdefault("; ".join(parts), []).append(meta.title)
        notes = []
        for status, titles in grouped.items():
            names = ", ".join([titles[0], *(t[:1].lower() + t[1:] for t in titles[1:])])
            notes.append(f"{names}: {status}.")
        return notes

    def annex(self) -> dict[str, Any]:
        fmt = self.fmt
        components = {c.id: c.title for c in self.inp.components}
        sources = [
            {
                "name": s.name,
                "vintage": fmt.date(s.vintage),
                "file": s.file_name,
                "hash": s.file_hash,
                "rows": fmt.number(s.rows),
                "current": _("current") if s.current else _("superseded"),
            }
            for s in self.inp.sources
        ]
        indicators = [
            {
                "id": m.id,
                "title": m.title,
                "unit": fmt.unit(m.unit),
                "component": f"{m.component}. {components.get(m.component, '')}".rstrip(". "),
                "definition": m.definition,
                "counting_rule": m.counting_rule,
                "breakdowns": ", ".join(_(b) for b in m.breakdowns) or _("none"),
            }
            for m in self.inp.indicators
        ]
        settings = [(key.replace("_", " "), str(value)) for key, value in
                    self.inp.settings.items()]
        given = {key for key, _ in settings}
        settings += [
            (key, value)
            for key, value in (
                (N_("region"), f"{self.inp.region_name} ({self.inp.region_id})"),
                (N_("years"), fmt.year_range(self.inp.years)),
                (N_("members"), ", ".join(f"{name} ({iso})" for iso, name in self.inp.members)),
                (N_("number and date format"), fmt.locale),
            )
            if key not in given
        ]
        # In the report's language; a name or value the catalogue does not hold is printed as given.
        settings = [(_(key), setting_value(value, fmt)) for key, value in settings]
        return {"sources": sources, "indicators": indicators, "settings": settings,
                "discrepancies": self.discrepancies(),
                "statements": S.methodology(self.figs, fmt)}

    def discrepancies(self) -> list[dict[str, Any]]:
        """The data-quality annex: per comparison, why sources differ and the figures that do most."""
        import pandas as pd

        from tipwatch import reference
        from tipwatch.indicators.consistency import comparisons

        fmt = self.fmt
        t = self.inp.discrepancies
        titles = {m.id: m.title for m in self.inp.indicators}
        sources = reference.sources()
        lang = i18n.current()
        names = {iso: country_name(iso, c.name, lang) for iso, c in reference.countries().items()}

        def figure(value: Any) -> str:
            return F.SUPPRESSED if pd.isna(value) else fmt.number(value)

        out = []
        for cid, spec in comparisons().items():
            rows = t[t.comparison == cid].sort_values(["country", "year", "indicator_a"])
            out.append({
                "id": cid,
                "title": _(str(spec["title"])),
                "why": _(str(spec["why"])),
                "rule": _("listed when one figure is at least {ratio} times the other and they differ by at least "
                          "{difference}").format(ratio=fmt.number(spec["ratio"], decimals=1),
                                                 difference=fmt.number(spec["min_difference"])),
                "rows": [{
                    "country": names.get(r.country, r.country),
                    "year": str(int(r.year)),
                    "indicator": titles.get(r.indicator_a, r.indicator_a) + (
                        "" if r.indicator_a == r.indicator_b else f" / {titles.get(r.indicator_b, r.indicator_b)}"),
                    "a": f"{figure(r.value_a)} ({sources.get(r.source_a, {}).get('title', r.source_a)})",
                    "b": f"{figure(r.value_b)} ({sources.get(r.source_b, {}).get('title', r.source_b)})",
                    "ratio": "–" if pd.isna(r.ratio) else fmt.number(r.ratio, decimals=1) + "×",
                } for r in rows.itertuples()],
            })
        return out


def _code(text: str) -> Markup:
    """Escape ``text`` and print its `backquoted` parts as code."""
    parts = str(text).split("`")
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if i % 2 else escape(part)
        for i, part in enumerate(parts)
    )


def _trend_sentence(series: Sequence[Any], fmt: Formatter) -> str:
    numbers = [f for f in series if f.number is not None]
    if not numbers:
        return _("no regional figure")

    def point(f: Any) -> str:
        value = _("{value} in {year}").format(value=fmt.value(f.number, f.unit), year=f.year)
        if f.has_coverage:
            value += f" ({fmt.coverage(f.reporting, f.below_threshold or 0, f.members)})"
        return value

    first, last = numbers[0], numbers[-1]
    return point(first) if last is first else f"{point(first)}, {point(last)}"
