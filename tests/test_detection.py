"""`tipwatch import` recognises a file by its content, says what it found, and obeys --format."""

from __future__ import annotations

import json
import shutil

from tests.conftest import GLOTIP_2023
from tipwatch.cli import main
from tipwatch.ingest.template import EXAMPLE


def test_a_renamed_workbook_is_still_recognised(tmp_path, capsys):
    renamed = tmp_path / "export.dat"  # nothing in the name says GLOTIP, or even Excel
    shutil.copyfile(GLOTIP_2023, renamed)
    db = str(tmp_path / "s.duckdb")
    assert main(["import", str(renamed), "--db", db]) == 0
    out = capsys.readouterr().out
    assert "export.dat: UNODC" in out and "(detected from its content)" in out


def test_format_given_on_the_command_line_is_said_so(tmp_path, capsys):
    folder = tmp_path / "tha"
    shutil.copytree(EXAMPLE, folder)
    db = str(tmp_path / "s.duckdb")
    assert main(["import", str(folder), "--db", db, "--format", "casefile", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert (res["format"], res["detected"]) == ("casefile", False)
    assert main(["import", str(folder), "--db", db, "--format", "casefile"]) == 0
    assert "(as given with --format)" in capsys.readouterr().out


def test_the_wrong_format_forced_is_refused_clearly(tmp_path, capsys):
    folder = tmp_path / "tha"
    shutil.copytree(EXAMPLE, folder)
    assert main(["import", str(folder), "--db", str(tmp_path / "s.duckdb"), "--format", "glotip"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip()
