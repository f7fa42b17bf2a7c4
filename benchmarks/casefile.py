"""Case-level submissions (issue 3): importing a large CSV submission, and the indicator suite over
a large store. Each figure is a ratio against a reference timed in the same run.

Run from the repository root::

    .venv/bin/python benchmarks/casefile.py                      # both, 5 runs each, scale 10
    .venv/bin/python benchmarks/casefile.py --only import         # (a) only
    .venv/bin/python benchmarks/casefile.py --only indicators --scales 10,100 --repeat 3
    .venv/bin/python benchmarks/casefile.py --only import --profile   # plus one cProfile'd import

(a) ``import``: ``open_store(new file)`` + ``import_file(store, folder)`` of a submission whose
    ``persons.csv`` has exactly 1,000,000 rows (synthetic, one country; proceedings, services
    and cooperation requests empty), against DuckDB materialising the same ``persons.csv`` into
    a table of a new DuckDB file. Validation alone (stage + ``validate``) is timed on its own line.
(b) ``indicators``: tipwatch's counting rules and analyses over a store holding a synthetic
    ASEAN region (scale 10 ≈ 1 million proceedings rows, scale 100 ≈ 10 million), against the
    same figures hand-written in DuckDB SQL and in pandas. The three must agree: the script
    checks that once per run (a sanity check, not a test).

Every timed run is a **fresh Python process** (imports and a small warm-up are done before the
clock starts), so that each run's peak memory is that process's ``ru_maxrss`` (resident set,
Python and DuckDB together). Runs of subject and references are interleaved and the order
rotates. Medians of N runs; the ratio is subject median ÷ reference median. Nothing here makes
anything fail: a missed target is a figure.

Stores built for (b) are cached in ``benchmarks/out/`` by scale and seed (``--rebuild`` to
rebuild). Results go to ``benchmarks/out/casefile-results.json`` (git-ignored; every run is
kept, newest last). No file written holds a path of this machine. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import io
import itertools
import json
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))  # the working tree, whatever tipwatch the venv has installed
sys.path.insert(0, str(HERE))

from run import _scrub, _stats, _versions, source_fingerprint  # noqa: E402  (benchmarks/run.py)

OUT = HERE / "out"
RESULTS = OUT / "casefile-results.json"
REGION = "ASEAN"
YEARS = (2011, 2025)
SEED = 1

PERSONS_ROWS = 1_000_000
IMPORT_SCALE = 34  # the largest country (PHL) then has about 1.05 million persons rows
IMPORT_TARGET = 3.0  # import ≤ 3 × DuckDB's read_csv into a table
SQL_TARGET = 1.5  # suite ≤ 1.5 × hand-written DuckDB SQL
PANDAS_TARGET = 3.0  # pandas ≥ 3 × the suite

EXAMPLE = ROOT / "src" / "tipwatch" / "reference" / "data" / "casefile" / "example"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _rss_mib() -> float:
    """Peak resident set of this process so far: ``ru_maxrss`` (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mib(field: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class _Memory:
    """Peak resident set of the timed part alone, Python and DuckDB together.

    On Linux, writing 5 to ``/proc/self/clear_refs`` resets the process's peak (``VmHWM``) to its
    current resident set, so the peak read afterwards belongs to the timed part, not to the imports
    and the warm-up before it. Where that is not possible, the process's ``ru_maxrss`` is used.
    """

    def __init__(self) -> None:
        gc.collect()
        self.before = _status_mib("VmRSS") or _rss_mib()
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
                fh.write("5")
            self.method = "VmHWM after reset"
        except OSError:
            self.method = "ru_maxrss"

    def peak(self) -> float:
        hwm = _status_mib("VmHWM") if self.method == "VmHWM after reset" else None
        return hwm if hwm is not None else _rss_mib()

    def report(self) -> dict:
        return {"rss_before_mib": self.before, "rss_peak_mib": self.peak(), "rss_process_max_mib": _rss_mib(),
                "memory_method": self.method}


# =============================================================================================
# (a) Import of a 1,000,000-row persons CSV
# =============================================================================================


def build_import_input(tmp: Path, scale: float, seed: int) -> dict:
    """A submission folder with exactly `PERSONS_ROWS` persons rows, from one synthetic country.

    The country with the most persons rows at ``scale`` is taken; its first 1,000,000 persons
    rows are kept (byte for byte), with the cases they refer to. Proceedings, services and
    cooperation requests keep their header only, so that the figure is about persons.
    """
    from tipwatch.synth import generate

    synth = tmp / "import-synth"
    _say(f"import: generating the input (synth {REGION} scale {scale:g}, seed {seed})")
    generate(REGION, YEARS, scale=scale, seed=seed, out=synth)
    counts = {}
    for folder in sorted(p for p in synth.iterdir() if p.is_dir()):
        with (folder / "persons.csv").open("rb") as fh:
            counts[folder.name] = sum(1 for _ in fh) - 1
    country = max(counts, key=counts.get)
    if counts[country] < PERSONS_ROWS:
        raise RuntimeError(f"the largest country ({country}) has {counts[country]:,} persons rows at scale "
                           f"{scale:g}: give a larger --import-scale")
    src, dst = synth / country, tmp / f"{country}-persons-1m"
    dst.mkdir()
    refs = set()
    with (src / "persons.csv").open("rb") as fin, (dst / "persons.csv").open("wb") as fout:
        fout.write(next(fin))
        for line in itertools.islice(fin, PERSONS_ROWS):
            fout.write(line)
            refs.add(line.split(b",", 2)[1])
    cases = 0
    with (src / "cases.csv").open("rb") as fin, (dst / "cases.csv").open("wb") as fout:
        fout.write(next(fin))
        for line in fin:
            if line.split(b",", 1)[0] in refs:
                fout.write(line)
                cases += 1
    for name in ("proceedings", "services", "cooperation_requests"):
        with (src / f"{name}.csv").open("rb") as fin, (dst / f"{name}.csv").open("wb") as fout:
            fout.write(next(fin))
    for name in ("submission.csv", "datapackage.json"):
        shutil.copyfile(src / name, dst / name)
    shutil.rmtree(synth)
    return {
        "folder": dst,
        "country": country,
        "persons_rows": PERSONS_ROWS,
        "cases_rows": cases,
        "persons_csv_bytes": (dst / "persons.csv").stat().st_size,
        "folder_bytes": sum(p.stat().st_size for p in dst.iterdir()),
        "synth_scale": scale,
        "seed": seed,
    }


class _Clock:
    """Wall time spent inside wrapped calls, by label (a label's nested calls counted once)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._depth: dict[str, int] = {}

    def add(self, label: str, seconds: float) -> None:
        self.totals[label] = self.totals.get(label, 0.0) + seconds

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            depth = self._depth.get(label, 0)
            self._depth[label] = depth + 1
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self._depth[label] = depth
                if depth == 0:
                    self.add(label, time.perf_counter() - start)

        setattr(owner, name, wrapper)


class _TimedExpr:
    """Stands in for the ibis expression `count_submission` returns, timing its execution."""

    def __init__(self, expr, clock: _Clock, label: str) -> None:
        self._expr, self._clock, self._label = expr, clock, label

    def to_pyarrow(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self._expr.to_pyarrow(*args, **kwargs)
        finally:
            self._clock.add(self._label, time.perf_counter() - start)

    def __getattr__(self, name):
        return getattr(self._expr, name)


IMPORT_PHASES = (
    "open store (create + migrate)",
    "receive (zip the folder + SHA-256)",
    "stage (CSV → DuckDB, trim)",
    "validate (rule catalogue as SQL)",
    "type + microdata to Arrow",
    "count_submission (ibis compile + run)",
    "store (insert + commit)",
)


def _install_import_clock() -> _Clock:
    """Wrap the importer's steps; the rest of `import_file` is the store insert and commit."""
    import dataclasses

    from tipwatch import ingest
    from tipwatch.indicators import casefile as counting
    from tipwatch.ingest import casefile, casefile_rules, registry

    clock = _Clock()
    clock.wrap(ingest, "receive", IMPORT_PHASES[1])
    clock.wrap(casefile, "stage", IMPORT_PHASES[2])
    clock.wrap(casefile_rules, "validate", IMPORT_PHASES[3])
    count_submission = counting.count_submission

    def counted(*args, **kwargs):
        start = time.perf_counter()
        expr = count_submission(*args, **kwargs)
        clock.add(IMPORT_PHASES[5], time.perf_counter() - start)
        return _TimedExpr(expr, clock, IMPORT_PHASES[5])

    counting.count_submission = counted
    fmt = registry.get("casefile")
    parse = fmt.parse

    def timed_parse(*args, **kwargs):
        start = time.perf_counter()
        try:
            return parse(*args, **kwargs)
        finally:
            clock.add("parse", time.perf_counter() - start)

    registry.register(dataclasses.replace(fmt, parse=timed_parse))
    return clock


def _split_import(clock: _Clock, total: float, opened: float) -> dict[str, float]:
    t = clock.totals
    parse = t.get("parse", 0.0)
    inner = sum(t.get(k, 0.0) for k in IMPORT_PHASES[2:4] + IMPORT_PHASES[5:6])
    out = {
        IMPORT_PHASES[0]: opened,
        IMPORT_PHASES[1]: t.get(IMPORT_PHASES[1], 0.0),
        IMPORT_PHASES[2]: t.get(IMPORT_PHASES[2], 0.0),
        IMPORT_PHASES[3]: t.get(IMPORT_PHASES[3], 0.0),
        IMPORT_PHASES[4]: max(parse - inner, 0.0),
        IMPORT_PHASES[5]: t.get(IMPORT_PHASES[5], 0.0),
    }
    out[IMPORT_PHASES[6]] = max(total - opened - out[IMPORT_PHASES[1]] - parse, 0.0)
    return {k: round(v, 4) for k, v in out.items()}


def child_import(folder: Path, work: Path, profile_to: str | None = None) -> dict:
    """Subject (a): a new store and the import, after a warm-up import of the worked example."""
    from tipwatch.ingest import import_file
    from tipwatch.store import open_store

    with open_store(str(work / "warm.duckdb")) as store:  # imports, reference data, ibis
        import_file(store, EXAMPLE)
    clock = _install_import_clock()
    mem = _Memory()
    prof = cProfile.Profile() if profile_to else None
    if prof:
        prof.enable()
    start = time.perf_counter()
    store = open_store(str(work / "import.duckdb"))
    opened = time.perf_counter() - start
    with store:
        result = import_file(store, folder)
    seconds = time.perf_counter() - start
    if prof:
        prof.disable()
        _write_profile(prof, profile_to)
    return {"seconds": seconds, **mem.report(),
            "split_s": _split_import(clock, seconds, opened), "tables": result.report["tables"],
            "warnings": len(result.report["warnings"]), "store_bytes": (work / "import.duckdb").stat().st_size}


def child_validate(folder: Path, work: Path) -> dict:
    """Validation alone: stage + `validate` on an in-memory DuckDB (the folder received untimed)."""
    import duckdb

    from tipwatch.ingest.casefile import stage
    from tipwatch.ingest.casefile_rules import rules, validate
    from tipwatch.ingest.files import receive

    def run(f) -> tuple[float, float, list]:
        con = duckdb.connect()
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            start = time.perf_counter()
            sources = stage(f, con, Path(tmp))
            staged = time.perf_counter()
            problems = validate(con, sources)
            done = time.perf_counter()
        con.close()
        return staged - start, done - staged, problems

    run(receive(EXAMPLE))  # warm-up
    f = receive(folder)
    mem = _Memory()
    stage_s, validate_s, problems = run(f)
    memory = mem.report()
    warning = {r.code for r in rules() if r.severity == "warning"}
    errors = [str(p) for p in problems if p.code not in warning]
    return {"seconds": stage_s + validate_s, **memory,
            "split_s": {"stage": round(stage_s, 4), "validate": round(validate_s, 4)},
            "problems": len(problems), "errors": errors[:5]}


def child_read_csv(folder: Path, work: Path) -> dict:
    """Reference (a): DuckDB reads persons.csv (types detected) into a table of a new DuckDB file."""
    import duckdb

    duckdb.connect().sql("SELECT * FROM read_csv(?)", params=[str(EXAMPLE / "persons.csv")]).fetchall()
    mem = _Memory()
    start = time.perf_counter()
    con = duckdb.connect(str(work / "reference.duckdb"))
    con.execute("CREATE TABLE persons AS SELECT * FROM read_csv(?)", [str(folder / "persons.csv")])
    rows = con.execute("SELECT count(*) FROM persons").fetchone()[0]
    con.close()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, **mem.report(), "rows": rows}


def child_count_csv(folder: Path, work: Path) -> dict:
    """The lighter reference: ``select count(*) from read_csv(persons.csv)`` (nothing kept)."""
    import duckdb

    duckdb.connect().sql("SELECT count(*) FROM read_csv(?)", params=[str(EXAMPLE / "persons.csv")]).fetchall()
    mem = _Memory()
    start = time.perf_counter()
    rows = duckdb.connect().sql("SELECT count(*) FROM read_csv(?)",
                                params=[str(folder / "persons.csv")]).fetchall()[0][0]
    seconds = time.perf_counter() - start
    return {"seconds": seconds, **mem.report(), "rows": rows}


# =============================================================================================
# (b) The indicator suite over a large store
# =============================================================================================

PARTS = ("count_submission", "attrition", "durations", "sentences", "witnesses", "cooperation")
COMPUTE = "compute (cube)"
KEYS = {
    "count_submission": ["submission_id", "area", "year", "indicator", "sex", "age"],
    "attrition": ["country", "cohort_year"],
    "durations": ["country", "year"],
    "sentences": ["country", "year"],
    "witnesses": ["country", "year"],
    "cooperation": ["requesting_country", "requested_country", "type"],
}
VALUES = {
    "count_submission": ["value"],
    "attrition": ["investigated", "prosecuted_within", "convicted_within", "prosecuted_share",
                  "convicted_share", "complete"],
    "durations": ["n", "median_days"],
    "sentences": ["convictions", "with_sentence", "q1_months", "median_months", "q3_months"],
    "witnesses": ["identified", "testified", "protected", "compensated", "testified_share"],
    "cooperation": ["sent", "executed", "refused", "pending", "withdrawn", "median_days_to_execute"],
}

# --- tipwatch ---------------------------------------------------------------------------------


def _tipwatch_parts(backend) -> dict[str, Callable[[], object]]:
    from tipwatch.indicators import casefile as cf
    from tipwatch.indicators import compute

    def counts():
        return cf.count_submissions(backend, synthetic=True).to_pyarrow()

    return {
        "count_submission": counts,
        "attrition": lambda: cf.attrition(backend, synthetic=True).to_pyarrow(),
        "durations": lambda: cf.durations(backend, synthetic=True).to_pyarrow(),
        "sentences": lambda: cf.sentences(backend, synthetic=True).to_pyarrow(),
        "witnesses": lambda: cf.witnesses(backend, synthetic=True).to_pyarrow(),
        "cooperation": lambda: cf.cooperation(backend, synthetic=True).to_pyarrow(),
        COMPUTE: lambda: compute(backend, region=REGION, years=YEARS, synthetic=True).to_pyarrow(),
    }


def _tipwatch_exprs(backend) -> dict[str, object]:
    """The expressions alone (compiled apart, after the timed run, to split compile from run)."""
    from tipwatch.indicators import casefile as cf
    from tipwatch.indicators import compute

    out = {"count_submission": cf.count_submissions(backend, synthetic=True)}
    for name in PARTS[1:]:
        out[name] = getattr(cf, name)(backend, synthetic=True)
    out[COMPUTE] = compute(backend, region=REGION, years=YEARS, synthetic=True)
    return out


def child_suite(store_path: Path, dump: str | None) -> dict:
    """Subject (b): tipwatch's counting and analyses, then `compute`, on an opened store."""
    import ibis

    from tipwatch.store import open_store

    with open_store(str(store_path)) as store:  # opening (migrations check) is not timed
        backend = store.ibis
        for expr in _tipwatch_exprs(backend).values():  # warm-up: imports and compiler paths
            ibis.to_sql(expr)
        parts = _tipwatch_parts(backend)
        mem = _Memory()
        results, split = {}, {}
        start = time.perf_counter()
        for name, fn in parts.items():
            t0 = time.perf_counter()
            results[name] = fn()
            split[name] = time.perf_counter() - t0
        seconds = time.perf_counter() - start
        memory = mem.report()
        compile_s: dict[str, float] = {}
        t0 = time.perf_counter()
        exprs = _tipwatch_exprs(backend)
        build = time.perf_counter() - t0
        for name, expr in exprs.items():
            t0 = time.perf_counter()
            ibis.to_sql(expr)
            compile_s[name] = time.perf_counter() - t0
    if dump:
        _dump(dump, {k: v for k, v in results.items() if k in PARTS})
    return {"seconds": seconds, **memory,
            "split_s": {k: round(v, 4) for k, v in split.items()},
            "compile_s": {k: round(v, 4) for k, v in compile_s.items()},
            "build_exprs_s": round(build, 4),
            "rows": {k: v.num_rows for k, v in results.items()}}


# --- hand-written DuckDB SQL ------------------------------------------------------------------

_COMMON = """
cur AS (  -- current synthetic submissions, with their country and period
    SELECT id AS submission_id,
           split_part(scope, ':', 1) AS scope_country,
           CAST(split_part(split_part(scope, ':', 2), '..', 1) AS DATE) AS period_start,
           CAST(split_part(split_part(scope, ':', 2), '..', 2) AS DATE) AS period_end
    FROM submissions
    WHERE source IN ({synthetic})
    QUALIFY row_number() OVER (PARTITION BY source, scope ORDER BY vintage DESC, imported_at DESC, id DESC) = 1
),
people AS (
    SELECT p.submission_id, p.person_ref, p.case_ref, p.role, p.sex, p.age_group AS age, c.country
    FROM persons p JOIN cases c ON c.submission_id = p.submission_id AND c.case_ref = p.case_ref
    WHERE p.submission_id IN (SELECT submission_id FROM cur)
),
ev AS (   -- suspects' proceedings
    SELECT e.submission_id, e.person_ref, e.case_ref, e.event, e.event_date, e.outcome,
           CAST(e.sentence_months AS DOUBLE) AS sentence_months, p.country, p.sex, p.age
    FROM proceedings e JOIN people p
      ON p.submission_id = e.submission_id AND p.person_ref = e.person_ref AND p.case_ref = e.case_ref
    WHERE p.role = 'suspect'
),
conv AS ( -- one conviction per person and case: the first-instance one, else the appeal that convicted
    SELECT * FROM ev
    WHERE outcome = 'convicted' AND event IN ('first_instance_verdict', 'appeal_verdict')
    QUALIFY row_number() OVER (PARTITION BY submission_id, person_ref, case_ref
                               ORDER BY event = 'appeal_verdict', event_date, event) = 1
),
sv AS (   -- victims' services
    SELECT s.submission_id, s.person_ref, s.case_ref, s.service, s.service_date AS event_date,
           p.country, p.sex, p.age
    FROM services s JOIN people p
      ON p.submission_id = s.submission_id AND p.person_ref = s.person_ref AND p.case_ref = s.case_ref
    WHERE p.role = 'victim'
)
"""


def _sql_queries() -> dict[str, str]:
    from tipwatch import reference
    from tipwatch.indicators.casefile import INDICATORS, SUSPECT_EVENTS, VICTIM_SERVICES

    synthetic = ", ".join(f"'{k}'" for k, v in reference.sources().items() if v["synthetic"])
    common = "WITH " + _COMMON.format(synthetic=synthetic)
    cols = "submission_id, country, person_ref, case_ref, event_date, sex, age"
    suspects = "\n".join(f"UNION ALL SELECT '{ind}' AS indicator, {cols} FROM ev WHERE event = '{ev}'"
                         for ind, ev in SUSPECT_EVENTS.items())
    services = " ".join(f"WHEN '{s}' THEN '{ind}'" for ind, s in VICTIM_SERVICES.items())
    service_list = ", ".join(f"'{s}'" for s in VICTIM_SERVICES.values())
    indicators = ", ".join(f"('{i}')" for i in INDICATORS)
    g = "indicator, submission_id, country, year"
    return {
        "count_submission": common + f""",
q AS (
    SELECT 'persons_convicted' AS indicator, {cols} FROM conv
    {suspects}
    UNION ALL SELECT CASE service {services} END, {cols} FROM sv WHERE service IN ({service_list})
),
firsts AS (  -- persons, not cases: one row per person, indicator and year (their first event)
    SELECT q.indicator, q.submission_id, q.country, year(q.event_date) AS year, q.sex, q.age
    FROM q JOIN cur ON cur.submission_id = q.submission_id
    WHERE q.event_date BETWEEN cur.period_start AND cur.period_end
    QUALIFY row_number() OVER (PARTITION BY q.indicator, q.submission_id, q.country, year(q.event_date),
                                            q.person_ref ORDER BY q.event_date, q.case_ref) = 1
),
cells AS (
    SELECT {g},
           CASE WHEN grouping(sex) = 1 THEN 'total' ELSE sex END AS sex,
           CASE WHEN grouping(age) = 1 THEN 'total' ELSE age END AS age,
           count(*) AS value
    FROM firsts
    GROUP BY GROUPING SETS (({g}), ({g}, sex), ({g}, age), ({g}, sex, age))
),
offences AS (
    SELECT 'offences' AS indicator, c.submission_id, c.country, year(c.opened_on) AS year,
           'total' AS sex, 'total' AS age, count(*) AS value
    FROM cases c JOIN cur ON cur.submission_id = c.submission_id
    WHERE c.opened_on BETWEEN cur.period_start AND cur.period_end
    GROUP BY ALL
),
zeros AS (
    SELECT i.indicator, cur.submission_id, cur.scope_country AS country, y.year,
           'total' AS sex, 'total' AS age, 0 AS value
    FROM cur CROSS JOIN (VALUES {indicators}) AS i(indicator)
    CROSS JOIN LATERAL (SELECT unnest(range(year(cur.period_start), year(cur.period_end) + 1)) AS year) AS y
)
SELECT submission_id, country AS area, CAST(year AS INTEGER) AS year, indicator, sex, age,
       CAST(sum(value) AS BIGINT) AS value
FROM (SELECT * FROM cells UNION ALL BY NAME SELECT * FROM offences UNION ALL BY NAME SELECT * FROM zeros)
GROUP BY ALL
ORDER BY submission_id, indicator, year, sex, age
""",
        "attrition": common + """,
cohort AS (
    SELECT submission_id, country, person_ref, min(event_date) AS start
    FROM ev WHERE event = 'investigation_opened' GROUP BY ALL
),
pros AS (
    SELECT c.submission_id, c.person_ref FROM cohort c SEMI JOIN ev e
      ON e.submission_id = c.submission_id AND e.person_ref = c.person_ref AND e.event = 'prosecution_initiated'
     AND e.event_date >= c.start AND e.event_date <= c.start + INTERVAL 2 YEAR
),
convd AS (
    SELECT c.submission_id, c.person_ref FROM cohort c SEMI JOIN conv v
      ON v.submission_id = c.submission_id AND v.person_ref = c.person_ref
     AND v.event_date >= c.start AND v.event_date <= c.start + INTERVAL 2 YEAR
),
t AS (
    SELECT c.country, year(c.start) AS cohort_year,
           p.person_ref IS NOT NULL AS prosecuted, v.person_ref IS NOT NULL AS convicted,
           coalesce(make_date(year(c.start) + 2, 12, 31) <= cur.period_end
                    AND make_date(year(c.start), 1, 1) >= cur.period_start, false) AS in_period
    FROM cohort c
    JOIN cur ON cur.submission_id = c.submission_id
    LEFT JOIN pros p ON p.submission_id = c.submission_id AND p.person_ref = c.person_ref
    LEFT JOIN convd v ON v.submission_id = c.submission_id AND v.person_ref = c.person_ref
)
SELECT country, cohort_year, investigated, prosecuted_within, convicted_within,
       100.0 * prosecuted_within / investigated AS prosecuted_share,
       100.0 * convicted_within / investigated AS convicted_share, complete
FROM (
    SELECT country, cohort_year, count(*) AS investigated,
           count(*) FILTER (WHERE prosecuted) AS prosecuted_within,
           count(*) FILTER (WHERE convicted) AS convicted_within,
           bool_and(in_period) AS complete
    FROM t GROUP BY ALL
)
ORDER BY country, cohort_year
""",
        "durations": common + """,
inv AS (SELECT submission_id, person_ref, case_ref, country, min(event_date) AS opened
        FROM ev WHERE event = 'investigation_opened' GROUP BY ALL),
ver AS (SELECT submission_id, person_ref, case_ref, country, min(event_date) AS verdict
        FROM ev WHERE event = 'first_instance_verdict' GROUP BY ALL)
SELECT country, year(verdict) AS year, count(*) AS n,
       quantile_cont(date_diff('day', opened, verdict), 0.5) AS median_days
FROM inv JOIN ver USING (submission_id, person_ref, case_ref, country)
GROUP BY ALL ORDER BY country, year
""",
        "sentences": common + """
SELECT country, year(event_date) AS year, count(*) AS convictions, count(sentence_months) AS with_sentence,
       quantile_cont(sentence_months, 0.25) AS q1_months, quantile_cont(sentence_months, 0.5) AS median_months,
       quantile_cont(sentence_months, 0.75) AS q3_months
FROM conv GROUP BY ALL ORDER BY country, year
""",
        "witnesses": common + """,
d AS (SELECT DISTINCT submission_id, country, person_ref, service, year(event_date) AS year FROM sv
      WHERE service IN ('identified', 'testified', 'protection_measure', 'compensation_awarded'))
SELECT *, CASE WHEN identified > 0 THEN 100.0 * testified / identified END AS testified_share
FROM (
    SELECT country, year,
           count(*) FILTER (WHERE service = 'identified') AS identified,
           count(*) FILTER (WHERE service = 'testified') AS testified,
           count(*) FILTER (WHERE service = 'protection_measure') AS protected,
           count(*) FILTER (WHERE service = 'compensation_awarded') AS compensated
    FROM d GROUP BY ALL
)
ORDER BY country, year
""",
        "cooperation": common + """
SELECT requesting_country, requested_country, type, count(*) AS sent,
       count(*) FILTER (WHERE status = 'executed') AS executed,
       count(*) FILTER (WHERE status = 'refused') AS refused,
       count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'withdrawn') AS withdrawn,
       quantile_cont(date_diff('day', sent_on, executed_on), 0.5)
           FILTER (WHERE status = 'executed' AND executed_on IS NOT NULL) AS median_days_to_execute
FROM cooperation_requests
WHERE submission_id IN (SELECT submission_id FROM cur)
GROUP BY ALL ORDER BY requesting_country, requested_country, type
""",
    }


def child_sql(store_path: Path, dump: str | None) -> dict:
    """Reference (b1): the same figures, hand-written in DuckDB SQL, on the same file (read-only)."""
    import duckdb

    queries = _sql_queries()
    con = duckdb.connect(str(store_path), read_only=True)
    con.sql("SELECT count(*) FROM submissions").fetchall()  # warm-up
    mem = _Memory()
    results, split = {}, {}
    start = time.perf_counter()
    for name, sql in queries.items():
        t0 = time.perf_counter()
        results[name] = con.sql(sql).to_arrow_table()
        split[name] = time.perf_counter() - t0
    seconds = time.perf_counter() - start
    memory = mem.report()
    con.close()
    if dump:
        _dump(dump, results)
    return {"seconds": seconds, **memory,
            "split_s": {k: round(v, 4) for k, v in split.items()},
            "rows": {k: v.num_rows for k, v in results.items()}}


# --- pandas -----------------------------------------------------------------------------------


def _pandas_suite(con, split: dict[str, float]) -> dict:
    """The same figures in straightforward pandas: read the tables, then merge / groupby / nunique.

    ``split`` receives the seconds of each step: reading and joining the tables, then each output.
    """
    import pandas as pd

    from tipwatch import reference
    from tipwatch.indicators.casefile import INDICATORS, SUSPECT_EVENTS, VICTIM_SERVICES

    def read(sql: str) -> pd.DataFrame:
        return con.sql(sql).df()

    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        split[name] = now - clock[0]
        clock[0] = now

    flagged = [k for k, v in reference.sources().items() if v["synthetic"]]
    subs = read("SELECT id, source, scope, vintage, imported_at FROM submissions")
    subs = subs[subs.source.isin(flagged)]
    subs = subs.sort_values(["vintage", "imported_at", "id"], ascending=False).drop_duplicates(["source", "scope"])
    scope = subs.scope.str.extract(r"^([A-Z]{3}):(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
    cur = pd.DataFrame({"submission_id": subs.id.to_numpy(), "scope_country": scope[0].to_numpy(),
                        "period_start": pd.to_datetime(scope[1]).to_numpy(),
                        "period_end": pd.to_datetime(scope[2]).to_numpy()})
    ids = cur.submission_id

    persons = read("SELECT submission_id, person_ref, case_ref, role, sex, age_group AS age FROM persons")
    cases = read("SELECT submission_id, case_ref, country, opened_on FROM cases")
    proceedings = read("SELECT submission_id, person_ref, case_ref, event, event_date, outcome, sentence_months "
                       "FROM proceedings")
    services = read("SELECT submission_id, person_ref, case_ref, service, service_date AS event_date FROM services")
    requests = read("SELECT submission_id, requesting_country, requested_country, type, status, sent_on, executed_on "
                    "FROM cooperation_requests")
    persons = persons[persons.submission_id.isin(ids)]
    cases = cases[cases.submission_id.isin(ids)]
    proceedings = proceedings[proceedings.submission_id.isin(ids)]
    services = services[services.submission_id.isin(ids)]
    requests = requests[requests.submission_id.isin(ids)]

    keys = ["submission_id", "person_ref", "case_ref"]
    people = persons.merge(cases[["submission_id", "case_ref", "country"]], on=["submission_id", "case_ref"])
    ev = proceedings.merge(people[people.role == "suspect"].drop(columns="role"), on=keys)
    ev["sentence_months"] = ev.sentence_months.astype("float64")
    sv = services.merge(people[people.role == "victim"].drop(columns="role"), on=keys)
    conv = ev[(ev.outcome == "convicted") & ev.event.isin(["first_instance_verdict", "appeal_verdict"])]
    conv = (conv.assign(_appeal=conv.event == "appeal_verdict")
            .sort_values([*keys, "_appeal", "event_date", "event"])
            .drop_duplicates(keys).drop(columns="_appeal"))
    out = {}
    lap("read + join tables")

    # count_submission, for every current submission at once
    cols = ["submission_id", "country", "person_ref", "case_ref", "event_date", "sex", "age"]
    q = [ev.loc[ev.event == e, cols].assign(indicator=ind) for ind, e in SUSPECT_EVENTS.items()]
    q.append(conv[cols].assign(indicator="persons_convicted"))
    victims = sv[sv.service.isin(list(VICTIM_SERVICES.values()))]
    q.append(victims[cols].assign(indicator=victims.service.map({s: i for i, s in VICTIM_SERVICES.items()})))
    q = pd.concat(q, ignore_index=True).merge(cur, on="submission_id")
    q = q[(q.event_date >= q.period_start) & (q.event_date <= q.period_end)]
    q = q.assign(year=q.event_date.dt.year)
    group = ["indicator", "submission_id", "country", "year"]
    q = q.sort_values(["event_date", "case_ref"]).drop_duplicates([*group, "person_ref"])
    parts = []
    for extra in ([], ["sex"], ["age"], ["sex", "age"]):
        c = q.groupby(group + extra).size().rename("value").reset_index()
        parts.append(c.assign(**{col: "total" for col in ("sex", "age") if col not in extra}))
    off = cases.merge(cur, on="submission_id")
    off = off[(off.opened_on >= off.period_start) & (off.opened_on <= off.period_end)]
    off = off.assign(year=off.opened_on.dt.year).groupby(["submission_id", "country", "year"]).size()
    parts.append(off.rename("value").reset_index().assign(indicator="offences", sex="total", age="total"))
    parts.append(pd.DataFrame([
        {"indicator": ind, "submission_id": r.submission_id, "country": r.scope_country, "year": y,
         "sex": "total", "age": "total", "value": 0}
        for r in cur.itertuples() for ind in INDICATORS
        for y in range(r.period_start.year, r.period_end.year + 1)]))
    rows = pd.concat(parts, ignore_index=True)
    out["count_submission"] = (rows.groupby(["submission_id", "country", "year", "indicator", "sex", "age"])
                               .value.sum().reset_index().rename(columns={"country": "area"}))
    lap("count_submission")

    # attrition
    person = ["submission_id", "country", "person_ref"]
    cohort = (ev[ev.event == "investigation_opened"].groupby(person, as_index=False).event_date.min()
              .rename(columns={"event_date": "start"}))
    cohort["window_end"] = cohort.start + pd.DateOffset(years=2)

    def reached(later: pd.DataFrame, name: str) -> pd.DataFrame:
        m = cohort.merge(later[["submission_id", "person_ref", "event_date"]], on=["submission_id", "person_ref"])
        m = m[(m.event_date >= m.start) & (m.event_date <= m.window_end)]
        return m[person].drop_duplicates().assign(**{name: True})

    t = cohort.merge(reached(ev[ev.event == "prosecution_initiated"], "prosecuted"), on=person, how="left")
    t = t.merge(reached(conv, "convicted"), on=person, how="left").merge(cur, on="submission_id")
    t["cohort_year"] = t.start.dt.year
    last_end = pd.to_datetime(pd.DataFrame({"year": t.cohort_year + 2, "month": 12, "day": 31}))
    first_day = pd.to_datetime(pd.DataFrame({"year": t.cohort_year, "month": 1, "day": 1}))
    t["in_period"] = (last_end <= t.period_end) & (first_day >= t.period_start)
    a = t.groupby(["country", "cohort_year"]).agg(
        investigated=("person_ref", "size"), prosecuted_within=("prosecuted", "count"),
        convicted_within=("convicted", "count"), complete=("in_period", "all")).reset_index()
    a["prosecuted_share"] = 100.0 * a.prosecuted_within / a.investigated
    a["convicted_share"] = 100.0 * a.convicted_within / a.investigated
    out["attrition"] = a
    lap("attrition")

    # durations
    k = [*keys, "country"]
    inv = (ev[ev.event == "investigation_opened"].groupby(k, as_index=False).event_date.min()
           .rename(columns={"event_date": "opened"}))
    ver = (ev[ev.event == "first_instance_verdict"].groupby(k, as_index=False).event_date.min()
           .rename(columns={"event_date": "verdict"}))
    j = inv.merge(ver, on=k)
    j = j.assign(year=j.verdict.dt.year, days=(j.verdict - j.opened).dt.days.astype("float64"))
    out["durations"] = j.groupby(["country", "year"]).agg(n=("days", "size"), median_days=("days", "median")
                                                          ).reset_index()
    lap("durations")

    # sentences
    c = conv.assign(year=conv.event_date.dt.year)
    by = c.groupby(["country", "year"]).sentence_months
    out["sentences"] = pd.DataFrame({
        "convictions": by.size(), "with_sentence": by.count(), "q1_months": by.quantile(0.25),
        "median_months": by.median(), "q3_months": by.quantile(0.75)}).reset_index()
    lap("sentences")

    # witnesses
    wanted = {"identified": "identified", "testified": "testified", "protection_measure": "protected",
              "compensation_awarded": "compensated"}
    d = sv[sv.service.isin(list(wanted))]
    d = d.assign(year=d.event_date.dt.year)[["submission_id", "country", "person_ref", "service", "year"]]
    w = (d.drop_duplicates().groupby(["country", "year", "service"]).size().unstack(fill_value=0)
         .reindex(columns=list(wanted), fill_value=0).rename(columns=wanted).reset_index())
    w.columns.name = None
    w["testified_share"] = (100.0 * w.testified / w.identified).where(w.identified > 0)
    out["witnesses"] = w
    lap("witnesses")

    # cooperation
    g = ["requesting_country", "requested_country", "type"]
    r = requests.assign(days=(requests.executed_on - requests.sent_on).dt.days.astype("float64"))
    coop = r.groupby(g).size().rename("sent").to_frame()
    for status in ("executed", "refused", "pending", "withdrawn"):
        coop[status] = r.status.eq(status).groupby([r[col] for col in g]).sum()
    done = r[(r.status == "executed") & r.executed_on.notna()]
    coop["median_days_to_execute"] = done.groupby(g).days.median()
    out["cooperation"] = coop.reset_index()
    lap("cooperation")
    return out


def child_pandas(store_path: Path, dump: str | None) -> dict:
    """Reference (b2): the same figures in pandas, tables read with ``con.sql(...).df()``."""
    import duckdb
    import pandas as pd  # noqa: F401  (imported before the clock starts)

    con = duckdb.connect(str(store_path), read_only=True)
    con.sql("SELECT * FROM submissions").df()  # warm-up
    mem = _Memory()
    split: dict[str, float] = {}
    start = time.perf_counter()
    results = _pandas_suite(con, split)
    seconds = time.perf_counter() - start
    memory = mem.report()
    con.close()
    if dump:
        import pyarrow as pa

        _dump(dump, {k: pa.Table.from_pandas(v, preserve_index=False) for k, v in results.items()})
    return {"seconds": seconds, **memory, "split_s": {k: round(v, 4) for k, v in split.items()},
            "rows": {k: len(v) for k, v in results.items()}}


def _dump(folder: str, tables: dict) -> None:
    import pyarrow.parquet as pq

    Path(folder).mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, str(Path(folder) / f"{name}.parquet"))


def check_same(dumps: dict[str, Path]) -> dict[str, str]:
    """Compare the three versions' figures, output by output; return 'same' or what differs."""
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    def load(folder: Path, name: str) -> pd.DataFrame:
        df = pq.read_table(str(folder / f"{name}.parquet")).to_pandas()
        df = df[KEYS[name] + VALUES[name]]
        for col in KEYS[name]:
            df[col] = df[col].astype("int64") if col in ("year", "cohort_year") else df[col].astype(str)
        for col in VALUES[name]:
            df[col] = df[col].astype(bool) if col == "complete" else pd.to_numeric(df[col]).astype("float64")
        return df.sort_values(KEYS[name]).reset_index(drop=True)

    verdicts = {}
    base = dumps["tipwatch"]
    for name in PARTS:
        ref = load(base, name)
        problems = []
        for other, folder in dumps.items():
            if other == "tipwatch":
                continue
            df = load(folder, name)
            if len(df) != len(ref):
                problems.append(f"{other}: {len(df)} rows, tipwatch {len(ref)}")
                continue
            if not df[KEYS[name]].equals(ref[KEYS[name]]):
                problems.append(f"{other}: different keys")
                continue
            for col in VALUES[name]:
                a, b = ref[col].to_numpy(), df[col].to_numpy()
                same = (np.array_equal(a, b) if a.dtype == bool
                        else np.allclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True))
                if not same:
                    problems.append(f"{other}: column {col} differs")
        verdicts[name] = "same" if not problems else "; ".join(problems)
    return verdicts


# --- the store ----------------------------------------------------------------------------------


def store_path(scale: float, seed: int) -> Path:
    return OUT / f"casefile-store-scale{scale:g}-seed{seed}.duckdb"


def child_build(scale: float, seed: int) -> dict:
    """Generate a synthetic region and import each country's folder into a new store (untimed setup).

    A country folder larger than the importer's limit (`files.MAX_BYTES`, 512 MB) would be
    refused; for this setup only, the limit is raised, and the countries that needed it are noted.
    """
    from tipwatch import ingest
    from tipwatch.ingest import files, import_file
    from tipwatch.store import open_store
    from tipwatch.synth import generate

    target = store_path(scale, seed)
    partial = target.with_name(target.name + ".partial")
    for p in (partial, Path(str(partial) + ".wal")):
        p.unlink(missing_ok=True)
    info: dict = {"scale": scale, "seed": seed, "region": REGION, "years": list(YEARS),
                  "source": source_fingerprint(), "over_import_limit": [], "import_s": {}}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tipwatch-casefile-") as tmp:
        synth = Path(tmp) / "synth"
        t0 = time.perf_counter()
        generate(REGION, YEARS, scale=scale, seed=seed, out=synth)
        info["generate_s"] = round(time.perf_counter() - t0, 1)
        ingest.receive = functools.partial(files.receive, max_bytes=64 * 2**30)
        with open_store(str(partial)) as store:
            for folder in sorted(p for p in synth.iterdir() if p.is_dir()):
                size = sum(f.stat().st_size for f in folder.iterdir() if f.suffix in (".csv", ".json"))
                if size > files.MAX_BYTES:
                    info["over_import_limit"].append(f"{folder.name} ({size / 2**20:,.0f} MB)")
                _say(f"  build scale {scale:g}: importing {folder.name} ({size / 2**20:,.0f} MB)")
                t0 = time.perf_counter()
                import_file(store, folder)
                info["import_s"][folder.name] = round(time.perf_counter() - t0, 1)
            with store.engine.connect() as conn:
                info["rows"] = {t: conn.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar()
                                for t in ("cases", "persons", "proceedings", "services",
                                          "cooperation_requests", "observations")}
    info["build_s"] = round(time.perf_counter() - start, 1)
    info["rss_peak_mib"] = round(_rss_mib())
    partial.rename(target)
    info["store_bytes"] = target.stat().st_size
    target.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def ensure_store(scale: float, seed: int, rebuild: bool) -> dict:
    target = store_path(scale, seed)
    meta = target.with_suffix(".json")
    if rebuild or not (target.exists() and meta.exists()):
        _say(f"indicators: building the scale-{scale:g} store (untimed; cached in benchmarks/out/)")
        _child("build", [str(scale), str(seed)])
    info = json.loads(meta.read_text(encoding="utf-8"))
    if info.get("source") != source_fingerprint():
        _say(f"  note: the cached scale-{scale:g} store was built from source {info.get('source')}; "
             "--rebuild rebuilds it")
    return info


# =============================================================================================
# Orchestration
# =============================================================================================


def _child(kind: str, args: list[str]) -> dict:
    # Run outside the repository: an in-memory DuckDB that spills writes into ./.tmp.
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", kind, *args],
                          capture_output=True, text=True, cwd=tempfile.gettempdir(), check=False)
    if proc.returncode != 0:
        raise RuntimeError(_scrub(f"the {kind} process failed:\n{proc.stderr.strip()[-3000:]}"))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _rounds(kinds: dict[str, Callable[[int], dict]], repeat: int, label: str) -> dict[str, list[dict]]:
    """Run each kind ``repeat`` times, one fresh process each, rotating which goes first."""
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    names = list(kinds)
    for i in range(repeat):
        order = names[i % len(names):] + names[:i % len(names)]
        for name in order:
            _say(f"  {label} {i + 1}/{repeat}: {name}")
            runs[name].append(kinds[name](i))
    return runs


def _summary(runs: list[dict]) -> dict:
    out = _stats([r["seconds"] for r in runs])
    out["rss_peak_mib"] = round(statistics.median(r["rss_peak_mib"] for r in runs))
    out["rss_before_mib"] = round(statistics.median(r["rss_before_mib"] for r in runs))
    out["rss_process_max_mib"] = round(statistics.median(r["rss_process_max_mib"] for r in runs))
    out["memory_method"] = runs[0]["memory_method"]
    splits = [r["split_s"] for r in runs if "split_s" in r]
    if splits:
        out["split_s"] = {k: round(statistics.median(s.get(k, 0.0) for s in splits), 3) for k in splits[0]}
    return out


def bench_import(repeat: int, scale: float, seed: int, tmp: Path, profile: bool) -> dict:
    info = build_import_input(tmp, scale, seed)
    folder = info.pop("folder")
    work = tmp / "import-work"
    work.mkdir()

    def child(kind: str) -> Callable[[int], dict]:
        def run(_: int) -> dict:
            for leftover in work.glob("*"):
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
            return _child(kind, [str(folder), str(work)])
        return run

    kinds = {"import": child("import"), "read_csv": child("read_csv"), "validate": child("validate"),
             "count_csv": child("count_csv")}
    runs = _rounds(kinds, repeat, "import")
    s = {k: _summary(v) for k, v in runs.items()}
    ref = s["read_csv"]["median_s"]
    first = runs["import"][0]
    out = {
        "name": "import of a 1,000,000-row persons CSV (case-level submission folder)",
        "input": info,
        "subject": "open_store(new DuckDB file) + import_file(store, folder)",
        "reference": "duckdb: CREATE TABLE persons AS SELECT * FROM read_csv('persons.csv') in a new DuckDB "
                     "file (types detected; connect + close included)",
        "memory": "peak RSS of the timed part, Python + DuckDB (VmHWM after resetting it through "
                  "/proc/self/clear_refs; ru_maxrss where that is not possible), one fresh process per run, "
                  "median of runs; rss_before = resident set when the clock started (imports, warm-up)",
        "stats": s,
        "ratio": s["import"]["median_s"] / ref,
        "validate_ratio": s["validate"]["median_s"] / ref,
        "count_csv_ratio": s["import"]["median_s"] / s["count_csv"]["median_s"],
        "target": f"ratio <= {IMPORT_TARGET:g}",
        "met": s["import"]["median_s"] / ref <= IMPORT_TARGET,
        "tables": first["tables"],
        "warnings": first["warnings"],
        "store_bytes": first["store_bytes"],
        "validate_problems": runs["validate"][0]["problems"],
        "validate_errors": runs["validate"][0]["errors"],
    }
    if profile:
        _say("import: one cProfile'd import")
        for leftover in work.glob("*"):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        _child("import", [str(folder), str(work), str(OUT / "casefile-import-profile.txt")])
        out["profile"] = "benchmarks/out/casefile-import-profile.txt"
    return out


def bench_indicators(repeat: int, scale: float, seed: int, tmp: Path, rebuild: bool, pandas_max: float) -> dict:
    info = ensure_store(scale, seed, rebuild)
    path = store_path(scale, seed)
    dumps = {k: tmp / f"dump-{scale:g}-{k}" for k in ("tipwatch", "sql", "pandas")}

    def child(kind: str, key: str) -> Callable[[int], dict]:
        return lambda i: _child(kind, [str(path), str(dumps[key]) if i == 0 else ""])

    kinds = {"tipwatch": child("suite", "tipwatch"), "sql": child("sql", "sql")}
    if scale <= pandas_max:
        kinds["pandas"] = child("pandas", "pandas")
    else:
        dumps.pop("pandas")
    runs = _rounds(kinds, repeat, f"indicators scale {scale:g}")
    checks = check_same(dumps)
    for folder in dumps.values():
        shutil.rmtree(folder, ignore_errors=True)
    s = {k: _summary(v) for k, v in runs.items()}
    suite = runs["tipwatch"]
    # Like for like: the suite without `compute`, which reads the cube and has no counterpart.
    s["tipwatch_without_compute"] = _stats([r["seconds"] - r["split_s"][COMPUTE] for r in suite])
    s["tipwatch"]["compile_s"] = {k: round(statistics.median(r["compile_s"][k] for r in suite), 3)
                                  for k in suite[0]["compile_s"]}
    t_all, t_like = s["tipwatch"]["median_s"], s["tipwatch_without_compute"]["median_s"]
    sql = s["sql"]["median_s"]
    out = {
        "name": f"indicator suite over a synthetic {REGION} store, scale {scale:g}",
        "store": {k: info.get(k) for k in ("rows", "store_bytes", "build_s", "generate_s", "import_s",
                                           "over_import_limit", "source", "rss_peak_mib")},
        "subject": "count_submission for each current submission + attrition, durations, sentences, witnesses, "
                   "cooperation (synthetic=True), each .to_pyarrow(); then compute(store.ibis, region='ASEAN', "
                   "years=(2011, 2025), synthetic=True).to_pyarrow(). Store opened untimed.",
        "references": {"sql": "the same figures hand-written in DuckDB SQL, one query per output, .to_arrow_table(), "
                              "read-only connection to the same file",
                       "pandas": "the same figures in pandas: tables read with con.sql(...).df(), then "
                                 "merge / sort + drop_duplicates / groupby"},
        "memory": "peak RSS of the timed part, Python + DuckDB (VmHWM after resetting it through "
                  "/proc/self/clear_refs; ru_maxrss where that is not possible), one fresh process per run, "
                  "median of runs",
        "stats": s,
        "rows": suite[0]["rows"],
        "same_figures": checks,
        "ratio_sql": t_all / sql,
        "ratio_sql_without_compute": t_like / sql,
        "target": f"tipwatch <= {SQL_TARGET:g} x SQL; pandas >= {PANDAS_TARGET:g} x tipwatch",
        "met_sql": t_all / sql <= SQL_TARGET,
        "met_sql_without_compute": t_like / sql <= SQL_TARGET,
    }
    if "pandas" in s:
        pd_ = s["pandas"]["median_s"]
        out.update(pandas_over_tipwatch=pd_ / t_all, pandas_over_tipwatch_without_compute=pd_ / t_like,
                   met_pandas=pd_ / t_all >= PANDAS_TARGET)
    else:
        out["pandas_not_run"] = (f"scale {scale:g} > --pandas-max-scale {pandas_max:g}: pandas needs about 4 GiB "
                                 "at scale 10 and grows with the data")
    return out


def _write_profile(prof: cProfile.Profile, path: str) -> None:
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(_scrub(buf.getvalue()), encoding="utf-8")


# --- output ---------------------------------------------------------------------------------------


def _s(x: float) -> str:
    return f"{x:.2f} s"


def table(results: dict) -> str:
    lines = []
    b = results["benchmarks"]
    if "import" in b and "error" not in b["import"]:
        r = b["import"]
        s = r["stats"]
        lines.append(f"(a) {r['name']} — {r['input']['country']}, {r['input']['persons_rows']:,} persons + "
                     f"{r['input']['cases_rows']:,} cases rows; medians of {results['repeat']} runs, "
                     "peak RSS of a fresh process per run")
        for key, label in (("import", "import (subject)"), ("validate", "  of which validation alone"),
                           ("read_csv", "read_csv → table (reference)"), ("count_csv", "count(*) read_csv")):
            st = s[key]
            ratio = st["median_s"] / s["read_csv"]["median_s"]
            lines.append(f"  {label:30} {_s(st['median_s']):>9}  ({st['min_s']:.2f}–{st['max_s']:.2f})  "
                         f"ratio {ratio:5.2f}  peak {st['rss_peak_mib']:,} MiB (before {st['rss_before_mib']:,})")
        lines.append(f"  target ratio ≤ {IMPORT_TARGET:g}: {'met' if r['met'] else 'NOT met'} "
                     f"({r['ratio']:.2f}); against count(*) only: {r['count_csv_ratio']:.1f}")
        lines.append("  where the import's time goes (medians): " + "; ".join(
            f"{k} {v:.2f}" for k, v in s["import"]["split_s"].items()))
        lines.append("  validation alone: " + "; ".join(f"{k} {v:.2f}" for k, v in s["validate"]["split_s"].items()))
    for key, r in b.items():
        if not key.startswith("indicators") or "error" in r:
            continue
        s = r["stats"]
        rows = r["store"]["rows"] or {}
        lines.append("")
        lines.append(f"(b) {r['name']}: {rows.get('proceedings', 0):,} proceedings, {rows.get('persons', 0):,} "
                     f"persons, {rows.get('services', 0):,} services, {rows.get('cases', 0):,} cases; "
                     f"medians of {results['repeat']} runs")
        for k, label in (("tipwatch", "tipwatch suite (subject)"), ("tipwatch_without_compute", "  without compute"),
                         ("sql", "hand-written DuckDB SQL"), ("pandas", "pandas")):
            if k not in s:
                lines.append(f"  {label:30} not run ({r.get('pandas_not_run', '')})")
                continue
            st = s[k]
            mem = (f"  peak {st['rss_peak_mib']:,} MiB (at start {st['rss_before_mib']:,})"
                   if "rss_peak_mib" in st else "")
            lines.append(f"  {label:30} {_s(st['median_s']):>9}  ({st['min_s']:.2f}–{st['max_s']:.2f}){mem}")
        lines.append(f"  tipwatch ÷ SQL {r['ratio_sql']:.2f} (without compute {r['ratio_sql_without_compute']:.2f}), "
                     f"target ≤ {SQL_TARGET:g}: {'met' if r['met_sql'] else 'NOT met'}")
        if "pandas_over_tipwatch" in r:
            lines.append(f"  pandas ÷ tipwatch {r['pandas_over_tipwatch']:.2f} (without compute "
                         f"{r['pandas_over_tipwatch_without_compute']:.2f}), target ≥ {PANDAS_TARGET:g}: "
                         f"{'met' if r['met_pandas'] else 'NOT met'}")
        pandas_split = s.get("pandas", {}).get("split_s", {})
        lines.append("  per output, medians in s: tipwatch [of which ibis compile] / SQL / pandas")
        if pandas_split:
            read = pandas_split["read + join tables"]
            lines.append(f"    {'(pandas: read + join)':18} {'':>16}   {'':>7}   {read:6.2f}")
        for part in (*PARTS, COMPUTE):
            t = s["tipwatch"]["split_s"].get(part, 0.0)
            comp = s["tipwatch"]["compile_s"].get(part, 0.0)
            q = s["sql"]["split_s"].get(part)
            pp = pandas_split.get(part)
            lines.append(f"    {part:18} {t:7.2f} [{comp:5.2f}]   " + (f"{q:7.2f}" if q is not None else "      –")
                         + "   " + (f"{pp:6.2f}" if pp is not None else "     –"))
        lines.append("  same figures: " + ", ".join(f"{k} {v}" for k, v in r["same_figures"].items()))
    for key, r in b.items():
        if "error" in r:
            lines.append(f"{key}: not measured: {r['error']}")
    return "\n".join(lines)


def _save(results: dict) -> None:
    """Append this run to every benchmark's list of runs in `RESULTS` (newest last, 10 kept)."""
    OUT.mkdir(parents=True, exist_ok=True)
    saved = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    head = {k: v for k, v in results.items() if k != "benchmarks"}
    for key, r in results["benchmarks"].items():
        saved.setdefault(key, []).append({**head, **r})
        saved[key] = saved[key][-10:]
    text = json.dumps(saved, indent=2, ensure_ascii=False, default=str)
    RESULTS.write_text(_scrub(text) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (default 5)")
    parser.add_argument("--only", default="import,indicators", help="import, indicators or both")
    parser.add_argument("--scales", default="10", help="synth scales for (b), comma-separated (default 10)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--import-scale", type=float, default=IMPORT_SCALE,
                        help=f"synth scale the 1,000,000 persons rows are cut from (default {IMPORT_SCALE})")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached stores of (b)")
    parser.add_argument("--pandas-max-scale", type=float, default=10,
                        help="run the pandas reference up to this scale only (default 10: it needs about "
                             "4 GiB at scale 10)")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one import (benchmarks/out/casefile-import-profile.txt)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, rest = args.child[0], args.child[1:]
        if kind == "build":
            result = child_build(float(rest[0]), int(rest[1]))
        elif kind in ("import", "validate", "read_csv", "count_csv"):
            fn = {"import": child_import, "validate": child_validate, "read_csv": child_read_csv,
                  "count_csv": child_count_csv}[kind]
            result = fn(Path(rest[0]), Path(rest[1]), *rest[2:])
        else:
            fn = {"suite": child_suite, "sql": child_sql, "pandas": child_pandas}[kind]
            result = fn(Path(rest[0]), rest[1] or None)
        print(json.dumps(result, default=str))
        return 0

    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    if set(wanted) - {"import", "indicators"} or args.repeat < 1:
        parser.error("--only takes import and/or indicators; --repeat at least 1")
    scales = [float(x) for x in args.scales.split(",") if x.strip()]
    results = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "versions": _versions(),
        "repeat": args.repeat,
        "seed": args.seed,
        "source_at_start": source_fingerprint(),
        "benchmarks": {},
    }
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tipwatch-casefile-") as tmpname:
        tmp = Path(tmpname)
        jobs: list[tuple[str, Callable[[], dict]]] = []
        if "import" in wanted:
            jobs.append(("import", lambda: bench_import(args.repeat, args.import_scale, args.seed, tmp, args.profile)))
        if "indicators" in wanted:
            for scale in scales:
                jobs.append((f"indicators-scale{scale:g}",
                             functools.partial(bench_indicators, args.repeat, scale, args.seed, tmp, args.rebuild,
                                               args.pandas_max_scale)))
        for key, job in jobs:
            before = source_fingerprint()
            t0 = time.perf_counter()
            try:
                results["benchmarks"][key] = job()
            except Exception as exc:  # one broken benchmark should not hide the others' figures
                results["benchmarks"][key] = {"error": _scrub(f"{type(exc).__name__}: {exc}")}
            after = source_fingerprint()
            results["benchmarks"][key]["wall_s"] = round(time.perf_counter() - t0, 1)
            results["benchmarks"][key]["source"] = before if before == after else f"{before} -> {after}"
    results["wall_s"] = round(time.perf_counter() - started, 1)
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["source_at_end"] = source_fingerprint()
    _save(results)
    print(table(results))
    mixed = [k for k, r in results["benchmarks"].items() if "->" in r.get("source", "")]
    print(f"\ntipwatch source {results['source_at_start']}"
          + (f" -> {results['source_at_end']} (changed during the run)"
             if results["source_at_end"] != results["source_at_start"] else ""))
    if mixed:
        print(f"WARNING: the source changed while {', '.join(mixed)} ran: those figures mix versions; run again")
    print(f"written: {RESULTS.relative_to(ROOT).as_posix()} (whole run {results['wall_s']:.0f} s)")
    return 1 if any("error" in r for r in results["benchmarks"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
