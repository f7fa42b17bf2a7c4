"""Cross-source consistency: GLOTIP's aggregates against a country's own case records."""

from __future__ import annotations

import math

import pytest

from tests.conftest import GLOTIP_2023 as GLOTIP
from tipwatch.indicators.consistency import comparisons, discrepancies, released
from tipwatch.ingest import import_file
from tipwatch.ingest.template import EXAMPLE
from tipwatch.privacy import audience
from tipwatch.store import open_store


@pytest.fixture
def two_sources(store_url):
    """GLOTIP 2023 and the template's worked example (THA case records, 2019–2021), both real sources."""
    with open_store(store_url) as store:
        import_file(store, GLOTIP)
        import_file(store, EXAMPLE)
        yield store


def test_every_comparison_states_its_thresholds_and_why():
    for cid, c in comparisons().items():
        assert c["ratio"] > 1 and c["min_difference"] >= 0 and c["why"].strip(), cid
        assert c.get("same_indicator") or (c["a"]["source"] != c["b"]["source"]), cid


def test_case_records_far_from_glotip_are_listed(two_sources):
    t = discrepancies(two_sources.ibis, countries=["THA"]).to_pandas()
    row = t[(t.year == 2019) & (t.indicator_a == "persons_prosecuted")].iloc[0]
    # GLOTIP: Thailand prosecuted 554 persons in 2019; the worked example has two prosecuted.
    assert (row.source_a, row.value_a, row.source_b, row.value_b) == ("casefile", 2, "glotip", 554)
    assert row.ratio == 277
    # A zero against a positive figure has no ratio but is listed when the gap is large.
    zero = t[(t.year == 2021) & (t.indicator_a == "persons_prosecuted")].iloc[0]
    assert zero.value_a == 0 and zero.value_b == 244 and math.isnan(zero.ratio)
    # Only THA has case records: no other country can be compared.
    assert set(discrepancies(two_sources.ibis).to_pandas().country) == {"THA"}


def test_the_annex_table_passes_the_privacy_layer(two_sources):
    t = released(two_sources.ibis, audience("public"), countries=["THA"])
    assert t.attrs["tipwatch_released_for"] == "public"
    small = t[(t.year == 2019) & (t.indicator_a == "persons_prosecuted")].iloc[0]
    # 2 is below k = 5: withheld, and the ratio that would give it away with it.
    assert math.isnan(small.value_a) and math.isnan(small.ratio) and small.value_b == 554


def test_the_report_lists_them_in_its_data_quality_annex(two_sources, tmp_path):
    import re

    from tipwatch.report.build import write_report

    if two_sources.dialect.name != "duckdb":
        pytest.skip("the report is the same on every engine; one is enough")
    out = write_report(two_sources, "ASEAN", (2003, 2021), tmp_path, formats=("html",))
    html = out["html"].read_text(encoding="utf-8")
    annex = html[html.index('id="annex-quality"'):html.index('id="annex-settings"')]
    # Thailand's 2019 prosecutions: 554 in GLOTIP, two (withheld: below five) in the case records.
    row = re.search(r"<tr><th scope=\"row\">Thailand</th><td class=\"number\">2019</td>"
                    r"<td class=\"text\">Persons prosecuted for trafficking in persons</td>(.*?)</tr>", annex)
    assert row is not None
    assert "554 (UNODC" in row.group(1) and ">x (" in row.group(1)
    assert "No member has two such figures" in annex  # no CTDC registrations in this store


def test_glotip_detections_against_ctdc_registrations(tmp_path):
    from tipwatch.cli.demo import CTDC

    with open_store(str(tmp_path / "s.duckdb")) as store:
        import_file(store, GLOTIP)
        import_file(store, CTDC)
        t = discrepancies(store.ibis, countries=["IDN"]).to_pandas()
    t = t[t.comparison == "victims_detected_vs_registered"].set_index("year")
    # Indonesia 2015: 441 victims detected (GLOTIP), 1,238 CTDC records exploited in Indonesia.
    assert (t.loc[2015, "value_a"], t.loc[2015, "value_b"]) == (441, 1238)
    assert round(t.loc[2015, "ratio"], 4) == round(1238 / 441, 4)
    assert (t.source_a == "glotip").all() and (t.source_b == "ctdc").all()
