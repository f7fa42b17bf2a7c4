"""tipwatch benchmarks: each figure is a ratio against a reference measured in the same run.

Run from the repository root::

    .venv/bin/python benchmarks/run.py [--repeat N] [--only import,report,indicators] [--profile]

or ``make bench``. Machines are shared and noisy, so an absolute time says little on its own:
every subject is timed N times (``time.perf_counter``, median taken) interleaved with the same
reference (pandas reading the GLOTIP workbook with openpyxl), and the ratio of the medians is
the figure to compare across runs. Nothing here is a test: no figure makes anything fail.

Results are printed as a table and written to ``benchmarks/out/results.json`` (git-ignored).
See ``benchmarks/README.md`` for what each benchmark measures and the figures measured so far.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import gc
import importlib
import io
import json
import os
import platform
import pstats
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
# Benchmark the working tree, whatever tipwatch the interpreter has installed.
sys.path.insert(0, str(ROOT / "src"))

XLSX = ROOT / "src" / "tipwatch" / "bundled" / "unodc-glotip-2023" / "data_glotip.xlsx"
XLSX_REL = XLSX.relative_to(ROOT).as_posix()
OUT = HERE / "out"

REGION = "ASEAN"
YEARS = (2003, 2021)

IMPORT_TARGET_RATIO = 0.5   # GLOTIP import at most half of pandas' openpyxl read
REPORT_TARGET_SECONDS = 10.0  # the absolute budget for the ASEAN report, on 2 cores

REFERENCE_NAME = f"pd.read_excel({XLSX_REL}, header=2, engine='openpyxl')"


# ---------------------------------------------------------------------------------------------
# Timing


def _timed(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _stats(samples: list[float]) -> dict:
    return {
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "max_s": max(samples),
        "samples_s": [round(s, 4) for s in samples],
    }


def _interleaved(subject: Callable[[], object], reference: Callable[[], object], repeat: int,
                 progress: str) -> tuple[list[float], list[float]]:
    """Time subject and reference ``repeat`` times each, alternating which goes first."""
    subj, ref = [], []
    for i in range(repeat):
        _say(f"  {progress} {i + 1}/{repeat}")
        if i % 2 == 0:
            subj.append(_timed(subject))
            ref.append(_timed(reference))
        else:
            ref.append(_timed(reference))
            subj.append(_timed(subject))
    return subj, ref


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def reference() -> None:
    """The same-run yardstick: pandas reading the GLOTIP workbook with openpyxl."""
    import pandas as pd

    pd.read_excel(XLSX, header=2, engine="openpyxl")


def _clear_parse_caches() -> None:
    # `read_workbook` keeps parsed workbooks by content: without this every repetition after
    # the first would skip the workbook parse that a `tipwatch import` process always pays.
    from tipwatch.ingest import files

    cache_clear = getattr(files.read_workbook, "cache_clear", None)
    if cache_clear is not None:
        cache_clear()


# ---------------------------------------------------------------------------------------------
# Where the report's time goes: wrap the few calls that do the heavy lifting.

_PHASES = (
    ("indicators", "tipwatch.report.build", "build_input"),  # write_report's own global
    ("indicators", "tipwatch.report", "build_input"),  # where it lived before report/build.py
    ("chart specs (altair)", "altair", "TopLevelMixin.to_dict"),
    ("chart drawing (vl-convert)", "vl_convert", "vegalite_to_svg"),
    ("chart drawing (vl-convert)", "vl_convert", "vegalite_to_png"),
    ("chart drawing (vl-convert)", "vl_convert", "vega_to_svg"),
    ("PDF (WeasyPrint)", "weasyprint", "HTML.write_pdf"),
    ("PDF (WeasyPrint)", "weasyprint", "HTML.render"),
    ("PDF (WeasyPrint)", "weasyprint.document", "Document.write_pdf"),
)
OTHER = "other (HTML, tables, I/O)"


class Phases:
    """Accumulates wall time spent inside the calls of `_PHASES`, by phase.

    A phase's calls nested in one another (WeasyPrint's ``HTML.write_pdf`` calls ``render``) are
    counted once. Calls that cannot be found (a library not installed) are left out.
    """

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._depth: dict[str, int] = {}
        self._undo: list[Callable[[], None]] = []

    def install(self) -> Phases:
        for phase, module_name, attr in _PHASES:
            try:
                owner = importlib.import_module(module_name)
                *path, name = attr.split(".")
                for part in path:
                    owner = getattr(owner, part)
                original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
            except (ImportError, AttributeError, KeyError):
                continue
            setattr(owner, name, self._wrap(phase, original))
            self._undo.append(functools.partial(setattr, owner, name, original))
        return self

    def uninstall(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def reset(self) -> None:
        self.totals = {}

    def _wrap(self, phase: str, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            depth = self._depth.get(phase, 0)
            self._depth[phase] = depth + 1
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth[phase] = depth
                if depth == 0:
                    self.totals[phase] = self.totals.get(phase, 0.0) + time.perf_counter() - start

        return wrapper

    def split(self, total: float) -> dict[str, float]:
        out = {k: round(v, 4) for k, v in self.totals.items()}
        out[OTHER] = round(max(total - sum(self.totals.values()), 0.0), 4)
        return out


def _median_split(splits: list[dict[str, float]]) -> dict[str, float]:
    keys = list(dict.fromkeys(k for s in splits for k in s))
    return {k: round(statistics.median(s.get(k, 0.0) for s in splits), 3) for k in keys}


# ---------------------------------------------------------------------------------------------
# Benchmarks


def bench_import(repeat: int, tmp: Path) -> dict:
    """GLOTIP 2023 into a new DuckDB store (store opening included) vs pandas' openpyxl read."""
    from tipwatch.ingest import import_file
    from tipwatch.store import open_store

    counter = iter(range(10**6))

    def subject() -> None:
        path = tmp / f"import-{next(counter)}.duckdb"
        _clear_parse_caches()
        with open_store(str(path)) as store:
            import_file(store, XLSX)

    _say("import: warming up (Python imports, reference data)")
    subject()
    reference()
    subj, ref = _interleaved(subject, reference, repeat, "import vs reference")
    for leftover in tmp.glob("import-*.duckdb*"):
        leftover.unlink()
    s, r = _stats(subj), _stats(ref)
    ratio = s["median_s"] / r["median_s"]
    return {
        "name": "GLOTIP 2023 import into a new DuckDB store",
        "subject": f"open_store(new file) + import_file(store, {XLSX_REL})",
        "subject_stats": s,
        "reference_stats": r,
        "ratio": ratio,
        "target": f"ratio <= {IMPORT_TARGET_RATIO}",
        "met": ratio <= IMPORT_TARGET_RATIO,
    }


def _make_store(tmp: Path) -> Path:
    from tipwatch.ingest import import_file
    from tipwatch.store import open_store

    path = tmp / "report.duckdb"
    if not path.exists():
        _clear_parse_caches()
        with open_store(str(path)) as store:
            import_file(store, XLSX)
    return path


def _write_report(store_path: Path, out_dir: Path) -> dict:
    from tipwatch.report import write_report
    from tipwatch.store import open_store

    with open_store(str(store_path)) as store:
        return write_report(store, REGION, YEARS, out_dir)


def _preimport_report_modules() -> None:
    # Python imports are not part of the figure: load everything the renderer may import lazily.
    for name in ("tipwatch.report", "tipwatch.report.render", "tipwatch.store", "altair",
                 "vl_convert", "weasyprint", "weasyprint.document"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def _child_first_render(store_path: Path, out_dir: Path) -> None:
    """In a fresh process: the first report, i.e. with the chart engine's and fonts' warm-up."""
    start = time.perf_counter()
    _preimport_report_modules()
    imports = time.perf_counter() - start
    phases = Phases().install()
    gc.collect()
    start = time.perf_counter()
    paths = _write_report(store_path, out_dir)
    first = time.perf_counter() - start
    phases.uninstall()
    print(json.dumps({
        "imports_s": imports,
        "first_s": first,
        "split_s": phases.split(first),
        "sizes": {k: Path(p).stat().st_size for k, p in paths.items()},
    }))


def _first_render_in_child(store_path: Path, out_dir: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child-first-render", str(store_path), str(out_dir)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the first-render process failed:\n{proc.stderr.strip()[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def renderer_missing() -> str | None:
    """Why the report cannot be written yet (the renderer is missing), or None."""
    try:
        importlib.import_module("tipwatch.report.render")
        from tipwatch.report import write_report  # noqa: F401
    except Exception as exc:  # a half-edited module fails with anything, not only ImportError
        return f"{type(exc).__name__}: {exc}"
    return None


def bench_report(repeat: int, tmp: Path) -> dict:
    """The ASEAN 2003–2021 report (HTML + PDF) from a store holding the release."""
    store = _make_store(tmp)
    outs = iter(range(10**6))

    def out_dir() -> Path:
        return tmp / f"report-{next(outs)}"

    # First renders: one fresh process each, Python imports excluded, interleaved with the reference.
    _say("report: first renders, one fresh process each")
    reference()
    firsts, first_refs, first_splits, imports = [], [], [], []
    child = None
    for i in range(repeat):
        _say(f"  first render {i + 1}/{repeat}")
        child = _first_render_in_child(store, out_dir())
        firsts.append(child["first_s"])
        first_splits.append(child["split_s"])
        imports.append(child["imports_s"])
        first_refs.append(_timed(reference))

    # Later renders: in this process, after one untimed warm-up render.
    _say("report: warming up this process")
    _preimport_report_modules()
    _write_report(store, out_dir())
    phases = Phases().install()
    splits: list[dict[str, float]] = []

    def subject() -> None:
        phases.reset()
        start = time.perf_counter()
        _write_report(store, out_dir())
        splits.append(phases.split(time.perf_counter() - start))

    try:
        later, later_refs = _interleaved(subject, reference, repeat, "later render vs reference")
    finally:
        phases.uninstall()

    ref = _stats(first_refs + later_refs)
    f, lat = _stats(firsts), _stats(later)
    first_ratio = f["median_s"] / ref["median_s"]
    return {
        "name": f"{REGION} {YEARS[0]}–{YEARS[1]} report, HTML + PDF",
        "subject": "open_store(store holding the release) + write_report(store, 'ASEAN', (2003, 2021), out)",
        "first_render_stats": f,
        "first_render_split_s": _median_split(first_splits),
        "later_render_stats": lat,
        "later_render_split_s": _median_split(splits),
        "child_python_imports_s": _stats(imports),
        "output_bytes": child["sizes"] if child else {},
        "reference_stats": ref,
        "first_ratio": first_ratio,
        "later_ratio": lat["median_s"] / ref["median_s"],
        "target": f"first render < {REPORT_TARGET_SECONDS:g} s",
        "target_as_ratio": REPORT_TARGET_SECONDS / ref["median_s"],
        "met": f["median_s"] < REPORT_TARGET_SECONDS,
    }


def bench_indicators(repeat: int, tmp: Path) -> dict:
    """`indicators.compute` for ASEAN 2003–2021, executed to pandas, on a freshly opened store."""
    from tipwatch.indicators import compute
    from tipwatch.store import open_store

    store_path = _make_store(tmp)
    rows: list[int] = []
    times: list[float] = []

    def subject() -> None:
        with open_store(str(store_path)) as store:
            backend = store.ibis
            start = time.perf_counter()
            rows.append(len(compute(backend, region=REGION, years=YEARS).to_pandas()))
            times.append(time.perf_counter() - start)

    _say("indicators: warming up")
    subject()
    times.clear()
    ref: list[float] = []
    for i in range(repeat):
        _say(f"  indicators vs reference {i + 1}/{repeat}")
        gc.collect()
        subject()  # times only compute + to_pandas, not opening the store
        ref.append(_timed(reference))
    s, r = _stats(times), _stats(ref)
    return {
        "name": f"indicators.compute {REGION} {YEARS[0]}–{YEARS[1]} to pandas",
        "subject": "compute(store.ibis, region='ASEAN', years=(2003, 2021)).to_pandas() (store opened untimed)",
        "subject_stats": s,
        "reference_stats": r,
        "ratio": s["median_s"] / r["median_s"],
        "rows": rows[-1] if rows else None,
        "target": None,
        "met": None,
    }


def profile_report(tmp: Path, top: int) -> str:
    """cProfile one warm report render; return the top functions by cumulative and own time.

    cProfile roughly doubles the render's time (WeasyPrint makes millions of small calls): read
    it for proportions, and `Phases` (in the table) for seconds.
    """
    store = _make_store(tmp)
    _preimport_report_modules()
    _write_report(store, tmp / "profile-warm")
    prof = cProfile.Profile()
    prof.enable()
    _write_report(store, tmp / "profile")
    prof.disable()
    # Text only (scrubbed): a binary .prof file would hold this machine's paths.
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    text = buf.getvalue()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report-profile.txt").write_text(_scrub(text), encoding="utf-8")
    return text


# ---------------------------------------------------------------------------------------------
# Output


def source_fingerprint() -> str:
    """A short hash of tipwatch's source (code, templates, styles), bundled data left out.

    Others edit the tree while benchmarks run; the run records this at its start and end, and
    says so when they differ (the figures then mix versions of the code).
    """
    import hashlib

    src = ROOT / "src" / "tipwatch"
    digest = hashlib.sha256()
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src).as_posix()
        if not path.is_file() or "__pycache__" in rel or rel.startswith("bundled/") or path.suffix == ".pyc":
            continue
        digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for dist in ("tipwatch", "duckdb", "ibis-framework", "pandas", "openpyxl", "python-calamine",
                 "altair", "vl-convert-python", "weasyprint"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _scrub(text: str) -> str:
    """No path of this machine in what is written or printed.

    The repository becomes ``.``, the Python installation ``<python>``, the temp folder
    ``$TMP`` and the home folder ``~``.
    """
    for path, name in ((ROOT, "."), (Path(sys.base_prefix), "<python>"), (Path(sys.prefix), "<python>"),
                       (Path(tempfile.gettempdir()), "$TMP"), (Path.home(), "~")):
        if len(path.parts) > 1:  # never "/"
            text = text.replace(str(path), name)
    return text


def _s(x: float) -> str:
    return f"{x:.2f} s"


def _spread(st: dict) -> str:
    return f"{st['min_s']:.2f}–{st['max_s']:.2f}"


def table(results: dict) -> str:
    head = ("benchmark", "median", "min–max", "reference", "ratio", "target", "met")
    rows = []
    b = results["benchmarks"]
    if "import" in b and "error" not in b["import"]:
        r = b["import"]
        rows.append(("1 GLOTIP import (new DuckDB store)", _s(r["subject_stats"]["median_s"]),
                     _spread(r["subject_stats"]), _s(r["reference_stats"]["median_s"]),
                     f"{r['ratio']:.2f}", f"ratio ≤ {IMPORT_TARGET_RATIO}", "yes" if r["met"] else "NO"))
    if "report" in b and "error" not in b["report"]:
        r = b["report"]
        ref = _s(r["reference_stats"]["median_s"])
        rows.append(("2 ASEAN report, first render", _s(r["first_render_stats"]["median_s"]),
                     _spread(r["first_render_stats"]), ref, f"{r['first_ratio']:.2f}",
                     f"< {REPORT_TARGET_SECONDS:g} s (≈ ratio {r['target_as_ratio']:.2f})",
                     "yes" if r["met"] else "NO"))
        rows.append(("2 ASEAN report, later renders", _s(r["later_render_stats"]["median_s"]),
                     _spread(r["later_render_stats"]), ref, f"{r['later_ratio']:.2f}",
                     f"< {REPORT_TARGET_SECONDS:g} s",
                     "yes" if r["later_render_stats"]["median_s"] < REPORT_TARGET_SECONDS else "NO"))
    if "indicators" in b and "error" not in b["indicators"]:
        r = b["indicators"]
        rows.append(("3 indicators compute ASEAN", _s(r["subject_stats"]["median_s"]),
                     _spread(r["subject_stats"]), _s(r["reference_stats"]["median_s"]),
                     f"{r['ratio']:.2f}", "none", "–"))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    out = [line(head), line(["-" * w for w in widths]), *map(line, rows)]
    for key, r in b.items():
        if "error" in r:
            out.append(f"{key}: not measured: {r['error']}")
    if "report" in b and "error" not in b["report"]:
        r = b["report"]
        out.append("")
        out.append("report, where the time goes (medians, seconds):")
        for label, split in (("first", r["first_render_split_s"]), ("later", r["later_render_split_s"])):
            out.append(f"  {label:5}  " + "; ".join(f"{k} {v:.2f}" for k, v in split.items()))
        out.append(f"  Python imports before a first render (not counted): "
                   f"{r['child_python_imports_s']['median_s']:.2f} s")
    out.append("")
    out.append(f"reference: {REFERENCE_NAME}; medians of {results['repeat']} runs; "
               f"ratio = subject median / reference median, same run")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (default 5)")
    parser.add_argument("--only", default="import,report,indicators",
                        help="comma-separated benchmarks to run: import, report, indicators")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one warm report render (benchmarks/out/report-profile.txt)")
    parser.add_argument("--child-first-render", nargs=2, metavar=("STORE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_first_render:
        _child_first_render(Path(args.child_first_render[0]), Path(args.child_first_render[1]))
        return 0
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = set(wanted) - {"import", "report", "indicators"}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    results = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "versions": _versions(),
        "repeat": args.repeat,
        "reference": REFERENCE_NAME,
        "source_at_start": source_fingerprint(),
        "benchmarks": {},
    }
    runners = {"import": bench_import, "report": bench_report, "indicators": bench_indicators}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tipwatch-bench-") as tmpname:
        tmp = Path(tmpname)
        for key in wanted:
            if key == "report" and (why := renderer_missing()):
                results["benchmarks"][key] = {"error": _scrub(f"the report renderer cannot be imported ({why})")}
                continue
            before = source_fingerprint()
            try:
                results["benchmarks"][key] = runners[key](args.repeat, tmp)
            except Exception as exc:  # one broken benchmark should not hide the others' figures
                results["benchmarks"][key] = {"error": _scrub(f"{type(exc).__name__}: {exc}")}
            after = source_fingerprint()
            results["benchmarks"][key]["source"] = before if before == after else f"{before} -> {after}"
        if args.profile and "error" not in results["benchmarks"].get("report", {}):
            _say("profiling one warm report render")
            print(_scrub(profile_report(tmp, 30)))
    results["wall_s"] = time.perf_counter() - started
    results["source_at_end"] = source_fingerprint()
    results["source_changed_during_run"] = results["source_at_end"] != results["source_at_start"]

    OUT.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2, ensure_ascii=False, default=str)
    (OUT / "results.json").write_text(_scrub(text) + "\n", encoding="utf-8")
    print(table(results))
    mixed = [k for k, r in results["benchmarks"].items() if "->" in r.get("source", "")]
    print(f"\ntipwatch source {results['source_at_start']}", end="")
    if results["source_changed_during_run"]:
        print(f" -> {results['source_at_end']} (changed during the run)", end="")
    if mixed:
        print(f"\nWARNING: the source changed while {', '.join(mixed)} ran: "
              "those figures mix versions of the code; run again", end="")
    print(f"\nwritten: {(OUT / 'results.json').relative_to(ROOT).as_posix()} "
          f"(whole run {results['wall_s']:.0f} s)")
    # A missed target is a figure, not a failure; a benchmark that could not run is a failure.
    return 1 if any("error" in r for r in results["benchmarks"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
