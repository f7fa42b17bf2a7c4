"""Case-level submissions: the template workbook and its CSV files import, all or nothing, by version."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from tipwatch.cli import main
from tipwatch.indicators import compute
from tipwatch.ingest.template import EXAMPLE
from tipwatch.store import open_store


def state(url: str) -> tuple:
    with open_store(url) as store:
        return tuple(store.ibis.table(t).count().execute()
                     for t in ("raw_files", "submissions", "observations", "cases", "persons", "proceedings",
                               "services", "cooperation_requests"))


def tha(url: str) -> dict:
    """THA's headline figures by (indicator, year), from the indicator table."""
    with open_store(url) as store:
        t = compute(store.ibis, region="ASEAN", years=(2019, 2021)).to_pandas()
    t = t[(t.country == "THA") & (t.sex == "total") & (t.age == "total") & (t.form == "total")]
    return {(r.indicator, r.year): (None if r.value != r.value else r.value) for r in t.itertuples()}


@pytest.fixture
def example_xlsx(tmp_path):
    path = tmp_path / "tha-2019-2021.xlsx"
    assert main(["template", "--out", str(path), "--example"]) == 0
    return path


@pytest.fixture
def example_csv(tmp_path):
    folder = tmp_path / "tha-csv"
    shutil.copytree(EXAMPLE, folder)
    return folder


def test_the_worked_example_imports_and_counts_persons_not_cases(store_url, example_xlsx):
    assert main(["import", str(example_xlsx), "--db", store_url]) == 0
    assert state(store_url)[3:] == (2, 6, 7, 10, 2)
    f = tha(store_url)
    # Worked out by hand from the example (reference/data/casefile/example):
    # P-0001 and P-0002 investigated 2019-02-11 (one case, two persons); P-0005 in 2020.
    assert (f[("persons_formal_contact", 2019)], f[("persons_formal_contact", 2020)]) == (2, 1)
    assert f[("persons_formal_contact", 2021)] == 0  # case records: none that year is a zero
    assert f[("persons_prosecuted", 2019)] == 2
    # P-0001 convicted, P-0002 acquitted at first instance, both 2021-03-22.
    assert f[("persons_convicted", 2021)] == 1
    assert f[("persons_convicted", 2019)] == 0
    # Victims identified: P-0003 and P-0004 in 2019, P-0006 in 2020.
    assert (f[("detected_victims", 2019)], f[("detected_victims", 2020)]) == (2, 1)


def test_the_same_data_as_csv_gives_the_same_figures(store_url, example_xlsx, example_csv, tmp_path):
    other = tmp_path / "other.duckdb"
    assert main(["import", str(example_csv), "--db", store_url]) == 0
    assert main(["import", str(example_xlsx), "--db", str(other)]) == 0
    assert tha(store_url) == tha(str(other))


def test_same_file_twice_changes_nothing(store_url, example_xlsx, capsys):
    assert main(["import", str(example_xlsx), "--db", store_url]) == 0
    before = state(store_url)
    assert main(["import", str(example_xlsx), "--db", store_url]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert state(store_url) == before


def test_one_error_stores_nothing_and_a_correction_adds_a_version(store_url, example_csv, capsys):
    assert main(["import", str(example_csv), "--db", store_url]) == 0
    before = state(store_url)
    persons = example_csv / "persons.csv"
    rows = list(csv.reader(persons.open(encoding="utf-8")))
    rows[1][6] = "THAI"  # P-0001's citizenship: not a country code
    with persons.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    capsys.readouterr()
    assert main(["import", str(example_csv), "--db", store_url]) == 1
    err = capsys.readouterr().err
    assert "THAI" in err and "line 2" in err and "THA" in err
    assert state(store_url) == before

    # The corrected file: P-0001 is Lao, and P-0005 was also prosecuted in 2021.
    rows[1][6] = "LAO"
    with persons.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    with (example_csv / "proceedings.csv").open("a", encoding="utf-8", newline="") as fh:
        fh.write("P-0005,TH-2020-014,prosecution_initiated,2021-02-01,,,,\n")
    sub = example_csv / "submission.csv"
    sub.write_text(sub.read_text(encoding="utf-8").replace("2022-03-15", "2022-04-01"), encoding="utf-8")
    assert main(["import", str(example_csv), "--db", store_url]) == 0
    assert tha(store_url)[("persons_prosecuted", 2021)] == 1
    capsys.readouterr()
    assert main(["submissions", "--db", store_url, "--json"]) == 0
    versions = json.loads(capsys.readouterr().out)
    assert [(v["version"], v["current"]) for v in versions] == [(1, False), (2, True)]
    assert versions[1]["changes"]["revised"] >= 1


def test_validate_lists_every_problem_as_json(example_csv, capsys):
    (example_csv / "cases.csv").write_text(
        "case_ref,opened_on,offence,form,cross_border\nTH-2019-001,31/12/2019,,sexual_exploitation,yes\n"
        "TH-2019-001,2020-06-03,,forced_labour,maybe\n", encoding="utf-8")
    assert main(["validate", str(example_csv), "--json"]) == 1
    res = json.loads(capsys.readouterr().out)
    assert res["valid"] is False
    lines = {(p["line"], p["field"]) for p in res["problems"]}
    assert (2, "opened_on") in lines and (3, "cross_border") in lines


def test_blank_template_is_refused_with_a_clear_message(tmp_path, capsys):
    path = tmp_path / "blank.xlsx"
    main(["template", "--out", str(path)])
    capsys.readouterr()
    assert main(["validate", str(path)]) == 1
    assert "submission" in capsys.readouterr().err


def test_a_warning_does_not_stop_the_import(store_url, example_csv, capsys):
    cases = example_csv / "cases.csv"
    lines = cases.read_text(encoding="utf-8").splitlines()
    cases.write_text("\n".join([lines[0] + ",notes"] + [line + ",seen" for line in lines[1:]]) + "\n",
                     encoding="utf-8")
    assert main(["import", str(example_csv), "--db", store_url]) == 0
    assert "warning:" in capsys.readouterr().out


def _big_persons(folder, rows: int, bad_at: int | None = None) -> None:
    """``rows`` extra victims in the example's first case; the one on line ``bad_at`` has sex ``mle``."""
    persons = folder / "persons.csv"
    text = persons.read_text(encoding="utf-8")
    first_line = len(text.splitlines())  # lines so far, header included
    with persons.open("a", encoding="utf-8") as fh:
        for i in range(rows):
            line = first_line + 1 + i
            sex = "mle" if line == bad_at else ("female" if i % 2 else "male")
            fh.write(f"X-{line:07d},TH-2019-001,victim,{sex},{20 + i % 40},,THA\n")


def test_lines_are_file_lines_in_a_file_read_in_parallel(tmp_path, example_csv, capsys):
    # 400,000 rows: DuckDB reads such a file in parallel chunks; every problem must still name
    # the line of the file, and every stored row the line it came from.
    _big_persons(example_csv, 400_000, bad_at=377_001)
    assert main(["validate", str(example_csv), "--json"]) == 1
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert [(p["code"], p["line"], p["found"]) for p in problems] == [("codelist", 377_001, "mle")]

    fixed = tmp_path / "fixed"
    shutil.copytree(EXAMPLE, fixed)
    _big_persons(fixed, 400_000)
    url = f"duckdb:///{tmp_path / 'lines.duckdb'}"
    assert main(["import", str(fixed), "--db", url]) == 0
    with open_store(url) as store:
        p = store.ibis.table("persons")
        got = p.filter(p.person_ref.isin(["X-0000008", "X-0123457", "X-0400007"])).select("person_ref", "line")
        got = {r["person_ref"]: r["line"] for r in got.to_pyarrow().to_pylist()}
    assert got == {"X-0000008": 8, "X-0123457": 123_457, "X-0400007": 400_007}


def test_a_csv_that_is_not_utf8_is_refused_with_a_clear_message(example_csv, capsys):
    persons = example_csv / "persons.csv"
    persons.write_bytes(persons.read_bytes() + "P-0099,TH-2019-001,victim,female,19,,THA,Jo\xe3o\n".encode("latin-1"))
    assert main(["validate", str(example_csv)]) == 1
    err = capsys.readouterr().err
    assert "persons.csv is not UTF-8 text" in err and "Traceback" not in err
