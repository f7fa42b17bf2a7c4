"""Counting rules for case-level microdata, on DuckDB, PostgreSQL and Spark, against hand-worked figures.

The dataset below is small enough to count by hand. Every expected number is worked out in a
comment beside its assertion; `docs/counting-rules.md` uses the same people as its examples.

Thailand sends two versions of the same scope (``THA:2017-01-01..2021-12-31``). Version 1 (an
early file) holds one case; version 2 (the corrected file) holds everything below and replaces
version 1 as the current submission.

Version 2, suspects (``proceedings``):

====  =====  ===========  ==============================================================
who   case   sex, age     events
====  =====  ===========  ==============================================================
S7    C0     male adult   investigated 2016-11-01 · charged 2017-02-01 · convicted 2017-12-01
                          (a fine, no prison sentence)
S1    C1     male adult   investigated 2017-03-01 · charged 2017-09-01 · convicted
                          2018-06-15, 60 months
S2    C1     female adult investigated 2017-03-01 · charged 2017-09-01 · acquitted 2018-06-25
                          · convicted on appeal 2019-04-10, 36 months
S3    C1     male unknown investigated 2017-03-01, nothing after (C1: three defendants)
S4    C2     male adult   investigated 2018-02-01 · charged 2018-03-15 · dismissed 2019-01-20
S4    C3     male adult   investigated 2018-05-20 · charged 2018-08-01 · convicted
                          2018-12-10, 48 months (same person as in C2)
S5    C4     female adult investigated 2018-01-10 · charged 2018-07-01 · convicted 2020-03-01,
                          120 months · conviction quashed on appeal 2021-02-01
S6    C5     male adult   investigated 2020-11-01, nothing after
====  =====  ===========  ==============================================================

Cases opened: C0 2016-11-01 (before the period), C1 2017-03-01, C2 2018-02-01,
C3 2018-05-20, C4 2018-01-10, C5 2020-11-01.

Victims (``services``): V1 (female child, C1) identified 2017-03-01, referred and sheltered
2017-03-02, assisted 2017-04-01, protection measure 2018-05-15, testified 2018-06-01;
V2 (female adult, C1) identified 2017-03-01, assisted 2017-03-10, testified 2018-06-01,
compensation 2018-06-15; V3 (male adult, C1) identified 2017-03-05, repatriated 2017-05-01;
V4 (female adult, C4) identified 2018-01-10, assisted 2018-02-01, testified 2020-02-01;
V5 (sex and age unknown, C5) identified 2020-11-01.

Cooperation: R1 MLA THA→MYS sent 2018-03-01, never answered (pending); R2 MLA THA→MYS sent
2018-04-01, executed 2018-10-18 (200 days); R3 extradition THA→LAO sent 2019-01-10, refused.
"""

from __future__ import annotations

import itertools
import json
import math
from datetime import date, datetime

import pandas as pd
import pyarrow as pa
import pytest

from tests.conftest import READ_ENGINES, _new_url, read_on
from tipwatch import reference
from tipwatch.errors import InputError
from tipwatch.indicators import compute, current_observations
from tipwatch.indicators.casefile import (
    attrition,
    cooperation,
    count_submission,
    durations,
    parse_scope,
    sentences,
    witnesses,
)
from tipwatch.ingest.glotip import OBSERVATIONS_IN
from tipwatch.store import open_store
from tipwatch.store import schema as s

SCOPE = "THA:2017-01-01..2021-12-31"
V1, V2 = "casefile-tha-v1", "casefile-tha-v2"
PERIOD = range(2017, 2022)


def _case(ref, opened):
    return {"case_ref": ref, "country": "THA", "opened_on": date.fromisoformat(opened), "offence": "Sec. 6",
            "form": "sexual", "cross_border": True}


def _person(ref, case, role, sex, age_group):
    return {"person_ref": ref, "case_ref": case, "role": role, "sex": sex, "age": None, "age_group": age_group,
            "citizenship": "THA"}


def _event(ref, case, event, day, outcome=None, months=None, fine=None):
    return {"person_ref": ref, "case_ref": case, "event": event, "event_date": date.fromisoformat(day),
            "outcome": outcome, "sentence_months": months, "fine": fine, "assets_confiscated": None}


def _service(ref, case, service, day, amount=None):
    return {"person_ref": ref, "case_ref": case, "service": service, "service_date": date.fromisoformat(day),
            "provider": "police" if service == "identified" else None, "amount": amount}


def _request(ref, type_, to, sent, status, executed=None, grounds=None):
    return {"request_ref": ref, "case_ref": None, "type": type_, "requesting_country": "THA",
            "requested_country": to, "sent_on": date.fromisoformat(sent), "received_on": None,
            "executed_on": date.fromisoformat(executed) if executed else None, "status": status,
            "refusal_grounds": grounds}


INV, PROS, FIRST, APPEAL = "investigation_opened", "prosecution_initiated", "first_instance_verdict", "appeal_verdict"

VERSION_2 = {
    s.cases: [
        _case("C0", "2016-11-01"), _case("C1", "2017-03-01"), _case("C2", "2018-02-01"),
        _case("C3", "2018-05-20"), _case("C4", "2018-01-10"), _case("C5", "2020-11-01"),
    ],
    s.persons: [
        _person("S7", "C0", "suspect", "male", "adult"),
        _person("S1", "C1", "suspect", "male", "adult"),
        _person("S2", "C1", "suspect", "female", "adult"),
        _person("S3", "C1", "suspect", "male", "unknown"),
        _person("S4", "C2", "suspect", "male", "adult"),
        _person("S4", "C3", "suspect", "male", "adult"),
        _person("S5", "C4", "suspect", "female", "adult"),
        _person("S6", "C5", "suspect", "male", "adult"),
        _person("V1", "C1", "victim", "female", "child"),
        _person("V2", "C1", "victim", "female", "adult"),
        _person("V3", "C1", "victim", "male", "adult"),
        _person("V4", "C4", "victim", "female", "adult"),
        _person("V5", "C5", "victim", "unknown", "unknown"),
    ],
    s.proceedings: [
        _event("S7", "C0", INV, "2016-11-01"),
        _event("S7", "C0", PROS, "2017-02-01"),
        _event("S7", "C0", FIRST, "2017-12-01", "convicted", fine=5000.0),
        _event("S1", "C1", INV, "2017-03-01"),
        _event("S1", "C1", PROS, "2017-09-01"),
        _event("S1", "C1", FIRST, "2018-06-15", "convicted", 60.0),
        _event("S2", "C1", INV, "2017-03-01"),
        _event("S2", "C1", PROS, "2017-09-01"),
        _event("S2", "C1", FIRST, "2018-06-25", "acquitted"),
        _event("S2", "C1", APPEAL, "2019-04-10", "convicted", 36.0),
        _event("S3", "C1", INV, "2017-03-01"),
        _event("S4", "C2", INV, "2018-02-01"),
        _event("S4", "C2", PROS, "2018-03-15"),
        _event("S4", "C2", FIRST, "2019-01-20", "dismissed"),
        _event("S4", "C3", INV, "2018-05-20"),
        _event("S4", "C3", PROS, "2018-08-01"),
        _event("S4", "C3", FIRST, "2018-12-10", "convicted", 48.0),
        _event("S5", "C4", INV, "2018-01-10"),
        _event("S5", "C4", PROS, "2018-07-01"),
        _event("S5", "C4", FIRST, "2020-03-01", "convicted", 120.0),
        _event("S5", "C4", APPEAL, "2021-02-01", "acquitted"),
        _event("S6", "C5", INV, "2020-11-01"),
    ],
    s.services: [
        _service("V1", "C1", "identified", "2017-03-01"),
        _service("V1", "C1", "referred", "2017-03-02"),
        _service("V1", "C1", "sheltered", "2017-03-02"),
        _service("V1", "C1", "assisted", "2017-04-01"),
        _service("V1", "C1", "protection_measure", "2018-05-15"),
        _service("V1", "C1", "testified", "2018-06-01"),
        _service("V2", "C1", "identified", "2017-03-01"),
        _service("V2", "C1", "assisted", "2017-03-10"),
        _service("V2", "C1", "testified", "2018-06-01"),
        _service("V2", "C1", "compensation_awarded", "2018-06-15", 50000.0),
        _service("V3", "C1", "identified", "2017-03-05"),
        _service("V3", "C1", "repatriated", "2017-05-01"),
        _service("V4", "C4", "identified", "2018-01-10"),
        _service("V4", "C4", "assisted", "2018-02-01"),
        _service("V4", "C4", "testified", "2020-02-01"),
        _service("V5", "C5", "identified", "2020-11-01"),
    ],
    s.cooperation_requests: [
        _request("R1", "mla", "MYS", "2018-03-01", "pending"),
        _request("R2", "mla", "MYS", "2018-04-01", "executed", executed="2018-10-18"),
        _request("R3", "extradition", "LAO", "2019-01-10", "refused", grounds="nationality"),
    ],
}

# Version 1: an early file of the same scope with one case, one suspect and one victim; and a
# request the corrected file no longer holds. None of it may show once version 2 is current.
VERSION_1 = {
    s.cases: [_case("C1", "2017-03-01")],
    s.persons: [_person("S1", "C1", "suspect", "male", "adult"), _person("V1", "C1", "victim", "female", "child")],
    s.proceedings: [_event("S1", "C1", INV, "2017-03-01"), _event("S1", "C1", PROS, "2017-09-01"),
                    _event("S1", "C1", FIRST, "2018-06-15", "convicted", 12.0)],
    s.services: [_service("V1", "C1", "identified", "2017-03-01")],
    s.cooperation_requests: [_request("R9", "police", "VNM", "2017-05-01", "executed", executed="2017-05-11")],
}


def _load(store, sid: str, vintage: date, tables: dict) -> None:
    """Insert one submission and its case records, with SQLAlchemy, as an importer would."""
    with store.engine.begin() as conn:
        conn.execute(s.submissions.insert().values(
            id=sid, source="casefile", scope=SCOPE, vintage=vintage, file_hash=sid.ljust(64, "0"),
            format="casefile", imported_at=datetime(2022, 10, 1), rows_read=0, rows_stored=0,
            report=json.dumps({})))
        for table, rows in tables.items():
            conn.execute(table.insert(), [{"submission_id": sid, "line": i + 2, **r} for i, r in enumerate(rows)])


def _store_counts(store, sid: str) -> None:
    """Count a submission into the cube, numbering rows as the importers do (``seq`` from 0)."""
    rows = count_submission(store.ibis, sid).to_pyarrow()
    rows = rows.add_column(0, "seq", pa.array(range(rows.num_rows), pa.int32())).cast(OBSERVATIONS_IN)
    rows = rows.add_column(0, "submission_id", pa.array([sid] * rows.num_rows, pa.string()))
    with store.engine.begin() as conn:
        store.bulk_insert(conn, "observations", rows)


def _build(url: str):
    store = open_store(url)
    _load(store, V1, date(2022, 3, 1), VERSION_1)
    _load(store, V2, date(2022, 9, 1), VERSION_2)
    for sid in (V1, V2):
        _store_counts(store, sid)
    return store


@pytest.fixture(scope="module", params=READ_ENGINES)
def thailand(request, tmp_path_factory):
    """Both versions of Thailand's case records, counted into the cube, as each engine reads them:
    a store on DuckDB and PostgreSQL, on Spark a lake exported from a DuckDB store. The tests only read."""
    engine = request.param
    store = _build(_new_url("duckdb" if engine == "spark" else engine, request, tmp_path_factory))
    data = read_on(engine, store, request, tmp_path_factory)
    yield data
    if data is not store:
        data.close()
    store.close()


def cube(t: pd.DataFrame) -> dict:
    """(indicator, year, sex, age) → value."""
    return {(r.indicator, r.year, r.sex, r.age): r.value for r in t.itertuples()}


def totals(c: dict, indicator: str) -> dict:
    """year → the (total, total) figure of one indicator."""
    return {y: v for (i, y, sx, ag), v in c.items() if i == indicator and sx == "total" and ag == "total"}


# --- count_submission ----------------------------------------------------------------------


def test_columns_are_the_observation_schema_without_seq(thailand):
    t = count_submission(thailand.ibis, V2)
    assert list(t.columns) == [f.name for f in OBSERVATIONS_IN if f.name != "seq"]
    df = t.to_pandas()
    assert set(df.area) == {"THA"}
    assert set(df.area_kind) == {"country"}
    assert set(df.status) == {"computed"}
    assert set(df.form) == set(df.citizenship) == set(df.repatriated_to) == {"total"}
    assert set(df.label) == {""} and set(df["rank"]) == {1} and set(df.line) == {0}
    assert df.legal_basis.isna().all()
    units = {m["id"]: m["unit"] for m in reference.indicator_meta()}
    assert all(df.unit == df.indicator.map(units))
    # Events before the period (S7 and C0 in 2016) are not counted into the cube.
    assert set(df.year) == set(PERIOD)
    assert not df.duplicated(["indicator", "year", "sex", "age"]).any()


def test_persons_not_cases_and_the_year_of_the_event(thailand):
    c = cube(count_submission(thailand.ibis, V2).to_pandas())
    # Formal contact: 2017 = S1, S2, S3, the three defendants of C1 (S7's 2016 investigation is
    # before the period). 2018 = S4 (investigated in C2 in February and in C3 in May: one
    # person, counted once) + S5 = 2. 2020 = S6. 2019 and 2021: nobody, so 0, not missing.
    assert totals(c, "persons_formal_contact") == {2017: 3, 2018: 2, 2019: 0, 2020: 1, 2021: 0}
    # Prosecuted: 2017 = S7 (charged 2017 although investigated 2016), S1, S2 = 3. 2018 = S4
    # (charged in C2 and again in C3: once) + S5 = 2.
    assert totals(c, "persons_prosecuted") == {2017: 3, 2018: 2, 2019: 0, 2020: 0, 2021: 0}
    # Offences are cases opened: 2017 C1; 2018 C2, C3, C4; 2020 C5. C0 (2016) is outside.
    assert totals(c, "offences") == {2017: 1, 2018: 3, 2019: 0, 2020: 1, 2021: 0}
    offences = {k for k in c if k[0] == "offences"}
    assert all(k[2:] == ("total", "total") for k in offences)  # offences have no sex or age


def test_convictions_count_at_first_instance_and_reversed_acquittals_on_appeal(thailand):
    c = cube(count_submission(thailand.ibis, V2).to_pandas())
    # 2017: S7 (first instance). 2018: S1 (C1) and S4 (C3); S2 was acquitted in 2018, so not
    # yet. 2019: S2, whose acquittal was reversed on appeal (the appeal year counts); S4's C2
    # dismissal counts nowhere. 2020: S5, although the appeal court quashed it in 2021 (UNODC
    # counts first-instance convictions). 2021: the quashing is not a conviction, so 0.
    assert totals(c, "persons_convicted") == {2017: 1, 2018: 2, 2019: 1, 2020: 1, 2021: 0}
    assert c[("persons_convicted", 2019, "female", "total")] == 1
    assert ("persons_convicted", 2019, "male", "total") not in c


def test_sex_by_age_cells_add_up(thailand):
    c = cube(count_submission(thailand.ibis, V2).to_pandas())
    # Formal contact 2017: S1 male adult, S2 female adult, S3 male of unknown age.
    expected = {
        ("total", "total"): 3, ("female", "total"): 1, ("male", "total"): 2,
        ("total", "adult"): 2, ("total", "unknown"): 1,
        ("female", "adult"): 1, ("male", "adult"): 1, ("male", "unknown"): 1,
    }
    got = {(sx, ag): v for (i, y, sx, ag), v in c.items() if i == "persons_formal_contact" and y == 2017}
    assert got == expected
    # Detected victims 2017: V1 female child, V2 female adult, V3 male adult.
    got = {(sx, ag): v for (i, y, sx, ag), v in c.items() if i == "detected_victims" and y == 2017}
    assert got == {
        ("total", "total"): 3, ("female", "total"): 2, ("male", "total"): 1,
        ("total", "child"): 1, ("total", "adult"): 2,
        ("female", "child"): 1, ("female", "adult"): 1, ("male", "adult"): 1,
    }
    # 2020: V5, whose sex and age are unknown, appears in the unknown cells.
    assert c[("detected_victims", 2020, "unknown", "total")] == 1
    assert c[("detected_victims", 2020, "total", "unknown")] == 1
    assert c[("detected_victims", 2020, "unknown", "unknown")] == 1


def test_victim_services(thailand):
    c = cube(count_submission(thailand.ibis, V2).to_pandas())
    zero = dict.fromkeys(PERIOD, 0)
    # Identified: 2017 V1, V2, V3; 2018 V4; 2020 V5.
    assert totals(c, "detected_victims") == {**zero, 2017: 3, 2018: 1, 2020: 1}
    # Assisted: 2017 V1 (April) and V2 (March); 2018 V4.
    assert totals(c, "victims_assisted") == {**zero, 2017: 2, 2018: 1}
    assert totals(c, "victims_sheltered") == {**zero, 2017: 1}  # V1
    assert totals(c, "victims_repatriated") == {**zero, 2017: 1}  # V3
    # Testified: 2018 V1 and V2 (in the year of the testimony, not of identification); 2020 V4.
    assert totals(c, "victims_testified") == {**zero, 2018: 2, 2020: 1}
    assert totals(c, "victims_protected") == {**zero, 2018: 1}  # V1
    assert totals(c, "victims_compensated") == {**zero, 2018: 1}  # V2
    assert c[("victims_testified", 2018, "female", "child")] == 1  # V1


def test_second_version_replaces_the_first(thailand):
    # Version 1 alone: one suspect investigated in 2017.
    assert totals(cube(count_submission(thailand.ibis, V1).to_pandas()), "persons_formal_contact")[2017] == 1
    # Both versions are in the cube; only version 2's figures are current.
    obs = current_observations(thailand.ibis).to_pandas()
    assert set(obs.submission_id) == {V2}
    assert totals(cube(obs), "persons_formal_contact")[2017] == 3
    stored = thailand.ibis.table("observations").to_pandas()
    assert set(stored.submission_id) == {V1, V2}  # nothing lost


def test_unknown_submission_is_an_error(thailand):
    with pytest.raises(InputError, match="no submission"):
        count_submission(thailand.ibis, "nope")


def test_parse_scope():
    assert parse_scope(SCOPE) == ("THA", date(2017, 1, 1), date(2021, 12, 31))
    for bad in ("THA", "THA:2017..2021", "THA:2021-12-31..2017-01-01", "THA:2017-02-30..2017-12-31"):
        with pytest.raises(InputError):
            parse_scope(bad)


def test_the_cube_reads_counted_figures_as_numbers(thailand):
    tidy = compute(thailand.ibis, years=(2017, 2021), only=["persons_convicted"]).to_pandas()
    row = tidy[(tidy.country == "THA") & (tidy.year == 2018) & (tidy.sex == "total") & (tidy.age == "total")]
    assert row.value.tolist() == [2]


# --- Microdata-only analyses -----------------------------------------------------------------


def rows(t) -> list[dict]:
    return t.to_pandas().to_dict("records")


def test_attrition_cohort(thailand):
    got = {r["cohort_year"]: r for r in rows(attrition(thailand.ibis, countries=["THA"]))}
    # Only version 2 is read: version 1's S1 would make the 2017 cohort 4.
    assert set(got) == {2016, 2017, 2018, 2020}
    # 2017 cohort: S1, S2, S3 (persons, first investigation 2017-03-01; window to 2019-03-01).
    # Charged in the window: S1 and S2. Convicted in the window: S1 (2018-06-15); S2's appeal
    # conviction of 2019-04-10 is after 2019-03-01. The window of the cohort's last possible
    # member (31 Dec 2019) closes before the period ends (31 Dec 2021): complete.
    assert got[2017] == {
        "country": "THA", "cohort_year": 2017, "investigated": 3, "prosecuted_within": 2,
        "convicted_within": 1, "prosecuted_share": pytest.approx(200 / 3),
        "convicted_share": pytest.approx(100 / 3), "complete": True,
    }
    # 2018 cohort: S4 (first investigated 2018-02-01, in C2) and S5 (2018-01-10). Both charged
    # in the window. S4 is convicted in C3 on 2018-12-10: the cohort follows persons, not
    # cases, so it counts. S5's conviction (2020-03-01) is after 2020-01-10.
    assert (got[2018]["investigated"], got[2018]["prosecuted_within"], got[2018]["convicted_within"],
            got[2018]["complete"]) == (2, 2, 1, True)
    # 2020 cohort: S6; a two-year window reaches 2022, after the period: right-censored.
    assert (got[2020]["investigated"], got[2020]["prosecuted_within"], got[2020]["complete"]) == (1, 0, False)
    # 2016 cohort: S7, investigated before the period starts: left-truncated, not complete.
    assert (got[2016]["investigated"], got[2016]["convicted_within"], got[2016]["complete"]) == (1, 1, False)


def test_attrition_window_length(thailand):
    got = {r["cohort_year"]: r for r in rows(attrition(thailand.ibis, within_years=3, years=(2017, 2018)))}
    assert set(got) == {2017, 2018}
    # Three years: S2's appeal conviction (2019-04-10 ≤ 2020-03-01) now counts for 2017, and
    # S5's (2020-03-01 ≤ 2021-01-10) for 2018. 2018 + 3 = 2021, the period's last year: complete.
    assert (got[2017]["convicted_within"], got[2017]["complete"]) == (2, True)
    assert (got[2018]["convicted_within"], got[2018]["complete"]) == (2, True)


def test_durations_median(thailand):
    got = {r["year"]: (r["n"], r["median_days"]) for r in rows(durations(thailand.ibis))}
    # Person-case pairs, investigation → first first-instance verdict, by verdict year:
    # 2017 S7/C0: 2016-11-01 → 2017-12-01 = 365 + 30 = 395 days.
    # 2018 S4/C3: 2018-05-20 → 2018-12-10 = 204; S1/C1: 2017-03-01 → 2018-06-15 = 365 + 106
    #      = 471; S2/C1: → 2018-06-25 = 481 (an acquittal is a verdict too). Median 471.
    # 2019 S4/C2: 2018-02-01 → 2019-01-20 = 353 (dismissed).
    # 2020 S5/C4: 2018-01-10 → 2020-03-01 = 730 + 51 (2020 is a leap year) = 781.
    assert got == {2017: (1, 395.0), 2018: (3, 471.0), 2019: (1, 353.0), 2020: (1, 781.0)}
    # The year filter is on the verdict year.
    assert [r["year"] for r in rows(durations(thailand.ibis, years=(2018, 2019)))] == [2018, 2019]


def test_sentences(thailand):
    got = {r["year"]: r for r in rows(sentences(thailand.ibis))}
    # 2018: S1 60 months and S4 48 months. Interpolated quartiles of (48, 60): Q1 = 48 + 0.25 ×
    # 12 = 51, median = 54 (not 48, the lower median), Q3 = 57.
    assert got[2018] == {"country": "THA", "year": 2018, "convictions": 2, "with_sentence": 2,
                         "q1_months": 51.0, "median_months": 54.0, "q3_months": 57.0}
    # 2019: S2's appeal conviction, 36 months. 2020: S5, 120 months (quashed later, still counted).
    assert (got[2019]["convictions"], got[2019]["median_months"]) == (1, 36.0)
    assert (got[2020]["convictions"], got[2020]["median_months"]) == (1, 120.0)
    # 2017: S7 was fined, not imprisoned: a conviction without a sentence, and no quartiles.
    assert (got[2017]["convictions"], got[2017]["with_sentence"]) == (1, 0)
    assert math.isnan(got[2017]["median_months"])


def test_witnesses(thailand):
    got = {r["year"]: r for r in rows(witnesses(thailand.ibis))}
    assert set(got) == {2017, 2018, 2020}
    # 2017: V1, V2, V3 identified; nobody testified yet: share 0.
    assert got[2017] == {"country": "THA", "year": 2017, "identified": 3, "testified": 0, "protected": 0,
                         "compensated": 0, "testified_share": 0.0}
    # 2018: V4 identified; V1 and V2 testified (identified the year before); V1 protected; V2
    # compensated. A period ratio: 2 testified ÷ 1 identified = 200 %.
    assert got[2018] == {"country": "THA", "year": 2018, "identified": 1, "testified": 2, "protected": 1,
                         "compensated": 1, "testified_share": 200.0}
    # 2020: V5 identified, V4 testified.
    assert (got[2020]["identified"], got[2020]["testified"], got[2020]["testified_share"]) == (1, 1, 100.0)


def test_cooperation(thailand):
    got = rows(cooperation(thailand.ibis))
    # Version 1's R9 (police, THA→VNM) is not current. MLA to Malaysia: R1 pending (no date, so
    # not in the median), R2 executed after 200 days (2018-04-01 → 2018-10-18).
    assert [(r["requested_country"], r["type"]) for r in got] == [("LAO", "extradition"), ("MYS", "mla")]
    lao, mys = got
    # R3 refused: no execution, so no turnaround.
    assert (lao["sent"], lao["executed"], lao["refused"], lao["pending"]) == (1, 0, 1, 0)
    assert math.isnan(lao["median_days_to_execute"])
    assert mys == {"requesting_country": "THA", "requested_country": "MYS", "type": "mla", "sent": 2,
                   "executed": 1, "refused": 0, "pending": 1, "withdrawn": 0, "median_days_to_execute": 200.0}
    # Filters: countries on either side; years on the date sent.
    assert [r["requested_country"] for r in rows(cooperation(thailand.ibis, countries=["LAO"]))] == ["LAO"]
    assert [r["type"] for r in rows(cooperation(thailand.ibis, years=(2018, 2018)))] == ["mla"]
    assert rows(cooperation(thailand.ibis, countries=["VNM"])) == []


def test_filters_by_country(thailand):
    for fn in (attrition, durations, sentences, witnesses):
        assert rows(fn(thailand.ibis, countries=["MYS"])) == []
        pd.testing.assert_frame_equal(fn(thailand.ibis, countries=["THA"]).to_pandas(), fn(thailand.ibis).to_pandas())


# --- Every engine --------------------------------------------------------------------------

_db_names = itertools.count()


def _frames(store) -> dict[str, pd.DataFrame]:
    b = store.ibis
    return {
        "count_submission": count_submission(b, V2).to_pandas(),
        "count_submission_v1": count_submission(b, V1).to_pandas(),
        "attrition": attrition(b).to_pandas(),
        "attrition_3": attrition(b, within_years=3, countries=["THA"], years=(2017, 2020)).to_pandas(),
        "durations": durations(b).to_pandas(),
        "sentences": sentences(b).to_pandas(),
        "witnesses": witnesses(b).to_pandas(),
        "cooperation": cooperation(b).to_pandas(),
    }


def test_duckdb_and_postgres_agree(pg_cluster, tmp_path_factory):
    duck = _build(str(tmp_path_factory.mktemp("casefile") / "tipwatch.duckdb"))
    pg = _build(pg_cluster.create_database(f"casefile_{next(_db_names)}"))
    try:
        a, b = _frames(duck), _frames(pg)
    finally:
        duck.close()
        pg.close()
    for name in a:
        assert len(a[name]) > 0, name
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=True, obj=name)


@pytest.mark.spark
def test_spark_agrees_with_duckdb(spark, tmp_path_factory):
    """Every analysis gives the same rows, values and types on Spark over a lake as on the DuckDB store."""
    from tipwatch.lake import Lake, export_lake

    duck = _build(str(tmp_path_factory.mktemp("casefile") / "tipwatch.duckdb"))
    try:
        folder = tmp_path_factory.mktemp("casefile-lake") / "lake"
        export_lake(duck, folder)
        a = _frames(duck)
    finally:
        duck.close()
    with Lake(folder, engine="spark") as lake:
        b = _frames(lake)
    for name in a:
        assert len(a[name]) > 0, name
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=True, obj=name)
