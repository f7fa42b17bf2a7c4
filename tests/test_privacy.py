"""The privacy layer's first rule: counts from 1 to k−1 never leave tipwatch."""

from __future__ import annotations

import pandas as pd
import pytest

from tipwatch import privacy
from tipwatch.errors import InputError


def table() -> pd.DataFrame:
    return pd.DataFrame({
        "country": ["A", "B", "C", "D", "E"],
        "value": [3.0, 5.0, None, 0.0, 2.5],
        "status": ["computed", "reported", "below_threshold", "reported", "computed"],
        "unit": ["persons", "persons", "persons", "offences", "percent"],
    })


def test_small_counts_are_withheld_and_marked():
    out = privacy.release(table(), privacy.audience("public"))
    assert out.status.tolist() == ["suppressed", "reported", "below_threshold", "reported", "computed"]
    assert out.value.isna().tolist() == [True, False, True, False, False]
    assert out.attrs[privacy.RELEASED] == "public"


def test_threshold_is_configurable():
    out = privacy.release(table(), privacy.audience("regional", k=3))
    assert out.status.iloc[0] == "computed" and out.value.iloc[0] == 3


def test_unreleased_tables_are_refused():
    with pytest.raises(RuntimeError):
        privacy.require_released(table(), "a test output")
    assert privacy.require_released(privacy.release(table(), privacy.audience("national:tha")),
                                    "x") == "national:THA"


def test_audience_must_be_known():
    with pytest.raises(InputError):
        privacy.audience("everyone")


def test_wide_tables_withhold_small_counts_and_what_rests_on_them():
    t = pd.DataFrame({"pair": ["THA→MMR", "THA→KHM"], "sent": [12, 3], "median_days": [180.0, 40.0]})
    out = privacy.release_wide(t, privacy.audience("public"), ["sent"], {"median_days": "sent"})
    assert out.sent.tolist()[0] == 12 and pd.isna(out.sent.iloc[1])
    assert out.median_days.iloc[0] == 180 and pd.isna(out.median_days.iloc[1])
    assert out.attrs[privacy.RELEASED] == "public"


def test_a_share_is_withheld_when_its_denominator_is():
    t = pd.DataFrame({"identified": [3, 40], "testified": [6, 10], "testified_share": [200.0, 25.0]})
    out = privacy.release_wide(t, privacy.audience("public"), ["identified", "testified"],
                               {"testified_share": ("testified", "identified")})
    assert pd.isna(out.testified_share.iloc[0]) and out.testified_share.iloc[1] == 25
