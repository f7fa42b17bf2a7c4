"""The Parquet lake: `tipwatch export --parquet`, its layout and manifest, and reading it back.

One store holds every kind of data tipwatch keeps (the GLOTIP release, the US TIP Report tier
panel, CTDC's victim records and Thailand's two versions of case records from
`test_casefile_counting`). It is exported once; the lake must give back exactly the store's rows,
on DuckDB here and, behind the ``spark`` marker, on Spark, down to a byte-identical report.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import GLOTIP_2023, ROOT
from tests.test_casefile_counting import V1, V2, VERSION_1, VERSION_2, _load, _store_counts
from tipwatch.cli import main
from tipwatch.errors import InputError, MissingExtraError
from tipwatch.lake import MANIFEST, Lake, export_lake, open_data
from tipwatch.lake.layout import LAYOUTS
from tipwatch.store import open_store
from tipwatch.store.schema import WEB, metadata

TIERS = ROOT / "src" / "tipwatch" / "bundled" / "tip-scorecard" / "map_tiers.csv"
CTDC = ROOT / "src" / "tipwatch" / "bundled" / "ctdc-2020-subset" / "dados_app.csv"


@pytest.fixture(scope="module")
def store_and_lake(tmp_path_factory):
    """A DuckDB store with every kind of data, and the lake exported from it (both stay open)."""
    from tipwatch.ingest import import_file

    folder = tmp_path_factory.mktemp("lake-store")
    store = open_store(str(folder / "tipwatch.duckdb"))
    for path in (GLOTIP_2023, TIERS, CTDC):
        import_file(store, path)
    _load(store, V1, date(2022, 3, 1), VERSION_1)
    _load(store, V2, date(2022, 9, 1), VERSION_2)
    for sid in (V1, V2):
        _store_counts(store, sid)
    lake = folder / "lake"
    manifest = export_lake(store, lake)
    yield store, lake, manifest
    store.close()


def _types(table) -> list:
    """Column names and types. A Parquet reader does not keep the store's NOT NULL, and Spark's
    timestamps (microseconds, like the store's) do not state their scale."""
    return [(name, dtype.copy(nullable=True, **({"scale": None} if dtype.is_timestamp() else {})))
            for name, dtype in table.schema().items()]


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(list(df.columns), ignore_index=True, na_position="first")


# --- The layout --------------------------------------------------------------------------------


def test_every_table_is_a_dataset_partitioned_by_country_and_year(store_and_lake):
    store, lake, manifest = store_and_lake
    # Everything but the web application's own tables (people, sessions, tokens, uploads' workflow,
    # the audit log): password hashes and session tokens never leave the store.
    assert set(manifest["tables"]) == set(LAYOUTS) == set(metadata.tables) - {t.name for t in WEB}
    # Microdata: the case's country, then the year of the row's own date.
    assert (lake / "proceedings" / "country=THA" / "year=2019").is_dir()  # S2's appeal, S4's dismissal
    assert (lake / "cases" / "country=THA" / "year=2016").is_dir()  # C0, opened before the period
    assert (lake / "cooperation_requests" / "country=THA" / "year=2018").is_dir()  # sent by Thailand
    assert (lake / "assessments" / "country=THA" / "year=2015").is_dir()
    # The cube by area only; small tables as one file.
    assert (lake / "observations" / "area=THA").is_dir()
    assert not list((lake / "observations" / "area=THA").glob("year=*"))
    assert [p.name for p in (lake / "submissions").iterdir()] == ["data_0.parquet"]
    assert manifest["tables"]["proceedings"]["partition_by"] == {"country": "string", "year": "int32"}
    assert manifest["tables"]["observations"]["partition_by"] == {"area": "!string"}
    # The raw files' bytes stay in the store.
    assert "content" not in manifest["tables"]["raw_files"]["columns"]
    assert json.loads((lake / MANIFEST).read_text(encoding="utf-8")) == manifest


def test_the_manifest_states_the_snapshot_a_report_prints(store_and_lake):
    from tipwatch.report.build import snapshot_hash

    store, lake, manifest = store_and_lake
    assert manifest["snapshot"] == snapshot_hash(store)
    with Lake(lake) as read:
        assert read.snapshot == manifest["snapshot"] == snapshot_hash(read)


def test_the_lake_gives_back_every_row_and_type_of_the_store(store_and_lake):
    store, lake, manifest = store_and_lake
    with Lake(lake, engine="duckdb") as read:
        for name, spec in manifest["tables"].items():
            cols = list(spec["columns"])
            ours = store.ibis.table(name).select(*cols)
            theirs = read.ibis.table(name)
            assert _types(theirs) == _types(ours), name
            assert spec["rows"] == ours.count().execute() > 0, name
            pd.testing.assert_frame_equal(_sorted(theirs.to_pandas()), _sorted(ours.to_pandas()), obj=name)


@pytest.mark.postgres
def test_a_postgresql_store_exports_a_lake_that_reads_the_same(pg_cluster, tmp_path):
    """The export streams a PostgreSQL store's rows as Arrow batches; the lake gives the same analyses."""
    from tests.test_casefile_counting import _build, _frames

    store = _build(pg_cluster.create_database("lake_export"))
    try:
        manifest = export_lake(store, tmp_path / "lake")
        ours = _frames(store)
    finally:
        store.close()
    assert manifest["store_engine"] == "postgresql"
    assert manifest["tables"]["proceedings"]["rows"] == len(VERSION_1[metadata.tables["proceedings"]]) + len(
        VERSION_2[metadata.tables["proceedings"]])
    with Lake(tmp_path / "lake") as read:
        theirs = _frames(read)
    for name in ours:
        pd.testing.assert_frame_equal(theirs[name], ours[name], obj=name)


# --- The command line ----------------------------------------------------------------------------


def test_export_refuses_a_folder_in_use_and_force_replaces_it(store_and_lake, tmp_path, capsys):
    store, lake, manifest = store_and_lake
    target = tmp_path / "lake"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["export", "--db", store.url, "--parquet", str(target)]) == 1
    assert "already exists and is not empty" in capsys.readouterr().err
    assert (target / "notes.txt").exists()  # nothing was touched
    assert main(["export", "--db", store.url, "--parquet", str(target), "--force"]) == 0
    assert "snapshot " + manifest["snapshot"][:12] in capsys.readouterr().out
    assert not (target / "notes.txt").exists()
    assert json.loads((target / MANIFEST).read_text(encoding="utf-8"))["tables"] == manifest["tables"]
    assert not list(tmp_path.glob(".lake.partial-*"))  # written beside, then moved into place


def test_indicators_from_the_lake_are_the_stores_byte_for_byte(store_and_lake, tmp_path):
    store, lake, _ = store_and_lake
    args = ["indicators", "--region", "ASEAN", "--years", "2015-2021", "--audience", "regional"]
    from_lake, from_store = tmp_path / "lake.csv", tmp_path / "store.csv"
    assert main([*args, "--lake", str(lake), "--out", str(from_lake)]) == 0
    assert main([*args, "--db", store.url, "--out", str(from_store)]) == 0
    assert from_lake.read_bytes() == from_store.read_bytes()
    tidy = pd.read_csv(from_lake, keep_default_na=False, na_values=[""])
    # GLOTIP's figures and those counted from Thailand's case records, side by side.
    assert {"persons_convicted", "victims_testified"} <= set(tidy.indicator)


@pytest.mark.parametrize(("args", "message"), [
    (["indicators", "--engine", "spark"], "reads a Parquet lake: give it with --lake"),
    (["indicators", "--lake", "{missing}"], "is not a tipwatch lake"),
    (["indicators", "--lake", "{lake}", "--engine", "flink"], "flink is not an engine that reads a lake"),
    (["report", "--engine", "spark"], "reads a Parquet lake"),
    (["export"], "tipwatch export --parquet DIR"),
])
def test_clear_errors(store_and_lake, tmp_path, capsys, args, message):
    _, lake, _ = store_and_lake
    args = [a.format(missing=tmp_path / "nothing", lake=lake) for a in args]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_open_data_takes_a_store_or_a_lake(store_and_lake):
    store, lake, _ = store_and_lake
    with open_data(lake=lake) as read:
        assert read.reader.name == "duckdb"
    with pytest.raises(InputError, match="not both"):
        open_data(store.url, lake)


def test_without_pyspark_the_error_names_the_extra(monkeypatch):
    from tipwatch.lake import engines

    monkeypatch.setitem(sys.modules, "pyspark", None)  # what an installation without the extra has
    with pytest.raises(MissingExtraError, match=r"pip install 'tipwatch\[spark\]'"):
        engines.spark_session()


# --- Spark ---------------------------------------------------------------------------------------


@pytest.mark.spark
def test_spark_reads_every_table_as_the_store_holds_it(store_and_lake, spark):
    store, lake, manifest = store_and_lake
    with Lake(lake, engine="spark") as read:
        for name, spec in manifest["tables"].items():
            ours = store.ibis.table(name).select(*spec["columns"])
            theirs = read.ibis.table(name)
            assert _types(theirs) == _types(ours), name
            assert theirs.count().execute() == spec["rows"], name


@pytest.mark.spark
def test_the_report_on_spark_is_byte_identical_to_the_stores(store_and_lake, spark, tmp_path):
    """The whole Progress Report (every figure, table, chart and the snapshot) from Spark over the lake."""
    from tipwatch.indicators.victims import tabulate

    store, lake, manifest = store_and_lake
    years = "2015-2021"
    on_spark = tmp_path / "spark"
    assert main(["report", "--lake", str(lake), "--engine", "spark", "--years", years, "--out", str(on_spark)]) == 0
    # The store is open in this process: render its report through the same function the command uses.
    from tipwatch.report.build import write_report

    on_store = write_report(store, "ASEAN", (2015, 2021), tmp_path / "store", formats=("html",))
    html = (on_spark / "index.html").read_bytes()
    assert manifest["snapshot"].encode() in html
    assert html == on_store["html"].read_bytes()
    # Victim records are not in the report: their tabulation is compared on its own.
    with Lake(lake, engine="spark") as read:
        theirs = tabulate(read.ibis, by=("year", "sex")).to_pandas()
    ours = tabulate(store.ibis, by=("year", "sex")).to_pandas()
    pd.testing.assert_frame_equal(_sorted(theirs), _sorted(ours), check_dtype=False)


@pytest.mark.spark
def test_spark_submit_runs_the_command_line_as_docs_spark_md_shows(store_and_lake, tmp_path):
    """What docs/spark.md submits to a cluster, submitted to local mode: tipwatch's own
    ``__main__.py`` as the application, the settings on spark-submit's command line."""
    import os
    import subprocess

    import tipwatch

    _, lake, _ = store_and_lake
    app = Path(tipwatch.__file__).with_name("__main__.py")
    out = tmp_path / "submitted.csv"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("spark-submit")), "--master", "local[2]", "--driver-memory", "1g",
         "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.shuffle.partitions=2",
         str(app), "indicators", "--engine", "spark", "--lake", str(lake), "--region", "ASEAN",
         "--years", "2019-2019", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    here = tmp_path / "duckdb.csv"
    assert main(["indicators", "--lake", str(lake), "--region", "ASEAN", "--years", "2019-2019",
                 "--out", str(here)]) == 0
    assert out.read_bytes() == here.read_bytes()
