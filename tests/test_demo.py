"""`tipwatch demo` end to end: bundled release → store → ASEAN report, HTML and PDF."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from PIL import Image

from tipwatch.cli import main


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    out = root / "tipwatch-report"
    assert main(["demo", "--out", str(out), "--db", str(root / "tipwatch.duckdb")]) == 0
    return out


def test_writes_html_and_pdf(demo):
    assert (demo / "index.html").stat().st_size > 10_000
    assert (demo / "report.pdf").read_bytes()[:5] == b"%PDF-"


def test_html_prints_below_threshold_as_below_threshold(demo):
    html = (demo / "index.html").read_text(encoding="utf-8")
    assert "&lt;5" in html
    # Singapore's convictions in 2019 were <5 in the release: never a number in the report.
    assert "Singapore" in html
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", html)
    for title in ("Strong and comprehensive legal frameworks", "International legal cooperation"):
        assert title in html
    assert "No data" in html  # components without figures say so plainly


def test_pdf_pages_show_charts_and_tables(demo, tmp_path):
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm (Debian's poppler-utils) is needed: make test installs it"
    subprocess.run([pdftoppm, "-r", "40", "-png", "-f", "1", "-l", "12", str(demo / "report.pdf"),
                    str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 12
    inked = []
    for p in pages:
        im = Image.open(p).convert("L")
        inked.append(im.point(lambda v: 255 if v < 200 else 0).histogram()[255] / (im.width * im.height))
    assert all(share > 0.002 for share in inked), inked  # no blank pages
    # Chart pages carry far more ink than a text-only page would.
    assert max(inked) > 0.05, inked


def test_report_is_reproducible(demo, tmp_path):
    again = tmp_path / "again"
    db = demo.parent / "tipwatch.duckdb"
    assert main(["report", "--db", str(db), "--region", "ASEAN", "--years", "2003-2021",
                 "--out", str(again), "--synthetic"]) == 0
    assert (again / "index.html").read_bytes() == (demo / "index.html").read_bytes()
