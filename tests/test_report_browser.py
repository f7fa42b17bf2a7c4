"""The demo report as readers see it: the web page in headless Chromium, the PDF as page images.

One report for the whole module: `tipwatch demo` (the bundled GLOTIP release, tier placements,
CTDC records and the synthetic case records), ASEAN 2003–2021, every chapter, both formats.

- The web page, from ``file://`` with host names unresolvable: vega-embed draws every chart, no
  script fails, nothing is fetched, tooltips say the figures the tables print, and a screenshot
  shows the charts.
- The PDF: every figure is there, no page is empty, nothing runs past the page's margins (word
  boxes from ``pdftotext -bbox`` and ink in the margins of ``pdftoppm`` images), and the table of
  contents gives each chapter's page.

Chromium is Debian's ``chromium`` and poppler-utils gives ``pdftotext``/``pdftoppm``; ``make
test`` installs both (``scripts/ensure-debian.sh``), so a missing one fails here, not skips.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from tipwatch.cli import main
from tipwatch.report import render

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "src" / "tipwatch" / "report" / "static"
MM_PER_PT = 25.4 / 72
# Seconds a Chromium or poppler run may take before the test gives up (a few seconds here).
TOOL_TIMEOUT = 180
# Chromium's window width in CSS pixels: the page's 190 mm column and its margins.
WIDTH = 1000


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: `make test` installs it (scripts/ensure-debian.sh)"
    return path


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo's report folder: ``index.html`` and ``report.pdf``."""
    root = tmp_path_factory.mktemp("browser")
    out = root / "report"
    assert main(["demo", "--out", str(out), "--db", str(root / "tipwatch.duckdb")]) == 0
    return out


@pytest.fixture(scope="module")
def page(demo) -> str:
    return (demo / render.HTML_NAME).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# The vendored JavaScript


def test_vendored_libraries_are_the_recorded_files_and_versions():
    """The inlined Vega-Lite is the version the specs declare, and each file is the one SOURCE.md names."""
    import altair as alt

    folder = STATIC / "js"
    source = (folder / "SOURCE.md").read_text(encoding="utf-8")
    declared = re.search(r"/v(\d+\.\d+\.\d+)\.json$", alt.SCHEMA_URL)
    assert declared and render.VENDORED_JS["vega-lite.min.js"] == declared.group(1)
    for name, version in render.VENDORED_JS.items():
        text = (folder / name).read_text(encoding="utf-8")
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert re.search(rf"`{re.escape(name)}` .*\| {re.escape(version)} \|.*`{digest}`", source), name
        # Each build names its own version as a string literal: t.version="6.2.0", var n="6.4.1", …
        assert re.search(rf"""(version=|var \w+=|const \w+=)["']{re.escape(version)}["']""", text), name
        licence = folder / f"LICENSE-{name.removesuffix('.min.js')}"
        assert "Redistribution and use in source and binary forms" in licence.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# The web page in Chromium

# Put at the top of <head> of a copy of the page: records script errors and every URL the page
# asks for, and once report.js has mounted the charts, hovers every mark of every live chart and
# keeps what its tooltip says (vega-tooltip's table of key and value).
PROBE = """<script>
(function () {
  var root = document.documentElement, errors = [], requests = [];
  function note(list, name, value) { list.push(String(value)); root.setAttribute(name, JSON.stringify(list)); }
  window.addEventListener("error", function (e) {
    note(errors, "data-test-errors", e.message || (e.target && (e.target.src || e.target.href)) || e);
  }, true);
  window.addEventListener("unhandledrejection", function (e) { note(errors, "data-test-errors", e.reason); });
  var consoleError = console.error;
  console.error = function () {
    note(errors, "data-test-errors", Array.prototype.join.call(arguments, " "));
    return consoleError.apply(console, arguments);
  };
  var realFetch = window.fetch;
  window.fetch = function (input) {
    note(requests, "data-test-requests", (input && input.url) || input);
    return realFetch.apply(this, arguments);
  };
  var open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url) {
    note(requests, "data-test-requests", url);
    return open.apply(this, arguments);
  };
  function hover(target, kinds) {
    var box = target.getBoundingClientRect();
    kinds.forEach(function (kind) {
      target.dispatchEvent(new PointerEvent(kind, {bubbles: true, clientX: box.left + box.width / 2,
                                                   clientY: box.top + box.height / 2}));
    });
  }
  function tooltips() {
    var out = {};
    document.querySelectorAll("figure.chart").forEach(function (figure) {
      var seen = {}, tips = [];
      var marks = figure.querySelectorAll(".chart-live svg path, .chart-live svg text");
      for (var i = 0; i < marks.length; i++) {
        var box = marks[i].getBoundingClientRect();
        if (!box.width && !box.height) { continue; }
        var tip = document.getElementById("vg-tooltip-element");
        if (tip) { tip.classList.remove("visible"); tip.innerHTML = ""; }
        hover(marks[i], ["pointermove", "mousemove"]);
        tip = document.getElementById("vg-tooltip-element");
        if (tip && tip.classList.contains("visible")) {
          var pairs = {};
          tip.querySelectorAll("tr").forEach(function (row) {
            var cells = row.querySelectorAll("td");
            if (cells.length === 2) { pairs[cells[0].textContent] = cells[1].textContent; }
          });
          var key = JSON.stringify(pairs);
          if (!seen[key]) { seen[key] = true; tips.push(pairs); }
        }
        hover(marks[i], ["pointerout", "mouseout"]);
      }
      out[figure.id] = tips;
    });
    return out;
  }
  function finish() {
    if (root.getAttribute("data-charts-done") !== "true") { window.setTimeout(finish, 50); return; }
    performance.getEntriesByType("resource").forEach(function (e) { note(requests, "data-test-requests", e.name); });
    var bottoms = {};
    document.querySelectorAll("figure.chart").forEach(function (figure) {
      bottoms[figure.id] = Math.ceil(figure.getBoundingClientRect().bottom + window.scrollY);
    });
    root.setAttribute("data-test-bottoms", JSON.stringify(bottoms));
    root.setAttribute("data-test-tooltips", JSON.stringify(tooltips()));
    root.setAttribute("data-test-finished", "true");
  }
  window.addEventListener("load", finish);
})();
</script>"""


def _chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # The flags that keep Chromium quiet on a machine without network (no background
    # connections, no component updates), and no host name resolves: the page gets no network.
    args = [
        _tool("chromium"), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--mute-audio", "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}", "--virtual-time-budget=30000", *extra, url,
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=True)


class _Dom(HTMLParser):
    """The <html> element's attributes, and per chart figure the <svg> elements in each container."""

    def __init__(self) -> None:
        super().__init__()
        self.root: dict[str, str | None] = {}
        self.figures: dict[str, dict[str, list[dict[str, str | None]]]] = {}
        self._stack: list[tuple[str, str]] = []  # (tag, role) of open elements of interest
        self._figure: str | None = None
        self._box: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "html":
            self.root = a
        elif tag == "figure" and "chart" in classes:
            self._figure = a.get("id") or ""
            self.figures[self._figure] = {"chart-static": [], "chart-live": [], "state": [a.get("data-chart")]}
        elif self._figure and tag == "div" and self._box is None and {"chart-static", "chart-live"} & set(classes):
            self._box = "chart-static" if "chart-static" in classes else "chart-live"
            self._stack.append((tag, "box"))
            return
        elif self._figure and self._box and tag == "svg":
            self.figures[self._figure][self._box].append(a)
        if self._box and tag == "div":
            self._stack.append((tag, ""))

    def handle_endtag(self, tag):
        if tag == "figure":
            self._figure, self._box = None, None
        elif tag == "div" and self._stack:
            _, role = self._stack.pop()
            if role == "box":
                self._box = None


@pytest.fixture(scope="module")
def browser(demo, page, tmp_path_factory) -> _Dom:
    """The page as Chromium left it, from a copy with `PROBE` at the top of <head>."""
    probed = demo / "probe.html"
    probed.write_text(page.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    run = _chromium(probed.as_uri(), tmp_path_factory.mktemp("chromium"), f"--window-size={WIDTH},1400",
                    "--dump-dom")
    dom = _Dom()
    dom.feed(run.stdout)
    assert dom.root.get("data-test-finished") == "true", run.stderr[-2000:]
    return dom


def test_page_is_self_contained_and_offline(page, browser):
    # The libraries and report.js are inlined once; nothing the page loads comes from elsewhere:
    # no script, stylesheet or image source that is not in the page (a link to a law's text is
    # a citation to follow, not something the page loads).
    assert page.count("<script>") == 1 and "sourceMappingURL" not in page
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.S)
    assert re.findall(r"""\ssrc\s*=\s*["']?(?!data:)[^"'\s>]*""", markup) == []
    assert not re.search(r"<link\b", markup)
    assert not re.search(r"url\(\s*[\"']?(?!data:|#)", markup)
    # And in Chromium, from file:// with no host name resolving: no request at all, no error.
    assert json.loads(browser.root.get("data-test-requests") or "[]") == []
    assert browser.root.get("data-test-errors") is None, browser.root.get("data-test-errors")


def test_every_chart_is_drawn_by_vega_embed(page, browser):
    figures = re.findall(r'<figure id="([^"]+)" class="chart"', page)
    specs = page.count('<script type="application/json" class="chart-spec">')
    assert len(figures) == specs >= 30  # overview, chapters, case records, 10 profiles × 2
    assert list(browser.figures) == figures
    assert browser.root.get("data-charts") == str(len(figures))
    assert browser.root.get("data-charts-live") == str(len(figures))
    assert browser.root.get("data-charts-failed") == "0"
    for fid, boxes in browser.figures.items():
        assert boxes["state"] == ["live"], fid
        # One Vega SVG in the live container; the static one (role=img, named) still beside it.
        assert len(boxes["chart-live"]) == 1 and "marks" in (boxes["chart-live"][0].get("class") or ""), fid
        assert len(boxes["chart-static"]) == 1 and boxes["chart-static"][0].get("role") == "img", fid


def test_every_chart_has_alternative_text_and_the_table_behind_it(page):
    figures = re.findall(r'<figure id="([^"]+)" class="chart">(.*?)</figure>', page, re.S)
    tables = set(re.findall(r'<caption><span class="label">Table (\d+)\.</span>', page))
    assert len(figures) >= 30
    for fid, body in figures:
        caption = re.search(r"<figcaption>(.*?)</figcaption>", body, re.S).group(1)
        data = re.search(r"Data: Tables? (\d+)(?:–(\d+))?\.", caption)
        assert data and set(filter(None, data.groups())) <= tables, fid
        # The text a screen reader gets from the static SVG is the one printed under the chart.
        label = re.search(r'<svg [^>]*role="img" aria-label="([^"]*)"', body).group(1)
        shown = re.search(r'<p class="alt" aria-hidden="true">(.*?)</p>', body, re.S).group(1)
        assert len(label) > 30 and html.unescape(label) == html.unescape(shown), fid


def _units(node, found: list[dict]) -> list[dict]:
    """Every unit spec (one with a mark) in a Vega-Lite spec, however nested."""
    if isinstance(node, dict):
        if "mark" in node:
            found.append(node)
        for key, value in node.items():
            if key not in ("datasets", "data", "config"):
                _units(value, found)
    elif isinstance(node, list):
        for item in node:
            _units(item, found)
    return found


def test_page_specs_are_valid_and_hover_by_point(page):
    """The specs the page mounts are valid Vega-Lite of the declared version; lines hover by point."""
    import altair as alt
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    from tipwatch.report import charts

    texts = re.findall(r'<script type="application/json" class="chart-spec">(.*?)</script>', page, re.S)
    schema = load_schema()
    hover_points = 0
    for text in texts:
        assert "<" not in text and "&" not in text  # escaped: nothing in it can end the <script>
        spec = json.loads(text)
        validate_jsonschema(spec, schema)
        assert spec["$schema"] == alt.SCHEMA_URL and spec["description"]
        for unit in _units(spec, []):
            mark = unit["mark"] if isinstance(unit["mark"], dict) else {"type": unit["mark"]}
            # A line's tooltip would say its first point's figure wherever the line is hovered.
            assert not (mark["type"] == "line" and "tooltip" in unit.get("encoding", {})), unit
            hover_points += mark == charts.HOVER_POINT
    assert hover_points >= len(texts) // 2


def _tooltips(browser: _Dom) -> dict[str, list[dict[str, str]]]:
    return json.loads(browser.root.get("data-test-tooltips") or "{}")


class _Cells(HTMLParser):
    """Each table cell's text by its data-key, and the note under it (a regional figure's coverage)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, str] = {}
        self.note: dict[str, str] = {}
        self._key: str | None = None
        self._parts: dict[str, list[str]] = {}
        self._part = "text"

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and a.get("data-key"):
            self._key, self._parts, self._part = a["data-key"], {"text": [], "note": [], "mark": []}, "text"
        elif self._key and tag == "span":
            self._part = "note" if "note" in (a.get("class") or "") else "mark"

    def handle_endtag(self, tag):
        if tag == "span":
            self._part = "text"
        elif tag == "td" and self._key:
            self.text[self._key] = "".join(self._parts["text"]).strip()
            self.note[self._key] = "".join(self._parts["note"]).strip()
            self._key = None

    def handle_data(self, data):
        if self._key:
            self._parts[self._part].append(data)


def test_tooltips_say_the_figures_the_tables_print(page, browser):
    from tipwatch.indicators import indicators

    tips = _tooltips(browser)
    # Every chart answers a hover with something.
    assert [fid for fid, found in tips.items() if not found] == []
    # The table printed with the chart (the same key can stand in other tables too).
    cells = _Cells()
    cells.feed(page.split('<figure id="fig-regional-trends"', 1)[1].split("</section>", 1)[0])
    ids = {meta.meta["title"]: iid for iid, meta in indicators().items()}
    regional = [t for t in tips["fig-regional-trends"] if "ASEAN" in t]
    assert len(regional) > 50  # a hover target on every year of every panel that has a figure
    for tip in regional:
        key = f"ASEAN:{ids[tip['indicator']]}:{tip['year']}"
        assert tip["ASEAN"] == cells.text[key], (tip, key)
        # "5 of 10 members reported; 1 reported <5, not added" is the table's "5/10 · 1 <5".
        assert re.findall(r"\d+", tip["coverage"]) == re.findall(r"\d+", cells.note[key]), (tip, key)
    # A member's <5 says <5 when hovered (its triangle on the axis), never a number.
    withheld = [t for fid, found in tips.items() if fid.startswith("fig-profile-") for t in found
                if t.get("figure") == "<5"]
    assert withheld
    # A case-record chart's cells say their counts.
    assert any(t.get("requests sent") for t in tips["fig-casework-cooperation"])


def test_screenshot_shows_the_charts(demo, browser, tmp_path):
    """Chromium's picture of the unmodified page, from the top down to the members-compared chart."""
    from tipwatch.report import charts

    # One window as tall as the page down to that chart (where the probed copy, laid out at the
    # same width, had it): a headless screenshot of a page opened at an anchor comes out blank.
    height = json.loads(browser.root["data-test-bottoms"])["fig-members-compared"] + 20
    assert height < 16_000, height
    shot = tmp_path / "page.png"
    _chromium((demo / render.HTML_NAME).as_uri(), tmp_path / "profile", f"--window-size={WIDTH},{height}",
              f"--screenshot={shot}")
    image = Image.open(shot).convert("RGB")
    assert image.size == (WIDTH, height)
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 100  # text, rules and charts, not a blank page
    inked = sum(n for n, (r, g, b) in colours if min(r, g, b) < 200) / (image.width * image.height)
    assert inked > 0.02, inked

    def near(colour: str) -> int:
        want = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
        return sum(n for n, rgb in colours if all(abs(a - b) <= 12 for a, b in zip(rgb, want, strict=True)))

    # The members-compared bars, in the first three indicators' colours: the charts are drawn.
    assert all(near(colour) > 200 for colour in charts.PALETTE[:3]), [near(c) for c in charts.PALETTE[:3]]


# ---------------------------------------------------------------------------------------------
# The PDF as pages


def _page_margins() -> dict[str, tuple[float, float, float, float]]:
    """The margins of each ``@page`` rule of report.css (top, right, bottom, left, in mm) by page name."""
    css = (STATIC / "report.css").read_text(encoding="utf-8")
    found = {}
    for name, body in re.findall(r"@page\s*([\w-]*)\s*\{((?:[^{}]|\{[^{}]*\})*)\}", css):
        margin = re.search(r"(?:^|[;\s])margin:\s*([\d.]+)mm\s+([\d.]+)mm\s+([\d.]+)mm\s+([\d.]+)mm", body)
        if margin:
            found[name or "default"] = tuple(float(x) for x in margin.groups())
    assert "default" in found, "report.css has no @page margin in mm"
    return found


def _margins(page: dict) -> tuple[float, float, float, float]:
    """The margins a PDF page was laid out with: of the @page rule whose sides match its margin boxes.

    The running header starts at the left margin and the page number ends at the right one; a
    page without them (the title page) has the default margins.
    """
    rules = _page_margins()
    words = page["words"]
    if not words:
        return rules["default"]
    top_line = [w for w in words if w[2] - min(v[2] for v in words) < 0.5]
    bottom_line = [w for w in words if max(v[4] for v in words) - w[4] < 0.5]
    # The page number in either language of the report (tests/test_report_i18n.py checks the Indonesian PDF).
    if not re.fullmatch(r"(?:page|halaman) \d+ (?:of|dari) \d+", " ".join(w[0] for w in bottom_line)):
        return rules["default"]
    left = min(w[1] for w in top_line)
    right = page["width"] - max(w[3] for w in bottom_line)
    matches = [m for m in rules.values() if abs(m[3] - left) < 0.5 and abs(m[1] - right) < 0.5]
    assert matches, f"no @page rule has a left margin of {left:.1f} mm and a right one of {right:.1f} mm"
    # Two rules alike at the sides: judge by the larger content box, never a false alarm.
    return min(matches, key=lambda m: m[0] + m[2])


class _Words(HTMLParser):
    """``pdftotext -bbox`` output: per page its size and its words' boxes, all in mm."""

    def __init__(self) -> None:
        super().__init__()
        self.pages: list[dict] = []
        self._box: tuple[float, ...] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "page":
            self.pages.append({"width": float(a["width"]) * MM_PER_PT,
                               "height": float(a["height"]) * MM_PER_PT, "words": []})
        elif tag == "word":
            self._box = tuple(float(a[k]) * MM_PER_PT for k in ("xmin", "ymin", "xmax", "ymax"))

    def handle_data(self, data):
        if self._box is not None:
            self.pages[-1]["words"].append((data, *self._box))
            self._box = None


@pytest.fixture(scope="module")
def words(demo, tmp_path_factory) -> list[dict]:
    target = tmp_path_factory.mktemp("pdftotext") / "words.html"
    subprocess.run([_tool("pdftotext"), "-bbox", str(demo / render.PDF_NAME), str(target)],
                   check=True, timeout=TOOL_TIMEOUT)
    parsed = _Words()
    parsed.feed(target.read_text(encoding="utf-8"))
    assert len(parsed.pages) > 40
    return parsed.pages


# PNG pages at this resolution: 1 px is about half a millimetre, enough to see a table's edge.
DPI = 50


@pytest.fixture(scope="module")
def images(demo, tmp_path_factory) -> list[Image.Image]:
    folder = tmp_path_factory.mktemp("pdftoppm")
    subprocess.run([_tool("pdftoppm"), "-r", str(DPI), "-gray", "-png", str(demo / render.PDF_NAME),
                    str(folder / "page")], check=True, timeout=TOOL_TIMEOUT)
    return [Image.open(path).convert("L") for path in sorted(folder.glob("page-*.png"))]


def _ink(image: Image.Image, box_mm: tuple[float, float, float, float]) -> int:
    """Pixels darker than light grey inside ``box_mm`` (left, top, right, bottom)."""
    box = tuple(round(v * DPI / 25.4) for v in box_mm)
    return sum(image.crop(box).point(lambda v: 255 if v < 200 else 0).histogram()[255:])


def test_pdf_has_every_figure_and_no_empty_page(page, words, images):
    assert len(images) == len(words)
    text = " ".join(w[0] for p in words for w in p["words"])
    figures = re.findall(r'<figure id="[^"]+" class="chart">\s*<figcaption><span class="label">Figure (\d+)\.', page)
    assert figures == [str(n) for n in range(1, len(figures) + 1)]
    for n in figures:
        assert f"Figure {n}." in text
    for number, (image, p) in enumerate(zip(images, words, strict=True), start=1):
        # Content between the margins, not just a running header and a page number.
        top, right, bottom, left = _margins(p)
        body = (left, top, p["width"] - right, p["height"] - bottom)
        assert _ink(image, body) > 200, f"page {number} is empty"


def test_nothing_runs_off_the_page(words, images):
    slack = 0.5  # mm: antialiasing, and a glyph's box a hair past its advance
    overflow = []
    for number, (p, image) in enumerate(zip(words, images, strict=True), start=1):
        top, right, bottom, left = _margins(p)
        width, height = p["width"], p["height"]
        for text, x0, _, x1, _ in p["words"]:
            if x0 < left - slack or x1 > width - right + slack:
                overflow.append((number, text, "beside the content", round(x0, 1), round(x1, 1)))
        # Below the content, only the page number may stand: "page 4 of 62".
        below = [w for w in p["words"] if w[4] > height - bottom + slack]
        line = " ".join(w[0] for w in below)
        if number > 1 and line != f"page {number} of {len(words)}" or number == 1 and below:
            overflow.append((number, line, "below the content"))
        # Ink (table rules and backgrounds, charts) in the side margins, or between the content
        # and the page number.
        footer_top = min((w[2] for w in below), default=height - 2)
        bands = {"left": (0, top, left - slack, height - bottom),
                 "right": (width - right + slack, top, width, height - bottom),
                 "bottom": (0, height - bottom + slack, width, footer_top - slack)}
        for side, box in bands.items():
            if _ink(image, box):
                overflow.append((number, side, "ink in the margin"))
    assert overflow == []


def test_table_of_contents_gives_each_chapter_its_page(page, words):
    pages = [" ".join(w[0] for w in p["words"]) for p in words]
    # Running headers and page numbers from the second page on (the title page has none).
    for number, text in enumerate(pages[1:], start=2):
        assert text.startswith("ASEAN Progress Report 2003–2021"), number
        assert text.endswith(f"page {number} of {len(pages)}"), number
    nav = page.split('<nav class="toc"', 1)[1].split("</nav>", 1)[0]
    entries = [html.unescape(title) for title in re.findall(r'<a href="#[^"]+">([^<]+)</a>', nav)]
    assert len(entries) > 20
    contents = next(text for text in pages if " . . . " in text)
    for title in entries:
        # "Overview: regional trends . . . . 3": the page target-counter() found for the anchor.
        found = re.search(re.escape(title) + r"(?: \.)+ (\d+)\b", contents)
        assert found, title
        number = int(found.group(1))
        assert 2 < number <= len(pages), title
        # That page shows the heading (a case-record section's kicker is set in capitals).
        assert title.removeprefix("Case records: ") in pages[number - 1], (title, number)
