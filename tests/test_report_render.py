"""The report renderer: HTML and PDF from a released `ReportInput`.

The fixtures are built here, not read from the store, so the renderer is pinned on its own: a
small synthetic region with one `<5` cell and one flagged ratio above 100 %, and (marked slow)
the ASEAN members' GLOTIP totals from the fixture CSV, for the full report's size.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from markupsafe import escape

from tipwatch.report.model import (
    ComponentMeta,
    IndicatorMeta,
    ReportInput,
    SourceInfo,
)
from tipwatch.report.render import render_report

FIXTURES = Path(__file__).parent / "fixtures"
REGION = "XR"

COMPONENTS = [
    ComponentMeta(1, "legal-framework", "Legal framework",
                  "All forms of trafficking are criminalised in line with the Palermo Protocol.",
                  "Each member's checklist of criminalised forms, penalties and the law's date."),
    ComponentMeta(2, "specialist-investigation", "Specialist investigation",
                  "Specialist units investigate trafficking, including proactively.",
                  "Investigations opened per year, and how many were proactive."),
    ComponentMeta(3, "frontline-identification", "Frontline identification",
                  "Frontline officials identify victims and refer them.",
                  "Victims identified per year, by the agency that identified them."),
    ComponentMeta(4, "prosecution-adjudication", "Prosecution and adjudication",
                  "Traffickers are prosecuted and tried fairly and without delay.",
                  "Persons prosecuted, convicted and acquitted per year."),
    ComponentMeta(5, "victim-protection", "Victim identification, protection and support",
                  "Victims receive assistance, shelter, repatriation and compensation.",
                  "Victims assisted, sheltered, repatriated and compensated per year."),
    ComponentMeta(6, "victims-as-witnesses", "Victims as witnesses",
                  "Victims who testify are protected and not punished.",
                  "Victims who testified and the protection measures they received."),
    ComponentMeta(7, "international-cooperation", "International legal cooperation",
                  "Members cooperate through MLA, extradition and police channels.",
                  "MLA and extradition requests sent, received and executed, with dates."),
]

PROSECUTED = IndicatorMeta("persons_prosecuted", 4, "Persons prosecuted", "persons",
                           "Persons prosecuted for trafficking in the year.",
                           "Persons, not cases, in the year prosecution began.")
CONVICTED = IndicatorMeta("persons_convicted", 4, "Persons convicted", "persons",
                          "Persons convicted of trafficking at first instance.",
                          "Persons, not cases, in the year of the first-instance verdict.")
RATIO = IndicatorMeta("conviction_ratio", 4, "Period conviction ratio", "%",
                      "Persons convicted in a year divided by persons prosecuted that year.",
                      "Period ratio; flagged when above 100%.")


def _row(country, year, indicator, value, status, unit="persons", flag=None, **regional):
    return {"country": country, "year": year, "indicator": indicator, "sex": "total",
            "age": "total", "form": "total", "value": value, "status": status, "unit": unit,
            "flag": flag, "reporting": regional.get("reporting"),
            "below_threshold": regional.get("below_threshold"),
            "members": regional.get("members")}


@pytest.fixture(scope="module")
def synthetic() -> ReportInput:
    """Two members (AAA, BBB), 2019–2021; BBB convicted <5 in 2020; AAA 2021 ratio 125 %."""
    nan = float("nan")
    prosecuted = {("AAA", 2019): 40, ("AAA", 2020): 35, ("AAA", 2021): 8,
                  ("BBB", 2019): 12, ("BBB", 2020): 9, ("BBB", 2021): 15}
    convicted = {("AAA", 2019): 20, ("AAA", 2020): 30, ("AAA", 2021): 10,
                 ("BBB", 2019): 6, ("BBB", 2020): None, ("BBB", 2021): 7}
    rows = []
    for (iso, year), value in prosecuted.items():
        rows.append(_row(iso, year, PROSECUTED.id, float(value), "reported"))
    for (iso, year), value in convicted.items():
        status = "below_threshold" if value is None else "reported"
        rows.append(_row(iso, year, CONVICTED.id, nan if value is None else float(value), status))
        if value is not None:
            ratio = 100 * value / prosecuted[(iso, year)]
            flag = "ratio_above_100" if ratio > 100 else None
            rows.append(_row(iso, year, RATIO.id, ratio, "computed", "%", flag))
    for year in (2019, 2020, 2021):
        total_p = prosecuted[("AAA", year)] + prosecuted[("BBB", year)]
        rows.append(_row(REGION, year, PROSECUTED.id, float(total_p), "computed",
                         reporting=2, below_threshold=0, members=2))
        below = 1 if convicted[("BBB", year)] is None else 0
        total_c = sum(v for (iso, y), v in convicted.items() if y == year and v is not None)
        rows.append(_row(REGION, year, CONVICTED.id, float(total_c), "computed",
                         reporting=2 - below, below_threshold=below, members=2))
    # A breakdown row the headline tables must ignore.
    rows.append({**_row("AAA", 2019, PROSECUTED.id, 30.0, "reported"), "sex": "male"})
    tidy = pd.DataFrame(rows)
    baseline = pd.DataFrame([
        {"country": "AAA", "indicator": PROSECUTED.id, "baseline_year": 2019,
         "baseline_value": 40.0, "baseline_status": "reported", "latest_year": 2021,
         "latest_value": 8.0, "latest_status": "reported", "change": -32.0, "change_pct": -80.0},
        {"country": "BBB", "indicator": CONVICTED.id, "baseline_year": 2019,
         "baseline_value": 6.0, "baseline_status": "reported", "latest_year": 2020,
         "latest_value": nan, "latest_status": "below_threshold", "change": nan,
         "change_pct": nan},
    ])
    return ReportInput(
        region_id=REGION,
        region_name="Example Region",
        years=(2019, 2021),
        members=[("AAA", "Aland"), ("BBB", "Borduria")],
        tidy=tidy,
        baseline=baseline,
        indicators=[PROSECUTED, CONVICTED, RATIO],
        components=COMPONENTS,
        sources=[SourceInfo("Synthetic release", date(2024, 5, 30), "synthetic.csv",
                            "0" * 64, len(tidy))],
        settings={"tipwatch_version": "0.1.0", "audience": "public", "snapshot": "abc123"},
    )


class _Cells(HTMLParser):
    """Collect each table cell's text by its data-key, and the attributes of every <svg>."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, str] = {}
        self.svgs: list[dict[str, str | None]] = []
        self._key: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "td" and attributes.get("data-key"):
            self._key, self._text = attributes["data-key"], []
        elif tag == "svg":
            self.svgs.append(attributes)

    def handle_endtag(self, tag):
        if tag == "td" and self._key:
            self.cells[self._key] = "".join(self._text).strip()
            self._key = None

    def handle_data(self, data):
        if self._key:
            self._text.append(data)


@pytest.fixture(scope="module")
def rendered(synthetic, tmp_path_factory) -> dict[str, Path]:
    return render_report(synthetic, tmp_path_factory.mktemp("report"))


def test_html_prints_withheld_figure_as_below_five(rendered):
    page = rendered["html"].read_text(encoding="utf-8")
    assert "&lt;5" in page
    parser = _Cells()
    parser.feed(page)
    # HTMLParser unescapes, so the cell's text is the literal "<5" the reader sees.
    assert parser.cells["BBB:persons_convicted:2020"] == "<5"
    assert parser.cells["AAA:persons_convicted:2020"] == "30"
    assert parser.cells["AAA:persons_prosecuted:2019"] == "40"  # the total, not the male row
    assert re.search(r'data-key="BBB:persons_convicted:2020"[^>]*>\s*&lt;5\s*<', page)
    # The regional figure excludes BBB's <5 and says so.
    assert "1 of 2 members reported; 1 reported &lt;5, not added" in page


def test_flagged_ratio_is_marked_and_explained(rendered):
    page = rendered["html"].read_text(encoding="utf-8")
    parser = _Cells()
    parser.feed(page)
    assert parser.cells["AAA:conviction_ratio:2021"].startswith("125%")
    assert "⚠" in parser.cells["AAA:conviction_ratio:2021"]
    assert "Period ratio above 100%" in page


def test_change_against_baseline_never_reveals_a_withheld_figure(rendered):
    page = rendered["html"].read_text(encoding="utf-8")
    row = re.search(r'<tr[^>]*data-row="persons_convicted:BBB".*?</tr>', page, re.S)
    assert row is not None
    assert "&lt;5" in row.group(0)
    assert "-80%" in page  # AAA's prosecuted change is printed


def test_html_is_self_contained(rendered):
    page = rendered["html"].read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+stylesheet", page)
    # Nothing the page loads comes from elsewhere: no external src, <link> or CSS url(). Links a
    # reader may follow (a law's official text in the checklist) are not loads and may be external.
    assert not re.search(r"""\ssrc=["']?(https?:)?//""", page)
    assert not re.search(r"""<link[^>]+href=["']?(https?:)?//""", page)
    assert not re.search(r"""url\(\s*["']?(https?:)?//""", page)
    assert "<style>" in page


def test_every_component_has_its_chapter(rendered, synthetic):
    page = rendered["html"].read_text(encoding="utf-8")
    for component in synthetic.components:
        assert component.title in page
    for component in synthetic.components:
        sentence = (f"No data: tipwatch holds no figures for this component for "
                    f"{synthetic.region_name} in 2019–2021.")
        chapter = page.split(f'id="component-{component.id}"', 1)[1]
        chapter = chapter.split('<section class="chapter', 1)[0]
        if component.id == 4:
            assert sentence not in chapter
        else:
            assert sentence in chapter
            assert str(escape(component.data_needed)) in chapter  # as Jinja escapes it


def test_every_chart_has_an_accessible_name(rendered):
    page = rendered["html"].read_text(encoding="utf-8")
    parser = _Cells()
    parser.feed(page)
    assert len(parser.svgs) >= 4
    for attributes in parser.svgs:
        assert attributes.get("role") == "img"
        assert len(attributes.get("aria-label") or "") > 20
    assert page.count("<title>") >= len(parser.svgs)
    # The alternative text is built from the data.
    assert "persons prosecuted from 52 in 2019 to 23 in 2021" in page


def test_rendering_is_byte_identical(synthetic, rendered, tmp_path):
    again = render_report(synthetic, tmp_path, formats=("html",))
    assert again["html"].read_bytes() == rendered["html"].read_bytes()


def test_pdf_has_pages_with_content(rendered, tmp_path):
    assert rendered["pdf"].read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (Debian poppler-utils) is not installed")
    from PIL import Image

    # WeasyPrint compresses its page tree, so let poppler count the pages.
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(rendered["pdf"]), str(tmp_path / "p")],
                   check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) > 12  # title, contents, overview, 7 chapters, 2 profiles, annex
    inked = []
    for png in pngs:
        grey = Image.open(png).convert("L")
        inked.append(sum(grey.histogram()[:200]) / (grey.width * grey.height))
    assert all(share > 0.002 for share in inked), inked  # no blank page
    assert max(inked) > 0.04  # a page with a chart carries a lot of ink


# ---------------------------------------------------------------------------------------------
# The full ASEAN report from GLOTIP's published totals.

ASEAN = [("BRN", "Brunei Darussalam"), ("KHM", "Cambodia"), ("IDN", "Indonesia"),
         ("LAO", "Lao PDR"), ("MYS", "Malaysia"), ("MMR", "Myanmar"), ("PHL", "Philippines"),
         ("SGP", "Singapore"), ("THA", "Thailand"), ("VNM", "Viet Nam")]
GLOTIP = {
    "Detected trafficking victims": ("victims_detected", 3),
    "Persons brought into formal contact": ("persons_formal_contact", 2),
    "Offences of trafficking in persons": ("offences_recorded", 2),
    "Persons prosecuted": ("persons_prosecuted", 4),
    "Persons convicted": ("persons_convicted", 4),
}


def asean_input() -> ReportInput:
    """ASEAN 2003–2021 from the GLOTIP totals fixture (``<5`` is stored there as 2)."""
    text = (FIXTURES / "glotip" / "Total_year_wise_data.csv").read_text(encoding="utf-8")
    members = {iso for iso, _ in ASEAN}
    cells: dict[tuple[str, str, int], float] = {}
    for record in csv.DictReader(io.StringIO(text)):
        if record["Iso3_code"] in members and record["Indicator"] in GLOTIP:
            key = (record["Iso3_code"], GLOTIP[record["Indicator"]][0], int(record["Year"]))
            cells[key] = float(record["VALUE"])
    years = range(2003, 2022)
    rows = []
    for indicator, _ in GLOTIP.values():
        for year in years:
            total, reporting, below = 0.0, 0, 0
            for iso, _ in ASEAN:
                value = cells.get((iso, indicator, year))
                if value is None:
                    continue
                if value < 5:
                    rows.append(_row(iso, year, indicator, float("nan"), "below_threshold"))
                    below += 1
                else:
                    rows.append(_row(iso, year, indicator, value, "reported"))
                    total += value
                    reporting += 1
            rows.append(_row("ASEAN", year, indicator, total if reporting else float("nan"),
                             "computed" if reporting else "missing", reporting=reporting,
                             below_threshold=below, members=10))
    for iso, _ in ASEAN:
        for year in years:
            convicted = cells.get((iso, "persons_convicted", year))
            prosecuted = cells.get((iso, "persons_prosecuted", year))
            if convicted and prosecuted and convicted >= 5 and prosecuted >= 5:
                ratio = 100 * convicted / prosecuted
                rows.append(_row(iso, year, "conviction_ratio", ratio, "computed", "%",
                                 "ratio_above_100" if ratio > 100 else None))
            victims = cells.get((iso, "victims_detected", year))
            if victims and victims >= 5:
                # Stand-ins for the sex and age breakdowns, which this fixture does not hold.
                rows.append(_row(iso, year, "victims_female_share", 55 + (year % 7) * 3,
                                 "computed", "%"))
                rows.append(_row(iso, year, "victims_child_share", 20 + (year % 5) * 4,
                                 "computed", "%"))
    indicators = [
        IndicatorMeta(ind, comp, name, "offences" if "offences" in ind else "persons",
                      f"{name} (UNODC GLOTIP).", "Persons, in the year of the event.")
        for name, (ind, comp) in GLOTIP.items()
    ] + [
        IndicatorMeta("victims_female_share", 3, "Female share of detected victims", "%",
                      "Women and girls among detected victims.", "Share of persons."),
        IndicatorMeta("victims_child_share", 3, "Child share of detected victims", "%",
                      "Children among detected victims.", "Share of persons."),
        RATIO,
    ]
    tidy = pd.DataFrame(rows)
    base = []
    for indicator, _ in GLOTIP.values():
        for iso, _ in ASEAN:
            first = min((y for y in years if (iso, indicator, y) in cells), default=None)
            last = max((y for y in years if (iso, indicator, y) in cells), default=None)
            if first is None:
                continue
            a, b = cells[(iso, indicator, first)], cells[(iso, indicator, last)]
            shown = a >= 5 and b >= 5
            base.append({
                "country": iso, "indicator": indicator, "baseline_year": first,
                "baseline_value": a if a >= 5 else float("nan"),
                "baseline_status": "reported" if a >= 5 else "below_threshold",
                "latest_year": last, "latest_value": b if b >= 5 else float("nan"),
                "latest_status": "reported" if b >= 5 else "below_threshold",
                "change": b - a if shown else float("nan"),
                "change_pct": 100 * (b - a) / a if shown else float("nan"),
            })
    return ReportInput(
        region_id="ASEAN", region_name="ASEAN", years=(2003, 2021), members=ASEAN, tidy=tidy,
        baseline=pd.DataFrame(base), indicators=indicators, components=COMPONENTS,
        sources=[SourceInfo("UNODC GLOTIP", date(2023, 5, 30), "data_glotip.xlsx",
                            "4344eb14d0dc883cfd725a01a5057077df43b55f" + "0" * 24, 46556)],
        settings={"tipwatch_version": "0.1.0", "audience": "public"},
    )


@pytest.mark.slow
def test_full_asean_report_renders(tmp_path):
    """The whole ASEAN report, 10 members × 19 years (its time is measured in benchmarks/)."""
    inp = asean_input()
    out = render_report(inp, tmp_path)
    assert out["pdf"].stat().st_size > 50_000
    html = out["html"].read_text(encoding="utf-8")
    for _, name in ASEAN:
        assert name in html


def test_chart_specs_are_valid_and_svgs_deterministic(synthetic):
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    from tipwatch.report import charts
    from tipwatch.report.figures import Figures
    from tipwatch.report.fmt import Formatter

    figs, fmt = Figures(synthetic), Formatter("en")
    counts = [PROSECUTED, CONVICTED]
    specs = [
        charts.regional_trend(figs, fmt, counts),
        charts.country_comparison(figs, fmt, counts, 2021),
        charts.country_trend(figs, fmt, "BBB", counts),
        charts.share_lines(figs, fmt, [RATIO]),
    ]
    schema = load_schema()
    for spec in specs:
        validate_jsonschema(spec, schema)
        assert charts.svg(spec) == charts.svg(spec)
    # Charts drawn two at a time (half in a helper process) are the same bytes.
    with charts.SvgRenderer() as renderer:
        assert renderer.render(specs) == [charts.svg(spec) for spec in specs]
    # Each indicator keeps its colour: the bars are drawn, not just their labels.
    compared = charts.svg(specs[1])
    assert charts.PALETTE[0] in compared and charts.PALETTE[1] in compared
    # The withheld figure is a marker, never a value the chart could print.
    rows = specs[2]["datasets"]["figures"]
    withheld = [r for r in rows if r["year"] == 2020 and r["indicator"] == CONVICTED.title]
    assert withheld == [{**withheld[0], "value": None, "withheld": True, "label": "<5"}]
    # Vega numbers clip paths with a process-wide counter; svg() renumbers them per chart.
    clipped = {"data": {"values": [{"a": 1, "b": 2}]}, "mark": {"type": "line", "clip": True},
               "encoding": {"x": {"field": "a", "type": "quantitative"},
                            "y": {"field": "b", "type": "quantitative"}},
               "description": "A clipped line."}
    first, second = charts.svg(clipped), charts.svg(clipped)
    assert first == second
    assert re.search(r'id="c[0-9a-f]{10}-0"', first)
    assert 'aria-label="A clipped line."' in first


def test_background_drawing_gives_the_same_svgs(synthetic):
    """Charts drawn while the PDF is laid out (helper in front, caller behind) are the same bytes."""
    from tipwatch.report import charts
    from tipwatch.report.figures import Figures
    from tipwatch.report.fmt import Formatter

    figs, fmt = Figures(synthetic), Formatter("en")
    counts = [PROSECUTED, CONVICTED]
    specs = [charts.regional_trend(figs, fmt, counts),
             charts.country_comparison(figs, fmt, counts, 2021),
             charts.country_trend(figs, fmt, "AAA", counts),
             charts.country_trend(figs, fmt, "BBB", counts),
             charts.share_lines(figs, fmt, [RATIO])]
    expected = [charts.svg(spec) for spec in specs]
    with charts.SvgRenderer() as renderer:
        drawing = renderer.start(specs)
        # Asked for out of order: the caller draws what the helper has not taken.
        assert [drawing.get(i) for i in (4, 0, 2)] == [expected[4], expected[0], expected[2]]
        assert drawing.result() == expected
    # Without a helper process, or with one that dies, everything is drawn here.
    renderer = charts.SvgRenderer()
    renderer.close()
    assert charts.Drawing(renderer, specs).result() == expected
    with charts.SvgRenderer() as renderer:
        renderer.close()
        renderer._proc = subprocess.Popen([sys.executable, "-c", "pass"], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, text=True)
        renderer._warming = True
        assert renderer.start(specs).result() == expected
