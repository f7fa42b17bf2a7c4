"""Render a `ReportInput` to a self-contained HTML page and an A4 PDF.

The renderer lays out released figures; it never computes one. It builds a document model
(chapters, figures, tables) from the input, renders every chart to inline SVG, fills the Jinja2
templates and, for the PDF, hands the same HTML to WeasyPrint. Output is deterministic: the same
input gives byte-identical HTML (no timestamps, no random ids).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from tipwatch.report import charts
from tipwatch.report import fmt as F
from tipwatch.report import tables as T
from tipwatch.report.figures import BELOW_THRESHOLD, INCOMPLETE, SUPPRESSED, Figures, short_name
from tipwatch.report.fmt import Formatter
from tipwatch.report.model import ComponentMeta, IndicatorMeta, ReportInput
from tipwatch.report.tables import Table

FORMATS = ("html", "pdf")
HTML_NAME = "index.html"
PDF_NAME = "report.pdf"
# Settings keys that may name the tipwatch version, in the order they are looked for.
_VERSION_KEYS = ("tipwatch version", "tipwatch_version", "tipwatch", "version")
# Settings worth a place on the title page (matched as parts of the key); the annex lists all.
_TITLE_SETTINGS = ("audience", "snapshot", "generated", "date")


@dataclass
class Chart:
    """A rendered chart.

    Attributes:
        id: HTML id.
        caption: Caption without the "Figure N." prefix.
        spec: The Vega-Lite spec (its ``description`` is the alternative text).
        number: Figure number in reading order.
        svg: The inline SVG, filled in by `build_document`.
    """

    id: str
    caption: str
    spec: dict[str, Any]
    number: int = 0
    svg: Markup = Markup("")

    @property
    def alt(self) -> str:
        """The chart's alternative text."""
        return str(self.spec.get("description", ""))

    @property
    def data_uri(self) -> str:
        """The SVG as a ``data:`` URI, for the PDF's ``<img>``."""
        return "data:image/svg+xml;base64," + base64.b64encode(str(self.svg).encode()).decode()


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
            return f"Table {numbers[0]}"
        return f"Tables {numbers[0]}–{numbers[-1]}"


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
        formats: Any of ``"html"`` (``index.html``: self-contained, inline CSS and SVG, works
            offline) and ``"pdf"`` (``report.pdf``: A4, via WeasyPrint).
        locale: Babel locale for numbers and dates.

    Returns:
        The written files by format, e.g. ``{"html": out_dir / "index.html"}``.

    Raises:
        ValueError: When a format is not ``html`` or ``pdf``.
    """
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"Unknown report format {', '.join(unknown)}; use html or pdf.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    document = build_document(inp, locale=locale)
    written: dict[str, Path] = {}
    if "html" in formats:
        written["html"] = out_dir / HTML_NAME
        written["html"].write_text(_page(document, inline_svg=True), encoding="utf-8")
    if "pdf" in formats:
        written["pdf"] = out_dir / PDF_NAME
        # Same page, but each chart as an <img>: inline SVG elements would go through
        # WeasyPrint's CSS cascade one by one (about a second for the full report).
        _write_pdf(_page(document, inline_svg=False), written["pdf"])
    return written


def render_html(inp: ReportInput, *, locale: str = "en") -> str:
    """Render the report as one self-contained HTML document.

    Args:
        inp: The released figures and their metadata.
        locale: Babel locale for numbers and dates.

    Returns:
        The HTML text, as written to ``index.html``.
    """
    return _page(build_document(inp, locale=locale), inline_svg=True)


def build_document(inp: ReportInput, *, locale: str = "en") -> dict[str, Any]:
    """Build the document model the templates print, with every chart drawn.

    Args:
        inp: The released figures and their metadata.
        locale: Babel locale for numbers and dates.

    Returns:
        The title, overview, chapters, profiles and annex, ready for the templates.
    """
    fmt = Formatter(locale)
    # Started first, so that the helper process warms up while the specs are being built.
    with charts.SvgRenderer() as renderer:
        document = _Document(Figures(inp), fmt).build()
        document["fmt"] = fmt
        drawn = renderer.render([chart.spec for chart in document["charts"]])
    for chart, markup in zip(document["charts"], drawn, strict=True):
        chart.svg = Markup(markup)
    return document


def _page(document: dict[str, Any], *, inline_svg: bool) -> str:
    template = _environment().get_template("report.html.j2")
    css = resources.files("tipwatch.report").joinpath("static", "report.css").read_text("utf-8")
    return template.render(doc=document, css=Markup(css), fmt=document["fmt"], F=F,
                           inline_svg=inline_svg)


def _write_pdf(page: str, target: Path) -> None:
    # Imported here: WeasyPrint takes ~2 s to import and the HTML alone does not need it.
    from weasyprint import HTML

    HTML(string=page, base_url=None).write_pdf(target)


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("tipwatch.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


class _Document:
    """Builds the document model the templates print, numbering figures and tables in order."""

    def __init__(self, figs: Figures, fmt: Formatter) -> None:
        self.figs = figs
        self.fmt = fmt
        self.inp = figs.inp
        self.charts: list[Chart] = []
        self.tables = 0

    # -- numbering ------------------------------------------------------------------------

    def chart(self, id: str, caption: str, spec: dict[str, Any]) -> Chart:
        chart = Chart(id, caption, spec, number=len(self.charts) + 1)
        self.charts.append(chart)
        return chart

    def table(self, table: Table) -> Table:
        self.tables += 1
        table.number = self.tables
        return table

    # -- the document ---------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        inp, fmt = self.inp, self.fmt
        years = fmt.year_range(inp.years)
        name = inp.region_name
        # "the ASEAN Region", as in 2011, rather than "the Association of ... Nations Region".
        short = short_name(inp)
        region_phrase = short if short.lower().endswith("region") else f"{short} Region"
        overview = self.overview()
        components = [self.component(c) for c in inp.components]
        profiles = [self.profile(iso, country) for iso, country in inp.members]
        annex = self.annex()
        return {
            "lang": fmt.language,
            "title": (
                "Progress Report on Criminal Justice Responses to Trafficking in Persons "
                f"in the {region_phrase}"
            ),
            "running_title": f"{short} Progress Report {years}",
            "region": name,
            "years": years,
            "members": [country for _, country in inp.members],
            "generated": self.generated_line(),
            "overview": overview,
            "components": components,
            "profiles": profiles,
            "annex": annex,
            "charts": self.charts,
        }

    def generated_line(self) -> str:
        settings = dict(self.inp.settings)
        version = next((settings.pop(k) for k in _VERSION_KEYS if k in settings), "")
        parts = [f"Generated with tipwatch {version}".rstrip()]
        for key, value in settings.items():
            if any(word in key.lower() for word in _TITLE_SETTINGS):
                text = str(value)
                # A SHA-256 identifies the snapshot by its first 12 digits; the annex has it all.
                if "snapshot" in key.lower() and len(text) > 16:
                    text = text[:12] + "…"
                parts.append(f"{key.replace('_', ' ')}: {text}")
        return " · ".join(parts)

    def overview(self) -> dict[str, Any]:
        figs, fmt = self.figs, self.fmt
        present = figs.indicators_with_data()
        counts, percents = figs.counts(present), figs.percents(present)
        exhibits: list[Exhibit] = []
        findings: list[str] = []
        if counts:
            chart = self.chart("fig-regional-trends", "Regional trends, with the members "
                               "behind each figure", charts.regional_trend(figs, fmt, counts))
            table = self.table(T.regional_by_year(figs, fmt, counts))
            exhibits.append(Exhibit(chart, [table]))
            for meta in counts:
                series = figs.series(figs.region, meta.id)
                findings.append(f"{meta.title}: {_trend_sentence(series, fmt)}.")
            year = figs.latest_year([m.id for m in counts])
            if year is not None:
                chart = self.chart(
                    "fig-members-compared", f"Members compared, {year}",
                    charts.country_comparison(figs, fmt, counts, year),
                )
                exhibits.append(Exhibit(chart, [self.table(
                    T.countries_in_year(figs, fmt, counts, year))]))
        regional = [m for m in percents if figs.has_data([m.id], [figs.region])]
        if regional:
            # The region's own shares and ratios, with coverage; members' are in the chapters.
            chart = self.chart("fig-shares", "Shares and ratios, regional",
                               charts.regional_trend(figs, fmt, regional))
            exhibits.append(Exhibit(chart, [self.table(T.regional_by_year(figs, fmt, regional))]))
        elif percents:
            chart = self.chart("fig-shares", "Shares and ratios by member",
                               charts.share_lines(figs, fmt, percents))
            exhibits.append(Exhibit(chart, [
                self.table(T.years_by_country(figs, fmt, m)) for m in percents
            ]))
        baseline = T.baseline(figs, fmt)
        reporters = [
            name for iso, name in figs.members if figs.has_data([m.id for m in present], [iso])
        ]
        silent = [name for _, name in figs.members if name not in reporters]
        sentence = (f"{fmt.number(len(reporters))} of {fmt.number(len(figs.members))} members "
                    "reported at least one figure")
        sentence += f"; none is held for {', '.join(silent)}." if silent else "."
        return {
            "exhibits": exhibits,
            "findings": findings,
            "reporting_sentence": sentence,
            "baseline": self.table(baseline) if baseline.rows else None,
        }

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
            "no_data": (
                "No data: tipwatch holds no figures for this component for "
                f"{short_name(self.inp)} in {fmt.year_range(self.inp.years)}."
            ),
            "exhibits": [],
            "countries": [],
            "without": [],
            "layout": "",
        }
        if not present:
            return result
        counts = figs.counts(present)
        regional_counts = [m for m in counts if figs.has_data([m.id], [figs.region])]
        if regional_counts:
            chart = self.chart(f"fig-component-{component.id}",
                               f"{component.title}: regional figures",
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
        return result

    def profile(self, iso: str, name: str) -> dict[str, Any]:
        figs, fmt = self.figs, self.fmt
        # Key figures: indicators as defined, not their per-category columns (e.g. by form of
        # exploitation), which the chapters show; this keeps a profile on one page.
        present = [m for m in figs.indicators_with_data(iso) if m.id in figs.inp_ids]
        result: dict[str, Any] = {
            "iso": iso, "name": name, "anchor": f"profile-{iso}", "table": None, "chart": None,
            "notes": [],
        }
        if not present:
            return result
        result["table"] = self.table(
            T.country_by_year(figs, fmt, iso, present, id=f"t-profile-{iso}")
        )
        result["table"].caption = f"{name}: key figures by year"
        result["table"].size = ""
        counts = figs.counts(present)
        if counts:
            chart = self.chart(f"fig-profile-{iso}", f"{name}: trends",
                               charts.country_trend(figs, fmt, iso, counts))
            result["chart"] = Exhibit(chart, data_note=f"Table {result['table'].number}")
        result["notes"] = self.status_notes(iso, present)
        return result

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
            parts = [f"figures for {fmt.year_list(numbers)}" if numbers else "no number"]
            if withheld:
                parts.append(f"{F.WITHHELD} in {fmt.year_list(withheld)}")
            if suppressed:
                parts.append(f"withheld for this audience in {fmt.year_list(suppressed)}")
            if incomplete:
                parts.append(f"incomplete (parts {F.WITHHELD}) in {fmt.year_list(incomplete)}")
            flags: dict[str, list[int]] = {}
            for year, figure in series.items():
                if figure.flag:
                    flags.setdefault(figure.flag, []).append(year)
            for flag, years in sorted(flags.items()):
                label = T.FLAG_LABELS.get(flag, flag.replace("_", " "))
                parts.append(f"{F.FLAG_MARK} {label} in {fmt.year_list(years)}")
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
                "current": "current" if s.current else "superseded",
            }
            for s in self.inp.sources
        ]
        indicators = [
            {
                "id": m.id,
                "title": m.title,
                "unit": m.unit,
                "component": f"{m.component}. {components.get(m.component, '')}".rstrip(". "),
                "definition": m.definition,
                "counting_rule": m.counting_rule,
                "breakdowns": ", ".join(m.breakdowns) or "none",
            }
            for m in self.inp.indicators
        ]
        settings = [(key.replace("_", " "), str(value)) for key, value in
                    self.inp.settings.items()]
        given = {key for key, _ in settings}
        settings += [
            (key, value)
            for key, value in (
                ("region", f"{self.inp.region_name} ({self.inp.region_id})"),
                ("years", fmt.year_range(self.inp.years)),
                ("members", ", ".join(f"{name} ({iso})" for iso, name in self.inp.members)),
                ("number and date format", fmt.locale),
            )
            if key not in given
        ]
        return {"sources": sources, "indicators": indicators, "settings": settings}


def _trend_sentence(series: Sequence[Any], fmt: Formatter) -> str:
    numbers = [f for f in series if f.number is not None]
    if not numbers:
        return "no regional figure"
    first, last = numbers[0], numbers[-1]
    text = f"{fmt.value(first.number, first.unit)} in {first.year}"
    if first.has_coverage:
        text += f" ({fmt.coverage(first.reporting, first.below_threshold or 0, first.members)})"
    if last is not first:
        text += f", {fmt.value(last.number, last.unit)} in {last.year}"
        if last.has_coverage:
            text += f" ({fmt.coverage(last.reporting, last.below_threshold or 0, last.members)})"
    return text
