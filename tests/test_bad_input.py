"""Bad input gets one clear sentence and a non-zero exit; the store is unchanged."""

from __future__ import annotations

import shutil

import pytest

from tests import glotip_files
from tests.conftest import GLOTIP_2023, ROOT
from tipwatch.cli import main
from tipwatch.store import open_store


def store_state(url: str) -> tuple:
    with open_store(url) as store:
        b = store.ibis
        return tuple(b.table(t).count().execute() for t in ("raw_files", "submissions", "observations"))


@pytest.fixture
def seeded(store_url, tmp_path):
    """A store that already holds one small release (so 'unchanged' is not 'empty')."""
    path = glotip_files.release(tmp_path / "small.xlsx", "30/05/2023", phl_2019="2,041")
    assert main(["import", str(path), "--db", store_url]) == 0
    return store_url


def run_import(url: str, path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["import", str(path), "--db", url])
    err = capsys.readouterr().err
    return code, err


def _not_glotip(tmp_path):
    return glotip_files.write(tmp_path / "budget.xlsx", [["Ministry", 2019, 1200]], vintage=None,
                              header=["Department", "Year", "Budget"])


def _truncated(tmp_path):
    data = GLOTIP_2023.read_bytes()
    p = tmp_path / "data_glotip.xlsx"
    p.write_bytes(data[: len(data) // 3])
    return p


def _csv_renamed(tmp_path):
    p = tmp_path / "victims.xlsx"
    p.write_text("Iso3_code,Country,Year,txtVALUE\nTHA,Thailand,2019,554\n", encoding="utf-8")
    return p


def _empty(tmp_path):
    p = tmp_path / "empty.xlsx"
    p.write_bytes(b"")
    return p


def _missing(tmp_path):
    return tmp_path / "no-such-file.xlsx"


def _bad_values(tmp_path):
    return glotip_files.write(tmp_path / "bad.xlsx", [
        glotip_files.row("THA", "Thailand", "Persons prosecuted", 2019, "five hundred"),
        glotip_files.row("THAI", "Thailand", "Persons prosecuted", 2018, "12"),
        glotip_files.row("PHL", "Philippines", "Persons prosecuted", 2019, "44"),
    ])


def _no_banner(tmp_path):
    return glotip_files.write(tmp_path / "stripped.xlsx", [
        glotip_files.row("THA", "Thailand", "Persons prosecuted", 2019, "554")], vintage=None)


@pytest.mark.parametrize(("make", "expected"), [
    (_not_glotip, "not one tipwatch knows how to import"),
    (_truncated, "damaged or incomplete"),
    (_csv_renamed, "text (CSV) file with an Excel name"),
    (_empty, "is empty (0 bytes)"),
    (_missing, "does not exist"),
    (_bad_values, "2 problems found"),
    (_no_banner, "release date"),
], ids=["not-glotip", "truncated", "csv-renamed-xlsx", "empty", "missing", "bad-values", "no-banner"])
def test_refused_with_one_sentence_and_store_unchanged(seeded, tmp_path, capsys, make, expected):
    before = store_state(seeded)
    code, err = run_import(seeded, make(tmp_path), capsys)
    assert code != 0
    assert expected in err
    assert "Traceback" not in err
    first = err.strip().splitlines()[0]
    assert first.startswith("error: ") and first.rstrip().endswith((".", ")"))
    assert store_state(seeded) == before


def test_every_problem_of_a_file_is_listed_with_its_line(tmp_path, capsys):
    code = main(["validate", str(_bad_values(tmp_path))])
    err = capsys.readouterr().err
    assert code == 1
    assert "line 4" in err and "field txtVALUE" in err and "'five hundred'" in err
    assert "line 5" in err and "did you mean THA?" in err


def test_a_file_without_banner_imports_with_a_given_vintage(store_url, tmp_path):
    path = _no_banner(tmp_path)
    assert main(["import", str(path), "--db", store_url, "--vintage", "2023-05-30"]) == 0
    assert store_state(store_url)[1] == 1


def test_a_store_that_is_not_a_store_is_refused(tmp_path, capsys):
    fake = tmp_path / "fake.duckdb"
    shutil.copy(ROOT / "pyproject.toml", fake)
    code = main(["indicators", "--db", str(fake)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and "error:" in err
