"""Shared fixtures: the bundled GLOTIP release, stores on both engines, a real PostgreSQL."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.pg import Cluster

ROOT = Path(__file__).resolve().parents[1]
GLOTIP_2023 = ROOT / "src" / "tipwatch" / "bundled" / "unodc-glotip-2023" / "data_glotip.xlsx"
FIXTURES = Path(__file__).parent / "fixtures"
ENGINES = ("duckdb", "postgres")
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


@pytest.fixture(params=ENGINES)
def store_url(request, tmp_path_factory) -> str:
    """An empty store's URL, on each engine in turn."""
    return _new_url(request.param, request, tmp_path_factory)


@pytest.fixture(scope="session", params=ENGINES)
def glotip_store(request, tmp_path_factory):
    """A store holding the 2023 GLOTIP release, on each engine (imported once per session)."""
    from tipwatch.ingest import import_file
    from tipwatch.store import open_store

    url = _new_url(request.param, request, tmp_path_factory)
    store = open_store(url)
    result = import_file(store, GLOTIP_2023)
    store.import_result = result
    yield store
    store.close()
