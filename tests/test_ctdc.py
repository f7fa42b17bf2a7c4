"""CTDC's global victim dataset, as imported and tabulated by tipwatch, reproduces what others published.

Published figures: the printed outputs of `analise_preliminar.ipynb` in
wellingtonf-souza/Human-Trafficking (commit a1fb877c…, run on CTDC's full 63-column file of
14 Apr 2020 with 2019 removed), copied below with the cells they come from. They are asserted from
the output of `tipwatch victims` over the bundled 7-column subset, on DuckDB and PostgreSQL.
Country codes are printed there as CTDC writes them (ISO2, ``0`` for unknown, NaN for missing);
tipwatch stores ISO3, ``unknown`` and null.

The other tests pin the traps of the format, with hand-made files (tests/fixtures/ctdc/README.md).
"""

from __future__ import annotations

import io
import json
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import FIXTURES, ROOT, _new_url
from tipwatch import reference
from tipwatch.cli import main
from tipwatch.ingest import InvalidFile, import_file, parse_file
from tipwatch.store import open_store

SUBSET = ROOT / "src" / "tipwatch" / "bundled" / "ctdc-2020-subset" / "dados_app.csv"
FULL_2020 = FIXTURES / "ctdc" / "ctdc-2020-full-layout.csv"
SYNTHETIC_2024 = FIXTURES / "ctdc" / "ctdc-2024-synthetic-layout.csv"
ENGINES = ("duckdb", "postgres")

# --- published figures (notebook cells by position: 13, 19, 20, 23, 25, 43, 45, 46, 55, 74, 78) ----------

REGISTRATIONS_PER_YEAR = {
    2002: 1026, 2003: 357, 2004: 223, 2005: 1455, 2006: 1423, 2007: 1417, 2008: 802, 2009: 587, 2010: 943,
    2011: 1340, 2012: 1367, 2013: 1832, 2014: 3000, 2015: 4276, 2016: 16399, 2017: 6508, 2018: 5818,
}
GENDER_PERCENT = {"female": 72.798475, "male": 27.201525}
AGE_BROAD_PERCENT = {
    None: 25.317286, "9--17": 17.724971, "30--38": 14.510077, "18--20": 9.119800, "21--23": 8.637976,
    "24--26": 7.102290, "39--47": 5.783938, "27--29": 5.414881, "48+": 3.198491, "0--8": 3.190290,
}
CITIZENSHIP = {
    "PH": 11365, "0": 8858, "UA": 7761, "MD": 5901, "US": 3636, "KH": 1979, "ID": 1971, "BY": 1463, "MM": 1250,
    "RO": 655, "GH": 544, "KG": 437, "BG": 342, "HT": 339, "UZ": 261, "VN": 170, "GW": 145, "LA": 126, "CO": 124,
    "NG": 108, "AF": 97, "MG": 94, "LK": 85, "SL": 81, "UG": 70, "SN": 70, "TH": 55, "KZ": 54, "CD": 53, "ML": 45,
    "TJ": 43, "BF": 33, "KE": 32, "NE": 31, "CI": 31, "NP": 27, "TM": 26, "CN": 23, "AL": 22, "MX": 19, "BO": 18,
    "GN": 15, "ER": 13, "KR": 12, "BD": 11, None: 278,
}
COUNTRY_OF_EXPLOITATION = {
    "US": 12512, "UA": 5399, "MD": 4504, "RU": 2738, "PH": 1988, "ID": 1777, "KH": 1000, "MY": 930, "0": 844,
    "GH": 544, "AE": 504, "BY": 400, "TH": 391, "SN": 370, "BG": 356, "HT": 339, "PL": 326, "SA": 278, "RO": 259,
    "RS": 248, "QA": 239, "KZ": 222, "KW": 209, "TR": 197, "MK": 194, "UZ": 193, "BA": 127, "UG": 123, "JP": 111,
    "JO": 108, "MG": 94, "OM": 94, "TT": 85, "AF": 83, "SL": 81, "CN": 79, "LB": 73, "TJ": 54, "IN": 46, "SY": 41,
    "CZ": 38, "SG": 37, "ZA": 36, "TW": 33, "HK": 31, "BD": 26, "TM": 26, "IT": 24, "AT": 24, "BH": 22, "AL": 22,
    "MU": 20, "AR": 18, "DK": 17, "VN": 16, "EG": 13, "EC": 13, "CY": 11, "LY": 11, None: 10175,
}
FORCED_LABOUR_SHARE = {False: 0.334242, True: 0.200357, None: 0.465401}
SEXUAL_EXPLOIT_SHARE = {False: 0.159802, True: 0.328850, None: 0.511348}
# Two cells of each year × flag crosstab printed in datasets.md (no / yes / missing).
SEXUAL_EXPLOIT_2016 = {False: 665, True: 3436, None: 12298}
FORCED_LABOUR_2018 = {False: 4786, True: 139, None: 893}
AFTER_EXCLUDING_ZERO = {"rows": 39071, "citizenships": 44, "countries": 58}
TOP_CITIZENSHIPS_AFTER = {"PH": 11365, "UA": 7761, "MD": 5432, "US": 3636, "KH": 1979}
TOP_COUNTRIES_AFTER = {"UA": 5363, "MD": 4504, "US": 3690, "RU": 2738, "PH": 1988}
FLOWS = {("ID", "MY"): 553, ("ID", "ID"): 245, ("ID", "SG"): 37, ("ID", "ZA"): 36, ("MG", "MG"): 94,
         ("BO", "AR"): 18, ("CD", "UG"): 53}


def iso3(code: str | None) -> str | None:
    """CTDC's ISO2 code (``0`` unknown, None missing) as tipwatch stores it."""
    if code is None:
        return None
    if code == "0":
        return "unknown"
    return next(c.iso3 for c in reference.countries().values() if c.iso2 == code)


@pytest.fixture(scope="session", params=ENGINES)
def ctdc_url(request, tmp_path_factory) -> str:
    """A store holding the bundled CTDC subset, on each engine (imported once; the store is closed so
    that the command line can open it)."""
    url = _new_url(request.param, request, tmp_path_factory)
    with open_store(url) as store:
        result = import_file(store, SUBSET)
    assert result.format == "ctdc" and result.detected
    return url


def victims(url: str, capsys, *args: str) -> pd.DataFrame:
    """`tipwatch victims … --format csv` as a table: codes as text, an empty cell as None."""
    capsys.readouterr()
    assert main(["victims", "--db", url, "--format", "csv", *args]) == 0
    text = capsys.readouterr().out
    t = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    # An empty cell is a missing key, or a count the privacy layer withheld (1 to 4 records).
    convert = {"victims": int, "share": float}
    return pd.DataFrame({col: [None if v == "" else convert.get(col, str)(v) for v in t[col]] for col in t.columns},
                        dtype=object)


def as_dict(t: pd.DataFrame, key: str, value: str = "victims") -> dict:
    return dict(zip(t[key], t[value], strict=True))


def flag(v: str | None) -> bool | None:
    return None if v is None else {"True": True, "False": False}[v]


# --- the published figures -------------------------------------------------------------------------------


def test_registrations_per_year(ctdc_url, capsys):
    t = victims(ctdc_url, capsys, "--by", "year")
    assert {int(y): n for y, n in as_dict(t, "year").items()} == REGISTRATIONS_PER_YEAR
    assert t.victims.sum() == 48_801 - 28  # the full file less its 28 records of 2019


def test_gender_shares(ctdc_url, capsys):
    t = victims(ctdc_url, capsys, "--by", "sex", "--share")
    assert {k: round(v, 6) for k, v in as_dict(t, "sex", "share").items()} == GENDER_PERCENT


def test_age_band_shares(ctdc_url, capsys):
    t = victims(ctdc_url, capsys, "--by", "age_broad", "--share")
    assert {k: round(v, 6) for k, v in as_dict(t, "age_broad", "share").items()} == AGE_BROAD_PERCENT


def test_all_citizenship_counts(ctdc_url, capsys):
    t = victims(ctdc_url, capsys, "--by", "citizenship")
    assert len(t) == len(CITIZENSHIP) == 46
    assert as_dict(t, "citizenship") == {iso3(k): n for k, n in CITIZENSHIP.items()}


def test_all_country_of_exploitation_counts(ctdc_url, capsys):
    t = victims(ctdc_url, capsys, "--by", "exploitation_country")
    assert len(t) == len(COUNTRY_OF_EXPLOITATION) == 60
    assert as_dict(t, "exploitation_country") == {iso3(k): n for k, n in COUNTRY_OF_EXPLOITATION.items()}


def test_forms_of_exploitation_shares(ctdc_url, capsys):
    for by, expected in (("forced_labour", FORCED_LABOUR_SHARE), ("sexual_exploitation", SEXUAL_EXPLOIT_SHARE)):
        t = victims(ctdc_url, capsys, "--by", by, "--share")
        assert {flag(k): round(v / 100, 6) for k, v in as_dict(t, by, "share").items()} == expected


def test_year_by_form_crosstabs(ctdc_url, capsys):
    t = victims(ctdc_url, capsys, "--by", "year", "--by", "sexual_exploitation")
    y = t[t.year == "2016"]
    assert {flag(k): n for k, n in as_dict(y, "sexual_exploitation").items()} == SEXUAL_EXPLOIT_2016
    t = victims(ctdc_url, capsys, "--by", "year", "--by", "forced_labour")
    y = t[t.year == "2018"]
    assert {flag(k): n for k, n in as_dict(y, "forced_labour").items()} == FORCED_LABOUR_2018


def test_excluding_the_zero_codes(ctdc_url, capsys):
    capsys.readouterr()
    assert main(["victims", "--db", ctdc_url, "--exclude-unknown", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"victims": AFTER_EXCLUDING_ZERO["rows"]}]
    cit = victims(ctdc_url, capsys, "--by", "citizenship", "--exclude-unknown")
    known = cit[cit.citizenship.notna()]
    assert len(known) == AFTER_EXCLUDING_ZERO["citizenships"] and "unknown" not in set(known.citizenship)
    assert as_dict(known.head(5), "citizenship") == {iso3(k): n for k, n in TOP_CITIZENSHIPS_AFTER.items()}
    cty = victims(ctdc_url, capsys, "--by", "exploitation_country", "--exclude-unknown")
    known = cty[cty.exploitation_country.notna()]
    assert len(known) == AFTER_EXCLUDING_ZERO["countries"] and "unknown" not in set(known.exploitation_country)
    assert as_dict(known.head(5), "exploitation_country") == {iso3(k): n for k, n in TOP_COUNTRIES_AFTER.items()}
    assert cty.victims.sum() == AFTER_EXCLUDING_ZERO["rows"]  # the missing (NaN) ones are kept


def test_flows(ctdc_url, capsys):
    t = victims(ctdc_url, capsys, "--by", "flow", "--exclude-unknown")
    flows = {(r.citizenship, r.exploitation_country): r.victims for r in t.itertuples()}
    for (src, dst), n in FLOWS.items():
        assert flows[iso3(src), iso3(dst)] == n, (src, dst)


# --- the cube -----------------------------------------------------------------------------------------


def test_victims_count_into_the_cube(ctdc_url, capsys):
    """Each record with a year and a known country of exploitation counts once, in that country."""
    from tipwatch.indicators import compute

    with open_store(ctdc_url) as store:
        tidy = compute(store.ibis, region="ASEAN", only=["victims_registered"]).to_pandas()
        with store.engine.connect() as conn:
            report = json.loads(conn.execute(sa.text("SELECT report FROM submissions WHERE source = 'ctdc'"))
                                .scalar_one())
    region = tidy[(tidy.country == "ASEAN") & (tidy.sex == "total") & (tidy.age == "total")]
    assert region.value.sum() == 6_139  # ID, KH, MY, PH, SG, TH, VN as countries of exploitation
    assert set(region.status) == {"computed"}
    countries = tidy[(tidy.country != "ASEAN") & (tidy.sex == "total") & (tidy.age == "total")]
    by_country = countries.groupby("country").value.sum().to_dict()
    assert by_country["MYS"] == 930 and by_country["SGP"] == 37 and by_country["VNM"] == 16
    # The sex and age cells add up to their margins.
    cells = tidy[(tidy.country == "PHL") & (tidy.year == 2016) & (tidy.sex != "total") & (tidy.age != "total")]
    total = tidy[(tidy.country == "PHL") & (tidy.year == 2016) & (tidy.sex == "total") & (tidy.age == "total")]
    assert cells.value.sum() == total.value.iloc[0]
    assert report["records_counted"] == 48_773 - 844 - 10_175
    assert report["records_not_counted"] == {"no_year": 0, "exploitation_country_unknown": 844,
                                             "exploitation_country_missing": 10_175}


def test_import_report_lists_the_ignored_lookup_columns(ctdc_url):
    with open_store(ctdc_url) as store, store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT source, scope, vintage, format, report FROM submissions")).one()
        n = conn.execute(sa.text("SELECT count(*) FROM victim_records")).scalar_one()
    report = json.loads(row.report)
    assert (row.source, row.scope, str(row.vintage), row.format) == ("ctdc", "global", "2020-04-14", "ctdc")
    assert n == 48_773
    assert report["ignored_columns"] == ["nacionalidade_lat", "nacionalidade_long", "nacionalidade",
                                         "pais_exploracao_lat", "pais_exploracao_long", "pais_exploracao",
                                         "nacionalidade_alpha3", "pais_exploracao_alpha3"]
    assert report["countries"]["citizenship"] == {"column": "citizenship", "unknown": 8858, "missing": 278,
                                                  "mapped": 48_773 - 8858 - 278}
    assert report["detected_by"] == "first rows"  # the 7 columns are in both layouts
    assert report["vintage_assumed"] is True
    assert report["harmonisation"]["unmapped"] == []
    # The crosswalks count records, not the distinct combinations of values they were looked up on.
    countries = report["countries"]
    assert sum(report["harmonisation"]["crosswalks"].values()) == (
        countries["citizenship"]["mapped"] + countries["exploitation_country"]["mapped"])


def test_the_tabulation_is_released_for_its_audience(ctdc_url):
    from tipwatch import privacy
    from tipwatch.cli.victims import released_victims

    t = released_victims(ctdc_url, "ctdc", ["year"], False, "national:IDN")
    assert privacy.require_released(t, "a test") == "national:IDN"


def test_the_published_figures_survive_the_privacy_layer(ctdc_url, capsys):
    """CTDC k-anonymised the file (k = 11): even its finest cross-tabulation has no cell the public release
    withholds (1 to 4 records; tests below show withheld cells on small files)."""
    t = victims(ctdc_url, capsys, "--by", "year", "--by", "flow", "--by", "sex", "--by", "age_broad", "--share")
    assert t.victims.notna().all() and t.share.notna().all()
    assert t.victims.min() == 11


# --- traps -------------------------------------------------------------------------------------------


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _records(path, **kwargs) -> list[dict]:
    _, batch = parse_file(path, **kwargs)
    return batch.microdata["victim_records"].to_pylist()


def test_namibia_zero_and_minus_99(tmp_path):
    """NA is Namibia, not a missing value; 0 (and 00) is unknown; -99 and an empty cell are missing."""
    path = _write(tmp_path, "codes.csv", "yearOfRegistration,citizenship,CountryOfExploitation\n"
                  "2017,NA,ZA\n2017,0,NA\n2017,-99,\n2018,00,-99\n")
    got = [(r["citizenship"], r["exploitation_country"]) for r in _records(path)]
    assert got == [("NAM", "ZAF"), ("unknown", "NAM"), (None, None), ("unknown", None)]


def test_a_code_of_the_other_iso_length_is_refused(tmp_path):
    """In the ISO3 (2024) layout NA is more likely R's missing value than Namibia: never guessed."""
    path = _write(tmp_path, "iso.csv", "yearOfRegistration,gender,citizenship,CountryOfExploitation\n"
                  "2021,Woman,NA,MYS\n2021,Man,NAM,PH\n")
    with pytest.raises(InvalidFile) as exc:
        parse_file(path)
    problems = exc.value.problems
    assert [(p.code, p.line, p.field, p.found) for p in problems] == [
        ("ctdc-country", 2, "citizenship", "NA"), ("ctdc-country", 3, "CountryOfExploitation", "PH")]
    assert "write NAM for Namibia, or leave the cell empty" in problems[0].message
    assert "did you mean PHL?" in problems[1].message


def test_float_flags(tmp_path):
    path = _write(tmp_path, "flags.csv", "yearOfRegistration,gender,isForcedLabour,isSexualExploit\n"
                  "2017,Female,1.0,0.0\n2017,Male,0,1\n2017,Female,,-99\n")
    _, batch = parse_file(path)
    got = [(r["forced_labour"], r["sexual_exploitation"]) for r in batch.microdata["victim_records"].to_pylist()]
    assert got == [(True, False), (False, True), (None, None)]
    assert batch.report["flags_written_as_floats"] == 2


def test_values_not_in_the_codebook_refuse_the_file_with_every_problem(tmp_path, store_url, capsys):
    path = _write(tmp_path, "typos.csv", "yearOfRegistration,gender,ageBroad,citizenship,isForcedLabour\n"
                  "2017,Female,9--17,PH,1\n2017,Fmale,18--20,PH,0\n2016,Male,17--20,PH,1\n2016,Male,48+,PH,yes\n")
    with pytest.raises(InvalidFile) as exc:
        parse_file(path)
    problems = [(p.code, p.line, p.field, p.found) for p in exc.value.problems]
    assert problems == [("ctdc-code", 3, "gender", "Fmale"), ("ctdc-code", 4, "ageBroad", "17--20"),
                        ("ctdc-flag", 5, "isForcedLabour", "yes")]
    gender = exc.value.problems[0]
    assert "did you mean 'Female'?" in gender.message
    assert gender.expected.startswith("Female, Male, Transgender/NonConforming, Unknown")
    # Nothing is stored, and the person reads one sentence per problem, no traceback.
    assert main(["import", str(path), "--db", store_url]) == 1
    err = capsys.readouterr().err
    assert "typos.csv was not imported: 3 problems found" in err and "Traceback" not in err
    with open_store(store_url) as store, store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM submissions")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM victim_records")).scalar_one() == 0


def test_lines_stay_right_after_empty_and_blank_rows(tmp_path):
    """DuckDB skips an empty line; the problems below it still name their own line."""
    path = _write(tmp_path, "gaps.csv", "yearOfRegistration,gender,citizenship\r\n2017,Female,PH\r\n\r\n"
                  "2017,Fmale,PH\r\n,,\r\n2016,Mle,PH\r\n")
    with pytest.raises(InvalidFile) as exc:
        parse_file(path)
    assert [(p.line, p.found) for p in exc.value.problems] == [(4, "Fmale"), (6, "Mle")]
    path = _write(tmp_path, "gaps-ok.csv",
                  "yearOfRegistration,gender,citizenship\n2017,Female,PH\n\n,,\n2016,Male,NA\n")
    _, batch = parse_file(path)
    assert [r["line"] for r in batch.microdata["victim_records"].to_pylist()] == [2, 5]
    assert "1 row with no value in any CTDC column skipped" in batch.report["warnings"]


def test_unknown_country_code_and_bad_year_are_errors(tmp_path):
    path = _write(tmp_path, "codes.csv", "yearOfRegistration,citizenship,CountryOfExploitation\n"
                  "20x6,PH,MY\n1999,XX,MY\n2017,PH,MY\n")
    with pytest.raises(InvalidFile) as exc:
        parse_file(path)
    problems = [(p.code, p.line, p.field, p.found) for p in exc.value.problems]
    assert problems == [("ctdc-year", 2, "yearOfRegistration", "20x6"), ("ctdc-year", 3, "yearOfRegistration", "1999"),
                        ("ctdc-country", 3, "citizenship", "XX")]
    assert "--crosswalk" in exc.value.problems[2].message


def test_a_value_differing_only_in_case_is_read_with_a_warning(tmp_path):
    path = _write(tmp_path, "case.csv", "yearOfRegistration,gender,CountryOfExploitation\n2017,female,PH\n"
                  "2017,MALE,PH\n")
    _, batch = parse_file(path)
    assert [r["sex"] for r in batch.microdata["victim_records"].to_pylist()] == ["female", "male"]
    assert any("differ from CTDC's codebook only in upper/lower case" in w for w in batch.report["warnings"])


def test_a_header_of_no_known_format(tmp_path, store_url, capsys):
    path = _write(tmp_path, "other.csv", "name,size\nx,1\n")
    assert main(["import", str(path), "--db", store_url]) == 1
    err = capsys.readouterr().err
    assert "other.csv is a text file but not one tipwatch knows how to import" in err
    assert "CTDC global victim dataset, 2020 layout" in err


def test_a_non_ctdc_file_given_as_ctdc(tmp_path):
    path = _write(tmp_path, "other.csv", "name,size\nx,1\n")
    with pytest.raises(InvalidFile) as exc:
        parse_file(path, format="ctdc")
    assert exc.value.problems[0].code == "ctdc-header"


def test_a_header_mixing_the_two_layouts(tmp_path):
    path = _write(tmp_path, "mixed.csv", "yearOfRegistration,Datasource,gender,traffickMonths\n"
                  "2017,Hotline,Female,25+ (2+ yrs)\n")
    with pytest.raises(InvalidFile) as exc:
        parse_file(path)
    assert [p.code for p in exc.value.problems] == ["ctdc-mixed-layout"]
    assert exc.value.problems[0].found == "traffickMonths"


def test_a_column_named_twice(tmp_path):
    path = _write(tmp_path, "twice.csv", "yearOfRegistration,gender,Gender\n2017,Female,Male\n")
    with pytest.raises(InvalidFile) as exc:
        parse_file(path)
    assert [(p.code, p.field) for p in exc.value.problems] == [("ctdc-duplicate-column", "Gender")]


def test_a_2024_file_given_as_the_2020_layout(tmp_path):
    with pytest.raises(InvalidFile) as exc:
        parse_file(SYNTHETIC_2024, format="ctdc")
    p = exc.value.problems[0]
    assert p.code == "ctdc-layout" and "--format ctdc_synthetic" in p.message


def test_a_header_with_no_records(tmp_path):
    path = _write(tmp_path, "empty.csv", "yearOfRegistration,gender,citizenship\n")
    with pytest.raises(InvalidFile) as exc:
        parse_file(path)
    assert [p.code for p in exc.value.problems] == ["ctdc-empty"]


# --- layouts: the full 2020 file, a 3-column subset, the 2024 synthetic file -----------------------


def test_full_2020_layout(tmp_path):
    _, batch = parse_file(FULL_2020, vintage=date(2020, 4, 14))
    assert batch.report["layout"] == "ctdc_2020" and batch.report["detected_by"] == "header"
    assert len(batch.report["columns_read"]) == 63 and batch.report["ignored_columns"] == []
    assert batch.report["vintage_assumed"] is False
    rows = {r["line"]: r for r in batch.microdata["victim_records"].to_pylist()}
    assert rows[2]["citizenship"] == "NAM" and rows[2]["exploitation_country"] == "ZAF"
    assert (rows[2]["sex"], rows[2]["age_broad"], rows[2]["age_group"]) == ("female", "9--17", "child")
    # No age band: majorityStatus says adult.
    assert (rows[3]["age_broad"], rows[3]["age_group"], rows[3]["citizenship"]) == (None, "adult", "unknown")
    assert rows[3]["forms"] == "begging;forced_labour"
    assert (rows[4]["sex"], rows[4]["exploitation_country"]) == ("other", None)
    assert rows[4]["forms"] == "forced_labour;sexual_exploitation"  # isSexAndLabour
    assert (rows[5]["age_group"], rows[5]["forced_labour"], rows[5]["forms"]) == ("unknown", None, None)
    assert (rows[6]["sex"], rows[6]["other_exploitation"]) == ("unknown", True)
    assert rows[6]["forms"] == "forced_marriage;other"
    assert rows[7]["forms"] == "forced_criminality;forced_labour"
    assert [r["record_ref"] for r in rows.values()] == ["2", "3", "4", "5", "6", "7"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_subset_of_three_columns(engine, tmp_path, request, tmp_path_factory, capsys):
    url = _new_url(engine, request, tmp_path_factory)
    path = _write(tmp_path, "three.csv", "yearOfRegistration,gender,CountryOfExploitation\n"
                  + "2016,Female,PH\n" * 7 + "2017,Male,NA\n" * 6 + "2017,Female,0\n")
    assert main(["import", str(path), "--db", url]) == 0
    t = victims(url, capsys, "--by", "year", "--by", "exploitation_country")
    # 1 record is withheld (below k = 5), and so is Namibia's 6: with the year's total, which
    # `--by year` publishes, it would give the withheld count away (complementary suppression).
    assert {(r.year, r.exploitation_country): r.victims for r in t.itertuples()} == {
        ("2016", "PHL"): 7, ("2017", "NAM"): None, ("2017", "unknown"): None}
    with open_store(url) as store, store.engine.connect() as conn:
        cube = conn.execute(sa.text("SELECT area, year, value FROM observations WHERE sex = 'total' AND age = 'total' "
                                    "AND citizenship = 'total' ORDER BY area")).all()
        cits = conn.execute(sa.text("SELECT DISTINCT citizenship FROM victim_records")).scalars().all()
    assert [tuple(r) for r in cube] == [("NAM", 2017, 6.0), ("PHL", 2016, 7.0)]
    assert cits == [None]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_2024_synthetic_layout_stays_apart(engine, request, tmp_path_factory, capsys):
    url = _new_url(engine, request, tmp_path_factory)
    assert main(["import", str(SYNTHETIC_2024), "--db", url]) == 0
    out = capsys.readouterr().out
    assert "CTDC global synthetic victim dataset, 2024 layout" in out and "never mixed with real figures" in out
    # The same file again changes nothing.
    assert main(["import", str(SYNTHETIC_2024), "--db", url]) == 0
    assert "nothing changed" in capsys.readouterr().out
    with open_store(url) as store:
        with store.engine.connect() as conn:
            subs = conn.execute(sa.text("SELECT source, format, vintage FROM submissions")).all()
            rows = conn.execute(sa.text(
                "SELECT line, sex, age_broad, citizenship, exploitation_country, forced_labour, sexual_exploitation, "
                "other_exploitation FROM victim_records ORDER BY line")).all()
        from tipwatch.indicators import current_observations

        real = current_observations(store.ibis).to_pandas()
        synthetic = current_observations(store.ibis, synthetic=True).to_pandas()
    assert [(s.source, s.format, str(s.vintage)) for s in subs] == [("ctdc_synthetic", "ctdc_synthetic", "2024-02-01")]
    assert real.empty and set(synthetic.indicator) == {"victims_registered"}
    assert [tuple(r) for r in rows] == [
        (2, "female", "18--20", "PHL", "MYS", False, True, False),  # blanks beside a 1 are 0 (codebook rule)
        (3, "male", "30--38", "IDN", "SAU", True, False, False),  # "30—38" as the codebook prints it
        (4, "other", None, None, "USA", None, None, None),  # no type of exploitation given: missing
        (5, "female", "9--17", "NAM", "ZAF", False, False, True),
        (6, "unknown", "48+", "KHM", "THA", True, True, False),
    ]
    assert main(["victims", "--db", url, "--source", "ctdc", "--format", "csv"]) == 1
    assert "holds no ctdc victim records" in capsys.readouterr().err
    assert victims(url, capsys, "--source", "ctdc_synthetic").victims.tolist() == [5]
    by_year = victims(url, capsys, "--source", "ctdc_synthetic", "--by", "year")
    assert len(by_year) == 5 and by_year.victims.isna().all()  # one record a year: withheld


def test_unknown_dimension_is_one_sentence(ctdc_url, capsys):
    assert main(["victims", "--db", ctdc_url, "--by", "colour"]) == 1
    assert "colour is not something to count by" in capsys.readouterr().err


def test_lines_are_file_lines_in_a_file_read_in_parallel(tmp_path):
    """400,000 records: DuckDB reads them in parallel chunks; problems and stored rows keep their file line."""
    rows = ["yearOfRegistration,gender,ageBroad,citizenship"]
    years = [str(2002 + i % 17) for i in range(400_000)]
    for i, year in enumerate(years):
        line = i + 2
        gender = "Fmale" if line == 377_001 else ("Female" if i % 3 else "Male")
        rows.append(f"{year},{gender},{'9--17' if i % 2 else '30--38'},{'PH' if i % 5 else 'ID'}")
    path = tmp_path / "big.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InvalidFile) as exc:
        parse_file(path)
    assert [(p.line, p.found) for p in exc.value.problems] == [(377_001, "Fmale")]

    rows[377_001 - 1] = rows[377_001 - 1].replace("Fmale", "Female")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    _, batch = parse_file(path)
    t = batch.microdata["victim_records"].select(["line", "year", "citizenship"]).to_pandas()
    # Every stored record carries its own line: its year and citizenship are the ones written there.
    assert sorted(t.line) == list(range(2, 400_002))
    expected_year = [int(years[line - 2]) for line in t.line]
    expected_cit = ["PHL" if (line - 2) % 5 else "IDN" for line in t.line]
    assert t.year.tolist() == expected_year and t.citizenship.tolist() == expected_cit


def test_a_row_with_too_few_or_too_many_fields_is_refused_with_its_line(tmp_path, store_url, capsys):
    """A cut or hand-edited row is not padded or guessed: each is listed with its line, nothing is stored."""
    path = _write(tmp_path, "cut.csv", "yearOfRegistration,gender,citizenship\n2017,Female,PH\n\n2017,Female\n"
                  "2016,Male,PH\n2016,Male,PH,extra\n")
    with pytest.raises(InvalidFile) as exc:
        parse_file(path)
    problems = exc.value.problems
    assert [(p.code, p.line, p.found) for p in problems] == [
        ("ctdc-fields", 4, "2017,Female"), ("ctdc-fields", 6, "2016,Male,PH,extra")]
    assert problems[0].message.startswith("this row has 2 fields and the header 3")
    assert main(["import", str(path), "--db", store_url]) == 1
    err = capsys.readouterr().err
    assert "cut.csv was not imported: 2 problems found" in err and "Traceback" not in err
    with open_store(store_url) as store, store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM victim_records")).scalar_one() == 0


def test_a_file_that_is_not_utf8_is_refused_with_what_to_do(tmp_path, store_url, capsys):
    path = tmp_path / "latin1.csv"
    path.write_bytes("yearOfRegistration,gender,citizenship\n2017,Female,BR\n2017,Fêmea,BR\n".encode("latin-1"))
    assert main(["import", str(path), "--db", store_url]) == 1
    err = capsys.readouterr().err
    assert "latin1.csv is not UTF-8 text: save it as 'CSV UTF-8' and import it again." in err
    assert "Traceback" not in err


def test_a_line_break_inside_quotes_is_part_of_its_cell(tmp_path):
    """Quoted cells may hold line breaks (an ignored free-text column, say): the record is read whole."""
    path = _write(tmp_path, "notes.csv", 'yearOfRegistration,gender,citizenship,note\n'
                  '2017,Female,PH,"met at the border,\nreferred"\n2016,Male,ID,\n')
    _, batch = parse_file(path)
    got = [(r["year"], r["sex"], r["citizenship"]) for r in batch.microdata["victim_records"].to_pylist()]
    assert got == [(2017, "female", "PHL"), (2016, "male", "IDN")]


def test_a_huge_value_or_row_is_refused_in_a_sentence(tmp_path, store_url, capsys):
    """A damaged or hostile file: a 5-million-character cell is shown cut short; a 20 MB row is one sentence."""
    path = tmp_path / "huge-cell.csv"
    path.write_text("yearOfRegistration,gender,citizenship\n2017,Female,PH\n2017," + "x" * 5_000_000 + ",PH\n",
                    encoding="utf-8")
    with pytest.raises(InvalidFile) as exc:
        parse_file(path)
    (problem,) = exc.value.problems
    assert (problem.code, problem.line, problem.field) == ("ctdc-code", 3, "gender")
    assert problem.found.endswith("… (5,000,000 characters in all)") and len(problem.found) < 200
    path = tmp_path / "huge-row.csv"
    path.write_text("yearOfRegistration,gender,citizenship\n2017,Female,PH\n2017,Female," + "x" * 20_000_000 + "\n",
                    encoding="utf-8")
    assert main(["import", str(path), "--db", store_url]) == 1
    err = capsys.readouterr().err
    assert "huge-row.csv has a row longer than 4 MB: no CTDC record is that long" in err
    assert "Traceback" not in err and len(err) < 1000
