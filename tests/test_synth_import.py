"""The synthetic region imports through the template importer and its counts match its ground truth."""

from __future__ import annotations

import pytest

from tipwatch.cli import main
from tipwatch.indicators import compute
from tipwatch.store import open_store
from tipwatch.synth import GroundTruth, generate

PAIRS = {  # cube indicator → ground-truth counter
    "persons_formal_contact": ("suspects", "investigation_opened"),
    "persons_prosecuted": ("suspects", "prosecution_initiated"),
    "persons_convicted": ("suspects", "first_conviction"),
    "detected_victims": ("victims", "identified"),
    "victims_testified": ("victims", "testified"),
    "victims_compensated": ("victims", "compensation_awarded"),
}


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    generate(region="ASEAN", years=(2019, 2021), scale=0.05, seed=3, out=out)
    return out


def test_counts_match_the_ground_truth_and_stay_apart_from_real_data(store_url, region):
    truth = GroundTruth.load(region)
    for iso3 in truth.countries:
        assert main(["import", str(region / iso3), "--db", store_url]) == 0
    with open_store(store_url) as store:
        synthetic = compute(store.ibis, region="ASEAN", years=(2019, 2021), synthetic=True).to_pandas()
        real = compute(store.ibis, region="ASEAN", years=(2019, 2021)).to_pandas()
    assert real.empty  # synthetic submissions never reach the real indicators
    t = synthetic[(synthetic.sex == "total") & (synthetic.age == "total") & (synthetic.form == "total")]
    checked = 0
    for r in t[t.country != "ASEAN"].itertuples():
        if r.indicator in PAIRS:
            group, key = PAIRS[r.indicator]
            assert r.value == truth.count(r.country, r.year, group, key), (r.country, r.year, r.indicator)
            checked += 1
    assert checked == len(truth.countries) * 3 * len(PAIRS)  # every country, year and pair compared
