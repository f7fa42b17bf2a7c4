"""The dashboard's data (`tipwatch.web.dashboard.payload`) on the demo's bundled sources.

One store for the module: the sources `tipwatch demo` imports (UNODC's 2023 GLOTIP release, the
US TIP Report tiers, CTDC's records), without the synthetic case records the dashboard does not
show. Each payload is built once.
"""

from __future__ import annotations

import json

import pytest

from tipwatch import privacy
from tipwatch.errors import InputError
from tipwatch.report.build import build_input
from tipwatch.web.dashboard import payload, views

YEARS = (2003, 2021)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from tipwatch.cli.demo import BUNDLED, CTDC, TIERS
    from tipwatch.ingest import import_file
    from tipwatch.store import open_store

    with open_store(str(tmp_path_factory.mktemp("dashboard") / "tipwatch.duckdb")) as s:
        for source in (BUNDLED, TIERS, CTDC):
            import_file(s, source)
        yield s


@pytest.fixture(scope="module")
def public(store) -> dict:
    return payload(store, "public", "ASEAN", YEARS)


@pytest.fixture(scope="module")
def thailand(store) -> dict:
    return payload(store, "national:THA", "ASEAN", YEARS, country="THA")


def _row(p: dict, country: str, year: int, indicator: str) -> dict:
    found = [r for r in p["rows"] if r["country"] == country and r["year"] == year and r["indicator"] == indicator
             and r["sex"] == r["age"] == r["form"] == "total"]
    assert len(found) == 1, found
    return found[0]


def _datasets(spec: dict) -> dict:
    return spec.get("datasets") or {}


@pytest.mark.parametrize("name", ["public", "thailand"])
def test_payload_is_plain_json(request, name):
    p = request.getfixturevalue(name)
    # No default=, no NaN: what a browser's JSON.parse takes.
    text = json.dumps(p, allow_nan=False)
    assert json.loads(text) == p
    for key in ("region", "region_name", "years", "audience", "protection", "members", "indicators", "rows",
                "headline", "charts"):
        assert key in p, key
    assert p["years"] == list(YEARS)


def test_public_rows_are_the_reports_released_figures(store, public):
    inp = build_input(store, "ASEAN", YEARS, "public")
    released = privacy.to_json(inp.tidy)
    assert public["audience"] == released["audience"] == "public"
    # Cell for cell, the rows the privacy layer released for the report.
    assert public["rows"] == released["rows"]
    assert public["protection"]["k"] == released["protection"]["k"] == 5
    # Published in GLOTIP 2023 (tests/test_indicators.py): Thailand prosecuted 554 persons in 2019;
    # Singapore's 2019 convictions are <5, never a number.
    assert _row(public, "THA", 2019, "persons_prosecuted")["value"] == 554
    assert _row(public, "THA", 2019, "persons_prosecuted")["status"] == "reported"
    sgp = _row(public, "SGP", 2019, "persons_convicted")
    assert sgp["status"] == "below_threshold" and sgp["value"] is None
    assert {m["iso3"] for m in public["members"]} >= {"THA", "SGP", "MYS"}
    assert "ASEAN" in {r["country"] for r in public["rows"]}  # the regional aggregates


def test_figures_pass_the_audiences_privacy_rules(store, monkeypatch):
    """GLOTIP prints counts below 5 as "<5" itself, so at k = 5 the layer withholds nothing more in
    this release: at k = 10 it must, and the payload (rows and charts) shows what it released."""
    from tipwatch.privacy import audiences

    strict = json.loads(json.dumps(audiences.settings()))
    strict["audiences"]["public"].update(k=10, protection_width=10)
    monkeypatch.setattr(audiences, "settings", lambda: strict)
    p = payload(store, "public", "ASEAN", YEARS)
    assert p["protection"]["k"] == 10 and p["protection"]["primary_suppressed"] > 0
    withheld = [r for r in p["rows"] if r["status"] == privacy.SUPPRESSED]
    assert len(withheld) == p["protection"]["withheld"] > 0
    assert all(r["value"] is None for r in withheld)
    counts = [r["value"] for r in p["rows"] if r["unit"] in privacy.COUNT_UNITS and r["value"] is not None]
    assert counts and all(v == 0 or v >= 10 for v in counts)
    shown = _datasets(p["charts"]["country_comparison"])["figures"]
    assert all(r["value"] is None or r["value"] == 0 or r["value"] >= 10 for r in shown)


def test_headline_is_each_countrys_latest_figure(public):
    by_key = {(h["country"], h["indicator"]): h for h in public["headline"]}
    rows = [r for r in public["rows"] if r["country"] == "THA" and r["indicator"] == "persons_prosecuted"
            and r["sex"] == r["age"] == r["form"] == "total" and r["status"] != "missing"]
    latest = max(rows, key=lambda r: r["year"])
    h = by_key[("THA", "persons_prosecuted")]
    assert (h["year"], h["value"], h["status"]) == (latest["year"], latest["value"], latest["status"])
    assert by_key[("ASEAN", "persons_prosecuted")]["members"] == 10


def test_country_view_holds_only_that_country(thailand):
    assert thailand["audience"] == "national:THA" and thailand["country"] == "THA"
    assert thailand["rows"] and {r["country"] for r in thailand["rows"]} == {"THA"}
    assert {h["country"] for h in thailand["headline"]} == {"THA"}
    assert {t["country"] for t in thailand["tiers"]} == {"THA"}
    assert thailand["members"] == [{"iso3": "THA", "name": "Thailand"}]
    assert _row(thailand, "THA", 2019, "persons_prosecuted")["value"] == 554
    # Counts of withheld figures over the whole release would describe other countries.
    assert "primary_suppressed" not in thailand["protection"]
    # Not in a chart's rows or its alternative text either.
    text = json.dumps(thailand["charts"])
    for other in ("Singapore", "Malaysia", "Myanmar", "Philippines", "Viet"):
        assert other not in text, other
    assert set(thailand["charts"]) == {"country_trend", "tier_history"}


@pytest.mark.parametrize(("name", "charts"), [
    ("public", {"regional_trend", "country_comparison", "shares"}),
    ("thailand", {"country_trend", "tier_history"}),
])
def test_charts_are_vega_lite_with_inline_data(request, name, charts):
    p = request.getfixturevalue(name)
    assert set(p["charts"]) == charts == set(p["captions"])
    for key, spec in p["charts"].items():
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/"), key
        assert spec["description"], key  # the alternative text
        assert spec["data"] == {"name": "figures"} and _datasets(spec)["figures"], key
        assert '"url"' not in json.dumps(spec), key


def test_chart_shows_the_released_figure(public):
    rows = _datasets(public["charts"]["country_comparison"])["figures"]
    year = int(public["captions"]["country_comparison"].rsplit(" ", 1)[1])
    assert {r["year"] for r in rows} == {year}
    for r in rows:
        if r["value"] is not None:
            iso = next(m["iso3"] for m in public["members"] if m["name"] == r["country"])
            title = r["indicator"]
            ind = next(i["id"] for i in public["indicators"] if i["title"] == title)
            assert _row(public, iso, year, ind)["value"] == r["value"]


def test_views_are_the_payloads_from_one_read(store, public):
    both = views(store, "public", "ASEAN", YEARS)
    assert both["overview"] == public
    assert set(both["countries"]) == {m["iso3"] for m in public["members"]}
    for iso, view in both["countries"].items():
        assert view["country"] == iso
        assert view["rows"] == [r for r in public["rows"] if r["country"] == iso]


def test_country_view_lists_no_file_submitted_for_another_country():
    from tipwatch.web.dashboard import _shared_or_own

    assert _shared_or_own({"global"}, "THA") and _shared_or_own({"us_tip_tier:2001-2015"}, "THA")
    assert _shared_or_own({"THA:2019-01-01..2019-12-31"}, "THA")
    assert not _shared_or_own({"MYS:2019-01-01..2019-12-31"}, "THA")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"country": "FRA"}, "not a member of ASEAN"),
    ({"country": "XYZ"}, "not a country code"),
    ({"region": "Atlantis"}, "not a known region"),
    ({"audience": "everyone"}, "not an audience"),
])
def test_unknown_country_region_or_audience_is_refused(store, kwargs, message):
    with pytest.raises(InputError, match=message):
        payload(store, **{"audience": "public", **kwargs})
