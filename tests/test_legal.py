"""Legal frameworks as data: the checklist, the statuses over time, and where the report prints them.

Pins: the bundled checklist and status files pass their own checks; Singapore's Prevention of
Human Trafficking Act 2014 counts from the day it came into force (1 March 2015), not before;
every other country and item is unknown (never "no" by default); a bad row is refused with a
sentence naming its line and field; the chapters print their items and who meets them, the
profiles each member's statuses with the law and the source; every ASEAN profile of the demo
report is one page.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tipwatch import legal, privacy, reference
from tipwatch.errors import InputError
from tipwatch.legal import LegalDataError, Status

DUCKDB = pytest.mark.parametrize("glotip_store", ["duckdb"], indirect=True)
HEADER = "country,item,status,since,law,source,note\n"
PHTA = "https://laws.sg/legislation/act-2014-phta/section-4"
ASEAN_2021 = reference.members("ASEAN", 2021)


# --- the bundled data ---------------------------------------------------------------------------


def test_bundled_checklist_and_statuses_pass_their_checks():
    items = legal.read_checklist(legal.CHECKLIST_FILE)
    rows = legal.read_status(legal.STATUS_FILE, items)
    assert len(items) == len({i.id for i in items}) >= 15
    # Every one of the seven components has at least one item: each chapter has a checklist.
    assert {i.component for i in items} == {c["id"] for c in reference.components()}
    for item in items:
        assert item.id.split("-")[0] == item.source.instrument, item.id
        assert item.source.url.startswith("https://"), item.id
        assert item.question.endswith("?"), item.id
    # The Practitioner Guidelines items the domain reference verified, under the PG-1-… scheme.
    ids = {i.id for i in items}
    assert {f"PG-1-A.{n}" for n in range(1, 7)} | {"PG-1-B.1", "PG-1-B.2"} <= ids
    # ACTIP's text was not retrieved: its article numbers are marked as not verified.
    assert all(not i.source.verified for i in items if i.source.instrument == "ACTIP")
    assert all(i.source.verified for i in items if i.source.instrument != "ACTIP")
    assert rows and all(r.source.startswith("https://") and r.law for r in rows)


def test_every_checklist_item_is_documented():
    text = (ROOT / "docs" / "legal-frameworks.md").read_text(encoding="utf-8")
    for item in legal.checklist():
        assert f"`{item.id}`" in text, item.id


# --- statuses over time -------------------------------------------------------------------------


def test_singapore_counts_from_the_day_its_act_came_into_force():
    # Passed by Parliament on 3 November 2014, in force on 1 March 2015 (Gazette; MHA).
    for before in (date(2014, 11, 2), date(2014, 11, 3), date(2015, 2, 28)):
        assert legal.status("SGP", "PG-1-A.1", before).status == "unknown"
    after = legal.status("SGP", "PG-1-A.1", date(2015, 3, 1))
    assert after.status == "yes" and after.since == date(2015, 3, 1)
    assert after.law.startswith("Prevention of Human Trafficking Act 2014, s. 3")
    assert legal.status("SGP", "PAL-3c", date(2021, 12, 31)).law.endswith("s. 3(2) and s. 2 (child)")
    # Hearings in camera only in sexual-exploitation cases (s. 18): partly; no non-punishment clause.
    assert legal.status("SGP", "PAL-6-1", date(2021, 12, 31)).status == "partial"
    assert legal.status("SGP", "ACTIP-14", date(2021, 12, 31)).status == "no"


def test_every_other_country_and_item_is_unknown():
    t = legal.table(ASEAN_2021, date(2021, 12, 31))
    assert len(t) == len(ASEAN_2021) * len(legal.checklist())
    assert list(t.columns) == list(legal.COLUMNS)
    others = t[t.country != "SGP"]
    assert set(others.status) == {"unknown"}
    assert (others.law == "").all() and (others.source == "").all() and others.since.isna().all()
    sgp = t[t.country == "SGP"].set_index("item").status
    assert sgp["PG-1-A.3"] == "unknown"  # no source says whether trafficking is a laundering predicate
    assert (sgp != "unknown").sum() == len([r for r in legal.statuses() if r.country == "SGP"])


def test_a_later_row_supersedes_an_earlier_one():
    rows = [Status("THA", "PAL-6-1", "partial", date(2008, 6, 5), "Act s. 1", "https://example.org/a"),
            Status("THA", "PAL-6-1", "yes", date(2017, 1, 1), "Act s. 2", "https://example.org/b")]
    on = {d: legal.status("THA", "PAL-6-1", d, rows) for d in
          (date(2008, 6, 4), date(2008, 6, 5), date(2016, 12, 31), date(2017, 1, 1))}
    assert [s.status for s in on.values()] == ["unknown", "partial", "partial", "yes"]
    assert on[date(2017, 1, 1)].source == "https://example.org/b"


def test_status_refuses_an_unknown_country_or_item():
    with pytest.raises(InputError, match="SGX is not a country code"):
        legal.status("SGX", "PG-1-A.1", date(2020, 1, 1))
    with pytest.raises(InputError, match="PG-1-A9 is not a checklist item"):
        legal.status("SGP", "PG-1-A9", date(2020, 1, 1))


# --- bad files ----------------------------------------------------------------------------------


def test_bad_status_rows_are_refused_all_at_once(tmp_path):
    path = tmp_path / "status.csv"
    path.write_text(HEADER + "\n".join([
        f"SGX,PG-1-A.1,yes,2015-03-01,\"PHTA 2014, s. 3\",{PHTA},",  # 2: country
        f"SGP,PG-1-A4,yes,2015-03-01,\"PHTA 2014, s. 3\",{PHTA},",  # 3: item
        f"SGP,PG-1-A.2,maybe,2015-03-01,\"PHTA 2014, s. 4\",{PHTA},",  # 4: status
        f"SGP,PG-1-A.2,yes,2015-02-30,\"PHTA 2014, s. 4\",{PHTA},",  # 5: date
        "SGP,PG-1-A.2,yes,2015-03-01,\"PHTA 2014, s. 4\",,",  # 6: no source
        "SGP,PG-1-A.2,yes,2015-03-01,\"PHTA 2014, s. 4\",laws.sg,",  # 7: not a URL
        f"SGP,PAL-3c,yes,2015-03-01,,{PHTA},",  # 8: no law
        f"SGP,PAL-3b,yes,2015-03-01,\"PHTA 2014, s. 3(3)\",{PHTA},",  # 9: fine
        f"SGP,PAL-3b,no,2015-03-01,\"PHTA 2014\",{PHTA},",  # 10: a second status that day
    ]) + "\n", encoding="utf-8")
    with pytest.raises(LegalDataError) as caught:
        legal.read_status(path)
    err = caught.value
    assert str(err) == ("status.csv cannot be used: 8 problems, the first: line 2, field country: 'SGX' is "
                        "not a country code (ISO 3166 alpha-3); did you mean SGP or SGS?")
    assert err.problems[1:] == [
        "line 3, field item: 'PG-1-A4' is not a checklist item; did you mean PG-1-A.4?",
        "line 4, field status: 'maybe' is not a status; use yes, partial, no or unknown",
        "line 5, field since: '2015-02-30' is not a date; write the day the status applies from as "
        "YYYY-MM-DD (e.g. 2015-03-01)",
        "line 6, field source: it is empty; every status needs the public source (a URL) that supports it",
        "line 7, field source: 'laws.sg' is not a URL; give the full address, starting https://",
        "line 8, field law: it is empty; cite the act and section (or name the law that has no such "
        "provision)",
        "line 10, SGP PAL-3b already has a status from 2015-03-01 on line 9; keep one",
    ]


def test_a_country_name_is_refused_with_its_code(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(HEADER + f"Singapore,PG-1-A.1,yes,2015-03-01,\"PHTA 2014, s. 3\",{PHTA},\n", encoding="utf-8")
    with pytest.raises(LegalDataError, match=r"line 2, field country: 'Singapore' is not a country code "
                                             r"\(ISO 3166 alpha-3\); did you mean SGP\?"):
        legal.read_status(path)


def test_a_status_file_without_its_columns_is_refused(tmp_path):
    path = tmp_path / "status.csv"
    path.write_text("country,item,status,law\nSGP,PG-1-A.1,yes,PHTA\n", encoding="utf-8")
    with pytest.raises(LegalDataError, match="line 1: the header lacks since, source; expected "
                                             "country,item,status,since,law,source,note"):
        legal.read_status(path)


def test_bad_checklist_items_are_refused(tmp_path):
    path = tmp_path / "checklist.yaml"
    path.write_text("""
instruments:
  PAL: {title: Palermo Protocol, short: Palermo Protocol (2000), url: https://example.org/palermo}
items:
  - {id: PAL-3c, component: 1, title: T, short: S, question: "Q?", source: {instrument: PAL, provision: art. 3(c)}}
  - {id: PAL-3c, component: 9, title: T, short: S, question: "Q?", source: {instrument: PAL, provision: art. 3(c)}}
  - {id: X-1, component: 1, title: T, short: S, question: "Q?", source: {instrument: PAL, provision: art. 1}}
  - {id: PG-1-A.1, component: 1, title: T, short: S, question: "Q?", source: {instrument: PG, provision: A.1}}
  - {id: PAL-5-2, component: 1, title: T, short: S, source: {instrument: PAL, provision: art. 5(2)}}
""", encoding="utf-8")
    with pytest.raises(LegalDataError) as caught:
        legal.read_checklist(path)
    assert caught.value.problems == [
        "item PAL-3c: the id is used twice; ids must be unique",
        "item PAL-3c: component 9 is not one of the seven (1-7)",
        "item X-1: the id must start with its instrument, as PAL-… (e.g. PG-1-A.4, PAL-3c)",
        "item PG-1-A.1: instrument 'PG' is not one of PAL",
        "item PAL-5-2: question is missing",
    ]


# --- the report ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def asean(glotip_store, tmp_path_factory):
    """The ASEAN report 2003–2021 from the bundled GLOTIP release: its input and its HTML."""
    from tipwatch.report.build import build_input
    from tipwatch.report.render import render_report

    inp = build_input(glotip_store, "ASEAN", (2003, 2021))
    out = render_report(inp, tmp_path_factory.mktemp("legal-report"), formats=("html",))
    return inp, out["html"].read_text(encoding="utf-8")


def _section(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


@DUCKDB
def test_statuses_leave_through_the_privacy_layer_whole(asean):
    inp, _ = asean
    assert privacy.require_released(inp.legal, "the statuses") == "public"
    assert set(inp.legal.unit) == {"status"} and set(inp.legal.status) <= set(legal.STATUSES)
    # Not counts: nothing withheld, every member × item present.
    assert len(inp.legal) == len(inp.members) * len(inp.checklist)
    assert inp.legal[inp.legal.country == "SGP"].set_index("item").status["PG-1-A.1"] == "yes"


@DUCKDB
def test_each_chapter_prints_its_checklist_and_who_meets_it(asean):
    inp, html = asean
    one = _section(html, 'id="component-1"', 'id="component-2"')
    section = one.split('id="checklist-1"', 1)[1]
    assert "<h2>Legal framework checklist</h2>" in section
    # The items a state answers, each with its id and source.
    for item in (i for i in inp.checklist if i.component == 1):
        assert f'<li id="item-{item.id}">' in section and item.source.url in section
    assert "Does national law make trafficking in persons a specific criminal offence" in section
    assert "ASEAN Practitioner Guidelines (2007), Part One, A.1" in section
    # Members × items, with symbols and their legend, and the members with a known yes.
    table = _section(section, 'id="t-checklist-1"', "</table>")
    assert 'data-key="SGP:PG-1-A.1">●<' in table and 'data-key="THA:PG-1-A.1">?<' in table
    assert 'data-row="known-yes"' in table and ">1 of 10<" in table
    assert "<span class=\"symbol\">◐</span> partly" in section
    assert "1 of 10 members have a known yes on at least one of these 6 items: Singapore." in section
    # Chapter 6: Singapore's partial and no; chapter 2: nobody is known to meet its item.
    six = _section(html, 'id="checklist-6"', "</section>")
    assert 'data-key="SGP:PAL-6-1">◐<' in six and 'data-key="SGP:ACTIP-14">○<' in six
    assert "(article number not verified against the official text)" in six
    two = _section(html, 'id="checklist-2"', "</section>")
    assert "No member has a known yes on this item." in two


@DUCKDB
def test_a_chapter_without_items_says_so(asean):
    from tipwatch.report.checklist import Checklist
    from tipwatch.report.fmt import Formatter

    inp, _ = asean
    only_first = dataclasses.replace(inp, checklist=[i for i in inp.checklist if i.component == 1])
    two = Checklist(only_first).chapter(inp.components[1], Formatter("en"), lambda t: t)
    assert two["empty"].startswith("No checklist item belongs to this component")
    assert two["table"] is None and not two["questions"]
    # A report made without a checklist has no checklist section at all.
    assert Checklist(dataclasses.replace(inp, checklist=[])).chapter(inp.components[0], Formatter("en"),
                                                                     lambda t: t) is None


@DUCKDB
def test_each_profile_prints_the_members_checklist_with_law_and_source(asean):
    _, html = asean
    sgp = _section(html, 'id="profile-SGP"', '<section class="profile"')
    checklist = sgp.split('<section class="profile-checklist">', 1)[1]
    assert "as of December 31, 2021" in checklist
    assert ("<strong>yes</strong> <code>PG-1-A.2</code> Commensurate penalties, since March 1, 2015: "
            "Prevention of Human Trafficking Act 2014, s. 4. Source: "
            '<a href="https://laws.sg/legislation/act-2014-phta/section-4">laws.sg</a>') in checklist
    assert "<strong>no</strong> <code>ACTIP-14</code>" in checklist
    # Every item is there: the known ones in full, the others listed as unknown.
    for item in legal.checklist():
        assert f"<code>{item.id}</code>" in checklist, item.id
    tha = _section(html, 'id="profile-THA"', '<section class="profile"')
    assert "Unknown for every item (tipwatch holds no public source on Thailand" in tha


@DUCKDB
def test_the_report_is_byte_identical_when_rebuilt(glotip_store, asean, tmp_path):
    from tipwatch.report.build import write_report

    _, html = asean
    again = write_report(glotip_store, "ASEAN", (2003, 2021), tmp_path, formats=("html",))["html"]
    assert again.read_text(encoding="utf-8") == html


# --- one profile, one page ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_pdf(tmp_path_factory) -> Path:
    """The demo report's PDF (`tipwatch demo`: GLOTIP, tiers, CTDC and synthetic case records)."""
    from tipwatch.cli import main

    root = tmp_path_factory.mktemp("legal-demo")
    assert main(["demo", "--out", str(root / "report"), "--db", str(root / "tipwatch.duckdb")]) == 0
    return root / "report" / "report.pdf"


@pytest.mark.slow
def test_every_asean_profile_is_one_page(demo_pdf, tmp_path):
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext (Debian's poppler-utils) is needed: make test installs it"
    text = subprocess.run([pdftotext, "-layout", str(demo_pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    pages = text.split("\f")
    members = {reference.countries()[iso].name: iso for iso in ASEAN_2021}

    def heading(page: str) -> str | None:
        """The member whose profile heading ("Indonesia IDN") the page carries."""
        for line in page.splitlines():
            found = re.fullmatch(r"\s*(.+?) ([A-Z]{3})\s*", line)
            if found and members.get(found.group(1)) == found.group(2):
                return found.group(1)
        return None

    starts = [(i, heading(p)) for i, p in enumerate(pages) if heading(p)]
    assert [name for _, name in starts] == list(members)  # every profile, in the report's order
    # The page after the last profile starts the annex.
    ends = [i for i, _ in starts[1:]] + [next(i for i, p in enumerate(pages) if i > starts[-1][0]
                                              and "Annex" in p.splitlines()[0])]
    lengths = {name: end - start for (start, name), end in zip(starts, ends, strict=True)}
    assert lengths == dict.fromkeys(members, 1)
    # The running header names the member on its page, so a reader knows whose page it is.
    for start, name in starts:
        assert pages[start].splitlines()[0].rstrip().endswith(name)
    # And the page is drawn: pdftoppm renders Singapore's profile with its checklist ink on it.
    sgp = next(i for i, name in starts if name == "Singapore")
    assert "Prevention of Human Trafficking Act 2014" in pages[sgp]
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm
    subprocess.run([pdftoppm, "-r", "30", "-png", "-f", str(sgp + 1), "-l", str(sgp + 1), str(demo_pdf),
                    str(tmp_path / "sgp")], check=True)
    assert len(list(tmp_path.glob("sgp-*.png"))) == 1
