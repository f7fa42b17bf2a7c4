"""The web application end to end in headless Chromium: from a national focal point's first upload
to what the public sees once the regional analyst has published, on DuckDB and on PostgreSQL.

One test per engine walks the whole submission workflow through the pages, as people would: a
store holding UNODC's 2023 GLOTIP release and one person per role, served by a real uvicorn on
loopback (`tests.web_support`).

1. The public home page says nothing is published yet.
2. Thailand's focal point signs in with the login form, uploads the worked example with two
   errors and reads them, line by line; uploads the corrected file, sees no problems, submits it.
3. Thailand's approver opens it from the list of uploads and approves it.
4. The regional analyst accepts it and publishes, then changes their own password.
5. The public (a fresh browser, not signed in) sees the published figures on the overview and on
   Thailand's profile, one of them computed from the accepted file, with every chart drawn live;
   the Progress Report's PDF follows once it is built.
6. No page asks anything of another host: the charts' JavaScript is served by the application.

Every step is kept as a full-page screenshot in ``test-artifacts/web/<engine>/`` under the
repository (git-ignored). The browser is Debian's ``chromium`` driven by Playwright (Playwright's
own browsers are never downloaded); ``make test`` installs it (scripts/ensure-debian.sh).
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import GLOTIP_2023, ROOT
from tests.web_support import PASSWORD, example_files, live_server, make_app

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is missing: install the dev extra")
expect = sync_api.expect

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is missing: `make test` installs it "
                                                "(scripts/ensure-debian.sh)"),
]

ARTEFACTS = ROOT / "test-artifacts" / "web"
VIEWPORT = {"width": 1280, "height": 900}
#: Milliseconds a page may take to answer: publishing computes every member's public profile first.
PUBLISH_MS = 300_000
#: Seconds the publication's report may take to be built in the background.
REPORT_SECONDS = 300
PNG = b"\x89PNG\r\n\x1a\n"
GOOD_NAME = "tha-2019-2021.xlsx"  # `example_files`' corrected workbook
NEW_PASSWORD = "the analyst's new password"


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium (Debian's) for the module."""
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class Watch:
    """What a browser context did: every URL it asked for, and every script or console error."""

    def __init__(self, context) -> None:
        self.urls: list[str] = []
        self.errors: list[str] = []
        context.on("request", lambda r: self.urls.append(r.url))
        context.on("weberror", lambda e: self.errors.append(f"{e.page.url if e.page else '?'}: {e.error}"))
        context.on("console", lambda m: self.errors.append(f"{m.page.url if m.page else '?'}: {m.text}")
                   if m.type == "error" else None)


class Shots:
    """Full-page screenshots, numbered in the order taken: ``NN-step.png``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken: list[Path] = []
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):  # a previous run's, whose steps may have had other names
            old.unlink()

    def __call__(self, page, step: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


def _check_png(path: Path) -> None:
    assert path.is_file(), path
    assert path.read_bytes()[:8] == PNG, path
    assert path.stat().st_size > 5_000, path
    with Image.open(path) as img:
        assert img.width >= VIEWPORT["width"] and img.height >= 300, (path, img.size)
        # Not one flat colour: the page was drawn.
        assert len(img.convert("L").getcolors(maxcolors=1 << 16) or range(1000)) > 8, path


def _table(page, selector: str) -> list[list[str]]:
    return page.eval_on_selector_all(f"{selector} tbody tr", "rows => rows.map(r => Array.from(r.cells, "
                                                             "c => c.textContent.trim().replace(/\\s+/g, ' ')))")


def _sign_in(page, base: str, username: str, lands_on: str) -> None:
    page.goto(base + "/")
    page.click("header a[href='/login']")
    expect(page).to_have_url(re.compile(r"/login\b"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    expect(page).to_have_url(base + lands_on)
    expect(page.locator("#whoami")).to_contain_text(username)


def _sign_out(page, base: str) -> None:
    page.click("header form[action='/logout'] button[type=submit]")
    expect(page).to_have_url(base + "/")
    expect(page.locator("#whoami")).to_have_count(0)
    expect(page.locator("header a[href='/login']")).to_be_visible()


def _upload(page, path: Path) -> None:
    """From the list of uploads, send ``path`` through the upload form; lands on the upload's page."""
    form = page.locator("#upload-form")
    form.locator("input[type=file][name=file]").set_input_files(str(path))
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/uploads/[^/]+$"))
    expect(page.locator("h1")).to_have_text(path.name)


def _step(page, button: str, state: str) -> None:
    page.click(button)
    expect(page.locator("#state")).to_have_text(state)


def _charts_live(page) -> int:
    """Wait for report.js to mount every chart; the number of charts, all drawn live."""
    page.wait_for_selector("html[data-charts-done=true]", state="attached")
    figures = page.locator("figure.chart")
    n = figures.count()
    assert n > 0
    root = page.locator("html")
    assert root.get_attribute("data-charts") == str(n)
    assert root.get_attribute("data-charts-live") == str(n)
    assert root.get_attribute("data-charts-failed") == "0"
    for i in range(n):
        assert figures.nth(i).get_attribute("data-chart") == "live"
        assert figures.nth(i).locator(".chart-live svg").count() >= 1
    return n


def _headline_row(rows: list[list[str]], country: str, title: str) -> list[str]:
    found = [r for r in rows if r[0] == country and r[1] == title]
    assert len(found) == 1, (country, title, rows)
    return found[0]


def test_upload_to_publication_in_a_browser(store_url, browser, tmp_path):
    engine = "postgres" if store_url.startswith("postgresql") else "duckdb"
    shots = Shots(ARTEFACTS / engine)
    bad, good = example_files(tmp_path)
    assert good.name == GOOD_NAME
    app = make_app(store_url, GLOTIP_2023)
    contexts = []

    def new_context():
        context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
        contexts.append((context, Watch(context)))
        return context

    try:
        with live_server(app) as base:
            # 1. Before any publication, the public is told so.
            public = new_context().new_page()
            public.goto(base + "/")
            expect(public.locator("#nothing-published")).to_be_visible()
            expect(public.locator("#headline")).to_have_count(0)
            shots(public, "public-nothing-published")
            public.goto(base + "/report")
            expect(public.locator("main")).to_contain_text("Nothing has been published yet.")
            public.context.close()

            # 2. The focal point: the draft with two errors, then the corrected file, submitted.
            page = new_context().new_page()
            _sign_in(page, base, "fp_tha", "/uploads")
            expect(page.locator("#whoami")).to_have_text(re.compile(r"fp_tha · national focal point \(THA\)"))
            shots(page, "focal-point-uploads")
            _upload(page, bad)
            expect(page.locator("#state")).to_have_text("invalid")
            expect(page.locator("#problems h2")).to_have_text("2 problems to correct")
            expect(page.locator("#do-submit")).to_have_count(0)
            problems = {r[1]: r for r in _table(page, "#problems table")}
            assert sorted(problems) == ["3", "4"], problems
            sheet, _line, field, message, found, _expected, code = problems["3"]
            assert (sheet, field, found, code) == ("sheet persons", "sex", "X", "codelist")
            assert "X is not a sex code" in message
            sheet, _line, field, message, found, _expected, code = problems["4"]
            assert (sheet, field, found, code) == ("sheet persons", "citizenship", "THAI", "codelist")
            assert "did you mean THA?" in message
            shots(page, "focal-point-problems")

            page.click("#upload-again")
            expect(page).to_have_url(base + "/uploads#upload-form")
            _upload(page, good)
            expect(page.locator("#valid h2")).to_have_text("No problems found")
            expect(page.locator("#problems")).to_have_count(0)
            expect(page.locator("#state")).to_have_text("valid")
            expect(page.locator("#valid")).to_contain_text("years 2019–2021")
            shots(page, "focal-point-valid")
            _step(page, "#do-submit", "submitted")
            expect(page.locator("#do-submit")).to_have_count(0)
            shots(page, "focal-point-submitted")
            _sign_out(page, base)

            # 3. The national approver, in the same browser.
            _sign_in(page, base, "ap_tha", "/uploads")
            expect(page.locator("#upload-form")).to_have_count(0)  # approvers do not upload
            page.click("#uploads tr[data-state=submitted] a")
            expect(page.locator("h1")).to_have_text(GOOD_NAME)
            shots(page, "approver-submitted")
            _step(page, "#do-approve", "approved")
            shots(page, "approver-approved")
            _sign_out(page, base)

            # 4. The regional analyst accepts, then publishes.
            _sign_in(page, base, "analyst", "/uploads")
            page.click("#uploads tr[data-state=approved] a")
            expect(page.locator("#do-return")).to_be_visible()  # may still send it back
            _step(page, "#do-accept", "accepted")
            shots(page, "analyst-accepted")
            page.click("#next-publish a")
            expect(page.locator("#uploads tr[data-state=accepted]")).to_have_count(1)
            started = time.monotonic()
            button = page.locator("#publish-form button[type=submit]")
            # What the button says once clicked, kept across the navigation (the form's own handler runs first).
            page.eval_on_selector("#publish-form", """form => form.addEventListener("submit", () => {
                const b = form.querySelector("button");
                sessionStorage.setItem("publish-button", JSON.stringify([b.disabled, b.textContent]));
            })""")
            with page.expect_navigation(url=base + "/", timeout=PUBLISH_MS):
                button.click(timeout=PUBLISH_MS)
            # While the server worked, the button said so and took no second click (no second publication).
            assert page.evaluate("JSON.parse(sessionStorage.getItem('publish-button'))") == [True, "Publishing…"]
            print(f"{engine}: publishing took {time.monotonic() - started:.1f} s")
            expect(page.locator("#headline")).to_be_visible()
            shots(page, "analyst-published")
            page.goto(base + "/uploads")
            expect(page.locator("#uploads tr[data-state=published]")).to_have_count(1)
            # The analyst changes their own password: their name at the top right leads to the account page.
            page.click("#whoami")
            expect(page).to_have_url(base + "/account")
            page.fill("input[name=current_password]", PASSWORD)
            page.fill("input[name=new_password]", NEW_PASSWORD)
            page.fill("input[name=new_password_again]", NEW_PASSWORD)
            page.click("form[action='/account/password'] button[type=submit]")
            expect(page).to_have_url(base + "/account?changed=true")
            expect(page.locator("p.notice")).to_contain_text("Your password is changed")
            expect(page.locator("#whoami")).to_contain_text("analyst")  # still signed in
            shots(page, "analyst-password-changed")
            page.context.close()

            # 5. The public, in a fresh browser: the published figures, charts drawn live.
            public = new_context()
            api = public.request.get(base + "/api/v1/dashboard/THA")
            assert api.ok, api.status
            profile = api.json()
            assert GOOD_NAME in {s["file_name"] for s in profile["sources"]}
            latest = {h["indicator"]: h for h in profile["headline"]}
            # From the accepted file: the worked example's persons prosecuted, counted from its case
            # records ("computed", where GLOTIP's figures are "reported"), in its last year. Its
            # 2021 conviction (one person) is below the public's threshold: never printed.
            prosecuted, convicted = latest["persons_prosecuted"], latest["persons_convicted"]
            assert (prosecuted["year"], prosecuted["value"], prosecuted["status"]) == (2021, 0, "computed")
            assert convicted["year"] == 2021 and convicted["value"] is None
            assert convicted["status"] in ("below_threshold", "suppressed")

            page = public.new_page()
            page.goto(base + "/")
            expect(page.locator("#nothing-published")).to_have_count(0)
            expect(page.locator("#whoami")).to_have_count(0)
            overview_charts = _charts_live(page)
            rows = _table(page, "#headline")
            assert _headline_row(rows, "Thailand", prosecuted["title"])[2:] == ["2021", "0"]
            assert _headline_row(rows, "Thailand", convicted["title"])[2:] in (["2021", "<5"], ["2021", "withheld"])
            assert any(r[0] == "ASEAN" for r in rows), rows  # the region's own figures
            shots(page, "public-overview")

            page.click("nav.members a[href='/countries/THA']")
            expect(page).to_have_url(base + "/countries/THA")
            assert profile["members"] == [{"iso3": "THA", "name": "Thailand"}]
            expect(page.locator("h1")).to_have_text("Thailand")
            country_charts = _charts_live(page)
            assert country_charts == len(profile["charts"])
            rows = _table(page, "#headline")
            assert {r[0] for r in rows} == {"Thailand"}, rows  # its own figures only
            assert _headline_row(rows, "Thailand", prosecuted["title"])[2:] == ["2021", "0"]
            cell = page.locator("#headline tbody tr", has_text=convicted["title"]).locator("td.num")
            assert cell.get_attribute("data-status") == convicted["status"]
            assert cell.inner_text().strip() != "1"
            shots(page, "public-thailand")

            # The publication's report: built in the background, then offered as a PDF.
            deadline = time.monotonic() + REPORT_SECONDS
            page.goto(base + "/report")
            while not page.locator("#report-pdf").count():
                assert "not available" not in page.locator("main").inner_text(), page.locator("main").inner_text()
                assert time.monotonic() < deadline, "the publication's report was not built in time"
                time.sleep(2)
                page.reload()
            print(f"{engine}: the report was ready {time.monotonic() - started:.1f} s after publishing began")
            shots(page, "public-report")
            assert len(_table(page, "main table")) == 1  # one publication
            pdf = public.request.get(base + "/api/v1/report.pdf")
            assert pdf.ok and pdf.body()[:5] == b"%PDF-"

            # 6. Nothing left the loopback server: every request, every page, every person.
            for _context, watch in contexts:
                off_host = [u for u in watch.urls if not u.startswith(base + "/")]
                assert not off_host, off_host
                assert not watch.errors, watch.errors
            asked = [u for _c, w in contexts for u in w.urls]
            for script in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "report.js"):
                assert f"{base}/static/js/{script}" in asked, script
            print(f"{engine}: {overview_charts} charts on the overview, {country_charts} on THA's profile")
    finally:
        for context, _watch in contexts:
            context.close()
        for thread in threading.enumerate():  # a report still being built (a failed step) reads the store
            if thread.name.startswith("tipwatch-report-"):
                thread.join(REPORT_SECONDS)
        app.state.site.store.close()

    assert [p.name[:3] for p in shots.taken] == [f"{i:02d}-" for i in range(1, len(shots.taken) + 1)]
    for path in shots.taken:
        _check_png(path)
