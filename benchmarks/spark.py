"""Beyond one machine (issue 8): the indicator suite over a Parquet lake, on DuckDB and on Spark local mode.

Run from the repository root::

    .venv/bin/python benchmarks/spark.py                          # scales 10 and 100 (1M and 10M proceedings)
    .venv/bin/python benchmarks/spark.py --scales 10 --repeat 3
    .venv/bin/python benchmarks/spark.py --scales 10,100,1000     # 100M proceedings: hours, see README

For each scale of ``tipwatch synth`` (10 ≈ 1 million proceedings rows, 100 ≈ 10 million, 1000 ≈
100 million) the script

1. makes the lake, cached in ``benchmarks/out/spark-lake-scale<S>-seed<N>/``: up to scale 100 by
   ``tipwatch export`` of the store `casefile.py` builds and caches (timed, with the export's peak
   memory: it streams); above, straight from ``tipwatch synth``'s CSV files, one country at a time
   (``--build direct``; no single store of that size can be imported on a 24 GiB machine);
2. runs the same suite on both engines, each in a **fresh process**, one after the other, order
   rotating: ``count_submissions(synthetic=True)``, ``attrition``, ``durations``, ``sentences``,
   ``witnesses``, ``cooperation`` and ``compute(region="ASEAN", years=(2011, 2025),
   synthetic=True)``, each ``.to_pyarrow()``. DuckDB reads the lake in-process (``Lake(engine=
   "duckdb")``, spilling to disk past its memory limit); Spark runs ``local[2]`` with
   ``--spark-memory`` of driver heap. Both compile their expressions before the clock starts;
   Spark's start (JVM, session, the lake's views) is timed apart;
3. measures **wall time** and **peak memory of the whole process tree** (Python, DuckDB, and
   Spark's JVM), sampled from outside every 0.1 s; the two engines' outputs are compared (floats
   to 1e-6 relative), a sanity check, not a test.

Results go to ``benchmarks/out/spark-results.json`` (every run kept, newest last). Figures for a
scale that was not run are **estimates** from the measured scaling, and are labelled so. No file
written holds a path of this machine. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))  # the working tree, whatever tipwatch the venv has installed
sys.path.insert(0, str(HERE))

from casefile import COMPUTE, PARTS, REGION, SEED, YEARS, _Memory, _say, ensure_store, store_path  # noqa: E402
from run import _scrub, _stats, _versions, source_fingerprint  # noqa: E402

OUT = HERE / "out"
RESULTS = OUT / "spark-results.json"
#: Above this scale the lake is built straight from synth's CSV files (no store).
STORE_MAX_SCALE = 100
SPARK_MEMORY = "12g"


#: DuckDB's memory limit while a lake is built straight from synth (not the measured suite).
BUILD_MEMORY = "8GB"


def lake_path(scale: float, seed: int) -> Path:
    return OUT / f"spark-lake-scale{scale:g}-seed{seed}"


# =============================================================================================
# Memory of a process tree, sampled from outside
# =============================================================================================


def _tree_rss_mib(root: int) -> float:
    """Resident set of ``root`` and all its descendants (the JVM that PySpark starts is a child)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm", encoding="ascii") as fh:
                pages = int(fh.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = pages
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def _child(kind: str, args: list[str], env: dict | None = None) -> dict:
    """Run one measurement in a fresh process; return its JSON with the tree's peak memory added."""
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", kind, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tempfile.gettempdir(), env={**os.environ, **(env or {})})
    peak = [0.0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_mib(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(_scrub(f"the {kind} process failed:\n{err.strip()[-3000:]}"))
    result = json.loads(out.strip().splitlines()[-1])
    result["tree_peak_mib"] = round(peak[0])
    return result


# =============================================================================================
# Making the lake
# =============================================================================================


def child_export(scale: float, seed: int, target: Path) -> dict:
    """``tipwatch export`` of the cached store (its opening untimed)."""
    from tipwatch.lake import export_lake
    from tipwatch.store import open_store

    with open_store(str(store_path(scale, seed))) as store:
        mem = _Memory()
        start = time.perf_counter()
        manifest = export_lake(store, target, replace=True)
        seconds = time.perf_counter() - start
        memory = mem.report()
    return {"seconds": seconds, **memory, "rows": {k: v["rows"] for k, v in manifest["tables"].items()}}


def child_direct(scale: float, seed: int, target: Path) -> dict:
    """A lake straight from ``tipwatch synth``: each country's CSV files to Parquet as soon as it is written.

    What an import would store, without the import: the files are read with the template's types
    (`tipwatch.synth` writes valid files), each country becomes one current submission of source
    ``synthetic``, and its figures are counted into the cube by the same `count_submissions`
    over an in-memory DuckDB reading the country's new Parquet files. Line numbers are not kept
    (0): nothing counts them. Disk: one country's CSV files at a time, plus the lake.
    """
    import duckdb
    import ibis
    import pyarrow as pa
    from ibis.backends.sql.datatypes import DuckDBType

    from tipwatch.indicators.casefile import count_submissions
    from tipwatch.lake import MANIFEST, Lake
    from tipwatch.lake.layout import LAYOUTS, keyed_rows
    from tipwatch.report.build import snapshot_hash
    from tipwatch.store import open_store
    from tipwatch.store.schema import metadata
    from tipwatch.synth import generate

    work = target.with_name(target.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    (work / "lake").mkdir(parents=True)
    lake = work / "lake"
    # The manifest's types, from an empty store through the exporter's own layout code.
    with open_store(str(work / "empty.duckdb")) as empty:
        types = {}
        for name, layout in LAYOUTS.items():
            cols = [c.name for c in metadata.tables[name].columns if c.name not in layout.drop]
            schema = keyed_rows(empty.ibis, layout, cols).schema()
            types[name] = {"columns": {c: str(schema[c]) for c in cols},
                           "partition_by": {k: str(schema[k]) for k in layout.partition_by}}
    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{work / 'spill'}'")
    con.execute("SET preserve_insertion_order = false")
    # Building the lake is not what is measured: it stays well inside the machine (BUILD_MEMORY),
    # spilling if it must, so that it can run beside other work.
    con.execute(f"SET memory_limit = '{BUILD_MEMORY}'")
    rows = dict.fromkeys(LAYOUTS, 0)
    submissions: list[dict] = []
    timings: dict[str, float] = {}

    def q(p: Path) -> str:
        return "'" + str(p).replace("'", "''") + "'"

    def copy(select: str, table: str, keys: str) -> None:
        rows[table] += con.execute(
            f"COPY ({select}) TO {q(lake / table)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({keys}), "
            f"OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'part_{{uuid}}')").fetchone()[0]

    def convert(folder: Path) -> None:
        t0 = time.perf_counter()
        iso3 = folder.name
        sub = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
        period = [ln.split(",") for ln in (folder / "submission.csv").read_text(encoding="utf-8").splitlines()]
        head = dict(zip(period[0], period[1], strict=False))
        start, end = head.get("period_start"), head.get("period_end")
        sid = f"synthetic-{iso3.lower()}-scale{scale:g}-seed{seed}"
        cols = {r["name"]: {f["name"] for f in r["schema"]["fields"]} for r in sub["resources"]}

        def csv(name: str) -> str:
            want = [c.name for c in metadata.tables[name].columns if c.name not in ("submission_id", "line")]
            typed = {c.name: str(c.type.compile(dialect=_duck_dialect())) for c in metadata.tables[name].columns}
            spec = ", ".join(f"'{c}': '{typed[c]}'" for c in want if c in cols[name])

            def col(c: str) -> str:
                if c in cols[name]:
                    return c
                # A case's country is the submission's (the template has no column for it).
                return f"'{iso3}' AS country" if c == "country" else f"CAST(NULL AS {typed[c]}) AS {c}"

            return (f"SELECT '{sid}' AS submission_id, " + ", ".join(col(c) for c in want)
                    + f", 0 AS line FROM read_csv({q(folder / (name + '.csv'))}, header = true, types = {{{spec}}})")

        con.execute(f"CREATE OR REPLACE TEMP VIEW c_cases AS {csv('cases')}")
        copy("SELECT *, year(opened_on) AS year FROM c_cases", "cases", "country, year")
        # As the importer does: the age group is given, or follows from the age (a child is under 18).
        persons = (f"SELECT * REPLACE (COALESCE(age_group, CASE WHEN age < 18 THEN 'child' WHEN age >= 18 "
                   f"THEN 'adult' ELSE 'unknown' END) AS age_group) FROM ({csv('persons')})")
        copy(f"SELECT p.*, c.country, year(c.opened_on) AS year FROM ({persons}) p "
             "LEFT JOIN c_cases c USING (submission_id, case_ref)", "persons", "country, year")
        copy(f"SELECT *, '{iso3}' AS country, year(event_date) AS year FROM ({csv('proceedings')})",
             "proceedings", "country, year")
        copy(f"SELECT *, '{iso3}' AS country, year(service_date) AS year FROM ({csv('services')})",
             "services", "country, year")
        copy(f"SELECT *, requesting_country AS country, year(sent_on) AS year FROM ({csv('cooperation_requests')})",
             "cooperation_requests", "country, year")
        submissions.append({"id": sid, "source": "synthetic", "scope": f"{iso3}:{start}..{end}",
                            "vintage": head.get("prepared_on") or str(date(YEARS[1], 12, 31)),
                            "file_hash": sid.ljust(64, "0")[:64], "format": "casefile",
                            "imported_at": datetime(2026, 1, 1).isoformat(), "rows_read": 0, "rows_stored": 0,
                            "report": "{}"})
        # The country's figures, counted by tipwatch's own rule over what was just written.
        counter = duckdb.connect()
        try:
            counter.execute(f"SET temp_directory = '{work / 'spill'}'")
            counter.execute(f"SET memory_limit = '{BUILD_MEMORY}'")
            sub_rows = submissions[-1:]
            counter.execute("CREATE TABLE submissions AS SELECT * FROM (VALUES "
                            + ", ".join("(" + ", ".join(_lit(r[k]) for k in _SUB_COLS) + ")" for r in sub_rows)
                            + ") t(" + ", ".join(_SUB_COLS) + ")")
            counter.execute("ALTER TABLE submissions ALTER vintage TYPE DATE")
            counter.execute("ALTER TABLE submissions ALTER imported_at TYPE TIMESTAMP")
            for name in ("cases", "persons", "proceedings", "services"):
                files = q(lake / name / f"country={iso3}" / "**" / "*.parquet")
                counter.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files}, hive_partitioning = true)")
            counted = count_submissions(ibis.duckdb.from_connection(counter), [sid]).to_pyarrow()
            # Numbered in the counting's own order, as the importers number the rows they store.
            counted = counted.add_column(1, "seq", pa.array(range(counted.num_rows), pa.int32()))
        finally:
            counter.close()
        con.register("counted", counted)
        # The store's types (its ``value`` is a 4-byte FLOAT; the counting gives doubles).
        cast = ", ".join(f'CAST("{c}" AS {DuckDBType.to_string(ibis.dtype(t))}) AS "{c}"'
                         for c, t in types["observations"]["columns"].items())
        copy(f"SELECT {cast} FROM counted", "observations", "area")
        con.unregister("counted")
        shutil.rmtree(folder)  # the CSV files: the disk holds one country's at a time
        timings[iso3] = round(time.perf_counter() - t0, 1)
        _say(f"  direct scale {scale:g}: {iso3} in {timings[iso3]:.0f} s")

    pending: list[str] = []
    synth = work / "synth"

    def progress(done: int, total: int, label: str) -> None:
        iso3 = label.split()[0]
        if pending and pending[-1] != iso3:
            convert(synth / pending.pop())
        if not pending:
            pending.append(iso3)

    start = time.perf_counter()
    generate(REGION, YEARS, scale=scale, seed=seed, out=synth, progress=progress)
    if pending:
        convert(synth / pending.pop())
    subs = con.execute("SELECT * FROM (VALUES " + ", ".join(
        "(" + ", ".join(_lit(r[k]) for k in _SUB_COLS) + ")" for r in submissions) + ") t(" + ", ".join(_SUB_COLS)
        + ")").to_arrow_table()
    con.register("subs", subs)
    (lake / "submissions").mkdir()
    rows["submissions"] = con.execute(
        "COPY (SELECT id, source, scope, CAST(vintage AS DATE) AS vintage, file_hash, format, "
        "CAST(imported_at AS TIMESTAMP) AS imported_at, CAST(rows_read AS INTEGER) AS rows_read, "
        "CAST(rows_stored AS INTEGER) AS rows_stored, report FROM subs) "
        f"TO {q(lake / 'submissions' / 'data_0.parquet')} (FORMAT parquet)").fetchone()[0]
    for name in ("raw_files", "victim_records", "assessments"):
        (lake / name).mkdir(exist_ok=True)
    con.close()
    manifest = {"format": "tipwatch-lake", "version": 1, "snapshot": "", "exported_at": None,
                "tipwatch": "synth (benchmarks/spark.py --build direct)", "store_engine": None,
                "tables": {n: {"rows": int(rows[n]), **types[n]} for n in LAYOUTS}}
    (lake / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    with Lake(lake) as read:
        manifest["snapshot"] = snapshot_hash(read)
    (lake / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    seconds = time.perf_counter() - start
    shutil.rmtree(target, ignore_errors=True)
    lake.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    return {"seconds": seconds, "rows": rows, "country_s": timings}


_SUB_COLS = ("id", "source", "scope", "vintage", "file_hash", "format", "imported_at", "rows_read",
             "rows_stored", "report")


def _lit(value) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _duck_dialect():
    from duckdb_engine import Dialect

    return Dialect()


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def ensure_lake(scale: float, seed: int, build: str, rebuild: bool) -> dict:
    """The cached lake of ``scale`` (made if missing) and how it was made."""
    target = lake_path(scale, seed)
    meta = target.with_name(target.name + ".json")
    if not rebuild and target.exists() and meta.exists():
        return json.loads(meta.read_text(encoding="utf-8"))
    how = build if build != "auto" else ("store" if scale <= STORE_MAX_SCALE else "direct")
    if how == "store":
        store = ensure_store(scale, seed, rebuild=False)
        _say(f"lake scale {scale:g}: tipwatch export of the cached store")
        made = _child("export", [str(scale), str(seed), str(target)])
        info = {"how": "tipwatch export of the casefile.py store", "store_rows": store.get("rows"),
                "store_bytes": store.get("store_bytes"), "export_s": round(made["seconds"], 1),
                "export_rss_peak_mib": round(made["rss_peak_mib"]), "export_tree_peak_mib": made["tree_peak_mib"],
                "rows": made["rows"]}
    else:
        _say(f"lake scale {scale:g}: straight from tipwatch synth (no store)")
        made = _child("direct", [str(scale), str(seed), str(target)])
        info = {"how": "tipwatch synth CSV -> Parquet, country by country (no store)",
                "build_s": round(made["seconds"], 1), "build_tree_peak_mib": made["tree_peak_mib"],
                "country_s": made["country_s"], "rows": made["rows"]}
    info.update(scale=scale, seed=seed, lake_bytes=_folder_bytes(target), source=source_fingerprint(),
                files=sum(1 for _ in target.rglob("*.parquet")))
    meta.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


# =============================================================================================
# The suite, on either engine
# =============================================================================================


def _exprs(backend) -> dict:
    from tipwatch.indicators import casefile as cf
    from tipwatch.indicators import compute

    out = {"count_submission": cf.count_submissions(backend, synthetic=True)}
    for name in PARTS[1:]:
        out[name] = getattr(cf, name)(backend, synthetic=True)
    out[COMPUTE] = compute(backend, region=REGION, years=YEARS, synthetic=True)
    return out


def child_suite(engine: str, lake: Path, dump: str | None) -> dict:
    """The suite on ``engine`` over ``lake``: start (untimed apart), compile (untimed), run (timed)."""
    import ibis

    from tipwatch.lake import Lake

    t0 = time.perf_counter()
    read = Lake(lake, engine=engine)
    start_s = time.perf_counter() - t0
    try:
        backend = read.ibis
        for expr in _exprs(backend).values():  # warm-up: imports and compiler paths
            ibis.to_sql(expr, dialect=backend.name)
        exprs = _exprs(backend)
        results, split = {}, {}
        began = time.perf_counter()
        for name, expr in exprs.items():
            t1 = time.perf_counter()
            results[name] = expr.to_pyarrow()
            split[name] = round(time.perf_counter() - t1, 3)
        seconds = time.perf_counter() - began
    finally:
        read.close()
    if dump:
        Path(dump).mkdir(parents=True, exist_ok=True)
        import pyarrow.parquet as pq

        for name, table in results.items():
            pq.write_table(table, Path(dump) / f"{name.split()[0]}.parquet")
    return {"seconds": seconds, "start_s": round(start_s, 2), "split_s": split,
            "rows": {k: v.num_rows for k, v in results.items()}}


def check_same(a: Path, b: Path) -> dict[str, str]:
    """Both engines' outputs, row for row (order-free; floats to 1e-6 relative)."""
    import pandas as pd
    import pyarrow.parquet as pq

    out = {}
    for f in sorted(a.glob("*.parquet")):
        x, y = pq.read_table(f).to_pandas(), pq.read_table(b / f.name).to_pandas()
        keys = list(x.columns)
        x = x.sort_values(keys, ignore_index=True)
        y = y.sort_values(keys, ignore_index=True)
        try:
            pd.testing.assert_frame_equal(x, y, check_dtype=False, rtol=1e-6)
            out[f.stem] = "same"
        except AssertionError as exc:
            out[f.stem] = str(exc).splitlines()[0][:200]
    return out


def bench_scale(scale: float, seed: int, repeat: int, build: str, rebuild: bool, spark_memory: str,
                tmp: Path) -> dict:
    lake_info = ensure_lake(scale, seed, build, rebuild)
    lake = lake_path(scale, seed)
    dumps = {e: tmp / f"dump-{scale:g}-{e}" for e in ("duckdb", "spark")}
    env = {"spark": {"PYSPARK_SUBMIT_ARGS": f"--driver-memory {spark_memory} pyspark-shell"}, "duckdb": {}}
    runs: dict[str, list[dict]] = {"duckdb": [], "spark": []}
    failed: dict[str, str] = {}
    for i in range(repeat):
        order = ["duckdb", "spark"] if i % 2 == 0 else ["spark", "duckdb"]
        for engine in order:
            if engine in failed:
                continue
            _say(f"  scale {scale:g} run {i + 1}/{repeat}: {engine}")
            try:
                runs[engine].append(_child("suite", [engine, str(lake), str(dumps[engine]) if i == 0 else ""],
                                           env[engine]))
            except Exception as exc:  # an engine that cannot finish (memory, disk) is a result too
                failed[engine] = _scrub(f"{type(exc).__name__}: {exc}")[-2000:]
                _say(f"  scale {scale:g}: {engine} failed: {failed[engine][-300:]}")
    same = check_same(dumps["duckdb"], dumps["spark"]) if not failed else {}
    stats = {}
    for engine, rs in runs.items():
        if not rs:
            stats[engine] = {"error": failed[engine]}
            continue
        st = _stats([r["seconds"] for r in rs])
        st["tree_peak_mib"] = round(statistics.median(r["tree_peak_mib"] for r in rs))
        st["start_s"] = round(statistics.median(r["start_s"] for r in rs), 2)
        st["split_s"] = {k: round(statistics.median(r["split_s"][k] for r in rs), 2) for k in rs[0]["split_s"]}
        stats[engine] = st
    if len(failed) == 2:
        raise RuntimeError(f"both engines failed: {failed}")
    ok = [e for e in runs if runs[e]]
    ratio = stats["spark"]["median_s"] / stats["duckdb"]["median_s"] if len(ok) == 2 else None
    return {"scale": scale, "lake": lake_info, "stats": stats, "rows": runs[ok[0]][0]["rows"],
            "same_figures": same, "spark_ratio": ratio, "failed": failed,
            "spark_driver_memory": spark_memory}


# =============================================================================================
# Scaling and the estimate
# =============================================================================================


def estimate(measured: dict[float, dict], scale: float) -> dict:
    """A figure at ``scale`` from the two largest measured scales: time and memory linear in rows."""
    lo, hi = sorted(measured)[-2:]
    out = {"estimate_from_scales": [lo, hi]}
    for engine in ("duckdb", "spark"):
        a, b = measured[lo]["stats"][engine], measured[hi]["stats"][engine]

        def line(ya: float, yb: float) -> float:
            return yb + (yb - ya) / (hi - lo) * (scale - hi)

        out[engine] = {"median_s": round(line(a["median_s"], b["median_s"]), 1),
                       "tree_peak_mib": round(line(a["tree_peak_mib"], b["tree_peak_mib"]))}
    # DuckDB stops growing at its memory limit (80 % of the machine's memory) and spills to disk
    # beyond it, which a straight line does not know: the time is then a lower bound.
    limit = 0.8 * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
    if out["duckdb"]["tree_peak_mib"] > limit:
        out["duckdb"].update(tree_peak_mib=round(limit), spills=True, median_s_is_lower_bound=True)
    # Spark's driver cannot outgrow its heap (--spark-memory) and the JVM's overhead: once a
    # measured scale filled it, larger ones spill to disk at the same peak.
    heap = _mib(measured[hi]["spark_driver_memory"])
    if measured[hi]["stats"]["spark"]["tree_peak_mib"] >= 0.9 * heap:
        out["spark"].update(tree_peak_mib=measured[hi]["stats"]["spark"]["tree_peak_mib"], spills=True,
                            median_s_is_lower_bound=True)
    return out


def _mib(size: str) -> float:
    """``12g`` → 12288 (MiB), as Spark reads memory sizes."""
    units = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}
    return float(size[:-1]) * units[size[-1].lower()] if size[-1].lower() in units else float(size) / 2**20


def table(results: dict) -> str:
    lines = ["", "| scale | proceedings rows | lake | DuckDB s | DuckDB peak MiB | Spark s (+ start) | "
                 "Spark peak MiB | Spark ÷ DuckDB | same |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for key, r in results["scales"].items():
        if "error" in r:
            lines.append(f"| {key} | error: {r['error'][:120]} | | | | | | | |")
            continue
        d, s = r["stats"]["duckdb"], r["stats"]["spark"]
        size = r["lake"]["lake_bytes"] / 2**30
        if r.get("failed"):
            cells = []
            for st in (d, s):
                if "error" in st:
                    cells.append(f"failed: {st['error'][-80:]} | –")
                else:
                    cells.append(f"{st['median_s']:.1f} | {st['tree_peak_mib']:,}")
            lines.append(f"| {r['scale']:g} | {r['lake']['rows']['proceedings']:,} | {size:.2f} GiB | {cells[0]} "
                         f"| {cells[1]} | | |")
            continue
        same = "all" if set(r["same_figures"].values()) == {"same"} else "NO"
        lines.append(f"| {r['scale']:g} | {r['lake']['rows']['proceedings']:,} | {size:.2f} GiB "
                     f"| {d['median_s']:.1f} | {d['tree_peak_mib']:,} | {s['median_s']:.1f} (+{s['start_s']:.0f}) "
                     f"| {s['tree_peak_mib']:,} | {r['spark_ratio']:.2f} | {same} |")
    for key, e in results.get("estimates", {}).items():
        lines.append(f"| {key} (**estimate**) | ≈ {e['proceedings_rows']:,.0f} | | ≈ {e['duckdb']['median_s']:.0f} | "
                     f"≈ {e['duckdb']['tree_peak_mib']:,} | ≈ {e['spark']['median_s']:.0f} | "
                     f"≈ {e['spark']['tree_peak_mib']:,} | | |")
    return "\n".join(lines)


def _spark_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("pyspark", "py4j"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False).stderr.splitlines()
    out["java"] = java[0] if java else "missing"
    return out


def _save(results: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    saved = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else []
    saved = [*saved, results][-10:]
    RESULTS.write_text(_scrub(json.dumps(saved, indent=2, default=str)) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="10,100", help="synth scales, comma-separated (default 10,100)")
    parser.add_argument("--estimate", default="1000", help="scales to estimate from the measured ones (default 1000)")
    parser.add_argument("--repeat", type=int, default=1, help="fresh-process runs per engine and scale (default 1)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--build", choices=("auto", "store", "direct"), default="auto",
                        help=f"how lakes are made: auto = store + export up to scale {STORE_MAX_SCALE}, direct above")
    parser.add_argument("--rebuild", action="store_true", help="make the cached lakes again")
    parser.add_argument("--spark-memory", default=SPARK_MEMORY, help=f"Spark driver heap (default {SPARK_MEMORY})")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, rest = args.child[0], args.child[1:]
        if kind == "suite":
            result = child_suite(rest[0], Path(rest[1]), rest[2] or None)
        elif kind == "export":
            result = child_export(float(rest[0]), int(rest[1]), Path(rest[2]))
        else:
            result = child_direct(float(rest[0]), int(rest[1]), Path(rest[2]))
        print(json.dumps(result, default=str))
        return 0

    scales = [float(x) for x in args.scales.split(",") if x.strip()]
    results: dict = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()], "versions": {**_versions(), **_spark_versions()},
        "repeat": args.repeat, "seed": args.seed, "source_at_start": source_fingerprint(), "scales": {},
    }
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tipwatch-spark-") as tmpname:
        for scale in scales:
            t0 = time.perf_counter()
            try:
                r = bench_scale(scale, args.seed, args.repeat, args.build, args.rebuild, args.spark_memory,
                                Path(tmpname))
            except Exception as exc:  # one broken scale should not hide the others' figures
                r = {"error": _scrub(f"{type(exc).__name__}: {exc}")}
            r["wall_s"] = round(time.perf_counter() - t0, 1)
            results["scales"][f"{scale:g}"] = r
    measured = {r["scale"]: r for r in results["scales"].values() if "error" not in r and not r.get("failed")}
    results["estimates"] = {}
    if len(measured) >= 2:
        per_scale = statistics.median(r["lake"]["rows"]["proceedings"] / r["scale"] for r in measured.values())
        for x in (float(v) for v in args.estimate.split(",") if v.strip()):
            if x not in measured:
                results["estimates"][f"{x:g}"] = {**estimate(measured, x), "proceedings_rows": per_scale * x}
    results["wall_s"] = round(time.perf_counter() - started, 1)
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["source_at_end"] = source_fingerprint()
    _save(results)
    print(table(results))
    print(f"\ntipwatch source {results['source_at_start']}"
          + (f" -> {results['source_at_end']} (changed during the run)"
             if results["source_at_end"] != results["source_at_start"] else ""))
    print(f"written: {RESULTS.relative_to(ROOT).as_posix()} (whole run {results['wall_s']:.0f} s)")
    return 1 if any("error" in r for r in results["scales"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
