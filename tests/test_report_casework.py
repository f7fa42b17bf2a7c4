"""The report's case-record sections: attrition, time to verdict, sentences, witnesses, cooperation.

The casework tables are written here with the columns of `tipwatch.report.model.CASEWORK`, as the
privacy layer releases them (a withheld cell is NaN), so the renderer is pinned on its own.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser

import pandas as pd
import pytest
from markupsafe import escape

from tests.test_report_render import COMPONENTS
from tipwatch.report import fmt as F
from tipwatch.report.casework import ANSWERS, SYNTHETIC_LABEL, TITLES
from tipwatch.report.model import CASEWORK, IndicatorMeta, ReportInput, SourceInfo
from tipwatch.report.render import render_html, render_report

NAN = float("nan")
PROSECUTED = IndicatorMeta("persons_prosecuted", 4, "Persons prosecuted", "persons",
                           "Persons prosecuted for trafficking in the year.",
                           "Persons, not cases, in the year prosecution began.")
SECTIONS = {"attrition": 4, "durations": 4, "sentences": 4, "witnesses": 6, "cooperation": 7}
SENTENCE = "to show what case-level data allows; they describe no real country."


def _frame(name: str, rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(CASEWORK[name]))


def casework_tables() -> dict[str, pd.DataFrame]:
    """Two members, AAA and BBB; BBB's small counts withheld (NaN) here and there."""
    return {
        "attrition": _frame("attrition", [
            ("AAA", 2018, 40, 20, 10, 50.0, 25.0, True),
            ("AAA", 2019, 50, 30, 12, 60.0, 24.0, True),
            ("AAA", 2020, 45, 10, 2, 22.2, 4.4, False),  # right-censored
            ("BBB", 2019, NAN, 0, 0, 0.0, 0.0, True),  # investigated withheld
            ("BBB", 2018, 20, 8, NAN, 40.0, NAN, True),
        ]),
        "durations": _frame("durations", [
            ("AAA", 2019, 12, 380.0), ("AAA", 2020, 15, 402.5), ("AAA", 2021, 9, 365.0),
            ("BBB", 2020, NAN, NAN), ("BBB", 2021, 6, 512.0),
        ]),
        "sentences": _frame("sentences", [
            ("AAA", 2020, 10, 9, 48.0, 60.0, 84.0), ("AAA", 2021, 8, 8, 36.0, 54.0, 72.0),
            ("BBB", 2021, NAN, NAN, NAN, NAN, NAN),
        ]),
        "witnesses": _frame("witnesses", [
            ("AAA", 2019, 120, 15, 6, 0, 12.5), ("AAA", 2020, 100, 20, 8, 5, 20.0),
            ("BBB", 2019, 30, NAN, 0, 0, NAN), ("BBB", 2020, 25, 6, NAN, 0, 24.0),
        ]),
        "cooperation": _frame("cooperation", [
            ("AAA", "BBB", "mla", 6, 5, 0, 1, 0, 120.0),
            ("AAA", "BBB", "police", NAN, NAN, 0, 0, 0, NAN),
            ("AAA", "CHN", "police", 9, 7, 0, 2, 0, 41.0),
            ("BBB", "AAA", "extradition", 7, 0, NAN, NAN, 0, NAN),
        ]),
    }


def report_input(casework: dict[str, pd.DataFrame], synthetic: bool) -> ReportInput:
    """A small report: aggregate figures for component 4 only, plus the given case records."""
    rows = []
    for iso, year, value in (("AAA", 2019, 40.0), ("AAA", 2020, 35.0), ("BBB", 2019, 12.0),
                             ("BBB", 2020, 9.0)):
        rows.append({"country": iso, "year": year, "indicator": PROSECUTED.id, "sex": "total",
                     "age": "total", "form": "total", "value": value, "status": "reported",
                     "unit": "persons", "flag": None, "reporting": None, "below_threshold": None,
                     "members": None})
    tidy = pd.DataFrame(rows)
    return ReportInput(
        region_id="XR", region_name="Example Region", years=(2018, 2021),
        members=[("AAA", "Aland"), ("BBB", "Borduria")], tidy=tidy,
        baseline=pd.DataFrame(columns=["country", "indicator", "baseline_year", "baseline_value",
                                       "baseline_status", "latest_year", "latest_value",
                                       "latest_status", "change", "change_pct"]),
        indicators=[PROSECUTED], components=COMPONENTS,
        sources=[SourceInfo("Synthetic release", date(2024, 5, 30), "synthetic.csv", "0" * 64,
                            len(tidy))],
        settings={"tipwatch_version": "0.1.0", "audience": "public"},
        casework=casework, casework_synthetic=synthetic,
    )


class _Page(HTMLParser):
    """Cell texts by data-key, and the <text> of each casework chart's SVG."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self.chart_texts: dict[str, list[str]] = {}
        self._key: str | None = None
        self._in_note = False
        self._text: list[str] = []
        self._note: list[str] = []
        self._figure: str | None = None
        self._svg_text = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and a.get("data-key"):
            self._key, self._text, self._note = a["data-key"], [], []
        elif tag == "span" and self._key and "note" in (a.get("class") or ""):
            self._in_note = True
        elif tag == "figure" and (a.get("id") or "").startswith("fig-casework-"):
            self._figure = a["id"]
            self.chart_texts[self._figure] = []
        elif tag == "text" and self._figure:
            self._svg_text = True

    def handle_endtag(self, tag):
        if tag == "td" and self._key:
            self.cells[self._key] = "".join(self._text).strip()
            self.notes[self._key] = "".join(self._note).strip()
            self._key = None
        elif tag == "span":
            self._in_note = False
        elif tag == "figure":
            self._figure = None
        elif tag == "text":
            self._svg_text = False

    def handle_data(self, data):
        if self._key:
            (self._note if self._in_note else self._text).append(data)
        if self._svg_text and self._figure:
            self.chart_texts[self._figure].append(data)


def _chapter(page: str, component: int) -> str:
    chapter = page.split(f'id="component-{component}"', 1)[1]
    return chapter.split('<section class="chapter', 1)[0]


def _section(page: str, name: str) -> str:
    part = page.split(f'<section class="casework" id="casework-{name}">', 1)[1]
    return re.split(r'<section class="casework"|<section class="chapter', part, maxsplit=1)[0]


@pytest.fixture(scope="module")
def synthetic_page() -> str:
    return render_html(report_input(casework_tables(), synthetic=True))


@pytest.fixture(scope="module")
def real_page() -> str:
    return render_html(report_input(casework_tables(), synthetic=False))


def test_each_section_is_in_its_component(synthetic_page):
    for name, component in SECTIONS.items():
        chapter = _chapter(synthetic_page, component)
        assert f'id="casework-{name}"' in chapter, name
        assert TITLES[name] in chapter
    # Components 1, 2, 3 and 5 have no case-record section.
    for component in (1, 2, 3, 5):
        assert 'class="casework' not in _chapter(synthetic_page, component)


def test_synthetic_label_on_every_section_chart_and_table(synthetic_page):
    for name in SECTIONS:
        section = _section(synthetic_page, name)
        assert f'<span class="badge">{SYNTHETIC_LABEL}</span>' in section, name
        assert SENTENCE in section, name
        assert "<code>tipwatch synth</code>" in section
        # Every figure and table caption of the section says so.
        captions = re.findall(r"<(?:figcaption|caption)>(.*?)</(?:figcaption|caption)>", section,
                              re.S)
        assert captions, name
        for caption in captions:
            assert SYNTHETIC_LABEL in caption, (name, caption)
    page = _Page()
    page.feed(synthetic_page)
    assert len(page.chart_texts) == 5
    for figure, texts in page.chart_texts.items():
        assert any(t.startswith(f"{SYNTHETIC_LABEL} · ") for t in texts), figure
    # The overview points to the sections, with the label.
    overview = synthetic_page.split('id="overview"', 1)[1].split('<section class="chapter', 1)[0]
    assert 'id="overview-casework"' in overview
    assert SYNTHETIC_LABEL in overview and SENTENCE in overview
    for name in SECTIONS:
        assert f'href="#casework-{name}"' in overview


def test_no_synthetic_label_when_the_records_are_real(real_page):
    assert SYNTHETIC_LABEL not in real_page
    assert "tipwatch synth" not in real_page
    for name in SECTIONS:
        assert f'id="casework-{name}"' in real_page


def test_withheld_cells_print_as_suppressed_never_zero(synthetic_page):
    page = _Page()
    page.feed(synthetic_page)
    cells = page.cells
    # A withheld count, and the shares and medians that rest on it.
    assert cells["attrition:BBB:2019:investigated"] == F.SUPPRESSED
    assert cells["attrition:BBB:2019:prosecuted_share"] == F.SUPPRESSED
    assert cells["attrition:BBB:2019:prosecuted_within"] == "0"  # a real zero stays 0
    assert cells["attrition:BBB:2018:convicted_share"] == F.SUPPRESSED
    assert cells["durations:BBB:2020:median_days"] == F.SUPPRESSED
    assert cells["sentences:BBB:2021:median_months"] == F.SUPPRESSED
    assert cells["cooperation:BBB:AAA:sent"] == "7"
    # The region adds up the released figures only, and says what it left out.
    assert cells["witnesses:XR:2019:testified"] == "15"
    assert page.notes["witnesses:XR:2019:testified"] == f"1 {F.SUPPRESSED} not added"
    assert cells["witnesses:XR:2020:protected"] == "8"
    # A pair whose police count is withheld: at least the MLA requests.
    assert cells["cooperation:AAA:BBB:sent"] == "6+"
    assert "M\u00a0120" in page.notes["cooperation:AAA:BBB:sent"]
    # The funnel is the latest complete cohort (2019); AAA's right-censored 2020 is not in it.
    assert cells["attrition:AAA:2019:investigated"] == "50"
    assert "attrition:AAA:2020:investigated" not in cells
    assert cells["attrition:XR:2019:investigated"] == "50"  # BBB withheld, not added
    assert page.notes["attrition:XR:2019:investigated"] == f"1 {F.SUPPRESSED} not added"
    # ...but the cohort table shows it, marked incomplete.
    assert cells["attrition:AAA:2020:convicted_share"].startswith("4.4%")
    assert "†" in cells["attrition:AAA:2020:convicted_share"]
    for key, text in cells.items():
        if key.startswith(("attrition:BBB", "durations:BBB", "sentences:BBB")):
            assert text not in ("0%", "0.0"), key


def test_empty_casework_says_what_case_records_would_answer():
    page = render_html(report_input({}, synthetic=True))
    for component in (4, 6, 7):
        chapter = _chapter(page, component)
        assert "No case records: tipwatch holds no case records for" in chapter
        assert "What case records would answer" in chapter
    for name, component in SECTIONS.items():
        assert ANSWERS[name].split(":")[0] in _chapter(page, component)
    # Nothing to label when there is nothing.
    assert SYNTHETIC_LABEL not in page
    # One empty table among others: its section says so; a component with none, too.
    tables = casework_tables()
    for name in ("sentences", "cooperation"):
        tables[name] = tables[name].iloc[0:0]
    page = render_html(report_input(tables, synthetic=True))
    section = _section(page, "sentences")
    assert "No case records for this" in section and str(escape(ANSWERS["sentences"])) in section
    assert "<figure" not in section
    assert 'id="casework-attrition"' in page
    chapter = _chapter(page, 7)
    assert "No case records: tipwatch holds no case records for" in chapter
    assert str(escape(ANSWERS["cooperation"])) in chapter  # as Jinja escapes it


def test_html_is_byte_identical_and_independent_of_row_order(synthetic_page):
    tables = casework_tables()
    assert render_html(report_input(tables, synthetic=True)) == synthetic_page
    shuffled = {name: frame.iloc[::-1].reset_index(drop=True) for name, frame in tables.items()}
    assert render_html(report_input(shuffled, synthetic=True)) == synthetic_page


def test_annex_has_the_counting_rules(synthetic_page):
    annex = synthetic_page.split('id="annex"', 1)[1]
    assert "Counting rules for case records" in annex
    for phrase in ("Persons, not cases", "The year of the event", "First-instance convictions",
                   "right-censored", "Interpolated medians"):
        assert phrase in annex


def test_casework_chart_specs_are_valid():
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    from tipwatch.report import charts
    from tipwatch.report.casework import Casework
    from tipwatch.report.fmt import Formatter

    cw, fmt = Casework(report_input(casework_tables(), synthetic=True)), Formatter("en")
    specs = [charts.attrition_funnel(cw, fmt, cw.cohort_year()), charts.verdict_durations(cw, fmt),
             charts.sentence_ranges(cw, fmt), charts.witness_trends(cw, fmt),
             charts.cooperation_heatmap(cw, fmt)]
    schema = load_schema()
    for spec in specs:
        validate_jsonschema(spec, schema)
        assert spec["title"]["text"].startswith(SYNTHETIC_LABEL)
        assert spec["description"].startswith(SYNTHETIC_LABEL)
    # A withheld figure is never a value the chart could draw.
    funnel = specs[0]["datasets"]["figures"]
    bbb = [r for r in funnel if r["country"] == "Borduria" and r["layer"] == "bar"]
    assert all(r["share"] is None for r in bbb)
    heat = {(r["from"], r["to"]): r for r in specs[4]["datasets"]["figures"]}
    assert heat[("Aland", "BBB")]["label"] == "6+"
    real = Casework(dataclasses.replace(cw.inp, casework_synthetic=False))
    assert "title" not in charts.attrition_funnel(real, fmt, 2019)


def test_pdf_renders(tmp_path):
    out = render_report(report_input(casework_tables(), synthetic=True), tmp_path)
    assert out["pdf"].read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", str(out["pdf"]), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "Synthetic data · Attrition, 2019 cohort" in text  # the chart's own title
    assert "Counting rules for case records" in text


def test_incomplete_cohorts_never_make_the_funnel():
    tables = casework_tables()
    attrition = tables["attrition"]
    # BBB has no complete 2019 cohort: the funnel says so rather than leave it out silently.
    tables["attrition"] = attrition[~((attrition.country == "BBB") & (attrition.cohort_year == 2019))]
    page = render_html(report_input(tables, synthetic=False))
    assert "No complete 2019 cohort for Borduria." in _section(page, "attrition")
    # No complete cohort at all: no funnel, only the cohorts marked incomplete.
    tables["attrition"] = attrition.assign(complete=False)
    page = render_html(report_input(tables, synthetic=False))
    section = _section(page, "attrition")
    assert "No complete cohort yet" in section
    assert 'id="fig-casework-attrition"' not in section
    assert 'id="t-attrition-cohorts"' in section and "†" in section
