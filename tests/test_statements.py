"""Achievements and challenges: sentences stated by the rules of `statements.yaml`.

What is pinned: GLOTIP's Thai convictions (49 in 2012, 319 in 2019) give the statement the issue
asks for; every number a rendered statement prints is the figure of the table it links to and of
the released tidy table, or a year, or a count of members it names; a regional comparison between
years whose reporters differ is not made and says why; a withheld figure is never used; the
thresholds come from the data file; the page is byte-identical when rendered again; every rule is
documented.

The store tests run on DuckDB only: statements read the released table, which the indicator
tests pin equal on both engines.
"""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import ibis
import pandas as pd
import pytest
import yaml

from tests.conftest import ROOT
from tests.test_report_render import COMPONENTS, CONVICTED, _row
from tipwatch import indicators
from tipwatch.report import statements as S
from tipwatch.report.build import build_input
from tipwatch.report.figures import Figures
from tipwatch.report.fmt import Formatter
from tipwatch.report.model import ReportInput, SourceInfo
from tipwatch.report.render import render_html, render_report

DUCKDB = pytest.mark.parametrize("glotip_store", ["duckdb"], indirect=True)
THAI_RISE = "Convictions in Thailand rose from 49 in 2012 to 319 in 2019."


class _Page(HTMLParser):
    """The rendered page's table cells (by table id and data-key) and its statements' parts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, dict[str, str]] = {}
        self.statements: list[dict] = []
        self._tables: list[str | None] = []
        self._cell: str | None = None
        self._text = ""
        self._spans: list[str] = []
        self._stmt: dict | None = None
        self._part: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "table":
            self._tables.append(a.get("id"))
            if a.get("id"):
                self.tables[a["id"]] = {}
        elif tag == "td" and a.get("data-key") and self._tables and self._tables[-1]:
            self._cell, self._text = a["data-key"], ""
        elif tag == "li" and "statement" in classes:
            self._stmt = {"id": a.get("id"), "rule": a.get("data-rule"), "polarity": classes[-1],
                          "text": "", "plain": "", "figures": [], "counts": [], "links": []}
        elif tag == "span":
            self._spans.append(classes[0] if classes else "")
            if self._stmt is not None and "count" in classes:
                self._part = {"text": "", "of": (a.get("data-of") or "").split(),
                              "indicator": a.get("data-indicator"), "year": a.get("data-year"),
                              "column": a.get("data-column")}
                self._stmt["counts"].append(self._part)
        elif tag == "a" and self._stmt is not None:
            if "figure" in classes:
                self._part = {"text": "", "table": a["href"].removeprefix("#"), "key": a["data-key"]}
                self._stmt["figures"].append(self._part)
            else:
                self._stmt["links"].append(a["href"].removeprefix("#"))

    def handle_endtag(self, tag):
        if tag == "table":
            self._tables.pop()
        elif tag == "td" and self._cell is not None:
            self.tables[self._tables[-1]][self._cell] = self._text.strip()
            self._cell = None
        elif tag == "li" and self._stmt is not None:
            self.statements.append(self._stmt)
            self._stmt = None
        elif tag == "span" and self._spans:
            if self._spans.pop() == "count":
                self._part = None
        elif tag == "a" and self._part is not None and "table" in self._part:
            self._part = None

    def handle_data(self, data):
        if self._cell is not None and not {"mark", "note"} & set(self._spans):
            self._text += data
        if self._stmt is not None and "says" in self._spans:
            self._stmt["text"] += data
            if self._part is None:
                self._stmt["plain"] += data
            else:
                self._part["text"] += data


def _headline(inp: ReportInput) -> dict[tuple[str, str, int], dict]:
    t = inp.tidy
    t = t[(t.sex == "total") & (t.age == "total") & (t.form == "total")]
    return {(r["country"], r["indicator"], int(r["year"])): r for r in t.to_dict("records")}


@pytest.fixture(scope="module")
def demo(glotip_store, tmp_path_factory) -> tuple[ReportInput, str]:
    """The demo's report (ASEAN 2003–2021) on the bundled GLOTIP 2023 release."""
    inp = build_input(glotip_store, "ASEAN", (2003, 2021))
    out = render_report(inp, tmp_path_factory.mktemp("demo"), formats=("html",))
    return inp, out["html"].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def since_2012(glotip_store, tmp_path_factory) -> tuple[ReportInput, bytes]:
    """The report for 2012–2019, the years of the issue's example."""
    inp = build_input(glotip_store, "ASEAN", (2012, 2019))
    out = render_report(inp, tmp_path_factory.mktemp("since-2012"), formats=("html",))
    return inp, out["html"].read_bytes()


@DUCKDB
def test_thai_convictions_rise_is_stated(since_2012):
    inp, page = since_2012
    cells = _headline(inp)
    # GLOTIP 2023's figures, as the source reports them.
    for year, value in ((2012, 49), (2019, 319)):
        row = cells[("THA", "persons_convicted", year)]
        assert (row["value"], row["status"]) == (value, "reported")
    stated = {s["text"]: s for s in _Page(page.decode()).statements}
    assert THAI_RISE in stated
    statement = stated[THAI_RISE]
    assert statement["polarity"] == "achievement"
    assert [(f["text"], f["key"], f["table"]) for f in statement["figures"]] == [
        ("49", "THA:persons_convicted:2012", "t-component-4-THA"),
        ("319", "THA:persons_convicted:2019", "t-component-4-THA"),
    ]
    # In chapter 4 and, as a headline, in the overview, which opens with the decade of progress.
    html = page.decode()
    overview, chapter = html.index('id="overview"'), html.index('id="component-4"')
    assert overview < html.index('id="decade"') < html.index(THAI_RISE.split(" 49")[0]) < chapter
    assert html.index('id="st-convictions-rose-THA"') > chapter
    # The regional comparison the issue names: not made, and why.
    assert ("Convictions in ASEAN are not compared between 2012 and 2019: 5 of 10 members reported in "
            "2012, 4 of 10 in 2019.") in stated


@DUCKDB
def test_demo_states_achievements_and_challenges(demo):
    inp, html = demo
    said = [s for s in _Page(html).statements if s["rule"] != "decade"]
    texts = {s["text"] for s in said}
    assert "Convictions in Thailand rose from 12 in 2011 to 224 in 2020." in texts
    assert ("In 2 of the 4 member states with a period conviction ratio for 2020, fewer than one person "
            "was convicted for every three prosecuted: Myanmar (28%) and the Philippines (18%).") in texts
    assert {s["polarity"] for s in said} == {"achievement", "challenge"}
    # Every component chapter with figures says what the rules found.
    for cid in (2, 3, 4):
        chapter = html.split(f'id="component-{cid}"', 1)[1].split('<section class="chapter', 1)[0]
        assert "<h2>Achievements and challenges</h2>" in chapter


@DUCKDB
@pytest.mark.parametrize("report", ["demo", "since_2012"])
def test_every_number_in_every_statement_matches_the_table_it_cites(report, glotip_store, request):
    inp, page = request.getfixturevalue(report)
    html = page if isinstance(page, str) else page.decode()
    doc, cells, fmt = _Page(html), _headline(inp), Formatter()
    first, last = inp.years
    statements = doc.statements
    assert len(statements) > 10
    for s in statements:
        assert s["figures"] or s["counts"] or s["links"], s["text"]
        for figure in s["figures"]:
            # The linked table exists, and prints the figure exactly so ...
            assert figure["table"] in doc.tables, (s["text"], figure)
            assert doc.tables[figure["table"]][figure["key"]] == figure["text"], (s["text"], figure)
            # ... as does the released tidy table, where it is a number (never <5 or suppressed).
            country, indicator, year = figure["key"].split(":")
            row = cells[(country, indicator, int(year))]
            assert row["status"] in ("reported", "computed"), (s["text"], row)
            assert fmt.value(row["value"], row["unit"]) == figure["text"], (s["text"], row)
        for count in s["counts"]:
            number = int(count["text"])
            if count["of"]:
                assert len(count["of"]) == number, (s["text"], count)
                assert set(count["of"]) <= {iso for iso, _ in inp.members} | set(inp.tidy.country)
            if count["column"]:
                # A regional figure's coverage: the released regional row says the same.
                region = cells[(inp.region_id, count["indicator"], int(count["year"]))]
                assert int(region[count["column"]]) == number, (s["text"], count, region)
                if count["column"] == "reporting":
                    # The members named are those whose number the regional figure adds up.
                    added = {c for (c, i, y), r in cells.items()
                             if i == count["indicator"] and y == int(count["year"]) and c != inp.region_id
                             and r["status"] in ("reported", "computed", "suppressed")}
                    assert set(count["of"]) == added, (s["text"], count)
        # Whatever else is a number is a year of the report.
        for token in re.findall(r"\d+(?:[.,]\d+)*", s["plain"]):
            assert re.fullmatch(r"\d{4}", token) and first <= int(token) <= last, (s["text"], token)
        for target in s["links"]:
            assert target in doc.tables, (s["text"], target)


def _small(convicted: dict[tuple[str, int], float | str]) -> ReportInput:
    """Three members, 2010–2019, persons convicted only; ``"<5"`` is a withheld figure that
    carries a value (2.0), which no statement may use."""
    members = [("AAA", "Aland"), ("BBB", "Borduria"), ("CCC", "Carpania")]
    rows = []
    for (iso, year), value in convicted.items():
        if value == "<5":
            rows.append(_row(iso, year, CONVICTED.id, 2.0, "below_threshold"))
        else:
            rows.append(_row(iso, year, CONVICTED.id, float(value), "reported"))
    for year in range(2010, 2020):
        added = [v for (iso, y), v in convicted.items() if y == year and v != "<5"]
        below = sum(1 for (iso, y), v in convicted.items() if y == year and v == "<5")
        rows.append(_row("XR", year, CONVICTED.id, float(sum(added)) if added else float("nan"),
                         "computed" if added else "missing", reporting=len(added),
                         below_threshold=below, members=3))
    tidy = pd.DataFrame(rows)
    baseline = indicators.change_from_baseline(
        ibis.memtable(tidy.drop(columns=["reporting", "below_threshold", "members"])), 2010, 2019
    ).to_pandas().sort_values(["indicator", "country"], ignore_index=True)
    return ReportInput(
        region_id="XR", region_name="Example Region", years=(2010, 2019), members=members,
        tidy=tidy, baseline=baseline, indicators=[CONVICTED], components=COMPONENTS,
        sources=[SourceInfo("Synthetic release", date(2024, 5, 30), "synthetic.csv", "0" * 64, len(tidy))],
    )


def _texts(inp: ReportInput, rules: S.Rules | None = None) -> list[str]:
    return [s.text for s in S.evaluate(Figures(inp), Formatter(), rules)]


def test_comparison_across_different_reporters_is_not_made_and_says_why():
    # AAA: <5 in 2010, then numbers; BBB every year; CCC only in 2019.
    convicted: dict[tuple[str, int], float | str] = {("AAA", 2010): "<5", ("BBB", 2010): 30}
    for year in range(2011, 2020):
        convicted.update({("AAA", year): 24 + 4.5 * (year - 2011), ("BBB", year): 30})
    convicted[("CCC", 2019)] = 10
    inp = _small(convicted)
    texts = _texts(inp)
    why = ("Convictions in Example Region are not compared between 2010 and 2019: 1 of 3 members "
           "reported in 2010, 3 of 3 in 2019.")
    assert why in texts
    assert not [t for t in texts if t.startswith("Convictions in Example Region rose")]
    # AAA's withheld 2010 figure is never a starting point: its first number is 2011's.
    assert "Convictions in Aland rose from 24 in 2011 to 60 in 2019." in texts
    html = render_html(inp)
    doc = _Page(html)
    assert why in {s["text"] for s in doc.statements}
    note = next(s["text"] for s in doc.statements if s["id"] == "decade-persons_convicted")
    assert note.endswith("The regional figure is not compared: 1 of 3 members reported in 2010, 3 of 3 "
                         "in 2019.")
    # The decade table prints the region's two figures but no change between them.
    region_row = re.search(r'<tr class="region" data-row="persons_convicted:XR">(.*?)</tr>', html).group(1)
    assert region_row.count("not compared") == 2
    assert doc.tables["t-baseline"]["XR:persons_convicted:2010"] == "30"

    # The same members in both years: the comparison is made.
    convicted[("AAA", 2010)], convicted[("CCC", 2010)] = 20, 10
    texts = _texts(_small(convicted))
    assert ("Convictions in Example Region rose from 60 in 2010 to 100 in 2019; the same 3 of 3 members "
            "reported in both years.") in texts
    assert not [t for t in texts if "not compared" in t]


def _variant(tmp_path, change) -> S.Rules:
    spec = yaml.safe_load(S.RULES_FILE.read_text(encoding="utf-8"))
    change(spec)
    path = tmp_path / "statements.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return S.load(path)


@DUCKDB
def test_thresholds_come_from_the_data_file(since_2012, tmp_path):
    inp, _ = since_2012
    texts = _texts(inp)
    assert THAI_RISE in texts

    def stricter(spec):
        rule = next(r for r in spec["rules"] if r["id"] == "convictions-rose")
        rule["thresholds"] = {"min_change_pct": 600}  # Thailand's rise is 551 %

    assert THAI_RISE not in _texts(inp, _variant(tmp_path, stricter))

    def below_60(spec):
        spec["defaults"]["share_below"]["below"] = 60

    ratio = [t for t in texts if "conviction ratio" in t]
    assert ratio == ["In 1 of the 4 member states with a period conviction ratio for 2019, fewer than one person "
                     "was convicted for every three prosecuted: the Philippines (12%)."]
    wider = [t for t in _texts(inp, _variant(tmp_path, below_60)) if "conviction ratio" in t]
    assert wider[0].startswith("In 4 of the 4 member states") and "Thailand (58%)" in wider[0]

    def shorter_window(spec):
        spec["window"]["years"] = 3  # 2017–2019: no member's span reaches five years

    assert not [t for t in _texts(inp, _variant(tmp_path, shorter_window)) if " rose from " in t]


def test_a_bad_rules_file_lists_every_problem(tmp_path):
    def broken(spec):
        spec["rules"][0]["kind"] = "soar"
        spec["rules"][1]["indicator"] = "persons_hugged"
        spec["rules"][2]["template"] = "Offences in {country} rose by {change_pct}."

    with pytest.raises(ValueError) as error:
        _variant(tmp_path, broken)
    message = str(error.value)
    assert "3 problem(s)" in message
    assert "kind 'soar'" in message and "persons_hugged" in message and "change_pct" in message


@DUCKDB
def test_rendering_twice_gives_identical_bytes(since_2012, tmp_path):
    inp, _ = since_2012
    first, again = (render_report(inp, tmp_path / name, formats=("html",))["html"].read_bytes()
                    for name in ("first", "again"))
    assert b"Achievements and challenges" in first
    assert again == first


def test_every_rule_and_kind_is_documented():
    text = (ROOT / "docs" / "statements.md").read_text(encoding="utf-8")
    rules = S.load()
    for rule in rules.rules:
        assert f"`{rule.id}`" in text, rule.id
    for kind, thresholds in S.THRESHOLDS.items():
        assert f"## `{kind}`" in text, kind
        for name in thresholds:
            assert f"`{name}`" in text, name
    readme = (ROOT / "src" / "tipwatch" / "reference" / "data" / "README.md").read_text(encoding="utf-8")
    assert "`statements.yaml`" in readme
