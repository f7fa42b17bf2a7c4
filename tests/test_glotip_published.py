"""The 2023 GLOTIP release, as stored by tipwatch, reproduces what others published from it.

Published figures: the printed outputs of `EDA_UN.ipynb` (ArjunT254/UN-Human-Trafficking-
Analysis), and its `Total_year_wise_data.csv` (kept in tests/fixtures/glotip with its SOURCE.md).
"""

from __future__ import annotations

import csv

import pytest

from tests.conftest import FIXTURES
from tipwatch import reference
from tipwatch.indicators import current_observations

# pandas.read_excel turns these strings into NaN by default; the notebook's "NaN Category"
# cleaning therefore also dropped the label "N/A". (Only the labels present in this release.)
PANDAS_NA_LABELS = ("", "N/A")


@pytest.fixture(scope="module")
def observations(glotip_store):
    return current_observations(glotip_store.ibis).to_pandas()


def test_import_report_counts_the_release(glotip_store):
    report = glotip_store.import_result.report
    assert report["rows_read"] == 46_556
    assert report["duplicates_collapsed"] == 255
    assert report["rows_stored"] == 46_556 - 255
    assert report["thousands_separators"] == 462
    assert report["vintage"] == "2023-05-30"
    assert sum(report["aggregate_rows"].values()) == 957
    assert report["rows_without_iso3"] == {"Sark": {"code": "CRQ", "rows": 26}}


def test_below_threshold_count_after_the_notebooks_cleaning(observations):
    """After dropping duplicates, NaN Country and NaN Category: 22,347 values of <5."""
    o = observations
    kept = o[(o.area_kind == "country") & ~o.label.isin(PANDAS_NA_LABELS)]
    assert (kept.status == "below_threshold").sum() == 22_347
    # The notebook then replaced <5 by 2 and described VALUE.
    values = kept.value.where(kept.status != "below_threshold", 2.0)
    assert values.count() == 45_257
    assert round(values.mean(), 6) == 68.250017
    assert round(values.std(), 6) == 386.017569
    assert values.median() == 5
    assert values.quantile(0.75) == 29
    assert values.max() == 25_844


def test_below_threshold_is_never_a_number(observations):
    below = observations[observations.status == "below_threshold"]
    assert len(below) > 20_000
    assert below.value.isna().all()


def test_table_of_totals_equals_the_third_party_csv_cell_for_cell(observations):
    o = observations
    totals = o[(o.area_kind == "country") & (o.label == "Total")
               & (o.sex == "total") & (o.age == "total") & (o.form == "total")
               & (o.citizenship == "total") & (o.repatriated_to == "total")]
    labels = {m["id"]: m["glotip_indicator"] for m in reference.indicator_meta()}
    countries = reference.countries()
    ours = sorted(
        (r.area, countries[r.area].unodc_region, countries[r.area].unodc_subregion,
         labels[r.indicator], str(r.year), "2" if r.status == "below_threshold" else f"{r.value:.0f}")
        for r in totals.itertuples()
    )
    with (FIXTURES / "glotip" / "Total_year_wise_data.csv").open(encoding="utf-8") as fh:
        theirs = sorted(
            (r["Iso3_code"], r["Region"], r["Subregion"], r["Indicator"], r["Year"], r["VALUE"])
            for r in csv.DictReader(fh)
        )
    assert len(theirs) == 6_183
    assert ours == theirs


def test_every_figure_knows_its_file_sheet_and_line(glotip_store, observations):
    subs = glotip_store.ibis.table("submissions").to_pandas()
    assert len(subs) == 1
    assert len(subs.file_hash[0]) == 64
    o = observations
    assert (o.sheet == "data_glotip_1").all()
    assert o.line.min() == 4  # two banner rows and the header come first
    assert o.line.max() == 46_556 + 3
    assert o.line.is_unique
    # Thailand, persons prosecuted, 2019: 554 (line as in the workbook)
    tha = o[(o.area == "THA") & (o.year == 2019) & (o.indicator == "persons_prosecuted")
            & (o.label == "Total") & (o.sex == "total") & (o.age == "total")]
    assert tha.value.tolist() == [554.0]


def test_citizenship_text_is_normalised_to_iso3(observations):
    o = observations
    cit = o[o.citizenship != "total"]
    # Mis-encoded and foreign-language labels land on the country they name.
    by_label = dict(zip(cit.label, cit.citizenship, strict=False))
    assert by_label.get("PER\ufffd") == "PER"
    assert by_label.get("BRASIL", "BRA") == "BRA"
    assert by_label.get("Brazilian") == "BRA"
    assert by_label.get("C\u00c3\u00b4te d'Ivoire") == "CIV"
    unmapped = cit[cit.citizenship == "unmapped"]
    assert 0 < len(unmapped) < 50
    assert set(unmapped.label) >= {"Former Yugoslavia", "Rohingya"}


def test_same_file_twice_changes_nothing(glotip_store):
    from tests.conftest import GLOTIP_2023
    from tipwatch.ingest import import_file

    before = glotip_store.ibis.table("observations").count().execute()
    again = import_file(glotip_store, GLOTIP_2023)
    assert again.unchanged
    assert again.submission_id == glotip_store.import_result.submission_id
    assert glotip_store.ibis.table("observations").count().execute() == before
    assert glotip_store.ibis.table("submissions").count().execute() == 1
