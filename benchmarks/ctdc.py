"""CTDC importer (issue 4): importing CTDC's 2020-layout victim file, against pandas merely reading it.

Run from the repository root::

    .venv/bin/python benchmarks/ctdc.py                  # both inputs, 5 runs each
    .venv/bin/python benchmarks/ctdc.py --repeat 3 --times 20
    .venv/bin/python benchmarks/ctdc.py --profile        # plus one cProfile'd import of the larger input

Subject: ``open_store(new DuckDB file)`` + ``import_file(store, file)`` — detection, Arrow's CSV
reader as text, the codebook checks, the country crosswalks, the cube's count, and storing the
victim records, the figures and the raw file. Reference: ``pandas.read_csv(file,
keep_default_na=False, na_values=[""])``, the way the published analyses read it (so that Namibia's
``NA`` survives), nothing else. Target: subject ÷ reference ≤ 1.

Also timed in the same run, a **floor**: the least any import into the store must do — a new
store, the file received (read + SHA-256) and kept (LZ4), and the victim records inserted and
committed — with the records parsed, checked and typed *before* the clock starts. No import can
be faster than its floor, so floor ÷ reference is the best ratio this machine allows.

Two inputs, because fixed costs (opening a store, compiling the count) dominate a 4 MB file:

- ``subset``: the bundled ``dados_app.csv`` (48,773 records, 4.1 MB);
- ``x<N>``: the same header and its rows repeated N times (default 20: 975,460 records, 81 MB).

Every timed run is a **fresh Python process** (imports and a warm-up on a small slice before the
clock starts); subject and reference alternate and the order rotates; medians of N runs. Peak
memory is the timed part's resident set (see ``benchmarks/casefile.py``). Results are appended to
``benchmarks/out/ctdc-results.json`` (git-ignored); nothing written holds a path of this machine.
Nothing here makes anything fail: a missed target is a figure.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
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

from casefile import _Clock, _Memory, _write_profile  # noqa: E402  (benchmarks/casefile.py)
from run import _scrub, _stats, _versions, source_fingerprint  # noqa: E402  (benchmarks/run.py)

SUBSET = ROOT / "src" / "tipwatch" / "bundled" / "ctdc-2020-subset" / "dados_app.csv"
OUT = HERE / "out"
RESULTS = OUT / "ctdc-results.json"
TARGET = 1.0  # import ≤ pandas.read_csv of the same file
WARM_ROWS = 2_000

PHASES = (
    "open store (create + migrate)",
    "receive (read + SHA-256)",
    "detect (header, first rows)",
    "stage (Arrow read_csv from memory, trim, combinations)",
    "check (codebook rules as SQL, per combination)",
    "type (SQL per combination, then each record)",
    "countries (crosswalks)",
    "count into the cube (ibis)",
    "store (insert + commit)",
)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- inputs ----------------------------------------------------------------------------------------


def build_inputs(tmp: Path, times: int) -> dict[str, dict]:
    """The bundled subset, the same rows repeated ``times`` times, and a small slice to warm up on."""
    content = SUBSET.read_bytes()
    header, _, body = content.partition(b"\n")
    big = tmp / f"ctdc-x{times}.csv"
    with big.open("wb") as fh:
        fh.write(header + b"\n")
        for _ in range(times):
            fh.write(body)
    warm = tmp / "ctdc-warm.csv"
    warm.write_bytes(b"\n".join(content.split(b"\n")[:WARM_ROWS + 1]) + b"\n")
    rows = body.count(b"\n")
    return {
        "subset": {"path": SUBSET, "records": rows, "bytes": len(content), "warm": warm},
        f"x{times}": {"path": big, "records": rows * times, "bytes": big.stat().st_size, "warm": warm},
    }


# --- children: one timed run each, in a fresh process ----------------------------------------------


def _install_clock() -> _Clock:
    from tipwatch import ingest
    from tipwatch.ingest import ctdc

    clock = _Clock()
    clock.wrap(ingest, "receive", PHASES[1])
    clock.wrap(ctdc, "classify", PHASES[2])
    clock.wrap(ctdc, "_stage", PHASES[3])
    clock.wrap(ctdc, "_check", PHASES[4])
    clock.wrap(ctdc, "_countries", PHASES[6])
    clock.wrap(ctdc, "_observations", PHASES[7])
    clock.wrap(ctdc, "parse_layout", "parse")
    return clock


def _split(clock: _Clock, total: float, opened: float) -> dict[str, float]:
    t = clock.totals
    parse = t.get("parse", 0.0)
    inner = sum(t.get(k, 0.0) for k in (PHASES[3], PHASES[4], PHASES[6], PHASES[7]))
    out = {PHASES[0]: opened, PHASES[1]: t.get(PHASES[1], 0.0), PHASES[2]: t.get(PHASES[2], 0.0)}
    out.update({k: t.get(k, 0.0) for k in (PHASES[3], PHASES[4])})
    out[PHASES[5]] = max(parse - inner, 0.0)
    out.update({k: t.get(k, 0.0) for k in (PHASES[6], PHASES[7])})
    out[PHASES[8]] = max(total - opened - out[PHASES[1]] - out[PHASES[2]] - parse, 0.0)
    return {k: round(v, 4) for k, v in out.items()}


def child_import(path: Path, warm: Path, work: Path, profile_to: str | None = None) -> dict:
    """Subject: a new store and the import, after a warm-up import of a small slice."""
    from tipwatch.ingest import import_file
    from tipwatch.store import open_store

    with open_store(str(work / "warm.duckdb")) as store:  # imports, reference data, ibis, DuckDB
        import_file(store, warm)
    from tipwatch.ingest import ctdc

    ctdc.classify.cache_clear()
    clock = _install_clock()
    mem = _Memory()
    prof = cProfile.Profile() if profile_to else None
    if prof:
        prof.enable()
    start = time.perf_counter()
    store = open_store(str(work / "import.duckdb"))
    opened = time.perf_counter() - start
    with store:
        result = import_file(store, path)
    seconds = time.perf_counter() - start
    if prof:
        prof.disable()
        _write_profile(prof, profile_to)
    report = result.report
    return {"seconds": seconds, **mem.report(), "split_s": _split(clock, seconds, opened),
            "records": report["records_stored"], "figures": report["figures_counted"],
            "layout": report["layout"], "store_bytes": (work / "import.duckdb").stat().st_size}


def child_floor(path: Path, warm: Path, work: Path) -> dict:
    """Floor: what storing the import's result costs alone (the records are made before the clock)."""
    from datetime import UTC
    from datetime import datetime as dt

    import pyarrow as pa

    from tipwatch.ingest import import_file, parse_file
    from tipwatch.ingest.files import receive
    from tipwatch.store import open_store
    from tipwatch.store.schema import raw_files

    with open_store(str(work / "warm.duckdb")) as store:
        import_file(store, warm)
    _, batch = parse_file(path)
    records = batch.microdata["victim_records"]
    mem = _Memory()
    start = time.perf_counter()
    with open_store(str(work / "floor.duckdb")) as store:
        f = receive(path)
        with store.engine.begin() as conn:
            conn.execute(raw_files.insert().values(
                file_hash=f.sha256, file_name=f.name, size_bytes=len(f.content),
                content=pa.compress(f.content, codec="lz4", asbytes=True), content_codec="lz4",
                received_at=dt.now(UTC).replace(tzinfo=None)))
            store.bulk_insert(conn, "victim_records", records)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, **mem.report(), "records": records.num_rows}


def child_pandas(path: Path, warm: Path, work: Path) -> dict:
    """Reference: pandas reads the file (as the published analyses did), nothing more."""
    import pandas as pd

    pd.read_csv(warm, keep_default_na=False, na_values=[""])
    mem = _Memory()
    start = time.perf_counter()
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    seconds = time.perf_counter() - start
    return {"seconds": seconds, **mem.report(), "rows": len(frame), "namibia_kept": bool((frame == "NA").any().any())}


# --- orchestration ---------------------------------------------------------------------------------


def _child(kind: str, args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", kind, *args],
                          capture_output=True, text=True, cwd=tempfile.gettempdir(), check=False)
    if proc.returncode != 0:
        raise RuntimeError(_scrub(f"the {kind} process failed:\n{proc.stderr.strip()[-3000:]}"))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _summary(runs: list[dict]) -> dict:
    out = _stats([r["seconds"] for r in runs])
    for key in ("rss_peak_mib", "rss_before_mib"):
        out[key] = round(statistics.median(r[key] for r in runs))
    out["memory_method"] = runs[0]["memory_method"]
    splits = [r["split_s"] for r in runs if "split_s" in r]
    if splits:
        out["split_s"] = {k: round(statistics.median(s[k] for s in splits), 3) for k in splits[0]}
    return out


def bench_input(name: str, info: dict, repeat: int, tmp: Path, profile: bool) -> dict:
    work = tmp / f"work-{name}"
    work.mkdir()

    def run(kind: str) -> dict:
        for leftover in work.glob("*"):
            leftover.unlink()
        return _child(kind, [str(info["path"]), str(info["warm"]), str(work)])

    runs: dict[str, list[dict]] = {"import": [], "pandas": [], "floor": []}
    kinds = list(runs)
    for i in range(repeat):
        for kind in kinds[i % 3:] + kinds[:i % 3]:  # the order rotates
            _say(f"  {name} {i + 1}/{repeat}: {kind}")
            runs[kind].append(run(kind))
    s = {k: _summary(v) for k, v in runs.items()}
    ratio = s["import"]["median_s"] / s["pandas"]["median_s"]
    floor = s["floor"]["median_s"] / s["pandas"]["median_s"]
    first = runs["import"][0]
    out = {
        "name": f"import of CTDC's 2020-layout file: {name}",
        "input": {"file": _scrub(str(info["path"])) if name == "subset" else f"dados_app.csv rows × {name[1:]}",
                  "records": info["records"], "bytes": info["bytes"]},
        "subject": "open_store(new DuckDB file) + import_file(store, file)",
        "reference": "pandas.read_csv(file, keep_default_na=False, na_values=[''])",
        "stats": s,
        "ratio": ratio,
        "floor": "open_store(new DuckDB file) + receive + keep the raw file + insert the records made before "
                 "the clock + commit",
        "floor_ratio": floor,
        "import_over_floor": s["import"]["median_s"] / s["floor"]["median_s"],
        "target": f"ratio <= {TARGET:g}",
        "met": ratio <= TARGET,
        "records_stored": first["records"],
        "figures_counted": first["figures"],
        "store_bytes": first["store_bytes"],
        "pandas_rows": runs["pandas"][0]["rows"],
    }
    if profile:
        _say(f"  {name}: one cProfile'd import")
        for leftover in work.glob("*"):
            leftover.unlink()
        target = OUT / f"ctdc-import-profile-{name}.txt"
        _child("import", [str(info["path"]), str(info["warm"]), str(work), str(target)])
        out["profile"] = f"benchmarks/out/{target.name}"
    return out


def table(results: dict) -> str:
    lines = []
    for r in results["benchmarks"].values():
        if "error" in r:
            lines.append(f"{r.get('name', '?')}: not measured: {r['error']}")
            continue
        s = r["stats"]
        lines.append(f"{r['name']} — {r['input']['records']:,} records, {r['input']['bytes'] / 2**20:.1f} MiB; "
                     f"medians of {results['repeat']} runs, one fresh process each")
        for key, label in (("import", "import (subject)"), ("pandas", "pandas.read_csv (reference)"),
                           ("floor", "floor (store only)")):
            if key not in s:
                continue
            st = s[key]
            lines.append(f"  {label:30} {st['median_s']:7.3f} s ({st['min_s']:.3f}–{st['max_s']:.3f})  "
                         f"peak {st['rss_peak_mib']:,} MiB (at start {st['rss_before_mib']:,})")
        lines.append(f"  ratio {r['ratio']:.2f}, target ≤ {TARGET:g}: {'met' if r['met'] else 'NOT met'}")
        if "floor_ratio" in r:
            lines.append(f"  floor ÷ pandas {r['floor_ratio']:.2f} (the best ratio any import into the store "
                         f"can reach here); import ÷ floor {r['import_over_floor']:.2f}")
        lines.append("  where the import's time goes (medians, s): " + "; ".join(
            f"{k} {v:.3f}" for k, v in s["import"]["split_s"].items()))
        lines.append("")
    return "\n".join(lines).rstrip()


def _save(results: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    saved = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    head = {k: v for k, v in results.items() if k != "benchmarks"}
    for key, r in results["benchmarks"].items():
        saved.setdefault(key, []).append({**head, **r})
        saved[key] = saved[key][-10:]
    RESULTS.write_text(_scrub(json.dumps(saved, indent=2, ensure_ascii=False, default=str)) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per input and side (default 5)")
    parser.add_argument("--times", type=int, default=20, help="how often the larger input repeats the rows (20)")
    parser.add_argument("--only", default="subset,large", help="subset, large or both")
    parser.add_argument("--profile", action="store_true", help="also cProfile one import of each input")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, rest = args.child[0], args.child[1:]
        fn: Callable[..., dict] = {"import": child_import, "pandas": child_pandas, "floor": child_floor}[kind]
        print(json.dumps(fn(Path(rest[0]), Path(rest[1]), Path(rest[2]), *rest[3:]), default=str))
        return 0

    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    if wanted - {"subset", "large"} or args.repeat < 1 or args.times < 1:
        parser.error("--only takes subset and/or large; --repeat and --times at least 1")
    results = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "versions": _versions(),
        "repeat": args.repeat,
        "source_at_start": source_fingerprint(),
        "benchmarks": {},
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tipwatch-ctdc-") as tmpname:
        tmp = Path(tmpname)
        inputs = build_inputs(tmp, args.times)
        for name, info in inputs.items():
            if ("subset" if name == "subset" else "large") not in wanted:
                continue
            before = source_fingerprint()
            t0 = time.perf_counter()
            try:
                r = bench_input(name, info, args.repeat, tmp, args.profile)
            except Exception as exc:  # one broken input should not hide the other's figures
                r = {"name": name, "error": _scrub(f"{type(exc).__name__}: {exc}")}
            after = source_fingerprint()
            r["wall_s"] = round(time.perf_counter() - t0, 1)
            r["source"] = before if before == after else f"{before} -> {after}"
            results["benchmarks"][f"ctdc-{name}"] = r
    results["wall_s"] = round(time.perf_counter() - started, 1)
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["source_at_end"] = source_fingerprint()
    _save(results)
    print(table(results))
    if results["source_at_end"] != results["source_at_start"]:
        print(f"WARNING: the source changed during the run ({results['source_at_start']} -> "
              f"{results['source_at_end']}): the figures mix versions")
    print(f"written: {RESULTS.relative_to(ROOT).as_posix()} (whole run {results['wall_s']:.0f} s)")
    return 1 if any("error" in r for r in results["benchmarks"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
