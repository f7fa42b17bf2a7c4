"""The generator: chunks of at most 25,000 cases of one country and year, numpy-vectorised, CSV out.

Everything that happens to a case (its suspects' proceedings, its victims' services, its
cooperation requests) is drawn in the chunk of the case, so memory is bounded by one chunk
however large the scale. A person who appears in several cases (a recruiter charged in two
cases, a victim re-trafficked) does so within one chunk, so the ground truth's distinct-person
counts are exact per chunk and simply add up.

Randomness: each chunk has its own stream, seeded from (seed, country, year, part), so a run
is byte-identical for the same seed, scale and years, and a country's files do not change when
another country is added to the region.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from math import log
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tipwatch import reference
from tipwatch.errors import InputError
from tipwatch.synth import profiles as P
from tipwatch.synth.truth import SUSPECT_COUNTS, GroundTruth

CASEFILE = Path(reference.__file__).parent / "data" / "casefile"
AGENCY = "Synthetic data (tipwatch synth)"
EPOCH = np.datetime64("1970-01-01", "D")
EVENTS = ("investigation_opened", "prosecution_initiated", "first_instance_verdict", "appeal_verdict")
OUTCOMES = ("convicted", "acquitted", "dismissed")
SERVICES = ("identified", "referred", "assisted", "sheltered", "repatriated", "testified",
            "protection_measure", "compensation_awarded")
STATUSES = ("pending", "executed", "refused", "withdrawn")
SEXES = ("female", "male", "other", "unknown")
AGE_GROUPS = ("child", "adult", "unknown")
CASES_PER_PART = 25_000  # bounds memory: a part of 25,000 cases is ~1.3 million rows
RESOURCES = ("cases", "persons", "proceedings", "services", "cooperation_requests")

# Person-level rates (invented; docs/synth.md explains each).
P_SUSPECT_PROSECUTED = 0.85   # given the case is prosecuted
P_REACH_VERDICT = 0.90        # the rest absconds, is archived or dies before a verdict
P_APPEAL = (0.25, 0.30, 0.10)  # after convicted / acquitted / dismissed
APPEAL_OUTCOMES = np.array([[0.80, 0.15, 0.05], [0.35, 0.60, 0.05], [0.30, 0.00, 0.70]])
P_ASSETS = 0.04
MAX_CHARGE_DAYS = 730   # investigation → prosecution at most two years
MAX_TRIAL_DAYS = 2190   # prosecution → first-instance verdict at most six years
P_REUSE_SUSPECT = 0.06
P_REUSE_VICTIM = 0.01
P_REQUEST_WITHOUT_CASE = 0.08


def template_fields() -> dict[str, list[str]]:
    """Column names of every resource, in the template's order.

    Returns:
        Resource name → its field names.
    """
    package = json.loads((CASEFILE / "datapackage.json").read_text(encoding="utf-8"))
    return {r["name"]: [f["name"] for f in r["schema"]["fields"]] for r in package["resources"]}


def _choose(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    """Indices drawn with the given weights (vectorised, no Python loop per row)."""
    cum = np.cumsum(np.asarray(weights, dtype=float))
    idx = np.searchsorted(cum / cum[-1], rng.random(size), side="right")
    return np.minimum(idx, len(cum) - 1).astype(np.int64)


def _lognormal_days(rng: np.random.Generator, median: float, sigma: float, size: int, low: int,
                    high: int = 1_000_000) -> np.ndarray:
    return np.clip(np.rint(rng.lognormal(log(median), sigma, size)), low, high).astype(np.int64)


def _money(rng: np.random.Generator, median_usd: float, sigma: float, usd_rate: float, size: int) -> np.ndarray:
    amount = rng.lognormal(log(median_usd), sigma, size) * usd_rate
    step = 10.0 ** max(0, int(np.floor(np.log10(max(usd_rate, 1.0)))) + 1)  # round to a sensible unit
    return (np.maximum(np.rint(amount / step), 1) * step).astype(np.int64)


def _years(days: np.ndarray) -> np.ndarray:
    return (days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970)


def _dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(days.astype(np.int32), type=pa.int32(), mask=None if valid is None else ~valid)
    return arr.cast(pa.date32())


def _codes(codes, idx: np.ndarray) -> pa.Array:
    """A string column from code indices; index -1 is empty."""
    return pc.take(pa.array(list(codes), pa.string()), pa.array(idx, mask=idx < 0))


def _ints(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    return pa.array(values.astype(np.int64), mask=~valid)


def _refs(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    text = pc.utf8_lpad(pc.cast(pa.array(numbers.astype(np.int64)), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, text, "")


def _resolve_reuse(rng: np.random.Generator, case_of: np.ndarray, counts: np.ndarray, p: float) -> np.ndarray:
    """For each person row, the row of the same person (itself, or an earlier case's person).

    A share ``p`` of rows reuse a person from an earlier case of the chunk; chains are followed
    to their root, and a person never appears twice in one case.
    """
    n = case_of.size
    rows = np.arange(n, dtype=np.int64)
    if n == 0:
        return rows
    first = (np.cumsum(counts) - counts)[case_of]  # first row of the person's case
    reuse = (rng.random(n) < p) & (first > 0)
    src = np.floor(rng.random(n) * first).astype(np.int64)
    ptr = np.where(reuse, src, rows)
    while True:
        nxt = ptr[ptr]
        if np.array_equal(nxt, ptr):
            break
        ptr = nxt
    key = case_of * n + ptr
    _, first_seen = np.unique(key, return_index=True)
    dup = np.ones(n, dtype=bool)
    dup[first_seen] = False
    ptr[dup] = rows[dup]
    return ptr


@dataclass
class _Counters:
    person: int = 0
    request: int = 0


@dataclass
class _Country:
    iso3: str
    profile: P.Profile
    years: list[int]
    start: date
    end: date
    counters: _Counters = field(default_factory=_Counters)


def _person_attributes(rng, role: str, n: int, case_of, form, cross, prof, cit_codes):
    """Sex, age, age group and citizenship for ``n`` person rows (vectorised)."""
    partner_w = np.array(list(prof.partners.values()), dtype=float)
    form_c = form[case_of]
    if role == "victim":
        labour = (form_c == P.FORMS.index("forced_labour")) | (form_c == P.FORMS.index("forced_criminality"))
        p_female = np.where(labour, 0.35, 0.75)
        child_p = np.select(
            [form_c == P.FORMS.index("sexual_exploitation"), labour, form_c == P.FORMS.index("begging"),
             form_c == P.FORMS.index("forced_marriage")],
            [0.35, 0.10, 0.60, 0.30], 0.20)
        child = rng.random(n) < child_p
        age = np.where(child, rng.integers(6, 18, n), 18 + np.minimum(rng.gamma(2.0, 6.0, n), 52).astype(np.int64))
        foreign = cross[case_of] & (rng.random(n) < prof.foreign_victims)
        stateless = rng.random(n) < prof.stateless
    else:
        p_female = np.full(n, 0.36)
        child = np.zeros(n, dtype=bool)
        age = 20 + np.minimum(rng.gamma(3.0, 6.0, n), 60).astype(np.int64)
        foreign = cross[case_of] & (rng.random(n) < 0.25)
        stateless = np.zeros(n, dtype=bool)
    u = rng.random(n)
    sex = np.where(u < p_female, 0, 1)
    sex = np.where(u > 0.985, 3, np.where(u > 0.982, 2, sex))  # 1.5% unknown, 0.3% other
    age_unknown = rng.random(n) < 0.06
    group = np.where(rng.random(n) < 0.35, 2, np.where(child, 0, 1))  # when the age is unknown
    age_group = np.where(age_unknown, group, -1)
    age = np.where(age_unknown, -1, age)
    cit = np.zeros(n, dtype=np.int64)  # own country
    if partner_w.size:
        cit = np.where(foreign, 1 + _choose(rng, partner_w, n), cit)
    cit = np.where(stateless, len(cit_codes) - 2, cit)
    cit = np.where(rng.random(n) < 0.01, len(cit_codes) - 1, cit)
    return sex, age, age_group, cit


def _rng(seed: int, iso3: str, year: int, part: int) -> np.random.Generator:
    """The random stream of one country, year and part (part 0 draws the year's case dates)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int.from_bytes(iso3.encode(), "big"),
                                                                         year, part)))


def _year(country: _Country, year: int, scale: float, seed: int, truth: GroundTruth) -> Iterator[dict[str, pa.Table]]:
    """The tables of the cases ``country`` opened in ``year``, in parts of at most `CASES_PER_PART` cases.

    The year's case dates are drawn first and sorted; each part takes the next run of them with
    its own random stream, so memory stays bounded at any scale and case references follow dates.
    """
    rng = _rng(seed, country.iso3, year, 0)
    day0 = int((np.datetime64(f"{year}-01-01", "D") - EPOCH).astype(np.int64))
    ndays = int((np.datetime64(f"{year + 1}-01-01", "D") - EPOCH).astype(np.int64)) - day0
    n = int(rng.poisson(country.profile.cases_per_year * scale * P.year_trend(year)))
    opened = np.sort(day0 + rng.integers(0, ndays, n))
    for part, lo in enumerate(range(0, max(n, 1), CASES_PER_PART), start=1):
        yield _part(_rng(seed, country.iso3, year, part), country, year, opened[lo:lo + CASES_PER_PART], lo, truth)


def _part(rng: np.random.Generator, country: _Country, year: int, opened: np.ndarray, first: int,
          truth: GroundTruth) -> dict[str, pa.Table]:
    """All rows for the cases opened on ``opened`` (case numbers from ``first + 1``); adds them to ``truth``."""
    iso3, prof = country.iso3, country.profile
    end = int((np.datetime64(country.end.isoformat(), "D") - EPOCH).astype(np.int64))
    cit_codes = [iso3, *prof.partners, "stateless", "unknown"]
    partner_codes = list(prof.partners)

    # --- cases -------------------------------------------------------------------------------
    n = opened.size
    form_w = np.array(prof.forms, dtype=float)
    if year >= P.SCAM_YEAR:
        form_w[P.FORMS.index("forced_criminality")] *= P.SCAM_FACTOR
    form = _choose(rng, form_w, n)
    form_out = np.where(rng.random(n) < 0.02, -1, form)
    cross = rng.random(n) < prof.cross_border
    cross_known = rng.random(n) >= 0.03
    cross_true = cross & cross_known  # what the file says; unknown counts as not cross-border downstream

    ns = 1 + rng.poisson(0.6, n)
    ns = np.where(rng.random(n) < 0.06, 3 + rng.poisson(4.0, n), ns)  # multi-defendant rings
    ns = np.where(rng.random(n) < 0.08, 0, ns)
    nv = 1 + rng.poisson(1.0, n)
    raid = rng.random(n) < (0.05 if year >= P.SCAM_YEAR else 0.03)
    nv = np.where(raid, 10 + np.minimum(rng.lognormal(log(20), 0.9, n), 400).astype(np.int64), nv)

    # --- persons -------------------------------------------------------------------------------
    s_case = np.repeat(np.arange(n), ns)
    v_case = np.repeat(np.arange(n), nv)
    S, V = s_case.size, v_case.size
    s_ptr = _resolve_reuse(rng, s_case, ns, P_REUSE_SUSPECT)
    v_ptr = _resolve_reuse(rng, v_case, nv, P_REUSE_VICTIM)
    s_attr = [a[s_ptr] for a in _person_attributes(rng, "suspect", S, s_case, form, cross, prof, cit_codes)]
    v_attr = [a[v_ptr] for a in _person_attributes(rng, "victim", V, v_case, form, cross, prof, cit_codes)]
    s_root = s_ptr == np.arange(S)
    v_root = v_ptr == np.arange(V)
    base = country.counters.person + 1  # references start at 1
    s_num = base + (np.cumsum(s_root) - 1)[s_ptr]
    base += int(s_root.sum())
    v_num = base + (np.cumsum(v_root) - 1)[v_ptr]
    country.counters.person = base - 1 + int(v_root.sum())

    # --- proceedings (suspects) --------------------------------------------------------------------
    inv = opened[s_case] + rng.integers(0, 31, n)[s_case]
    inv = np.minimum(inv + np.where(rng.random(S) < 0.10, rng.integers(1, 181, S), 0), end)
    case_pros = rng.random(n) < prof.case_prosecuted
    pros = case_pros[s_case] & (rng.random(S) < P_SUSPECT_PROSECUTED)
    own = rng.random(S) < 0.2  # a fifth of suspects have their own timetable, the rest the case's
    pdelay = np.where(own, _lognormal_days(rng, 120, 0.8, S, 1, MAX_CHARGE_DAYS),
                      _lognormal_days(rng, 120, 0.8, n, 1, MAX_CHARGE_DAYS)[s_case])
    pros_date = inv + pdelay
    has_pros = pros & (pros_date <= end)
    vdelay = np.where(own, _lognormal_days(rng, prof.verdict_days, 0.6, S, 30, MAX_TRIAL_DAYS),
                      _lognormal_days(rng, prof.verdict_days, 0.6, n, 30, MAX_TRIAL_DAYS)[s_case])
    ver_date = pros_date + vdelay
    has_ver = has_pros & (rng.random(S) < P_REACH_VERDICT) & (ver_date <= end)
    outcome = _choose(rng, prof.outcomes, S)
    conv = has_ver & (outcome == 0)
    sentence = np.clip(np.rint(rng.lognormal(log(72), 0.55, S)), 12, 180).astype(np.int64)
    fine_on = conv & (rng.random(S) < prof.fine_share)
    fine = _money(rng, 3000, 1.0, prof.usd_rate, S)
    assets_on = conv & (rng.random(S) < P_ASSETS)
    assets = _money(rng, 20000, 1.2, prof.usd_rate, S)
    appeal = rng.random(S) < np.asarray(P_APPEAL)[outcome]
    app_date = ver_date + _lognormal_days(rng, 300, 0.5, S, 60)
    has_app = has_ver & appeal & (app_date <= end)
    cum = np.cumsum(APPEAL_OUTCOMES, axis=1)[outcome]
    app_out = np.minimum((rng.random(S)[:, None] > cum).sum(axis=1), 2)
    app_conv = has_app & (app_out == 0)
    app_sentence = np.where(conv, np.maximum(np.rint(sentence * rng.uniform(0.5, 1.0, S)), 12),
                            np.clip(np.rint(rng.lognormal(log(72), 0.55, S)), 12, 180)).astype(np.int64)
    app_fine_on = app_conv & ~conv & (rng.random(S) < prof.fine_share)

    rows = np.arange(S)
    m_p, m_v, m_a = np.flatnonzero(has_pros), np.flatnonzero(has_ver), np.flatnonzero(has_app)
    none = np.full(S, -1)
    pr_pos = np.concatenate([rows, m_p, m_v, m_a])
    pr_ev = np.concatenate([np.zeros(S, np.int64), np.full(m_p.size, 1), np.full(m_v.size, 2), np.full(m_a.size, 3)])
    pr_date = np.concatenate([inv, pros_date[m_p], ver_date[m_v], app_date[m_a]])
    pr_out = np.concatenate([none, none[m_p], outcome[m_v], app_out[m_a]])
    pr_sent = np.concatenate([none, none[m_p], np.where(conv, sentence, -1)[m_v],
                              np.where(app_conv, app_sentence, -1)[m_a]])
    pr_fine = np.concatenate([none, none[m_p], np.where(fine_on, fine, -1)[m_v],
                              np.where(app_fine_on, fine, -1)[m_a]])
    pr_assets = np.concatenate([none, none[m_p], np.where(assets_on, assets, -1)[m_v], none[m_a]])
    order = np.lexsort((pr_ev, pr_date, pr_pos))
    pr_pos, pr_ev, pr_date, pr_out = pr_pos[order], pr_ev[order], pr_date[order], pr_out[order]
    pr_sent, pr_fine, pr_assets = pr_sent[order], pr_fine[order], pr_assets[order]

    # --- services (victims) -------------------------------------------------------------------------
    big = np.iinfo(np.int64).max
    case_pros_date = np.full(n, big)
    np.minimum.at(case_pros_date, s_case[has_pros], pros_date[has_pros])
    case_conv_date = np.full(n, big)
    np.minimum.at(case_conv_date, s_case[conv], ver_date[conv])
    np.minimum.at(case_conv_date, s_case[app_conv], app_date[app_conv])

    ident = np.minimum(opened[v_case] + rng.integers(0, 15, V), end)
    labour = form[v_case] == P.FORMS.index("forced_labour")
    id_prov = np.where(labour, _choose(rng, P.ID_WEIGHTS_LABOUR, V), _choose(rng, P.ID_WEIGHTS, V))
    ref_date = ident + rng.integers(0, 31, V)
    referred = (rng.random(V) < 0.85) & (ref_date <= end)
    ref_prov = _choose(rng, P.REFERRAL_WEIGHTS, V)
    ass_date = np.where(referred, ref_date, ident) + rng.integers(1, 61, V)
    assisted = (rng.random(V) < np.where(referred, 0.92, 0.30)) & (ass_date <= end)
    shel_date = ass_date + rng.integers(0, 11, V)
    sheltered = assisted & (rng.random(V) < 0.40) & (shel_date <= end)
    rep_date = ident + rng.integers(30, 241, V)
    repatriated = cross_true[v_case] & (rng.random(V) < 0.55) & (rep_date <= end)
    cpd = case_pros_date[v_case]
    test_date = np.where(cpd < big, cpd, 0) + rng.integers(30, 401, V)
    testified = (cpd < big) & (rng.random(V) < 0.35) & (test_date <= end)
    prot_date = ident + np.floor(rng.random(V) * (test_date - ident)).astype(np.int64)
    protected = testified & (rng.random(V) < 0.15)
    ccd = case_conv_date[v_case]
    comp_date = np.where(ccd < big, ccd, 0) + rng.integers(30, 366, V)
    compensated = (ccd < big) & (rng.random(V) < 0.05) & (comp_date <= end)
    comp_amount = _money(rng, 2000, 1.0, prof.usd_rate, V)

    vrows = np.arange(V)
    parts = [(vrows, ident, id_prov, None)]
    for flag, when, prov in ((referred, ref_date, ref_prov), (assisted, ass_date, None),
                             (sheltered, shel_date, None), (repatriated, rep_date, None),
                             (testified, test_date, None), (protected, prot_date, None),
                             (compensated, comp_date, None)):
        m = np.flatnonzero(flag)
        parts.append((m, when[m], None if prov is None else prov[m], None))
    sv_pos = np.concatenate([p[0] for p in parts])
    sv_kind = np.concatenate([np.full(p[0].size, k) for k, p in enumerate(parts)])
    sv_date = np.concatenate([p[1] for p in parts])
    sv_prov = np.concatenate([p[2] if p[2] is not None else np.full(p[0].size, -1) for p in parts])
    sv_amount = np.where(sv_kind == 7, comp_amount[sv_pos], -1)
    order = np.lexsort((sv_kind, sv_date, sv_pos))
    sv_pos, sv_kind, sv_date, sv_prov, sv_amount = (a[order] for a in (sv_pos, sv_kind, sv_date, sv_prov, sv_amount))

    # --- cooperation requests ------------------------------------------------------------------------
    nreq = np.where(cross_true, rng.poisson(prof.requests, n), 0)
    if not partner_codes:
        nreq[:] = 0
    r_case = np.repeat(np.arange(n), nreq)
    R = r_case.size
    sent = opened[r_case] + rng.integers(14, 401, R)
    rtype = _choose(rng, P.REQUEST_WEIGHTS, R)
    requested = _choose(rng, list(prof.partners.values()), R) if partner_codes else np.zeros(R, np.int64)
    lo = np.array([a for a, _ in P.RECEIVE_DAYS])[rtype]
    hi = np.array([b for _, b in P.RECEIVE_DAYS])[rtype]
    recv = sent + lo + np.floor(rng.random(R) * (hi - lo + 1)).astype(np.int64)
    exe = recv + np.maximum(np.rint(rng.lognormal(np.log(np.array(P.EXECUTE_MEDIAN_DAYS)[rtype]),
                                                  np.array(P.EXECUTE_SIGMA)[rtype])), 1).astype(np.int64)
    u = rng.random(R)
    pe, pr, pw = (np.array(x)[rtype] for x in (P.P_EXECUTED, P.P_REFUSED, P.P_WITHDRAWN))
    status = np.select([u < pe, u < pe + pr, u < pe + pr + pw], [1, 2, 3], 0)
    grounds = _choose(rng, np.ones(len(P.REFUSAL_GROUNDS)), R)
    linked = rng.random(R) >= P_REQUEST_WITHOUT_CASE
    keep = sent <= end
    r_case, sent, rtype, requested, recv, exe, status, grounds, linked = (
        a[keep] for a in (r_case, sent, rtype, requested, recv, exe, status, grounds, linked))
    has_recv = recv <= end
    status = np.where(~has_recv & (status != 3), 0, status)
    status = np.where((status == 1) & (exe > end), 0, status)
    has_exe = status == 1
    order = np.lexsort((r_case, sent))
    r_case, sent, rtype, requested, recv, exe, status, grounds, linked, has_recv, has_exe = (
        a[order] for a in (r_case, sent, rtype, requested, recv, exe, status, grounds, linked, has_recv, has_exe))
    R = sent.size
    r_num = country.counters.request + np.arange(R)
    country.counters.request += R

    # --- ground truth ---------------------------------------------------------------------------------
    ct = truth.country(iso3)
    ct.add_cases(year, n)
    # suspects: count distinct persons (the chain root) per event type and year of the event
    kinds = np.full(pr_ev.size, -1)
    kinds[pr_ev == 0] = 0
    kinds[pr_ev == 1] = 1
    fi = pr_ev == 2
    kinds[fi] = 2 + pr_out[fi]
    # first conviction in the case: the first-instance one, else an appeal reversing an acquittal/dismissal
    first_conv = ((pr_ev == 2) & (pr_out == 0)) | ((pr_ev == 3) & (pr_out == 0) & ~conv[pr_pos])
    m = kinds >= 0
    k_pos = np.concatenate([pr_pos[m], pr_pos[first_conv]])
    k_kind = np.concatenate([kinds[m], np.full(int(first_conv.sum()), SUSPECT_COUNTS.index("first_conviction"))])
    k_date = np.concatenate([pr_date[m], pr_date[first_conv]])
    s_shared = (np.bincount(s_ptr, minlength=S) > 1)[s_ptr]  # persons in more than one case
    v_shared = (np.bincount(v_ptr, minlength=V) > 1)[v_ptr]
    ct.add_distinct("suspects", s_ptr[k_pos], k_kind, _years(k_date), SUSPECT_COUNTS, s_shared[k_pos])
    ct.add_distinct("victims", v_ptr[sv_pos], sv_kind, _years(sv_date), SERVICES, v_shared[sv_pos])
    ct.add_requests(_years(sent), rtype, status, requested, _years(exe[has_exe]),
                    P.REQUEST_TYPES, STATUSES, partner_codes)
    ct.add_durations("investigation_to_verdict", ver_date[has_ver] - inv[has_ver], _years(ver_date[has_ver]))
    ct.add_durations("request_sent_to_executed", exe[has_exe] - sent[has_exe], _years(sent[has_exe]))

    # --- tables -------------------------------------------------------------------------------------
    case_refs = _refs(f"{iso3}-{year}-", np.arange(first + 1, first + n + 1), 6)
    s_refs = _refs(f"{iso3}-P", s_num, 9)
    v_refs = _refs(f"{iso3}-P", v_num, 9)
    cb_idx = np.where(cross_known, np.where(cross, 0, 1), -1)
    tables = {
        "cases": {
            "case_ref": case_refs,
            "opened_on": _dates(opened),
            "offence": pa.array(np.full(n, prof.offence, dtype=object), pa.string()),
            "form": _codes(P.FORMS, form_out),
            "cross_border": _codes(("yes", "no"), cb_idx),
        },
        "persons": {
            "person_ref": pa.concat_arrays([s_refs, v_refs]),
            "case_ref": pc.take(case_refs, pa.array(np.concatenate([s_case, v_case]))),
            "role": _codes(("suspect", "victim"), np.concatenate([np.zeros(S, np.int64), np.ones(V, np.int64)])),
            "sex": _codes(SEXES, np.concatenate([s_attr[0], v_attr[0]])),
            "age": _ints(np.concatenate([s_attr[1], v_attr[1]]), np.concatenate([s_attr[1], v_attr[1]]) >= 0),
            "age_group": _codes(AGE_GROUPS, np.concatenate([s_attr[2], v_attr[2]])),
            "citizenship": _codes(cit_codes, np.concatenate([s_attr[3], v_attr[3]])),
        },
        "proceedings": {
            "person_ref": pc.take(s_refs, pa.array(pr_pos)),
            "case_ref": pc.take(case_refs, pa.array(s_case[pr_pos])),
            "event": _codes(EVENTS, pr_ev),
            "event_date": _dates(pr_date),
            "outcome": _codes(OUTCOMES, pr_out),
            "sentence_months": _ints(pr_sent, pr_sent >= 0),
            "fine": _ints(pr_fine, pr_fine >= 0),
            "assets_confiscated": _ints(pr_assets, pr_assets >= 0),
        },
        "services": {
            "person_ref": pc.take(v_refs, pa.array(sv_pos)),
            "case_ref": pc.take(case_refs, pa.array(v_case[sv_pos])),
            "service": _codes(SERVICES, sv_kind),
            "service_date": _dates(sv_date),
            "provider": _codes(_PROVIDER_CODES, _provider_index(sv_kind, sv_prov)),
            "amount": _ints(sv_amount, sv_amount >= 0),
        },
        "cooperation_requests": {
            "request_ref": _refs(f"{iso3}-R", r_num + 1, 7),
            "case_ref": pc.take(case_refs, pa.array(r_case, mask=~linked)),
            "type": _codes(P.REQUEST_TYPES, rtype),
            "requesting_country": pa.array(np.full(R, iso3, dtype=object), pa.string()),
            "requested_country": _codes(partner_codes or ["XXX"], requested),
            "sent_on": _dates(sent),
            "received_on": _dates(recv, has_recv),
            "executed_on": _dates(exe, has_exe),
            "status": _codes(STATUSES, status),
            "refusal_grounds": _codes(P.REFUSAL_GROUNDS, np.where(status == 2, grounds, -1)),
        },
    }
    return {name: pa.table(cols) for name, cols in tables.items()}


# Provider codes of both lists (identification and referral) in one dictionary.
_PROVIDER_CODES = tuple(dict.fromkeys(P.ID_PROVIDERS + P.REFERRAL_PROVIDERS))
_REFERRAL_MAP = np.array([_PROVIDER_CODES.index(c) for c in P.REFERRAL_PROVIDERS])


def _provider_index(kind: np.ndarray, prov: np.ndarray) -> np.ndarray:
    """Identification providers index ``ID_PROVIDERS``; referral providers are mapped."""
    out = np.where(kind == 0, prov, -1)
    ref = (kind == 1) & (prov >= 0)
    out[ref] = _REFERRAL_MAP[prov[ref]]
    return out


def _write_submission(folder: Path, iso3: str, start: date, end: date, prepared: date, fields: list[str]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(fields)
    w.writerow([iso3, start.isoformat(), end.isoformat(), prepared.isoformat(), AGENCY])
    (folder / "submission.csv").write_text(buf.getvalue(), encoding="utf-8", newline="")


def prepared_on(seed: int, last_year: int) -> date:
    """The fixed preparation date of a run: a date early in the year after the period, from the seed.

    Args:
        seed: The run's seed.
        last_year: Last year of the period.

    Returns:
        The date written in every submission.csv.
    """
    offset = int(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,))).integers(0, 90))
    return date(last_year + 1, 2, 1) + timedelta(days=offset)


def generate(
    region: str = "ASEAN",
    years: tuple[int, int] = (2011, 2025),
    scale: float = 1.0,
    seed: int = 1,
    out: Path | str = Path("synthetic"),
    progress: Callable[[int, int, str], None] | None = None,
) -> Path:
    """Write a synthetic region: one case-file submission per member country plus its ground truth.

    Args:
        region: Region id (e.g. ``ASEAN``); a country is generated for each year it is a member.
        years: First and last year, inclusive.
        scale: Multiplier of the base size (1 ≈ a realistic ASEAN region; 100 ≈ 10 million
            proceedings rows).
        seed: Seed; the same seed, region, years and scale give byte-identical files.
        out: Folder to write into (created; files of an earlier run are overwritten).
        progress: Called as ``progress(done, total, label)`` after each country-year chunk.

    Returns:
        The output folder. It holds ``<ISO3>/`` folders, ``ground_truth.json`` and ``README.md``.

    Raises:
        InputError: The region is unknown, the years or scale make no sense, or no country
            is a member in those years.
    """
    try:
        region = reference.region_id(region)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    y0, y1 = int(years[0]), int(years[1])
    if y0 > y1 or y0 < 1900 or y1 > 2100:
        raise InputError(f"{y0}-{y1} is not a usable span of years: give FIRST-LAST between 1900 and 2100.")
    if not scale > 0 or scale > 100000:
        raise InputError(f"The scale {scale} is out of range: give a number above 0 and at most 100000.")
    if seed < 0:
        raise InputError(f"The seed {seed} is negative: give a whole number of 0 or more.")
    member_years: dict[str, list[int]] = {}
    for y in range(y0, y1 + 1):
        for iso3 in reference.members(region, y):
            member_years.setdefault(iso3, []).append(y)
    if not member_years:
        raise InputError(f"{region} has no member countries in {y0}-{y1}: choose other years or another region.")
    all_members = sorted(member_years)
    countries = [
        _Country(iso3, P.profile(iso3, all_members), ys, date(ys[0], 1, 1), date(ys[-1], 12, 31))
        for iso3, ys in sorted(member_years.items())
    ]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fields = template_fields()
    prepared = prepared_on(seed, y1)
    truth = GroundTruth.empty(region, (y0, y1), scale, seed, prepared)
    total = sum(len(c.years) for c in countries)
    done = 0
    for c in countries:
        folder = out / c.iso3
        folder.mkdir(exist_ok=True)
        truth.add_country(c.iso3, c.start, c.end, c.years)
        _write_submission(folder, c.iso3, c.start, c.end, prepared, fields["submission"])
        shutil.copyfile(CASEFILE / "datapackage.json", folder / "datapackage.json")
        (folder / "README.md").write_text(_COUNTRY_README.format(iso3=c.iso3), encoding="utf-8", newline="")
        sinks = {name: pa.OSFile(str(folder / f"{name}.csv"), "wb") for name in RESOURCES}
        try:
            writers = {}
            for name, sink in sinks.items():
                sink.write((",".join(fields[name]) + "\n").encode())
            for y in c.years:
                for tables in _year(c, y, scale, seed, truth):
                    for name, table in tables.items():
                        table = table.select(fields[name])
                        if name not in writers:
                            writers[name] = pacsv.CSVWriter(
                                sinks[name], table.schema,
                                write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"))
                        writers[name].write_table(table)
                        truth.country(c.iso3).add_rows(name, table.num_rows)
                done += 1
                if progress is not None:
                    progress(done, total, f"{c.iso3} {y}")
            for w in writers.values():
                w.close()
        finally:
            for sink in sinks.values():
                sink.close()
    (out / "ground_truth.json").write_text(truth.to_json(), encoding="utf-8", newline="")
    (out / "README.md").write_text(_README.format(region=region, y0=y0, y1=y1, scale=scale, seed=seed),
                                   encoding="utf-8", newline="")
    return out


_README = """SYNTHETIC DATA generated by `tipwatch synth` - not real case records: never mix with real submissions.

Region {region}, years {y0}-{y1}, scale {scale:g}, seed {seed}. One folder per member country
(a case-file submission in tipwatch's template layout) and ground_truth.json with the counts the
counting rules must reproduce. See docs/synth.md in the tipwatch repository.
"""

_COUNTRY_README = (
    "SYNTHETIC DATA generated by `tipwatch synth` for {iso3} - not real case records: "
    "never mix with real submissions.\n"
)
