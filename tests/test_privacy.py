"""The privacy layer on tables worked out by hand: primary and complementary suppression, the attacker,
audiences, differential privacy and k-anonymity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tipwatch import privacy
from tipwatch.errors import InputError
from tipwatch.privacy import attack, complementary, kanon, primary, relations


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


# --- complementary suppression and the attacker, on tables worked out by hand -------------------------

def _cube(cells: dict[tuple[str, str], float], country="AAA") -> pd.DataFrame:
    """A tidy count table of one country and year: sex × form with its margins."""
    rows = [{"country": country, "year": 2020, "indicator": "detected_victims", "sex": s, "age": "total",
             "form": f, "value": v, "status": "computed", "unit": "persons", "flag": None,
             "reporting": None, "below_threshold": None, "members": None} for (s, f), v in cells.items()]
    return pd.DataFrame(rows)


# female/A = 3 is the only small count. Withholding it alone gives it away (20 − 10 − 7). The cheapest
# rectangle around it goes through column B (cost 1 + value: 11 + 9 + 7 = 27 per person moved, against
# 8 + 9 + 13 = 30 through C and 80 through the margins), after which the attacker only knows
# female/A + female/B = 13, male/A + male/B = 14, female/A + male/A = 11: female/A lies in [0, 11].
HAND = {("female", "A"): 3, ("female", "B"): 10, ("female", "C"): 7, ("female", "total"): 20,
        ("male", "A"): 8, ("male", "B"): 6, ("male", "C"): 12, ("male", "total"): 26,
        ("total", "A"): 11, ("total", "B"): 16, ("total", "C"): 19, ("total", "total"): 46}


def _withheld(out: pd.DataFrame) -> set[tuple[str, str]]:
    return {(r.sex, r.form) for r in out.itertuples() if r.status == "suppressed"}


def test_a_hand_made_table_gets_the_rectangle_worked_out_by_hand():
    t = _cube(HAND)
    s = relations.tidy(t)
    assert s.check() == 0 and s.matrix.shape[0] == 7  # sex sums in 4 form columns, form sums in 3 sex rows
    out = privacy.release(t, privacy.audience("public"))
    assert _withheld(out) == {("female", "A"), ("female", "B"), ("male", "A"), ("male", "B")}
    assert out.attrs[privacy.PROTECTION]["complementary_suppressed"] == 3
    found = attack.intervals(s, (out.status == "suppressed").to_numpy())
    bounds = {(t.sex[i.cell], t.form[i.cell]): (i.low, i.high) for i in found}
    assert bounds[("female", "A")] == pytest.approx((0, 11))
    assert bounds[("male", "B")] == pytest.approx((3, 14))


def test_the_attacker_recovers_a_count_withheld_alone():
    t = _cube(HAND)
    s = relations.tidy(t)
    sens = primary.sensitive(t, 5)
    bad = attack.recoverable(s, sens, sens, 5)
    assert [(b.value, b.low, b.high) for b in bad] == [(3, 3, 3)]
    out = privacy.release(t, privacy.audience("public", complementary=False))
    assert _withheld(out) == {("female", "A")}


def test_a_region_is_protected_against_its_members():
    # Region 35 = 3 + 12 + 20: the member with 3 needs a partner; 12 is the cheapest (13 < 21 < 36).
    rows = []
    for c, v in (("AAA", 3), ("BBB", 12), ("CCC", 20), ("XR", 35)):
        r = _cube({("total", "total"): v}, country=c)
        if c == "XR":
            r["members"], r["reporting"], r["below_threshold"] = 3, 3, 0
        rows.append(r)
    t = pd.concat(rows, ignore_index=True)
    out = privacy.release(t, privacy.audience("public"))
    assert set(out.country[out.status == "suppressed"]) == {"AAA", "BBB"}
    found = attack.intervals(relations.tidy(t), (out.status == "suppressed").to_numpy())
    assert [(i.low, i.high) for i in found] == [(0, 15), (0, 15)]


def test_figures_that_do_not_add_up_are_no_relation():
    # A source reporting 50 = 30 + 25 is inconsistent: the attacker cannot use it, nor need we.
    t = _cube({("female", "total"): 30, ("male", "total"): 25, ("total", "total"): 50})
    assert relations.tidy(t).matrix.shape[0] == 0
    # Parts short of the total leave a remainder nobody sees: no exact recovery.
    t = _cube({("female", "total"): 3, ("male", "total"): 25, ("total", "total"): 40})
    s = relations.tidy(t)
    assert s.matrix.shape[0] == 1 and len(s.values) == s.cells + 1
    sens = primary.sensitive(t, 5)
    assert attack.recoverable(s, sens, sens, 5) == []


def test_a_sources_below_threshold_parts_bound_the_remainder():
    t = _cube({("female", "total"): 12, ("male", "total"): 20, ("other", "total"): None, ("total", "total"): 34})
    t.loc[t.sex == "other", "status"] = "below_threshold"
    s = relations.tidy(t)
    assert (s.lower[s.cells:], s.upper[s.cells:]) == ([1], [4])


def test_cooperation_requests_by_status_are_protected_as_sums():
    # sent 10 = executed 6 + refused 2 + pending 2 + withdrawn 0. Withholding refused and pending leaves
    # refused + pending = 4 (an interval of 4): executed must go too, and then refused lies in [0, 10].
    t = pd.DataFrame({"requesting_country": ["THA"], "sent": [10], "executed": [6], "refused": [2],
                      "pending": [2], "withdrawn": [0], "median_days_to_execute": [90.0]})
    counts = ["sent", "executed", "refused", "pending", "withdrawn"]
    sums = {"sent": ["executed", "refused", "pending", "withdrawn"]}
    aud = privacy.audience("public")
    out = privacy.release_wide(t, aud, counts, {"median_days_to_execute": "executed"}, sums=sums)
    assert out[counts].isna().iloc[0].tolist() == [False, True, True, True, False]
    assert pd.isna(out.median_days_to_execute.iloc[0])
    s = relations.wide(t, counts, sums)
    hidden = out[counts].isna().to_numpy().ravel()
    assert [(i.value, i.low, i.high) for i in attack.intervals(s, hidden)] == [(6, 0, 10), (2, 0, 10), (2, 0, 10)]
    assert attack.recoverable(s, hidden, primary.small(t[counts].to_numpy().ravel(), 5), 5) == []
    off = privacy.release_wide(t, privacy.audience("public", complementary=False), counts, sums=sums)
    hidden = off[counts].isna().to_numpy().ravel()
    assert attack.recoverable(s, hidden, primary.small(t[counts].to_numpy().ravel(), 5), 5) != []


def test_a_tabulation_is_protected_with_the_margins_other_tabulations_publish():
    t = pd.DataFrame({"year": [2019, 2019, 2020, 2020], "sex": ["female", "male", "female", "male"],
                      "victims": [3, 20, 15, 30], "share": [4.4, 29.4, 22.1, 44.1]})
    aud = privacy.audience("public")
    out = privacy.release_tabulation(t, aud, ["year", "sex"], "victims", {"share": "victims"})
    hidden = out.victims.isna().to_numpy()
    assert hidden.tolist() == [True, True, True, True]  # a 2 × 2 table: the rectangle is the table
    assert out.share.isna().tolist() == hidden.tolist()
    by_year = privacy.release_tabulation(t.groupby("year", as_index=False).victims.sum(), aud, ["year"], "victims")
    assert by_year.victims.notna().all()  # 23 and 45: the margins stay published
    lat = relations.lattice(t, ["year", "sex"], "victims")
    withheld = np.zeros(len(lat.cells), dtype=bool)
    withheld[: 4] = False
    top = (lat.cells.level == 2).to_numpy()
    withheld[top] = hidden
    sens = primary.small(lat.cells.victims, 5)
    assert attack.recoverable(lat.structure, withheld, sens, 5) == []


def test_complementary_suppression_says_what_it_cannot_protect():
    # A total that must stay published pins its parts within [0, 5]: no move makes 3 an interval of 8.
    s = relations.wide(pd.DataFrame({"t": [5], "a": [3], "b": [2]}), ["t", "a", "b"], {"t": ["a", "b"]})
    sens = np.array([False, True, True])
    assert not complementary.protect(s, sens, sens, 5, fixed=np.array([True, False, False])).unprotectable
    res = complementary.protect(s, sens, sens, 8, fixed=np.array([True, False, False]))
    assert res.unprotectable == [1, 2]


# --- audiences ----------------------------------------------------------------------------------------


def test_audiences_read_their_settings():
    pub = privacy.audience("public")
    assert (pub.k, pub.width, pub.complementary, pub.dp) == (5, 5.0, True, False)
    nat = privacy.audience("national:tha")
    assert nat.others is not None and nat.k_for(["THA", "VNM"]).tolist() == [5.0, 5.0]
    assert privacy.audience("public", k=3).width == 3
    with pytest.raises(InputError):
        privacy.audience("public", k=0)
    assert pub.settings_text()["complementary suppression"].startswith("on")


def test_a_national_audience_sees_its_own_small_counts_under_its_own_k(monkeypatch):
    conf = privacy.settings()
    patched = {**conf, "audiences": {**conf["audiences"], "national": {**conf["audiences"]["national"], "k": 1,
                                                                        "protection_width": 1}}}
    monkeypatch.setattr("tipwatch.privacy.audiences.settings", lambda: patched)
    t = pd.concat([_cube({("total", "total"): 3}, "THA"), _cube({("total", "total"): 3}, "VNM")], ignore_index=True)
    out = privacy.release(t, privacy.audience("national:THA"))
    assert out.status.tolist() == ["computed", "suppressed"]


def test_a_ratio_goes_with_the_counts_it_rests_on():
    t = _cube({("female", "total"): 3, ("male", "total"): 40, ("total", "total"): 43})
    ratio = t.iloc[[0]].assign(indicator="victims_female_share", sex="total", value=3 / 43 * 100, unit="percent")
    out = privacy.release(pd.concat([t, ratio], ignore_index=True), privacy.audience("public"))
    assert out.status.iloc[-1] == "suppressed" and pd.isna(out.value.iloc[-1])


def test_release_json_carries_the_protection():
    doc = privacy.release_json(_cube(HAND), privacy.audience("public"))
    assert doc["audience"] == "public"
    assert doc["protection"]["k"] == 5 and doc["protection"]["complementary_suppressed"] == 3
    assert sum(r["value"] is None for r in doc["rows"]) == 4


# --- differential privacy -----------------------------------------------------------------------------


def _regional_cube() -> pd.DataFrame:
    parts = []
    for c, (f, m) in {"AAA": (12, 30), "BBB": (7, 50)}.items():
        parts.append(_cube({("female", "total"): f, ("male", "total"): m, ("total", "total"): f + m}, c))
    region = _cube({("female", "total"): 19, ("male", "total"): 80, ("total", "total"): 99}, "XR")
    region["members"], region["reporting"], region["below_threshold"] = 2, 2, 0
    return pd.concat([*parts, region], ignore_index=True)


def test_noisy_totals_still_add_up_and_the_budget_is_recorded():
    pytest.importorskip("opendp")
    t = _regional_cube()
    out = privacy.release(t, privacy.audience("public", dp=True, epsilon=2.0, k=1))
    budget = out.attrs[privacy.PROTECTION]["differential_privacy"]
    assert budget["tables"] == 1 and budget["cells_noised"] == 4
    assert budget["epsilon"] == pytest.approx(2.0)
    v = out.set_index(["country", "sex"]).value
    for c in ("AAA", "BBB", "XR"):
        assert v[(c, "total")] == v[(c, "female")] + v[(c, "male")]
    for s in ("female", "male", "total"):
        assert v[("XR", s)] == v[("AAA", s)] + v[("BBB", s)]
    assert (out.value >= 0).all() and (out.value == out.value.round()).all()


def test_differential_privacy_names_its_extra_when_opendp_is_missing(monkeypatch):
    import builtins

    from tipwatch.errors import MissingExtraError

    real = builtins.__import__

    def no_opendp(name, *args, **kwargs):
        if name.startswith("opendp"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_opendp)
    with pytest.raises(MissingExtraError, match=r"tipwatch\[dp\]"):
        privacy.release(_regional_cube(), privacy.audience("public", dp=True))


# --- k-anonymity --------------------------------------------------------------------------------------


def _records(n_same=11, extra=()):
    base = {"sex": "female", "age_broad": "9--17", "age_group": "child", "citizenship": "KHM",
            "exploitation_country": "THA", "year": 2016}
    rows = [dict(base, line=i + 2) for i in range(n_same)]
    rows += [dict(base, line=100 + i, **e) for i, e in enumerate(extra)]
    return pd.DataFrame(rows)


def test_k_anonymity_check_names_the_records_that_break_it():
    ok = _records()
    assert kanon.check(ok, 11).empty
    bad = _records(extra=[{"citizenship": "LAO"}])
    found = kanon.check(bad, 11)
    assert found.line.tolist() == [100] and found.group_size.tolist() == [1]


def test_anonymise_generalises_before_it_suppresses():
    # Twenty-two records of 2016 and one of 2017 (alone in its group): generalising the year to
    # 2015-2019 puts it with the others and nothing need be left out; one of 2009 stays alone
    # (2005-2009) and is suppressed.
    recs = pd.concat([_records(22), _records(0, [{"year": 2017}])], ignore_index=True)
    res = kanon.anonymise(recs, 11, max_suppressed=0.0)
    assert kanon.check(res.records, 11).empty
    assert res.generalised == {"year": ["five_years"]} and res.suppressed == 0
    assert set(res.records.year) == {"2015-2019"}
    res = kanon.anonymise(pd.concat([recs, _records(0, [{"year": 2009}])], ignore_index=True), 11, max_suppressed=0.0)
    assert res.suppressed == 1 and len(res.records) == 23
