"""Disclosure control on what tipwatch really publishes: the attacker against every output.

The attacker (`tipwatch.privacy.attack`) takes a table as released, the sums that hold among its
figures, and solves for the smallest and largest value of each withheld count. Every output of
the demo — the report's tables, the public CSV export, the dashboard JSON, ``tipwatch victims`` —
must leave each small count in an interval at least the protection width wide, and contain no
count from 1 to k−1. Switched off, complementary suppression must lose: the same attacker then
recovers counts. Last, `test_every_output_leaves_through_the_layer` runs every command and proves
that each one that prints figures asked the privacy layer for them.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from tipwatch import privacy
from tipwatch.cli import main
from tipwatch.privacy import attack, primary, relations
from tipwatch.privacy import outputs as release_module

KEYS = ["country", "year", "indicator", "sex", "age", "form"]
K, WIDTH = 5, 5.0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo store (GLOTIP, tiers, CTDC, synthetic case records) and its report, with the calls
    the report made to the privacy layer."""
    root = tmp_path_factory.mktemp("disclosure")
    db = str(root / "tipwatch.duckdb")
    calls = []
    real = release_module._mark

    def counted(out, aud, *args, **kwargs):
        calls.append(aud.name)
        return real(out, aud, *args, **kwargs)

    release_module._mark = counted
    try:
        assert main(["demo", "--out", str(root / "report"), "--db", db]) == 0
    finally:
        release_module._mark = real
    return {"db": db, "report": root / "report", "report_calls": calls}


def _switch_off_complementary(monkeypatch):
    conf = privacy.settings()
    off = {**conf, "audiences": {name: {**a, "complementary": False} for name, a in conf["audiences"].items()}}
    monkeypatch.setattr("tipwatch.privacy.audiences.settings", lambda: off)


def audit_tidy(original: pd.DataFrame, released: pd.DataFrame) -> list[attack.Interval]:
    """The attacker on a tidy table as released, against the relations of the true figures."""
    original = original.reset_index(drop=True)
    flags = original[KEYS].merge(released[[*KEYS, "status", "value"]], on=KEYS, how="left", validate="1:1")
    withheld = (flags["status"] == "suppressed").to_numpy()
    sens = primary.sensitive(original, K)
    # No count from 1 to k-1 is published.
    shown = flags["value"].to_numpy(dtype=float)
    counts = original["unit"].isin(primary.COUNT_UNITS).to_numpy()
    assert not (counts & (shown >= 1) & (shown < K)).any()
    return attack.recoverable(relations.tidy(original), withheld, sens, WIDTH)


def _store(db):
    from tipwatch.store import open_store

    return open_store(db)


def _compute(db, **kwargs) -> pd.DataFrame:
    from tipwatch.indicators import compute

    with _store(db) as store:
        return compute(store.ibis, **kwargs).to_pandas()


# --- the report -------------------------------------------------------------------------------------------


def _report_input(db):
    from tipwatch.report.build import build_input

    with _store(db) as store:
        return build_input(store, "ASEAN", (2003, 2021), "public", synthetic_casework=True)


def _casework_originals(db) -> dict[str, pd.DataFrame]:
    from tipwatch import reference
    from tipwatch.indicators import casefile

    members = sorted({m for y in range(2003, 2022) for m in reference.members("ASEAN", y)})
    with _store(db) as store:
        return {name: getattr(casefile, name)(store.ibis, countries=members, years=(2003, 2021),
                                                synthetic=True).to_pandas()
                for name in ("attrition", "sentences", "cooperation")}


def _audit_casework(originals, released) -> dict[str, list]:
    from tipwatch.report.build import _CASEWORK_COUNTS, _CASEWORK_SUMS

    found = {}
    for name, original in originals.items():
        counts = _CASEWORK_COUNTS[name][0]
        s = relations.wide(original, counts, **_CASEWORK_SUMS[name])
        rel = released[name]
        assert len(rel) == len(original)
        withheld = rel[counts].isna().to_numpy().ravel() & original[counts].notna().to_numpy().ravel()
        shown = rel[counts].to_numpy(dtype=float)
        assert not ((shown >= 1) & (shown < K)).any(), name
        sens = primary.small(original[counts].to_numpy(dtype=float).ravel(), K)
        found[name] = attack.recoverable(s, withheld, sens, WIDTH)
    return found


def test_the_demo_reports_tables_pass_the_attacker(demo):
    inp = _report_input(demo["db"])
    original = _compute(demo["db"], region="ASEAN", years=(2003, 2021))
    assert audit_tidy(original, inp.tidy) == []
    found = _audit_casework(_casework_originals(demo["db"]), inp.casework)
    assert found == {"attrition": [], "sentences": [], "cooperation": []}
    # The cooperation matrix needed complementary suppression to get there.
    assert inp.casework["cooperation"].attrs[privacy.PROTECTION]["complementary_suppressed"] > 0
    assert ("complementary suppression", "on: protection width 5") in inp.settings.items()


def test_the_demo_report_gives_counts_away_without_complementary_suppression(demo, monkeypatch):
    _switch_off_complementary(monkeypatch)
    inp = _report_input(demo["db"])
    found = _audit_casework(_casework_originals(demo["db"]), inp.casework)
    assert found["cooperation"], "requests by status add up to those sent: a withheld one is their difference"
    assert any(i.width == 0 for i in found["cooperation"])  # known exactly


def test_the_report_says_how_its_figures_were_protected(demo):
    html = (demo["report"] / "index.html").read_text(encoding="utf-8")
    assert "complementary suppression" in html and "Fischetti" in html
    assert "protection width 5" in html


# --- case-record counts in the cube: breakdowns and regional sums -----------------------------------------


@pytest.fixture(scope="module")
def synthetic_cube(demo):
    """The demo's synthetic case records counted into the cube: many small counts that add up exactly."""
    return _compute(demo["db"], region="ASEAN", years=(2016, 2017), synthetic=True)


def test_case_record_counts_pass_the_attacker(synthetic_cube):
    out = privacy.release(synthetic_cube, privacy.audience("public"))
    meta = out.attrs[privacy.PROTECTION]
    assert meta["primary_suppressed"] > 100 and meta["complementary_suppressed"] > 50
    assert meta["unprotectable"] == 0
    assert audit_tidy(synthetic_cube, out) == []


def test_case_record_counts_are_given_away_by_primary_suppression_alone(synthetic_cube):
    out = privacy.release(synthetic_cube, privacy.audience("public", complementary=False))
    found = audit_tidy(synthetic_cube, out)
    assert len(found) > 100
    # Most are known exactly: a total minus its other parts.
    assert sum(i.width == 0 for i in found) > 50


# --- exports: CSV, dashboard JSON, tipwatch victims -------------------------------------------------------


def _run(argv, capsys) -> str:
    capsys.readouterr()
    assert main(argv) == 0
    return capsys.readouterr().out


def test_the_public_csv_export_passes_the_attacker(demo, capsys):
    text = _run(["indicators", "--db", demo["db"], "--region", "ASEAN", "--years", "2003-2021",
                 "--audience", "public", "--format", "csv"], capsys)
    released = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])
    original = _compute(demo["db"], region="ASEAN", years=(2003, 2021))
    assert len(released) == len(original)
    assert audit_tidy(original, released) == []


def test_the_dashboard_json_passes_the_attacker(demo):
    original = _compute(demo["db"], region="ASEAN", years=(2003, 2021))
    doc = privacy.release_json(original, privacy.audience("public"))
    assert doc["protection"]["k"] == K and doc["protection"]["differential_privacy"] is None
    released = pd.DataFrame(doc["rows"])
    assert audit_tidy(original, released) == []


def _text(v) -> str:
    return "(missing)" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _victims_lattice_withheld(db, by: list[str], capsys) -> tuple[relations.Lattice, np.ndarray]:
    """Every tabulation the attacker can ask for along ``by`` (each subset of it), as released."""
    from itertools import combinations

    from tipwatch.indicators.victims import tabulate

    with _store(db) as store:
        finest = tabulate(store.ibis, source="ctdc", by=tuple(by)).to_pandas()
    lat = relations.lattice(finest, by, "victims")
    withheld = np.zeros(len(lat.cells), dtype=bool)
    for n in range(len(by) + 1):
        for dims in combinations(by, n):
            args = [a for d in dims for a in ("--by", d)]
            rows = json.loads(_run(["victims", "--db", db, *args, "--share", "--json"], capsys))
            got = pd.DataFrame(rows)
            assert not ((got["victims"] >= 1) & (got["victims"] < K)).any()
            mine = lat.cells[(lat.cells.level == n)
                             & (lat.cells[[d for d in by if d not in dims]] == relations.MARGIN).all(axis=1)]
            assert len(mine) == len(got)
            if not dims:
                withheld[mine.index.to_numpy()] = got["victims"].isna().to_numpy()
                continue
            key = [*dims]
            left = mine[key].map(_text).assign(_cell=mine.index.to_numpy())
            right = got[key].map(_text).assign(_hidden=got["victims"].isna().to_numpy())
            both = left.merge(right, on=key, how="inner", validate="1:1")
            assert len(both) == len(got)
            withheld[both["_cell"].to_numpy()] = both["_hidden"].to_numpy()
    return lat, withheld


def test_tipwatch_victims_passes_the_attacker(demo, capsys):
    lat, withheld = _victims_lattice_withheld(demo["db"], ["exploitation_country", "forced_labour"], capsys)
    sens = primary.small(lat.cells["victims"], K)
    assert attack.recoverable(lat.structure, withheld, sens, WIDTH) == []


# --- the one exit -----------------------------------------------------------------------------------------

#: Every command, and how to run it on the demo store so that it prints figures; None for the
#: commands that publish no figure about people (with the reason).
NO_FIGURES = {
    "import": "prints what it stored (rows, problems), no figure about people",
    "validate": "prints the problems of a file",
    "template": "writes a blank template",
    "synth": "writes synthetic records (no real person)",
    "submissions": "lists submission versions and how many figures each changed",
    "crosswalks check": "checks a crosswalk file",
    "privacy check": "an operator's check of the store's records before an export (exit 1 if any breaks k)",
    "demo": "writes the report: its calls are counted by the demo fixture",
    "export": "copies the store itself into a Parquet lake for the Spark engine: an operator's copy, not a "
              "publication (its figures leave only through tipwatch indicators --lake)",
    "serve": "the web application: every figure it shows leaves through tipwatch.web.access (the report's "
             "build_input, released for the asker's audience); tests/test_web*.py check who gets what",
    "users add": "manages the web application's people",
    "users list": "manages the web application's people",
    "users password": "manages the web application's people",
    "users disable": "manages the web application's people",
    "users enable": "manages the web application's people",
    "users token": "manages the web application's people",
}


def _commands() -> list[str]:
    from tipwatch.cli import _register, app

    _register()
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    for g in app.registered_groups:
        group = g.name if isinstance(g.name, str) else "crosswalks"
        names += [f"{group} {c.name}" for c in g.typer_instance.registered_commands]
    return names


def test_every_output_leaves_through_the_layer(demo, tmp_path, capsys, monkeypatch):
    db = demo["db"]
    runs = {
        "indicators": ["indicators", "--db", db, "--region", "ASEAN", "--years", "2018-2019", "--format", "json"],
        "victims": ["victims", "--db", db, "--by", "year", "--share"],
        "assessments": ["assessments", "--db", db, "--region", "ASEAN", "--format", "csv"],
        "revisions": ["revisions", "--db", db],
        "report": ["report", "--db", db, "--region", "ASEAN", "--years", "2018-2019", "--out", str(tmp_path / "r")],
        "privacy export": ["privacy", "export", "--db", db, "--out", str(tmp_path / "records.csv")],
    }
    unknown = [c for c in _commands() if c not in runs and c not in NO_FIGURES]
    assert unknown == [], f"say how {unknown} publishes its figures (or that it publishes none)"
    calls: list[str] = []
    real_mark = release_module._mark

    def counted(out, aud, *args, **kwargs):
        calls.append(aud.name)
        return real_mark(out, aud, *args, **kwargs)

    from tipwatch.privacy import kanon

    real_anonymise = kanon.anonymise

    def anonymised(*args, **kwargs):
        calls.append("k-anonymity")
        return real_anonymise(*args, **kwargs)

    monkeypatch.setattr(release_module, "_mark", counted)
    monkeypatch.setattr(kanon, "anonymise", anonymised)
    for name, argv in runs.items():
        calls.clear()
        capsys.readouterr()
        rc = main(argv)
        printed = capsys.readouterr().out
        if rc != 0:
            # Only a refusal before any figure: revisions needs two releases of a source.
            assert name == "revisions" and not any(ch.isdigit() for ch in printed), name
            continue
        assert calls, f"tipwatch {name} printed figures without the privacy layer"
    assert demo["report_calls"], "the demo report never asked the privacy layer"
