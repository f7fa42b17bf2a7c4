"""The Progress Report in Bahasa Indonesia: a complete catalogue, and the report that uses it.

- The catalogue: extracting the messages again from the code, the templates and the data files
  (`scripts/i18n.py`, as `pybabel extract` would) finds none that ``id``'s catalogue lacks or
  leaves untranslated, the checked-in template is that extraction, and every translation keeps
  its message's placeholders.
- The report: `tipwatch demo`'s store written by `tipwatch report --lang id`, beside the demo's
  own English report. No English sentence of the catalogue that the English page prints is left
  in the Indonesian page; ``lang="id"``, numbers (1.233; 72,8%) and dates (30 Mei 2023) in
  Indonesian; the same store rendered again gives the same bytes.
- As readers see it, with the helpers of `tests/test_report_browser.py`: Chromium draws the charts,
  and the PDF's pages (``pdftoppm``) are none empty, none with a table off the page, each with
  its running header and "halaman N dari M", and a table of contents in Indonesian.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
import subprocess

import pytest
from babel.messages.pofile import read_po
from markupsafe import escape
from PIL import Image

from tests.conftest import ROOT
from tests.test_report_browser import DPI, TOOL_TIMEOUT, _chromium, _ink, _margins, _tool, _Words
from tipwatch.cli import main
from tipwatch.report import i18n, render

PLACEHOLDER = re.compile(r"\{\w*\}|%\(\w+\)s|%%")
# Indonesian month names (CLDR), for the long dates the report prints.
MONTHS_ID = ("Januari|Februari|Maret|April|Mei|Juni|Juli|Agustus|September|Oktober|November|"
             "Desember")


def _script():
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return _script()


@pytest.fixture(scope="module")
def catalogue():
    with i18n.LOCALE_DIR.joinpath("id", "LC_MESSAGES", "tipwatch.po").open("rb") as fh:
        return read_po(fh, locale="id")


# ---------------------------------------------------------------------------------------------
# The catalogue


def test_every_message_of_code_templates_and_data_is_translated(script, catalogue):
    template = script.extract()
    assert len(template) > 500  # the templates, the Python and the data files all found
    assert script.problems("id", template) == []
    # Nor does the catalogue itself hold a message the report would print in English.
    untranslated = [message.id for message in catalogue if message.id and (
        message.fuzzy or not (all(message.string) if isinstance(message.string, tuple) else message.string))]
    assert untranslated == []


def test_the_checked_in_template_is_the_extraction(script):
    with script.template_path().open("rb") as fh:
        stored = {m.id for m in read_po(fh) if m.id}
    assert stored == {m.id for m in script.extract() if m.id}, "run: python scripts/i18n.py update"


def test_translations_keep_their_placeholders(catalogue):
    for message in catalogue:
        if not message.id:
            continue
        english = message.id[0] if isinstance(message.id, tuple) else message.id
        for text in message.string if isinstance(message.string, tuple) else (message.string,):
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(english)), english


def test_the_data_files_are_in_the_catalogue(catalogue):
    # A statement template, a checklist question and an indicator definition, read from their files.
    from tipwatch import legal, reference
    from tipwatch.report import statements

    ids = {m.id for m in catalogue}
    assert statements.load().rules[0].templates[""] in ids
    assert legal.checklist()[0].question in ids
    assert reference.indicator_meta()[0]["definition"] in ids


def test_an_unknown_language_is_refused_before_the_store_is_read(tmp_path, capsys):
    assert main(["report", "--lang", "xx", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path)]) != 0
    assert "not available in 'xx'" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# The report in both languages


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The demo's store and its report in English (`tipwatch demo`) and Indonesian (`--lang id`)."""
    root = tmp_path_factory.mktemp("i18n")
    db = root / "tipwatch.duckdb"
    assert main(["demo", "--out", str(root / "en"), "--db", str(db)]) == 0
    assert main(["report", "--db", str(db), "--synthetic", "--lang", "id", "--out", str(root / "id")]) == 0
    return {"db": db, "en": root / "en", "id": root / "id"}


@pytest.fixture(scope="module")
def pages(reports):
    return {lang: (reports[lang] / render.HTML_NAME).read_text(encoding="utf-8") for lang in ("en", "id")}


def _visible(page: str) -> str:
    """The page without scripts, styles and chart SVG: the text a reader reads."""
    return re.sub(r"<script\b.*?</script>|<style\b.*?</style>|<svg\b.*?</svg>", " ", page, flags=re.S)


def test_the_page_is_in_indonesian(pages):
    page = pages["id"]
    assert '<html lang="id">' in page and '<html lang="en">' in pages["en"]
    for heading in ("Ikhtisar: tren regional", "Profil negara", "Lampiran", "Daftar isi", "A. Sumber",
                    "B. Metodologi", "Capaian dan tantangan", "Catatan status", "Laporan Kemajuan ASEAN 2003–2021"):
        assert heading in page, heading
    assert "Overview: regional trends" in pages["en"] and "Overview: regional trends" not in page


def test_no_english_sentence_of_the_catalogue_is_left(pages, catalogue):
    """Every catalogue sentence the English page prints is gone from the Indonesian one.

    A message is checked by its literal stretches between placeholders (a sentence's words, not a
    figure or a name), long enough to be a phrase rather than a word that both languages share.
    """
    english, indonesian = _visible(pages["en"]), _visible(pages["id"])
    checked, left = 0, []
    for message in catalogue:
        if not message.id or isinstance(message.id, tuple):
            continue
        for stretch in PLACEHOLDER.split(message.id):
            text = str(escape(stretch.strip()))
            if len(text) < 25 or text not in english:
                continue
            checked += 1
            if text in indonesian:
                left.append(text)
    assert checked > 150
    assert left == []


# English the Indonesian page once printed outside the catalogue's sentences: the annex paragraph on
# complementary suppression, the law notes (title attributes), the settings' names and values
# (Annex D and the title page), tipwatch's own source names, and the ARIA labels Vega writes
# inside each chart's SVG. Each is in the English page, as it is printed there.
ENGLISH_LEFTOVERS = (
    "tipwatch withholds every count from one to four", "(complementary suppression)",
    "The Act does not grant victims immunity", "is irrelevant, whether or not a means was used",
    "Recruiting, transporting, transferring", "Hearings in camera", "make trafficking an offence",
    "strokes of the cane",
    "tipwatch version", "audience: public", "suppression threshold k", "on: protection width",
    "differential privacy", "baseline year", "latest year", "data snapshot (SHA-256)",
    "for demonstration only", ">Synthetic case records (tipwatch synth)<",
    "aria-roledescription=", "mark container", "X-axis for a", "Y-axis for a", "legend for fill color",
    "aria-label=\"Title text '", "aria-label=\"year: ",
)


def _without_scripts(page: str) -> str:
    """The page without its scripts and styles, charts' SVG kept (the JavaScript libraries hold English)."""
    return re.sub(r"<script\b.*?</script>|<style\b.*?</style>", " ", page, flags=re.S)


def test_no_english_left_outside_the_catalogue_sentences(pages):
    english, indonesian = _without_scripts(pages["en"]), _without_scripts(pages["id"])
    assert [text for text in ENGLISH_LEFTOVERS if text not in english] == []
    assert [text for text in ENGLISH_LEFTOVERS if text in indonesian] == []


def _tooltip_titles(page: str) -> set[str]:
    titles: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            titles.update(t["title"] for t in node.get("tooltip") or () if isinstance(t, dict) and "title" in t)
            for key, value in node.items():
                if key != "datasets":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for spec in re.findall(r'<script type="application/json" class="chart-spec">(.*?)</script>', page, re.S):
        walk(json.loads(spec))
    return titles


def test_chart_tooltips_and_vega_labels_are_indonesian(pages):
    from tipwatch.report import charts

    english, indonesian = _tooltip_titles(pages["en"]), _tooltip_titles(pages["id"])
    for tip in (charts.TIP_YEAR, charts.TIP_FIGURE, charts.TIP_INDICATOR, charts.TIP_COUNTRY):
        assert tip.title in english and tip.title not in indonesian, tip.title
    assert "tahun" in indonesian and "angka" in indonesian
    # Shared only by the region's name and a word both languages spell alike.
    assert english & indonesian <= {"ASEAN", "median"}
    # Vega's own English ARIA is off in Indonesian (the SVG's name is the translated description).
    specs = re.findall(r'<script type="application/json" class="chart-spec">(.*?)</script>', pages["id"], re.S)
    assert specs and all(json.loads(spec)["config"]["aria"] is False for spec in specs)
    assert len(re.findall(r'<svg [^>]*role="img" aria-label="', pages["id"])) == len(specs)


def _settings(page: str) -> list[tuple[str, str]]:
    table = page.split('<section id="annex-settings">', 1)[1].split("</table>", 1)[0]
    return [(html.unescape(k), html.unescape(v))
            for k, v in re.findall(r'<th scope="row">([^<]*)</th><td class="text">([^<]*)</td>', table)]


def test_settings_are_indonesian(pages):
    english, indonesian = _settings(pages["en"]), _settings(pages["id"])
    assert len(english) == len(indonesian) > 8
    for (key, value), (kunci, nilai) in zip(english, indonesian, strict=True):
        assert kunci != key, key
        # A value in words is translated; a version, year, hash or code is printed as it is.
        if re.search(r"[a-z]{3}", value) and not re.fullmatch(r"[0-9a-f]{64}", value):
            assert nilai != value, (key, value)
    generated = re.search(r'<p class="generated">([^<]*)</p>', pages["id"]).group(1)
    assert "audiens: publik" in generated and "audience" not in generated


@pytest.mark.parametrize("audience", [
    {"kind": "regional"},
    {"kind": "national", "country": "IDN", "dp": True, "epsilon": 0.5, "complementary": False},
])
def test_every_audience_setting_is_translated(audience):
    # The privacy layer writes these values; `render.setting_value` must know each form.
    from tipwatch.privacy.audiences import Audience
    from tipwatch.report.fmt import Formatter

    aud = Audience(**audience)
    values = [aud.name, *aud.settings_text().values(),
              "ε = 0.5 spent by this release: 12 tables × ε 0.0416667"]
    with i18n.use("id"):
        printed = [render.setting_value(value, Formatter("id")) for value in values]
    for value, text in zip(values, printed, strict=True):
        if re.search(r"[a-z]{2}", value) and value != "regional":  # "regional" is Indonesian too
            assert text != value, value
    assert "0,5" in printed[-1]


def test_statements_and_status_notes_are_translated(pages):
    page = pages["id"]
    assert re.search(r"\b(rose|fell) from\b", pages["en"]) and not re.search(r"\b(rose|fell) from\b", page)
    assert re.search(r"\b(naik|turun) dari\b", page)
    assert "(Tabel " in page and "(Table " not in page
    notes = re.findall(r'<ul class="status">\s*<li>([^<]+)', page)
    assert notes
    for note in notes:
        assert "figures for" not in note and ("angka untuk" in note or "tidak ada angka" in note), note


def test_numbers_and_dates_are_formatted_in_indonesian(pages):
    en, page = pages["en"], pages["id"]
    # The same cell in both pages: a count with a thousands separator, and a percentage with decimals.
    cells = dict(re.findall(r'<td class="number" data-key="([^"]+)">([^<]+)<', en))
    cells_id = dict(re.findall(r'<td class="number" data-key="([^"]+)">([^<]+)<', page))
    thousands = [key for key, text in cells.items() if re.fullmatch(r"\d{1,3}(,\d{3})+", text)]
    assert thousands
    for key in thousands:
        assert cells_id[key] == cells[key].replace(",", "."), key  # 1,233 → 1.233
    decimals = [key for key, text in cells.items() if re.fullmatch(r"\d+\.\d%", text)]
    assert decimals
    for key in decimals:
        assert cells_id[key] == cells[key].replace(".", ","), key  # 7.3% → 7,3%
    assert "30 May 2023" in en or "May 30, 2023" in en
    assert "30 Mei 2023" in page
    assert re.search(r"per 31 Desember \d{4}", page)
    assert len(re.findall(rf"\b\d{{1,2}} (?:{MONTHS_ID}) \d{{4}}", page)) > 10
    text = re.sub(r"<[^>]+>", " ", _visible(page))  # a law note in a title attribute quotes its source
    assert not re.search(r"\b\d{1,2} (January|February|March|June|July|August|October|December) \d{4}", text)


def test_the_same_store_gives_the_same_indonesian_bytes(reports, pages, tmp_path):
    from tipwatch.lake import open_data
    from tipwatch.report.build import build_input

    with open_data(str(reports["db"]), None, None) as store:
        inp = build_input(store, "ASEAN", (2003, 2021), "public", synthetic_casework=True)
    again = render.render_report(inp, tmp_path, formats=("html",), locale="id")
    assert again["html"].read_text(encoding="utf-8") == pages["id"]


# ---------------------------------------------------------------------------------------------
# As readers see it: Chromium and the PDF's pages


def test_screenshot_shows_the_charts(reports, tmp_path):
    from tipwatch.report import charts

    shot = tmp_path / "page.png"
    _chromium((reports["id"] / render.HTML_NAME).as_uri(), tmp_path / "profile", "--window-size=1000,10000",
              f"--screenshot={shot}")
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 100

    def near(colour: str) -> int:
        want = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
        return sum(n for n, rgb in colours if all(abs(a - b) <= 12 for a, b in zip(rgb, want, strict=True)))

    # The members-compared bars in the first three indicators' colours: the charts are drawn.
    assert all(near(colour) > 200 for colour in charts.PALETTE[:3]), [near(c) for c in charts.PALETTE[:3]]


@pytest.fixture(scope="module")
def words(reports, tmp_path_factory) -> list[dict]:
    target = tmp_path_factory.mktemp("pdftotext-id") / "words.html"
    subprocess.run([_tool("pdftotext"), "-bbox", str(reports["id"] / render.PDF_NAME), str(target)],
                   check=True, timeout=TOOL_TIMEOUT)
    parsed = _Words()
    parsed.feed(target.read_text(encoding="utf-8"))
    assert len(parsed.pages) > 40
    return parsed.pages


@pytest.fixture(scope="module")
def images(reports, tmp_path_factory) -> list[Image.Image]:
    folder = tmp_path_factory.mktemp("pdftoppm-id")
    subprocess.run([_tool("pdftoppm"), "-r", str(DPI), "-gray", "-png", str(reports["id"] / render.PDF_NAME),
                    str(folder / "page")], check=True, timeout=TOOL_TIMEOUT)
    return [Image.open(path).convert("L") for path in sorted(folder.glob("page-*.png"))]


def test_pdf_has_every_figure_and_no_empty_page(pages, words, images):
    assert len(images) == len(words)
    text = " ".join(w[0] for p in words for w in p["words"])
    figures = re.findall(r'<figure id="[^"]+" class="chart">\s*<figcaption><span class="label">Gambar (\d+)\.',
                         pages["id"])
    assert figures == [str(n) for n in range(1, len(figures) + 1)] and len(figures) > 20
    for n in figures:
        assert f"Gambar {n}." in text
    for number, (image, p) in enumerate(zip(images, words, strict=True), start=1):
        top, right, bottom, left = _margins(p)
        assert _ink(image, (left, top, p["width"] - right, p["height"] - bottom)) > 200, f"page {number} is empty"


def test_nothing_runs_off_the_page(words, images):
    slack = 0.5  # mm, as in tests/test_report_browser.py
    overflow = []
    for number, (p, image) in enumerate(zip(words, images, strict=True), start=1):
        top, right, bottom, left = _margins(p)
        width, height = p["width"], p["height"]
        for text, x0, _, x1, _ in p["words"]:
            if x0 < left - slack or x1 > width - right + slack:
                overflow.append((number, text, "beside the content", round(x0, 1), round(x1, 1)))
        below = [w for w in p["words"] if w[4] > height - bottom + slack]
        line = " ".join(w[0] for w in below)
        if number > 1 and line != f"halaman {number} dari {len(words)}" or number == 1 and below:
            overflow.append((number, line, "below the content"))
        footer_top = min((w[2] for w in below), default=height - 2)
        bands = {"left": (0, top, left - slack, height - bottom),
                 "right": (width - right + slack, top, width, height - bottom),
                 "bottom": (0, height - bottom + slack, width, footer_top - slack)}
        for side, box in bands.items():
            if _ink(image, box):
                overflow.append((number, side, "ink in the margin"))
    assert overflow == []


def test_running_headers_page_numbers_and_contents_are_indonesian(pages, words):
    texts = [" ".join(w[0] for w in p["words"]) for p in words]
    for number, text in enumerate(texts[1:], start=2):
        assert text.startswith("Laporan Kemajuan ASEAN 2003–2021"), number
        assert text.endswith(f"halaman {number} dari {len(texts)}"), number
    nav = pages["id"].split('<nav class="toc"', 1)[1].split("</nav>", 1)[0]
    entries = [html.unescape(t) for t in re.findall(r'<a href="#[^"]+">([^<]+)</a>', nav)]
    assert "Ikhtisar: tren regional" in entries and "Lampiran" in entries
    contents = next(text for text in texts if " . . . " in text)
    assert contents.startswith("Laporan Kemajuan") and "Daftar isi" in contents
    for title in entries:
        found = re.search(re.escape(title) + r"(?: \.)+ (\d+)\b", contents)
        assert found, title
        assert 2 < int(found.group(1)) <= len(texts), title
