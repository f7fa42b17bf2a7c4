"""`tipwatch synth`: seeded synthetic case records, valid in the template, with a true ground truth."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from tipwatch import reference
from tipwatch.cli import main
from tipwatch.synth import AGENCY, GroundTruth, generate, template_fields

CASEFILE = Path(reference.__file__).parent / "data" / "casefile"
RESOURCES = ("cases", "persons", "proceedings", "services", "cooperation_requests")
DATE_FIELDS = {
    "cases": ["opened_on"], "proceedings": ["event_date"], "services": ["service_date"],
    "cooperation_requests": ["sent_on", "received_on", "executed_on"],
}
YEARS = (2011, 2025)


def _casefile_codes(name: str) -> set[str]:
    with (CASEFILE / "codelists" / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return {r["code"] for r in csv.DictReader(fh)}


def _read(folder: Path, resource: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{resource}.csv", dtype=str, keep_default_na=False)


def _load(out: Path) -> dict[str, dict[str, pd.DataFrame]]:
    return {
        d.name: {r: _read(d, r) for r in ("submission", *RESOURCES)}
        for d in sorted(out.iterdir()) if d.is_dir()
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One synthetic ASEAN 2011-2025 at half the base size: folder, ground truth, tables."""
    out = generate("ASEAN", YEARS, scale=0.5, seed=7, out=tmp_path_factory.mktemp("synth"))
    return out, GroundTruth.load(out), _load(out)


def _all(tables, resource: str) -> pd.DataFrame:
    return pd.concat([t[resource].assign(_country=c) for c, t in tables.items()], ignore_index=True)


# --- reproducibility and size --------------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    a = _files(generate(scale=0.1, seed=5, out=tmp_path / "a"))
    b = _files(generate(scale=0.1, seed=5, out=tmp_path / "b"))
    c = _files(generate(scale=0.1, seed=6, out=tmp_path / "c"))
    assert a == b
    assert a.keys() == c.keys()
    assert a["THA/cases.csv"] != c["THA/cases.csv"]
    assert a["ground_truth.json"] != c["ground_truth.json"]
    assert a["THA/datapackage.json"] == (CASEFILE / "datapackage.json").read_bytes()


def test_scale_grows_the_rows_about_linearly(tmp_path):
    def rows(scale):
        gt = GroundTruth.load(generate(scale=scale, seed=3, out=tmp_path / str(scale)))
        return sum(gt.data["countries"][c]["rows"]["proceedings"] for c in gt.countries)

    small, large = rows(0.2), rows(0.8)
    assert 3.4 < large / small < 4.6


def test_scale_one_is_a_realistic_asean_region(run):
    _, gt, _ = run
    per_year = {c: sum(gt.count(c, y, "cases_opened", "") for y in range(*YEARS)) / 14 * 2
                for c in gt.countries if c != "TLS"}
    assert 150 < max(per_year.values()) < 600  # a few hundred cases a year for large members
    assert min(per_year.values()) < 40  # tens for small ones


# --- layout -------------------------------------------------------------------------------------


def test_layout_follows_the_template(run):
    out, gt, tables = run
    fields = template_fields()
    assert sorted(tables) == sorted(reference.members("ASEAN", 2025)) == gt.countries
    for iso3, t in tables.items():
        folder = out / iso3
        for resource in ("submission", *RESOURCES):
            assert list(t[resource].columns) == fields[resource], (iso3, resource)
            assert gt.data["countries"][iso3]["rows"].get(resource, 1) == len(t[resource])
        assert (folder / "datapackage.json").exists()
        assert "SYNTHETIC" in (folder / "README.md").read_text(encoding="utf-8")
        sub = t["submission"]
        assert len(sub) == 1
        row = sub.iloc[0]
        assert row.country == iso3 and row.agency == AGENCY and "ynthetic" in row.agency
        assert row.period_end == f"{YEARS[1]}-12-31"
        assert row.prepared_on == gt.data["prepared_on"] > row.period_end
    assert "never mix" in (out / "README.md").read_text(encoding="utf-8")
    assert gt.data["synthetic"] is True
    assert str(out) not in (out / "ground_truth.json").read_text(encoding="utf-8")


def test_timor_leste_only_from_2025(run, tmp_path):
    _, gt, tables = run
    tls = tables["TLS"]
    assert tls["submission"].iloc[0].period_start == "2025-01-01"
    assert len(tls["cases"]) > 0
    assert (tls["cases"].opened_on >= "2025-01-01").all()
    assert list(gt.data["countries"]["TLS"]["years"]) == ["2025"]
    for iso3 in gt.countries:
        if iso3 != "TLS":
            assert tables[iso3]["submission"].iloc[0].period_start == "2011-01-01"
    before = generate(years=(2011, 2024), scale=0.05, seed=1, out=tmp_path / "to2024")
    assert not (before / "TLS").exists()
    assert "TLS" not in GroundTruth.load(before).countries


# --- validity -----------------------------------------------------------------------------------


def test_keys_unique_and_foreign_keys_hold(run):
    _, _, tables = run
    for iso3, t in tables.items():
        cases, persons = t["cases"], t["persons"]
        assert cases.case_ref.is_unique
        assert not persons.duplicated(["person_ref", "case_ref"]).any()
        assert not t["proceedings"].duplicated(["person_ref", "case_ref", "event", "event_date"]).any()
        assert not t["services"].duplicated(["person_ref", "case_ref", "service", "service_date"]).any()
        assert t["cooperation_requests"].request_ref.is_unique
        assert persons.case_ref.isin(cases.case_ref).all()
        pk = set(zip(persons.person_ref, persons.case_ref, strict=True))
        for resource in ("proceedings", "services"):
            df = t[resource]
            assert set(zip(df.person_ref, df.case_ref, strict=True)) <= pk, (iso3, resource)
        linked = t["cooperation_requests"].case_ref
        assert linked[linked != ""].isin(cases.case_ref).all()
        assert all(ref.startswith(iso3) for ref in persons.person_ref)


def test_every_date_is_inside_the_period(run):
    _, _, tables = run
    for iso3, t in tables.items():
        sub = t["submission"].iloc[0]
        for resource, cols in DATE_FIELDS.items():
            for col in cols:
                values = t[resource][col]
                values = values[values != ""]
                assert values.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
                assert (values >= sub.period_start).all() and (values <= sub.period_end).all(), (iso3, col)


def test_code_lists_and_value_ranges(run):
    _, _, tables = run
    persons, cases = _all(tables, "persons"), _all(tables, "cases")
    proc, serv, req = _all(tables, "proceedings"), _all(tables, "services"), _all(tables, "cooperation_requests")
    assert set(persons.sex) <= set(reference.codelist("sex")) - {"total"}
    assert set(persons.age_group) - {""} <= set(reference.codelist("age")) - {"total"}
    assert set(cases.form) - {""} <= set(reference.codelist("form")) - {"total"}
    assert set(cases.cross_border) <= {"yes", "no", ""}
    assert set(persons.role) == _casefile_codes("role")
    citizenship = set(reference.countries()) | {"stateless", "unknown"}
    assert set(persons.citizenship) <= citizenship
    assert set(proc.event) == _casefile_codes("event")
    assert set(proc.outcome) - {""} == _casefile_codes("outcome")
    assert set(serv.service) == _casefile_codes("service")
    assert set(serv.provider) - {""} <= _casefile_codes("provider")
    assert set(req.type) == _casefile_codes("request_type")
    assert set(req.status) == _casefile_codes("request_status")
    assert set(req.requested_country) <= set(reference.countries())
    # an age, or an age group when the age is unknown; never both
    has_age = persons.age != ""
    assert (has_age ^ (persons.age_group != "")).all()
    assert pd.to_numeric(persons.age[has_age]).between(0, 120).all()
    for col in ("sentence_months", "fine", "assets_confiscated"):
        values = pd.to_numeric(proc[col][proc[col] != ""])
        assert (values >= 0).all()
    assert pd.to_numeric(proc.sentence_months[proc.sentence_months != ""]).between(12, 180).all()
    assert (pd.to_numeric(serv.amount[serv.amount != ""]) > 0).all()


def test_the_logical_rules_hold(run):
    _, _, tables = run
    persons, proc = _all(tables, "persons"), _all(tables, "proceedings")
    serv, req, cases = _all(tables, "services"), _all(tables, "cooperation_requests"), _all(tables, "cases")
    key = ["_country", "person_ref", "case_ref"]
    roles = persons.set_index(key).role
    assert (roles.reindex(proc.set_index(key).index) == "suspect").all()
    assert (roles.reindex(serv.set_index(key).index) == "victim").all()

    # one row per person-case and event: a wide table of dates
    wide = proc.pivot_table(index=key, columns="event", values="event_date", aggfunc="first")
    assert wide.investigation_opened.notna().all()
    fi, pros, app = wide.first_instance_verdict, wide.prosecution_initiated, wide.appeal_verdict
    assert (pros.dropna() > wide.investigation_opened[pros.notna()]).all()
    assert pros[fi.notna()].notna().all()
    assert (fi.dropna() > pros[fi.notna()]).all()
    assert (fi.dropna() > wide.investigation_opened[fi.notna()]).all()
    assert fi[app.notna()].notna().all() and (app.dropna() > fi[app.notna()]).all()
    # some verdicts take more than two years: investigated in Y, convicted in Y+2 or later
    years = pd.to_numeric(fi.dropna().str[:4]) - pd.to_numeric(wide.investigation_opened[fi.notna()].str[:4])
    assert (years >= 2).any() and years.max() <= 8

    verdict = proc.event.isin(["first_instance_verdict", "appeal_verdict"])
    assert (proc.outcome[verdict] != "").all() and (proc.outcome[~verdict] == "").all()
    convicted = verdict & (proc.outcome == "convicted")
    for col in ("sentence_months", "fine", "assets_confiscated"):
        assert (proc[col][~convicted] == "").all(), col
    assert (proc.sentence_months[convicted] != "").all()
    assert (proc.fine[convicted] != "").any() and (proc.fine[convicted] == "").any()
    reversed_on_appeal = proc[(proc.event == "appeal_verdict") & (proc.outcome == "convicted")].merge(
        proc[(proc.event == "first_instance_verdict") & (proc.outcome == "acquitted")], on=key)
    assert len(reversed_on_appeal) > 0

    # attrition: most investigated persons not prosecuted, a third to a half of prosecuted convicted
    n_inv, n_pros = (proc.event == "investigation_opened").sum(), (proc.event == "prosecution_initiated").sum()
    n_conv = ((proc.event == "first_instance_verdict") & (proc.outcome == "convicted")).sum()
    assert n_pros / n_inv < 0.5
    assert 0.3 < n_conv / n_pros < 0.55

    # services: identification first, with a provider; amounts only on compensation
    sw = serv.pivot_table(index=key, columns="service", values="service_date", aggfunc="first")
    assert sw.identified.notna().all()
    for col in sw.columns:
        assert (sw[col].dropna() >= sw.identified[sw[col].notna()]).all(), col
    needs_provider = serv.service.isin(["identified", "referred"])
    assert (serv.provider[needs_provider] != "").all() and (serv.provider[~needs_provider] == "").all()
    comp = serv.service == "compensation_awarded"
    assert (serv.amount[comp] != "").all() and (serv.amount[~comp] == "").all()
    share = sw.notna().mean()
    assert share.referred > 0.7 and share.assisted > 0.6 and share.compensation_awarded < 0.05
    assert 0 < share.protection_measure < share.testified < 0.3

    # cooperation requests
    assert (req.requesting_country == req._country).all()
    assert (req.requesting_country != req.requested_country).all()
    recv, exe = req.received_on, req.executed_on
    assert (recv[recv != ""] >= req.sent_on[recv != ""]).all()
    assert (exe[exe != ""] >= recv[exe != ""]).all() and (recv[exe != ""] != "").all()
    assert ((exe != "") == (req.status == "executed")).all()
    assert ((req.refusal_grounds != "") == (req.status == "refused")).all()
    assert (req.status == "pending").any() and (req.status == "refused").any()
    asean = set(reference.members("ASEAN", 2025))
    assert req.requested_country.isin(asean).mean() > 0.5

    # cases: 30-60% cross-border, a person keeps sex and citizenship across cases
    cb = cases[cases.cross_border != ""].groupby("_country").cross_border.apply(lambda s: (s == "yes").mean())
    assert cb[cb.index != "TLS"].between(0.25, 0.7).all()
    multi = persons[persons.duplicated(["_country", "person_ref"], keep=False)]
    assert len(multi) > 0
    assert (multi.groupby(["_country", "person_ref"])[["sex", "citizenship", "role"]].nunique() == 1).all().all()


# --- the ground truth is what a recount of the files gives ----------------------------------------


def _recount(t: dict[str, pd.DataFrame]) -> dict[int, dict]:
    """Counting rules, written out plainly in pandas."""
    proc = t["proceedings"].assign(year=lambda d: d.event_date.str[:4].astype(int))
    key = ["person_ref", "case_ref"]
    fi = proc[proc.event == "first_instance_verdict"]
    first_conv = pd.concat([
        fi[fi.outcome == "convicted"],
        proc[(proc.event == "appeal_verdict") & (proc.outcome == "convicted")].merge(
            fi[fi.outcome == "convicted"][key], on=key, how="left", indicator=True
        ).query("_merge == 'left_only'").drop(columns="_merge"),
    ])
    suspects = {
        "investigation_opened": proc[proc.event == "investigation_opened"],
        "prosecution_initiated": proc[proc.event == "prosecution_initiated"],
        "convicted": fi[fi.outcome == "convicted"],
        "acquitted": fi[fi.outcome == "acquitted"],
        "dismissed": fi[fi.outcome == "dismissed"],
        "first_conviction": first_conv,
    }
    serv = t["services"].assign(year=lambda d: d.service_date.str[:4].astype(int))
    req = t["cooperation_requests"].assign(year=lambda d: d.sent_on.str[:4].astype(int))
    executed = req[req.status == "executed"]
    inv = proc[proc.event == "investigation_opened"][[*key, "event_date"]]
    dur = fi.merge(inv, on=key, suffixes=("", "_inv"))
    dur = dur.assign(days=(pd.to_datetime(dur.event_date) - pd.to_datetime(dur.event_date_inv)).dt.days)
    rdays = (pd.to_datetime(executed.executed_on) - pd.to_datetime(executed.sent_on)).dt.days

    def med(s: pd.Series) -> dict:
        return {"median_days": float(s.median()) if len(s) else None, "n": int(len(s))}

    sub = t["submission"].iloc[0]
    out = {}
    for y in range(int(sub.period_start[:4]), int(sub.period_end[:4]) + 1):
        out[y] = {
            "cases_opened": int((t["cases"].opened_on.str[:4] == str(y)).sum()),
            "suspects": {k: int(df[df.year == y].person_ref.nunique()) for k, df in suspects.items()},
            "victims": {s: int(serv[(serv.year == y) & (serv.service == s)].person_ref.nunique())
                        for s in _casefile_codes("service")},
            "requests": {
                "sent": int((req.year == y).sum()),
                "executed": int((executed.executed_on.str[:4] == str(y)).sum()),
                "sent_by_type": {k: int((req[req.year == y].type == k).sum()) for k in _casefile_codes("request_type")},
                "sent_by_status": {k: int((req[req.year == y].status == k).sum())
                                   for k in _casefile_codes("request_status")},
            },
            "durations": {
                "investigation_to_verdict": med(dur.days[dur.event_date.str[:4] == str(y)]),
                "request_sent_to_executed": med(rdays[executed.year == y]),
            },
        }
    out["all"] = {"investigation_to_verdict": med(dur.days), "request_sent_to_executed": med(rdays)}
    return out


def test_ground_truth_agrees_with_a_recount(run):
    _, gt, tables = run
    deduplicated = 0
    for iso3, t in tables.items():
        truth = gt.data["countries"][iso3]
        recount = _recount(t)
        assert truth["durations"] == recount.pop("all"), iso3
        assert sorted(truth["years"]) == sorted(str(y) for y in recount)
        for y, want in recount.items():
            got = truth["years"][str(y)]
            assert got["cases_opened"] == want["cases_opened"], (iso3, y)
            assert got["suspects"] == want["suspects"], (iso3, y)
            assert got["victims"] == want["victims"], (iso3, y)
            assert got["requests"] == want["requests"], (iso3, y)
            assert got["durations"] == want["durations"], (iso3, y)
        proc = t["proceedings"]
        inv = proc[proc.event == "investigation_opened"]
        deduplicated += len(inv) - sum(truth["years"][y]["suspects"]["investigation_opened"] for y in truth["years"])
        requested = t["cooperation_requests"].requested_country.value_counts().to_dict()
        assert truth["requests_by_requested_country"] == requested
    assert deduplicated > 0  # persons in several cases the same year count once
    assert gt.count("THA", 2015, "suspects", "convicted") == gt.data["countries"]["THA"]["years"]["2015"][
        "suspects"]["convicted"]
    assert gt.median("THA", "investigation_to_verdict") > 180


# --- command line ---------------------------------------------------------------------------------


def test_cli_writes_the_region(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["synth", "--region", "asean", "--years", "2020-2025", "--scale", "0.05", "--seed", "3",
                 "--out", str(out)]) == 0
    assert "SYNTHETIC" in capsys.readouterr().out
    gt = json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))
    assert gt["years"] == [2020, 2025] and gt["seed"] == 3 and gt["region"] == "ASEAN"
    assert (out / "THA" / "submission.csv").read_text(encoding="utf-8").splitlines()[1].startswith(
        "THA,2020-01-01,2025-12-31,")


@pytest.mark.parametrize("args", [
    ["--years", "2025-2011"], ["--region", "Atlantis"], ["--scale", "0"], ["--seed", "-1"], ["--years", "1800"],
])
def test_cli_refuses_bad_input_in_one_sentence(tmp_path, capsys, args):
    assert main(["synth", *args, "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
