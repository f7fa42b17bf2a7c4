"""Indicators v1 from the 2023 GLOTIP release, on DuckDB, on PostgreSQL and on Spark (over a Parquet lake)."""

from __future__ import annotations

import pandas as pd
import pytest

from tipwatch import reference
from tipwatch.indicators import TIDY_COLUMNS, change_from_baseline, compute, indicators


@pytest.fixture(scope="module")
def asean(glotip) -> pd.DataFrame:
    return compute(glotip.ibis, region="ASEAN", years=(2003, 2021)).to_pandas()


def figure(tidy: pd.DataFrame, country: str, year: int, indicator: str, **breakdown) -> dict:
    b = {"sex": "total", "age": "total", "form": "total", **breakdown}
    rows = tidy[(tidy.country == country) & (tidy.year == year) & (tidy.indicator == indicator)
                & (tidy.sex == b["sex"]) & (tidy.age == b["age"]) & (tidy.form == b["form"])]
    assert len(rows) == 1, rows
    return rows.iloc[0].to_dict()


@pytest.mark.parametrize(("country", "year", "indicator", "value"), [
    ("THA", 2019, "persons_prosecuted", 554),
    ("MMR", 2017, "persons_convicted", 458),
    ("PHL", 2019, "detected_victims", 2_041),
])
def test_published_country_years(asean, country, year, indicator, value):
    f = figure(asean, country, year, indicator)
    assert f["value"] == value
    assert f["status"] == "reported"


def test_singapore_convictions_2019_are_below_threshold(asean):
    f = figure(asean, "SGP", 2019, "persons_convicted")
    assert f["status"] == "below_threshold"
    assert pd.isna(f["value"])


def test_indonesia_2017_conviction_ratio_is_flagged(asean):
    f = figure(asean, "IDN", 2017, "conviction_ratio")
    assert f["value"] == pytest.approx(330 / 25 * 100)
    assert f["flag"] == "ratio_above_100"
    ok = figure(asean, "THA", 2019, "conviction_ratio")
    assert ok["flag"] is None or pd.isna(ok["flag"])


def test_tidy_columns(asean):
    assert tuple(asean.columns) == TIDY_COLUMNS
    from_glotip = {i for i, ind in indicators().items()
                   if ind.meta.get("glotip_indicator") or i in ("victims_female_share", "victims_child_share",
                                                                 "victims_form_share", "conviction_ratio")}
    assert set(asean.indicator) == from_glotip
    key = ["country", "year", "indicator", "sex", "age", "form"]
    assert not asean.duplicated(key).any()


def test_regional_total_states_coverage_and_never_adds_below_threshold(asean):
    region = figure(asean, "ASEAN", 2019, "detected_victims")
    members = asean[(asean.year == 2019) & (asean.indicator == "detected_victims")
                    & (asean.country != "ASEAN") & (asean.sex == "total") & (asean.age == "total")
                    & (asean.form == "total")]
    reported = members[members.status == "reported"]
    assert region["value"] == reported.value.sum()
    assert region["reporting"] == len(reported)
    assert region["below_threshold"] == (members.status == "below_threshold").sum()
    assert region["members"] == 10
    assert region["status"] == "computed"


def test_membership_follows_dates(glotip_store):
    assert len(reference.members("ASEAN", 2015)) == 10
    assert len(reference.members("ASEAN", 2026)) == 11
    assert "TLS" not in reference.members("ASEAN", 2024)
    assert "KHM" not in reference.members("ASEAN", 1998)


def test_shares(asean):
    female = figure(asean, "THA", 2019, "victims_female_share")
    victims = asean[(asean.country == "THA") & (asean.year == 2019) & (asean.indicator == "detected_victims")
                    & (asean.age == "total") & (asean.form == "total")].set_index("sex").value
    assert female["value"] == pytest.approx(victims["female"] / victims["total"] * 100)
    assert female["status"] == "computed"
    forms = asean[(asean.country == "THA") & (asean.year == 2019) & (asean.indicator == "victims_form_share")]
    assert set(forms.form) <= {"sexual_exploitation", "forced_labour", "other"}
    assert (forms.value.dropna() <= 100).all()


def test_change_against_baseline(glotip):
    tidy = compute(glotip.ibis, region="ASEAN", years=(2012, 2019))
    change = change_from_baseline(tidy, 2012, 2019).to_pandas().set_index(["country", "indicator"])
    tha = change.loc[("THA", "persons_convicted")]
    assert (tha.baseline_value, tha.latest_value) == (49, 319)
    assert tha.change == 270


def _canonical(df: pd.DataFrame) -> pd.DataFrame:
    df = df.sort_values(["country", "year", "indicator", "sex", "age", "form"], ignore_index=True)
    df["value"] = df["value"].astype(float).round(9)
    for col in ("reporting", "below_threshold", "members", "year"):
        df[col] = df[col].astype("Int64")
    return df.astype({"flag": object}).where(df.notna(), None)


def test_same_results_on_every_engine(request, asean, glotip_stores):
    """Every figure of the ASEAN table is identical on every engine.

    DuckDB is compared with PostgreSQL; PostgreSQL and Spark (over a lake) with DuckDB.
    """
    engine = request.node.callspec.params["glotip"]
    other = glotip_stores("postgres" if engine == "duckdb" else "duckdb")
    theirs = compute(other.ibis, region="ASEAN", years=(2003, 2021)).to_pandas()
    pd.testing.assert_frame_equal(_canonical(asean.copy()), _canonical(theirs))


def test_tipwatch_indicators_writes_the_tidy_table(glotip, tmp_path):
    """The published country-years, read back from the command's own CSV output."""
    from tests.conftest import cli_source
    from tipwatch.cli import main

    out = tmp_path / "asean.csv"
    assert main(["indicators", *cli_source(glotip), "--region", "ASEAN", "--years", "2003-2021",
                 "--out", str(out)]) == 0
    tidy = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert list(tidy.columns)[:8] == ["country", "year", "indicator", "sex", "age", "form", "value", "status"]
    assert figure(tidy, "THA", 2019, "persons_prosecuted")["value"] == 554
    assert figure(tidy, "MMR", 2017, "persons_convicted")["value"] == 458
    assert figure(tidy, "PHL", 2019, "detected_victims")["value"] == 2_041
    sgp = figure(tidy, "SGP", 2019, "persons_convicted")
    assert sgp["status"] == "below_threshold" and pd.isna(sgp["value"])
    assert figure(tidy, "IDN", 2017, "conviction_ratio")["flag"] == "ratio_above_100"
