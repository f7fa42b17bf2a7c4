"""Shared fixtures: the bundled GLOTIP release, stores on both engines, a real PostgreSQL, local Spark."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.pg import Cluster

ROOT = Path(__file__).resolve().parents[1]
GLOTIP_2023 = ROOT / "src" / "tipwatch" / "bundled" / "unodc-glotip-2023" / "data_glotip.xlsx"
FIXTURES = Path(__file__).parent / "fixtures"
ENGINES = ("duckdb", "postgres")
#: Engines the indicators are read with: the stores', and Spark over a lake exported from a DuckDB
#: store (behind the ``spark`` marker: a local session takes about 10 s to start).
READ_ENGINES = (*ENGINES, pytest.param("spark", marks=pytest.mark.spark))
_db_names = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster():
    """A throw-away PostgreSQL cluster for the whole session (one per xdist worker)."""
    cluster = Cluster()
    yield cluster
    cluster.stop()


def _new_url(engine: str, request, tmp_path_factory) -> str:
    if engine == "duckdb":
        return str(tmp_path_factory.mktemp("store") / "tipwatch.duckdb")
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"tipwatch_{next(_db_names)}")


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the whole test session (one per xdist worker), small and quiet.

    `tipwatch.lake` finds it active and reads every lake through it, so no test starts another.
    """
    from pyspark.sql import SparkSession

    from tipwatch.lake import engines

    conf = {**engines.SESSION_DEFAULTS, **engines.LOCAL_DEFAULTS, "spark.sql.shuffle.partitions": "2",
            "spark.app.name": "tipwatch-tests"}
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def read_on(engine: str, store, request, tmp_path_factory):
    """What the indicators read on ``engine``: the store itself, or on Spark a lake exported from it.

    For Spark the store is exported to a new lake, returned open; the store stays open too.
    """
    if engine != "spark":
        return store
    from tipwatch.lake import Lake, export_lake

    request.getfixturevalue("spark")
    folder = tmp_path_factory.mktemp("lake") / "lake"
    export_lake(store, folder)
    return Lake(folder, engine="spark")


def cli_source(data) -> list[str]:
    """The command-line options that make a command read ``data`` (a store, or a lake and its engine)."""
    from tipwatch.lake import Lake

    if isinstance(data, Lake):
        return ["--lake", str(data.path), "--engine", data.reader.name]
    return ["--db", data.url]


@pytest.fixture(params=ENGINES)
def store_url(request, tmp_path_factory) -> str:
    """An empty store's URL, on each engine in turn."""
    return _new_url(request.param, request, tmp_path_factory)


@pytest.fixture(scope="session")
def glotip_stores(request, tmp_path_factory):
    """Stores holding the 2023 GLOTIP release, by engine: each imported once per session, on first use."""
    from tipwatch.ingest import import_file
    from tipwatch.store import open_store

    stores = {}

    def get(engine: str):
        if engine not in stores:
            store = open_store(_new_url(engine, request, tmp_path_factory))
            store.import_result = import_file(store, GLOTIP_2023)
            stores[engine] = store
        return stores[engine]

    yield get
    for store in stores.values():
        store.close()


@pytest.fixture(scope="session", params=ENGINES)
def glotip_store(request, glotip_stores):
    """A store holding the 2023 GLOTIP release, on each engine (imported once per session)."""
    return glotip_stores(request.param)


@pytest.fixture(scope="session", params=READ_ENGINES)
def glotip(request, glotip_stores, tmp_path_factory):
    """The 2023 GLOTIP release as the indicators read it, on each engine: the store on DuckDB and
    PostgreSQL; on Spark, a lake exported from the DuckDB store."""
    engine = request.param
    data = read_on(engine, glotip_stores("duckdb" if engine == "spark" else engine), request, tmp_path_factory)
    yield data
    if engine == "spark":
        data.close()  # the lake; the stores close with `glotip_stores`
