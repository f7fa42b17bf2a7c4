"""US TIP Report tier placements: imported in every coding, read back as published, shown in the report.

Published figures: Kelley & Heiss's `map_tiers_summary.csv` (tests/fixtures/tip-scorecard, with its
SOURCE.md), the ASEAN table of `reference/datasets.md` §2.4, and the placements newspapers
reported (Thailand and Malaysia down to Tier 3 in 2014, 23 countries on Tier 3 that year,
Malaysia back on the Watch List in 2015).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date

import pandas as pd
import pytest

from tests.conftest import ENGINES, FIXTURES, ROOT, _new_url
from tipwatch import privacy
from tipwatch.cli import main
from tipwatch.indicators import assessments
from tipwatch.ingest import InvalidFile, import_file, parse_file, registry
from tipwatch.ingest.files import receive
from tipwatch.store import open_store

BUNDLED = ROOT / "src" / "tipwatch" / "bundled" / "tip-scorecard"
PANEL = BUNDLED / "map_tiers.csv"
LIST_2015 = BUNDLED / "tiers_2015.csv"
STATA = BUNDLED / "criminalization-cho-tiers_jk_2015-08-10.dta"

#: `map_tiers_summary.csv` labels its tiers with padding ("Tier 1    ") and calls the Watch List
#: "Watchlist"; tipwatch's codes for them.
SUMMARY_LABELS = {"Tier 1": "1", "Tier 2": "2", "Watchlist": "2WL", "Tier 3": "3"}

#: reference/datasets.md §2.4, copied as printed (– = not ranked).
ASEAN_TABLE = """\
| ISO3 | 2001 | 2002 | 2003 | 2004 | 2005 | 2006 | 2007 | 2008 | 2009 | 2010 | 2011 | 2012 | 2013 | 2014 | 2015 |
| BRN | – | – | – | – | – | – | – | – | 2 | 2WL | 2WL | 2 | 2 | 2 | 2 |
| IDN | 3 | 3 | 2 | 2 | 2 | 2WL | 2 | 2 | 2 | 2 | 2 | 2 | 2 | 2 | 2 |
| KHM | 2 | 3 | 2 | 2 | 3 | 2WL | 2WL | 2 | 2WL | 2 | 2 | 2 | 2WL | 2WL | 2WL |
| LAO | 2 | 2 | 2 | 2WL | 2 | 3 | 2 | 2 | 2 | 2WL | 2 | 2 | 2 | 2WL | 2WL |
| MMR | 3 | 3 | 3 | 3 | 3 | 3 | 3 | 3 | 3 | 3 | 3 | 2WL | 2WL | 2WL | 2WL |
| MYS | 3 | 2 | 2 | 2 | 2 | 2WL | 3 | 2WL | 3 | 2WL | 2WL | 2WL | 2WL | 3 | 2WL |
| PHL | 2 | 2 | 2 | 2WL | 2WL | 2 | 2 | 2 | 2WL | 2WL | 2 | 2 | 2 | 2 | 2 |
| SGP | 2 | 2 | – | 2 | 2 | 1 | 2 | 2 | 2 | 2WL | 2 | 2 | 2 | 2 | 2 |
| THA | 2 | 2 | 2 | 2WL | 2 | 2 | 2 | 2 | 2 | 2WL | 2WL | 2WL | 2WL | 3 | 3 |
| VNM | 2 | 2 | 2 | 2WL | 2 | 2 | 2 | 2 | 2 | 2WL | 2WL | 2 | 2 | 2 | 2 |
"""


@pytest.fixture(scope="module", params=ENGINES)
def tier_db(request, tmp_path_factory) -> str:
    """A store holding `map_tiers.csv` (2001–2015), on each engine."""
    url = _new_url(request.param, request, tmp_path_factory)
    with open_store(url) as store:
        import_file(store, PANEL)
    return url


def _cli(args: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _placements(batch) -> dict[tuple[str, int], str]:
    return {(r["country"], r["year"]): r["value"] for r in batch.microdata["assessments"].to_pylist()}


# --- published figures -------------------------------------------------------------------------


def test_summary_reproduces_the_published_one_row_for_row(tier_db, capsys):
    code, out, _ = _cli(["assessments", "--summary", "--format", "csv", "--db", tier_db], capsys)
    assert code == 0
    ours = list(csv.DictReader(io.StringIO(out)))
    published = list(csv.DictReader((FIXTURES / "tip-scorecard" / "map_tiers_summary.csv").open(encoding="utf-8")))
    assert len(published) == 57
    assert len(ours) == len(published)
    for mine, theirs in zip(ours, published, strict=True):
        assert (mine["year"], mine["tier"]) == (theirs["year"], SUMMARY_LABELS[theirs["tier"].strip()])
        assert int(mine["countries"]) == int(theirs["num_countries"])
        assert abs(float(mine["share"]) - float(theirs["percent"])) <= 1e-12, (mine, theirs)


def test_2014_put_23_countries_on_tier_3(tier_db):
    with open_store(tier_db) as store:
        s = assessments.tier_summary(store.ibis, (2014, 2014)).to_pandas()
    assert s.set_index("tier")["value"].to_dict() == {"1": 30, "2": 86, "2WL": 43, "3": 23}


def test_asean_table_of_datasets_md_exactly(tier_db, capsys):
    code, out, _ = _cli(["assessments", "--region", "ASEAN", "--format", "csv", "--db", tier_db], capsys)
    assert code == 0
    ours = {(r["country"], int(r["year"])): (r["tier"] if r["status"] == "reported" else "–")
            for r in csv.DictReader(io.StringIO(out))}
    lines = [[c.strip() for c in line.strip("|").split("|")] for line in ASEAN_TABLE.splitlines()]
    years = [int(y) for y in lines[0][1:]]
    expected = {(row[0], year): cell for row in lines[1:] for year, cell in zip(years, row[1:], strict=True)}
    assert len(expected) == 10 * 15
    assert ours == expected


def test_known_placements_of_2014_and_2015(tier_db):
    with open_store(tier_db) as store:
        t = assessments.tiers(store.ibis, countries=["THA", "MYS"], years=(2013, 2015)).to_pandas()
    got = {(r.country, r.year): r.tier for r in t.itertuples()}
    # Both on the Watch List in 2013, both down to Tier 3 in 2014 ...
    assert got[("THA", 2013)] == got[("MYS", 2013)] == "2WL"
    assert got[("THA", 2014)] == got[("MYS", 2014)] == "3"
    # ... Malaysia back to the Watch List in 2015, Thailand still on Tier 3.
    assert got[("MYS", 2015)] == "2WL"
    assert got[("THA", 2015)] == "3"
    assert set(t.value[t.tier == "2WL"]) == {2.5}  # charted between Tier 2 and Tier 3


def test_the_2015_list_agrees_with_the_panel_for_every_country_both_have():
    _, panel = parse_file(PANEL)
    _, tier_list = parse_file(LIST_2015, year=2015)
    a = {c: v for (c, y), v in _placements(panel).items() if y == 2015}
    b = {c: v for (c, _), v in _placements(tier_list).items()}
    both = set(a) & set(b)
    assert len(both) == 186
    assert {c: (a[c], b[c]) for c in both if a[c] != b[c]} == {}
    # The one country only the list has: Somalia, a special case, which the panel codes NA.
    assert set(b) - set(a) == {"SOM"}
    assert b["SOM"] == "special"
    # Every name of the list was mapped by a crosswalk or a built-in match, none left over.
    assert tier_list.report["harmonisation"]["unmapped"] == []
    assert tier_list.report["harmonisation"]["crosswalks"]["country_names_tip"] > 0


def test_the_stata_file_agrees_with_the_panel_for_2001_to_2014():
    _, stata = parse_file(STATA)
    _, panel = parse_file(PANEL)
    s, p = _placements(stata), _placements(panel)
    assert stata.format == "us_tip_tiers_stata"
    assert stata.scope == "us_tip_tier:2001-2014"
    # The panel codes special cases NA (no row); the Stata file keeps them as 666.
    special = {k for k, v in s.items() if v == "special"}
    assert len(special) == 59
    assert {k: v for k, v in s.items() if k not in special} == {k: v for k, v in p.items() if k[1] <= 2014}


# --- importing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "renamed", "fmt"), [
    (PANEL, "upload.txt", "us_tip_tiers"),
    (LIST_2015, "tiers.xlsx", "us_tip_tier_list"),
    (STATA, "tiers.csv", "us_tip_tiers_stata"),
])
def test_detected_from_content_not_name(tmp_path, source, renamed, fmt):
    copy = tmp_path / renamed
    shutil.copyfile(source, copy)
    assert registry.detect(receive(copy)).name == fmt


def test_import_says_it_detected_the_renamed_file(store_url, tmp_path, capsys):
    copy = tmp_path / "whatever.dat"
    shutil.copyfile(PANEL, copy)
    code, out, _ = _cli(["import", str(copy), "--db", store_url], capsys)
    assert code == 0
    assert "detected from its content" in out
    assert "2,251 placements" in out


def test_a_list_without_year_asks_for_year_and_stores_nothing(store_url, capsys):
    code, _, err = _cli(["import", str(LIST_2015), "--db", store_url], capsys)
    assert code == 1
    assert "no year column" in err and "--year" in err
    assert "Traceback" not in err
    with open_store(store_url) as store:
        assert store.ibis.table("assessments").count().execute() == 0
        assert store.ibis.table("submissions").count().execute() == 0


def test_a_list_with_year_supersedes_that_year_of_the_panel(store_url, capsys):
    with open_store(store_url) as store:
        import_file(store, PANEL)
    code, out, _ = _cli(["import", str(LIST_2015), "--year", "2015", "--db", store_url], capsys)
    assert code == 0
    assert "report year 2015" in out
    with open_store(store_url) as store:
        t = assessments.tiers(store.ibis, countries=["SOM", "MYS"]).to_pandas()
        years = set(assessments.tier_years(store.ibis).to_pandas()["year"])
    got = {(r.country, r.year): r.tier for r in t.itertuples()}
    assert got[("SOM", 2015)] == "special"  # only the list has it: 2015 comes from the list
    assert got[("MYS", 2014)] == "3"  # earlier years still come from the panel
    assert years == set(range(2001, 2016))


def test_an_unknown_country_name_is_listed_with_a_suggestion(tmp_path, capsys):
    path = tmp_path / "tiers_2016.csv"
    path.write_text("countryname,tier\nThailand,2.5\nMalaysa,2.5\nPhilippines,1\nMyanmar,4\n", encoding="utf-8")
    with pytest.raises(InvalidFile) as caught:
        parse_file(path, year=2016)
    problems = {p.code: p for p in caught.value.problems}
    assert problems["tier-country"].found == "Malaysa"
    assert problems["tier-country"].line == 3
    assert "did you mean MYS?" in problems["tier-country"].message
    assert problems["tier-code"].found == "4"  # 4 is Tier 3 in the other coding, not this one
    code, out, _ = _cli(["validate", str(path), "--year", "2016", "--json"], capsys)
    assert code == 1
    listed = json.loads(out)["problems"]
    assert {(p["code"], p["found"]) for p in listed} == {("tier-country", "Malaysa"), ("tier-code", "4")}
    # Corrected, and the spelling mapped by a crosswalk of the user's own: every row imports.
    path.write_text(path.read_text(encoding="utf-8").replace("Myanmar,4", "Myanmar,3"), encoding="utf-8")
    mine = tmp_path / "my_names.csv"
    mine.write_text("domain,label,code,basis,note\ncountry,Malaysa,MYS,typing error in our 2016 list,\n",
                    encoding="utf-8")
    _, batch = parse_file(path, year=2016, crosswalks=(mine,))
    assert _placements(batch) == {("THA", 2016): "2WL", ("MYS", 2016): "2WL", ("PHL", 2016): "1",
                                  ("MMR", 2016): "3"}
    assert batch.report["harmonisation"]["crosswalks"]["my_names"] == 1


def test_the_same_file_twice_changes_nothing(store_url):
    with open_store(store_url) as store:
        first = import_file(store, PANEL)
        again = import_file(store, PANEL)
        assert again.unchanged and again.submission_id == first.submission_id
        assert store.ibis.table("assessments").count().execute() == 2_251


# --- leaving through the privacy layer, and the report ------------------------------------------


def test_tiers_leave_through_the_privacy_layer_untouched(tier_db):
    from tipwatch.cli.assessments import released_tiers

    t = released_tiers(tier_db, "ASEAN", "2014-2015", "public", summary=False)
    assert privacy.require_released(t, "the tier table") == "public"
    assert (t.unit == "tier").all() and "suppressed" not in set(t.status)
    assert t.value.notna().sum() == 20  # every ASEAN member ranked in both years, none withheld


def test_each_asean_profile_shows_its_tier_chart(tier_db, tmp_path):
    """The report built from the store's placements draws a tier chart in every member's profile."""
    from tipwatch.report import build
    from tipwatch.report.model import ComponentMeta, IndicatorMeta, ReportInput
    from tipwatch.report.render import render_report

    aud = privacy.audience("public")
    with open_store(tier_db) as store:
        tiers, sources = build.tiers(store, "ASEAN", (2012, 2015), aud)
    members = [("MYS", "Malaysia"), ("THA", "Thailand")]
    meta = IndicatorMeta("persons_prosecuted", 4, "Persons prosecuted", "persons", "Persons prosecuted.",
                         "Persons, not cases.")
    tidy = pd.DataFrame([{"country": iso, "year": 2014, "indicator": meta.id, "sex": "total", "age": "total",
                          "form": "total", "value": 10.0, "status": "reported", "unit": "persons", "flag": None,
                          "reporting": None, "below_threshold": None, "members": None} for iso, _ in members])
    inp = ReportInput(
        region_id="ASEAN", region_name="ASEAN", years=(2012, 2015), members=members,
        tidy=privacy.release(tidy, aud), baseline=pd.DataFrame(), indicators=[meta],
        components=[ComponentMeta(4, "prosecution", "Prosecution and adjudication", "", "")],
        sources=sources, tiers=tiers[tiers.country.isin(["MYS", "THA"])], tier_sources=sources)
    # The chart is a valid Vega-Lite spec, like every chart of the report.
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    from tipwatch.report import charts
    from tipwatch.report.figures import Tiers
    from tipwatch.report.fmt import Formatter

    validate_jsonschema(charts.tier_history(Tiers(inp), Formatter("en"), "MYS", "Malaysia"), load_schema())
    page = render_report(inp, tmp_path, formats=("html",))["html"].read_text(encoding="utf-8")
    profile = page.split('id="profile-MYS"', 1)[1].split('<section class="profile"', 1)[0]
    assert '<figure id="fig-tiers-MYS"' in profile and "<svg" in profile.split('id="fig-tiers-MYS"', 1)[1]
    assert "Tier 3 in 2014; Tier 2 Watch List in 2015" in profile  # the chart's alternative text
    assert 'data-key="MYS:us_tip_tier:2014">3<' in profile
    assert "map_tiers.csv, vintage " + "December 31, 2015" in profile  # the profile's sources line
    assert sources[0].vintage == date(2015, 12, 31)
