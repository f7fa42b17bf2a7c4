"""Engines that read a lake, registered by name: DuckDB in-process, Apache Spark local or on a cluster.

An engine turns a `tipwatch.lake.Lake` into an ibis backend whose tables are the store's tables
(same names, columns and types), so that every indicator runs on it unchanged. A region's add-on
engine registers itself here the way the built-ins do; nothing else in tipwatch asks which engine
it runs on.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis.expr.datatypes as dt

from tipwatch.errors import InputError, MissingExtraError, TipwatchError

if TYPE_CHECKING:
    from tipwatch.lake import Lake, LakeTable

#: ``open(lake)`` returns the ibis backend and a function that releases it (or None).
Opener = Callable[["Lake"], tuple[Any, Callable[[], None] | None]]


@dataclass(frozen=True)
class Engine:
    """How tipwatch reads a lake with one engine."""

    name: str
    open: Opener
    describe: str


_ENGINES: dict[str, Engine] = {}


def register(engine: Engine) -> Engine:
    """Add an engine that reads lakes; a later registration of the same name wins."""
    _ENGINES[engine.name] = engine
    return engine


def get(name: str) -> Engine:
    """The engine registered as ``name``.

    Raises:
        InputError: No such engine.
    """
    try:
        return _ENGINES[name]
    except KeyError:
        known = ", ".join(sorted(_ENGINES))
        raise InputError(f"{name} is not an engine that reads a lake: use one of {known}.") from None


def names() -> list[str]:
    """Registered engine names."""
    return sorted(_ENGINES)


# --- DuckDB: the lake on one machine ----------------------------------------------------------


def _duckdb_view(t: LakeTable) -> str:
    from ibis.backends.sql.datatypes import DuckDBType

    def typed(col: str, source: str) -> str:
        return f'CAST({source} AS {DuckDBType.to_string(t.columns[col])}) AS "{col}"'

    if t.rows == 0:
        # An empty table has no files to read (a partitioned COPY of no rows writes none).
        return "SELECT " + ", ".join(typed(c, "NULL") for c in t.columns) + " LIMIT 0"
    files = str(t.folder / ("**/*.parquet" if t.partition_by else "*.parquet")).replace("'", "''")
    hive = ""
    if t.partition_by:
        types = ", ".join(f"'{k}': {DuckDBType.to_string(v)}" for k, v in t.partition_by.items())
        hive = f", hive_partitioning = true, hive_types = {{{types}}}"
    return ("SELECT " + ", ".join(typed(c, f'"{c}"') for c in t.columns)
            + f" FROM read_parquet('{files}'{hive})")


def _open_duckdb(lake: Lake):
    import duckdb
    import ibis

    # An in-memory database whose tables are views over the Parquet files; what a query cannot
    # hold in memory spills to a temporary folder of its own, removed on close.
    spill = tempfile.mkdtemp(prefix="tipwatch-duckdb-spill-")
    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{spill}'")
    for t in lake.tables.values():
        con.execute(f'CREATE VIEW "{t.name}" AS {_duckdb_view(t)}')
    backend = ibis.duckdb.from_connection(con)

    def close() -> None:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)

    return backend, close


register(Engine("duckdb", _open_duckdb, "DuckDB, in this process, over the lake's Parquet files"))


# --- Apache Spark: the lake on a cluster (or in local mode) --------------------------------------

#: Settings tipwatch gives a Spark session it starts itself, unless they are set already (by
#: ``spark-submit --conf``, ``spark-defaults.conf`` or ``PYSPARK_SUBMIT_ARGS``): a cluster's own
#: settings always win (docs/spark.md).
SESSION_DEFAULTS = {
    "spark.app.name": "tipwatch",
    # Dates are calendar dates and timestamps carry no zone: read and compute them in UTC.
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}
#: Further settings when no master is given: local mode on a small machine (tests, one laptop).
LOCAL_DEFAULTS = {
    "spark.master": "local[2]",
    "spark.ui.enabled": "false",
    # Few cores: many small shuffle partitions cost more than they split; AQE coalesces further.
    "spark.sql.shuffle.partitions": "8",
    # A lake has one small file per country-year: list them on the driver (no listing job) and
    # pack many into one task (opening a local file costs little, unlike one on object storage).
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    "spark.sql.files.openCostInBytes": "65536",
}

#: What PySpark's launcher sets when Python starts the JVM itself (not a user's choice).
_LAUNCHER_DEFAULTS = {"spark.master": "local[*]", "spark.app.name": "pyspark-shell",
                      "spark.ui.showConsoleProgress": "true"}


def spark_session() -> tuple[Any, bool]:
    """The active Spark session, or a new one with tipwatch's defaults where nothing else is set.

    Returns:
        The session, and whether this call started it (then its owner stops it).

    Raises:
        MissingExtraError: PySpark is not installed.
        TipwatchError: Spark cannot start (no Java 17, say).
    """
    try:
        from pyspark import SparkConf, SparkContext
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise MissingExtraError("The Spark engine", "spark") from exc
    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    # spark-submit (or the pyspark shell) starts the JVM before Python and says so here.
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    try:
        # Attach to (or start) the JVM first, so that the settings spark-submit passed are seen.
        SparkContext._ensure_initialized()
        conf = SparkConf()

        def given(key: str) -> bool:
            # PySpark's own launcher fills in a few defaults of its own: those do not count as set.
            return conf.contains(key) and (submitted or conf.get(key) != _LAUNCHER_DEFAULTS.get(key))

        wanted = dict(SESSION_DEFAULTS)
        if not given("spark.master"):
            wanted.update(LOCAL_DEFAULTS)
        for key, value in wanted.items():
            if not given(key):
                conf.set(key, value)
        session = SparkSession.builder.config(conf=conf).getOrCreate()
    except Exception as exc:  # py4j and the JVM report a missing Java in several ways
        java = os.environ.get("JAVA_HOME") or shutil.which("java") or "no java on PATH"
        raise TipwatchError(f"Spark could not start ({java}): it needs Java 17; set JAVA_HOME. "
                            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
    # Spark's INFO and WARN lines would bury tipwatch's own output; errors still show.
    session.sparkContext.setLogLevel(os.environ.get("TIPWATCH_SPARK_LOG_LEVEL", "ERROR"))
    return session, True


def _spark_type(dtype: dt.DataType):
    from ibis.backends.pyspark.datatypes import PySparkType
    from pyspark.sql import types as pt

    # A store's timestamps carry no time zone (DuckDB TIMESTAMP, Parquet isAdjustedToUTC=false).
    if dtype.is_timestamp() and dtype.timezone is None:
        return pt.TimestampNTZType()
    return PySparkType.from_ibis(dtype)


def _spark_frame(session, t: LakeTable):
    from pyspark.sql import types as pt

    if t.rows == 0:
        schema = pt.StructType([pt.StructField(c, _spark_type(v), True) for c, v in t.columns.items()])
        return session.createDataFrame([], schema)
    # The full schema, partition keys included, so that Spark infers nothing from the files or
    # the folder names (a year folder is an int32 and an ISO3 folder a string, whatever it holds).
    fields = [(c, v) for c, v in t.columns.items() if c not in t.partition_by]
    fields += list(t.partition_by.items())
    schema = pt.StructType([pt.StructField(c, _spark_type(v), True) for c, v in fields])
    return session.read.schema(schema).parquet(str(t.folder)).select(*t.columns)


def _open_spark(lake: Lake):
    import ibis

    session, owned = spark_session()
    # A session of its own (same JVM and SparkContext): its temporary views are this lake's
    # tables, so two lakes open side by side do not see each other's.
    own = session.newSession()
    for t in lake.tables.values():
        _spark_frame(own, t).createOrReplaceTempView(t.name)
    backend = ibis.pyspark.connect(own)

    def close() -> None:
        for t in lake.tables:
            own.catalog.dropTempView(t)
        if owned:
            session.stop()

    return backend, close


register(Engine("spark", _open_spark, "Apache Spark (PySpark) over the lake: local mode, or a cluster (spark-submit)"))


__all__ = ["LOCAL_DEFAULTS", "SESSION_DEFAULTS", "Engine", "get", "names", "register", "spark_session"]
