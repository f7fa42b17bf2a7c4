"""HTCDS case exports: detected from their header, harmonised, stored and counted, or refused whole."""

from __future__ import annotations

import json

import pytest

from tests.conftest import FIXTURES
from tipwatch import harmonise
from tipwatch.cli import main
from tipwatch.indicators import compute
from tipwatch.ingest import registry
from tipwatch.ingest.files import receive
from tipwatch.ingest.template import EXAMPLE
from tipwatch.store import open_store

HTCDS = FIXTURES / "htcds"
KHM = HTCDS / "khm-2021-2022.csv"
TABLES = ("raw_files", "submissions", "observations", "cases", "persons", "proceedings", "services")


@pytest.fixture(autouse=True)
def _no_env_folder(monkeypatch):
    monkeypatch.delenv(harmonise.CROSSWALKS_ENV, raising=False)


def state(url: str) -> tuple:
    with open_store(url) as store:
        return tuple(store.ibis.table(t).count().execute() for t in TABLES)


def rows(url: str, table: str, order: str) -> list[dict]:
    with open_store(url) as store:
        return store.ibis.table(table).order_by(order).to_pyarrow().to_pylist()


def figures(url: str) -> dict:
    """(indicator, year, sex, age) → value of the htcds submission's observations."""
    with open_store(url) as store:
        obs = store.ibis.table("observations").to_pyarrow().to_pylist()
    return {(o["indicator"], o["year"], o["sex"], o["age"]): o["value"] for o in obs}


def import_json(path, url, capsys, *extra) -> dict:
    assert main(["import", str(path), "--db", url, "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


# --- detection --------------------------------------------------------------------------------


def test_detected_from_the_header_only(tmp_path):
    assert registry.detect(receive(KHM)).name == "htcds"
    # A real HTCDS export without tipwatch's reference columns is still recognised (and then told
    # what is missing); the casefile CSVs and a tier list are not HTCDS.
    named_otherwise = tmp_path / "export.txt"
    named_otherwise.write_text("prs_Gender,prs_Nationality,vic_TypeOfExploitation,cas_Status\nFemale,KH,,Active\n",
                               encoding="utf-8")
    assert registry.detect(receive(named_otherwise)).name == "htcds"
    assert not registry.formats()["htcds"].detect(receive(EXAMPLE / "persons.csv"))
    assert not registry.formats()["htcds"].detect(receive(FIXTURES / "crosswalks" / "tiers_2015.csv"))


# --- import, on both engines ------------------------------------------------------------------


def test_import_stores_the_cases_and_counts_victims_persons_not_cases(store_url, capsys):
    res = import_json(KHM, store_url, capsys)
    assert (res["format"], res["detected"], res["vintage"]) == ("htcds", True, "2022-02-01")
    report = res["report"]
    # The file's dates run from 2021-03-04 to 2022-02-01: whole calendar years 2021 and 2022.
    assert (report["country"], report["period"]) == ("KHM", ["2021-01-01", "2022-12-31"])
    # 10 person rows (7 victims, 3 perpetrators) in 3 cases; services: 7 identifications and
    # 6 referrals (V-101 and V-102 out on 2021-03-05, V-103..V-105 in on 2021-09-14, V-106 out).
    assert report["tables"] == {"cases": 3, "persons": 10, "services": 13}
    assert state(store_url) == (1, 1, 38, 3, 10, 0, 13)

    with open_store(store_url) as store:
        sub = store.ibis.table("submissions").to_pyarrow().to_pylist()[0]
    assert (sub["source"], sub["scope"]) == ("htcds", "KHM:2021-01-01..2022-12-31")

    cases = rows(store_url, "cases", "case_ref")
    assert [(c["case_ref"], str(c["opened_on"]), c["form"], c["cross_border"], c["line"]) for c in cases] == [
        ("KH-2021-0007", "2021-03-04", "sexual_exploitation", True, 2),  # both victims exploited in TH
        ("KH-2021-0012", "2021-09-15", None, False, 6),  # forced labour and forced criminality: no one form
        ("KH-2022-0003", "2022-01-20", "forced_labour", False, 9),
    ]
    assert {c["country"] for c in cases} == {"KHM"}

    persons = {(p["case_ref"], p["person_ref"]): p for p in rows(store_url, "persons", "line")}
    got = {k: (p["role"], p["sex"], p["age"], p["age_group"], p["citizenship"], p["line"]) for k, p in persons.items()}
    assert got == {
        # V-102's details hold a line break: the rows after it start one line later.
        ("KH-2021-0007", "V-101"): ("victim", "female", 15, "child", "KHM", 2),
        ("KH-2021-0007", "V-102"): ("victim", "female", 22, "adult", "KHM", 3),
        ("KH-2021-0007", "P-201"): ("suspect", "male", 41, "adult", "THA", 5),
        ("KH-2021-0012", "V-103"): ("victim", "male", 31, "adult", "MMR", 6),
        ("KH-2021-0012", "V-104"): ("victim", "male", None, "unknown", "NAM", 7),  # ISO2 NA is Namibia
        ("KH-2021-0012", "V-105"): ("victim", "other", 17, "child", "VNM", 8),  # 17 until 1 December
        ("KH-2022-0003", "V-106"): ("victim", "female", 36, "adult", "unknown", 9),  # "Khmer": not mapped
        ("KH-2022-0003", "V-101"): ("victim", "female", 16, "child", "KHM", 10),
        ("KH-2022-0003", "P-202"): ("suspect", "unknown", None, "unknown", "KHM", 11),
        ("KH-2022-0003", "P-203"): ("suspect", "female", 42, "adult", "KHM", 12),
    }
    services = [(s["person_ref"], s["service"], str(s["service_date"]), s["provider"])
                for s in rows(store_url, "services", "line")]
    assert sorted(services) == sorted([
        ("V-101", "identified", "2021-03-04", "police"), ("V-101", "referred", "2021-03-05", "police"),
        ("V-102", "identified", "2021-03-04", "police"), ("V-102", "referred", "2021-03-05", "police"),
        ("V-103", "identified", "2021-09-15", "ngo"), ("V-103", "referred", "2021-09-14", None),
        ("V-104", "identified", "2021-09-15", "ngo"), ("V-104", "referred", "2021-09-14", None),
        ("V-105", "identified", "2021-09-15", "ngo"), ("V-105", "referred", "2021-09-14", None),
        ("V-106", "identified", "2022-01-20", "social_services"),
        ("V-106", "referred", "2022-02-01", "social_services"),
        ("V-101", "identified", "2022-01-20", "social_services"),
    ])

    f = figures(store_url)
    # Victims identified, persons not cases, in the year their case opened: 2021 V-101, V-102,
    # V-103, V-104, V-105; 2022 V-106 and V-101 again (her second case).
    assert (f["detected_victims", 2021, "total", "total"], f["detected_victims", 2022, "total", "total"]) == (5, 2)
    assert [f["detected_victims", 2021, s, "total"] for s in ("female", "male", "other")] == [2, 2, 1]
    assert [f["detected_victims", 2021, "total", a] for a in ("child", "adult", "unknown")] == [2, 2, 1]
    assert (f["detected_victims", 2022, "female", "child"], f["detected_victims", 2022, "female", "adult"]) == (1, 1)
    assert (f["offences", 2021, "total", "total"], f["offences", 2022, "total", "total"]) == (2, 1)
    # Perpetrators are no suspects in the criminal-justice sense: HTCDS records no investigation.
    assert f["persons_formal_contact", 2021, "total", "total"] == 0
    assert f["persons_convicted", 2022, "total", "total"] == 0
    # 11 indicators × 2 years of totals, plus detected victims by sex, by age and sex × age:
    # 2021: 3 + 3 + 5 cells; 2022: 1 + 2 + 2.
    assert len(f) == 22 + 11 + 5 == report["figures_counted"]

    with open_store(store_url) as store:
        t = compute(store.ibis, region="ASEAN", years=(2021, 2022), only=["detected_victims"]).to_pyarrow()
    khm = {r["year"]: r["value"] for r in t.to_pylist()
           if r["country"] == "KHM" and r["sex"] == r["age"] == r["form"] == "total"}
    assert khm == {2021: 5, 2022: 2}


def test_unmapped_values_are_stored_as_unknown_and_reported(tmp_path, capsys):
    url = str(tmp_path / "t.duckdb")
    report = import_json(KHM, url, capsys)["report"]
    assert report["harmonisation"]["unmapped"] == [
        {"field": "prs_Nationality", "value": "Khmer", "rows": 1, "suggestions": ["KHM"]},
        {"field": "vic_TypeOfExploitation", "value": "ForcedCriminality", "rows": 1,
         "suggestions": ["forced_criminality"]},
    ]
    # HTCDS values (Victim, NGO, Transgender/NonConforming, SexualExploitation, ...) through the
    # bundled crosswalk; ISO2 codes and Female/Male built in; "Viet Nam" by its ISO 3166 name.
    assert report["harmonisation"]["crosswalks"] == {"country_names_iso": 1, "htcds": 28, "builtin": 34}
    assert report["columns_not_read"] == ["cas_Status", "vic_MethodOfRecruitment", "vic_MethodsOfControl",
                                          "vic_DetailsOfVulnerabilities", "per_RoleInProcess", "hte_Type"]
    assert main(["import", str(KHM), "--db", str(tmp_path / "u.duckdb")]) == 0
    text = capsys.readouterr().out
    assert "imported khm-2021-2022.csv as htcds" in text
    assert "not mapped: prs_Nationality 'Khmer' (1 row); did you mean KHM?" in text
    assert "not mapped: vic_TypeOfExploitation 'ForcedCriminality' (1 row); did you mean forced_criminality?" in text
    assert "10 person rows in 3 cases: 7 victims, 3 perpetrators" in text


def test_the_same_file_twice_changes_nothing_and_year_narrows_the_scope(tmp_path, capsys):
    url = str(tmp_path / "t.duckdb")
    first = import_json(KHM, url, capsys)
    again = import_json(KHM, url, capsys)
    assert again["unchanged"] and again["submission"] == first["submission"]
    assert state(url) == (1, 1, 38, 3, 10, 0, 13)

    other = str(tmp_path / "year.duckdb")
    res = import_json(KHM, other, capsys, "--year", "2022", "--vintage", "2022-03-31")
    assert (res["report"]["period"], res["vintage"]) == (["2022-01-01", "2022-12-31"], "2022-03-31")
    f = figures(other)
    assert f["detected_victims", 2022, "total", "total"] == 2
    assert not any(year == 2021 for _, year, _, _ in f)


# --- refusals ---------------------------------------------------------------------------------


def test_a_bad_file_is_refused_whole_with_every_problem(store_url, capsys):
    assert main(["import", str(HTCDS / "bad.csv"), "--db", store_url]) == 1
    err = capsys.readouterr().err
    assert "bad.csv was not imported: 9 problems found, the first: field org_ShippingCountry: the file holds " \
           "the cases of several reporting countries (KHM 4 rows, THA 1 row)" in err
    assert state(store_url) == (0,) * len(TABLES)

    assert main(["validate", str(HTCDS / "bad.csv"), "--json"]) == 1
    problems = [(p["code"], p["line"], p["field"], p["found"])
                for p in json.loads(capsys.readouterr().out)["problems"]]
    # In file order, whole-file problems first.
    assert problems == [
        ("htcds-countries", None, "org_ShippingCountry", ""),
        ("htcds-date", 3, "cas_CreatedDate", "04/03/2021"),
        ("htcds-context", 4, "prs_Context", "Witness"),
        ("htcds-personal-data", 5, "prs_FirstName", ""),
        ("htcds-birthdate", 5, "prs_Birthdate", "2023-02-28"),
        ("htcds-duplicate", 6, "prs_Id", "V-101"),
        ("htcds-required", 7, "prs_Id", ""),
        ("htcds-date", 7, "cas_CreatedDate", "2021-02-30"),  # no 30 February
        ("htcds-country", 7, "org_ShippingCountry", "Kambodia"),
    ]
    assert main(["validate", str(HTCDS / "bad.csv")]) == 1
    lines = capsys.readouterr().err.splitlines()[1:]
    assert lines == [
        "  field org_ShippingCountry: the file holds the cases of several reporting countries (KHM 4 rows, THA 1 "
        "row); a submission is one country's: split the file by org_ShippingCountry [htcds-countries].",
        "  line 3, field cas_CreatedDate: not a date (found '04/03/2021', expected a date as YYYY-MM-DD) "
        "[htcds-date].",
        "  line 4, field prs_Context: not a value tipwatch can map (found 'Witness', expected Victim or "
        "Perpetrator) [htcds-context].",
        "  line 5, field prs_FirstName: prs_FirstName holds 1 value(s): tipwatch keeps every file it receives and "
        "must not keep names, contacts or addresses; empty the column (or remove it) and send the file again "
        "[htcds-personal-data].",
        "  line 5, field prs_Birthdate: the birthdate gives an age of -2 on the day the case was opened (found "
        "'2023-02-28', expected a birthdate before cas_CreatedDate, at most 120 years before) [htcds-birthdate].",
        "  line 6, field prs_Id: person V-101 is in case KH-2021-0007 already, on line 2 (found 'V-101', expected "
        "one row per person and case) [htcds-duplicate].",
        "  line 7, field prs_Id: prs_Id is empty [htcds-required].",
        "  line 7, field cas_CreatedDate: not a date (found '2021-02-30', expected a date as YYYY-MM-DD) "
        "[htcds-date].",
        "  line 7, field org_ShippingCountry: not a value tipwatch can map; did you mean KHM? (found 'Kambodia', "
        "expected a country code or name) [htcds-country].",
    ]


def test_missing_columns_are_all_named(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("prs_Gender,prs_Nationality,vic_TypeOfExploitation,cas_Status\nFemale,KH,,Active\n",
                    encoding="utf-8")
    from tipwatch.ingest import InvalidFile, parse_file

    with pytest.raises(InvalidFile) as exc:
        parse_file(path)
    assert [(p.code, p.field, p.line) for p in exc.value.problems] == [
        ("htcds-columns", name, 1)
        for name in ("cas_CaseNumber", "cas_CreatedDate", "prs_Id", "prs_Context", "org_ShippingCountry")]
    assert str(exc.value).startswith("export.csv was not imported: 5 problems found, the first: line 1, field "
                                     "cas_CaseNumber: the header has no column cas_CaseNumber")


def test_a_year_without_data_is_refused(tmp_path):
    from tipwatch.ingest import InvalidFile, parse_file

    with pytest.raises(InvalidFile, match=r"no case was opened and no victim referred in 2019, the year given "
                                          r"\(found '2019', expected dates in 2021–2022\) \[htcds-year\]"):
        parse_file(KHM, year=2019)


def test_a_semicolon_separated_export_reads_alike(tmp_path, capsys):
    import csv

    with KHM.open(encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    path = tmp_path / "khm-semicolons.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\r\n").writerows(table)
    assert main(["validate", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["report"]
    assert (report["tables"], report["figures_counted"]) == ({"cases": 3, "persons": 10, "services": 13}, 38)
