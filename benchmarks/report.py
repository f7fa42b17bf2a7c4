"""The full demo report, and what each additional member costs (issue 5).

Run from the repository root::

    .venv/bin/python benchmarks/report.py                       # both parts, about 8 minutes
    .venv/bin/python benchmarks/report.py --only full --repeat 5
    .venv/bin/python benchmarks/report.py --only members --sizes 0,10,20,40 --repeat 3
    .venv/bin/python benchmarks/report.py --only full --profile  # plus one cProfile'd render

``full``: the demo's report as `tipwatch report --region ASEAN --years 2003-2025 --synthetic`
writes it (every chapter, both formats), from the store `tipwatch demo` builds (the GLOTIP
release, the tier placements, CTDC's records and the synthetic case records), built once and not
timed. Each run is a **fresh process**, timed from outside: interpreter start, imports, the
indicators, the charts, the HTML and the PDF. The same report's HTML alone is timed the same way.

``members``: the same report for regions of growing size: ASEAN's members plus the N other
countries with the most figures in the store, as a region added to a temporary copy of the
reference data (`regions.csv` and `memberships.csv`, which is all a new region needs). A
straight line through the medians gives the seconds per additional member.

Machines are shared and noisy, so every figure is also a ratio to the reference of
`benchmarks/run.py`, timed in the same run, interleaved with the subjects: pandas reading the
GLOTIP workbook with openpyxl. Medians of N runs. Nothing here makes anything fail: a missed
target is a figure. Results are appended to ``benchmarks/out/report-results.json`` (git-ignored;
no path of this machine in it). See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import gc
import io
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
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))  # the working tree, whatever tipwatch the venv has installed
sys.path.insert(0, str(HERE))

from run import (  # noqa: E402  (benchmarks/run.py)
    REFERENCE_NAME,
    Phases,
    _median_split,
    _scrub,
    _stats,
    _versions,
    reference,
    source_fingerprint,
)

OUT = HERE / "out"
RESULTS = OUT / "report-results.json"
REGION = "ASEAN"
YEARS = (2003, 2025)
TARGET_SECONDS = 15.0  # the budget for the full demo report, on these 2-core machines
SIZES = (0, 10, 20, 40)  # countries added to ASEAN's members for the per-member slope
BENCH_REGION = "BENCH"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Set-up (not timed)


def build_store(folder: Path) -> Path:
    """The demo's store, by `tipwatch demo` itself in its own process."""
    store = folder / "demo.duckdb"
    _say("set-up: tipwatch demo (store and a first report, not timed)")
    run = ("import sys; sys.path.insert(0, sys.argv.pop(1)); from tipwatch.cli import main; "
           "sys.exit(main(sys.argv[1:]))")
    subprocess.run([sys.executable, "-c", run, str(ROOT / "src"), "demo", "--out", str(folder / "demo-report"),
                    "--db", str(store)], cwd=ROOT, check=True, capture_output=True, text=True)
    return store


def extra_countries(store: Path, count: int) -> list[str]:
    """The ``count`` non-members with the most figures in the store for the report's years."""
    import duckdb

    from tipwatch import reference

    members = set().union(*(reference.members(REGION, y) for y in range(YEARS[0], YEARS[1] + 1)))
    known = reference.countries()
    con = duckdb.connect(str(store), read_only=True)
    try:
        rows = con.execute(
            "SELECT area, count(*) AS n FROM observations WHERE area_kind = 'country' "
            "AND year BETWEEN ? AND ? GROUP BY area ORDER BY n DESC, area", list(YEARS)).fetchall()
    finally:
        con.close()
    ranked = [area for area, _ in rows if area not in members and area in known]
    if len(ranked) < count:
        raise ValueError(f"the store has figures for only {len(ranked)} other countries, not {count}")
    return ranked[:count]


def region_data(folder: Path, extra: list[str]) -> Path:
    """A copy of the reference data with region ``BENCH``: ASEAN's memberships plus ``extra``."""
    from tipwatch import reference

    data = folder / "reference-data"
    shutil.copytree(reference.DATA, data)
    with (data / "regions.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerow(
            [BENCH_REGION, f"ASEAN and {len(extra)} more countries", "intergovernmental", "",
             "tipwatch benchmark"])
    with (data / "memberships.csv").open(encoding="utf-8", newline="") as fh:
        asean = [r for r in csv.DictReader(fh) if r["region"] == REGION]
    with (data / "memberships.csv").open("a", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        for r in asean:
            out.writerow([BENCH_REGION, r["iso3"], r["joined"], r["left"], "tipwatch benchmark"])
        for iso3 in extra:
            out.writerow([BENCH_REGION, iso3, "1967-08-08", "", "tipwatch benchmark"])
    return data


# ---------------------------------------------------------------------------------------------
# One report in a fresh process


def child(store: Path, out: Path, region: str, formats: tuple[str, ...], data: Path | None) -> None:
    """In a fresh process: the report as `tipwatch report --synthetic` writes it, timed by phase.

    Both formats go through the command line itself (`tipwatch.cli.main` on this process's own
    arguments, as the ``tipwatch`` script runs it, exit included); the HTML alone, which the
    command line does not offer, through `render_report`, ending the same way.
    """
    started = time.perf_counter()
    if data is not None:  # before anything reads (and caches) the reference data
        from tipwatch import reference

        reference.DATA = data
    from tipwatch.cli import main as command_line
    from tipwatch.cli import report  # noqa: F401  (what `tipwatch report` imports itself)
    from tipwatch.report import build
    from tipwatch.report.render import render_report
    from tipwatch.store import open_store

    if "pdf" in formats:
        import weasyprint  # noqa: F401  (imported late by the renderer; counted as imports here)
    imported = time.perf_counter()
    phases = Phases().install()
    if formats == ("html", "pdf"):
        sys.argv = ["tipwatch", "report", "--db", str(store), "--region", region, "--years",
                    f"{YEARS[0]}-{YEARS[1]}", "--out", str(out), "--synthetic"]
        if command_line() != 0:
            raise SystemExit("tipwatch report failed")
    else:
        import atexit

        with open_store(str(store)) as s:
            inp = build.build_input(s, region, YEARS, "public", synthetic_casework=True)  # timed by Phases
        render_report(inp, out, formats=formats)
        atexit.register(gc.freeze)  # as the command line ends (tipwatch.cli.main)
    done = time.perf_counter()
    phases.uninstall()
    split = phases.split(done - imported)
    indicators = split.get("indicators", 0.0)
    html = out / "index.html"
    print(json.dumps({
        "imports_s": imported - started,
        "input_s": indicators,
        "render_s": done - imported - indicators,
        "split_s": split,
        "members": _count(html, '<section class="profile"'),
        "charts": _count(html, '<figure id="'),
        "bytes": {kind: (out / name).stat().st_size
                  for kind, name in (("html", "index.html"), ("pdf", "report.pdf")) if (out / name).exists()},
    }))


def _count(path: Path | None, needle: str) -> int | None:
    return None if path is None else Path(path).read_text(encoding="utf-8").count(needle)


def run_child(store: Path, out: Path, region: str = REGION, formats: tuple[str, ...] = ("html", "pdf"),
              data: Path | None = None) -> dict:
    """One report in a fresh process; adds the process's wall time, start to exit."""
    args = [sys.executable, str(Path(__file__).resolve()), "--child", str(store), str(out), region,
            ",".join(formats)]
    if data is not None:
        args += ["--data", str(data)]
    gc.collect()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    # CPU seconds of the process and its chart helper (a waited-for grandchild counts too): less
    # moved by other sessions' load than the wall time, though not unmoved.
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = now.ru_utime - used.ru_utime + now.ru_stime - used.ru_stime
    if proc.returncode != 0:
        raise RuntimeError(_scrub(f"the report process failed:\n{proc.stderr.strip()[-3000:]}"))
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"], result["cpu_s"] = wall, cpu
    return result


def _timed_reference() -> float:
    gc.collect()
    start = time.perf_counter()
    reference()
    return time.perf_counter() - start


# ---------------------------------------------------------------------------------------------
# The two parts


def bench_full(store: Path, tmp: Path, repeat: int) -> dict:
    """The full demo report, both formats, and its HTML alone; fresh processes, interleaved."""
    _say("full: warming up (one report, one reference)")
    run_child(store, tmp / "full-warm")
    reference()
    full, html, refs = [], [], []
    for i in range(repeat):
        _say(f"  full report {i + 1}/{repeat}")
        # The order rotates, so that drift in the machine's load hits all three alike.
        order = [("full", None), ("html", None), ("ref", None)]
        order = order[i % 3:] + order[:i % 3]
        for kind, _ in order:
            if kind == "full":
                full.append(run_child(store, tmp / f"full-{i}"))
            elif kind == "html":
                html.append(run_child(store, tmp / f"html-{i}", formats=("html",)))
            else:
                refs.append(_timed_reference())
    ref = _stats(refs)
    walls, html_walls = _stats([r["wall_s"] for r in full]), _stats([r["wall_s"] for r in html])
    return {
        "name": f"{REGION} {YEARS[0]}–{YEARS[1]} demo report, every chapter, HTML + PDF",
        "subject": "a fresh process running `tipwatch report --region ASEAN --years 2003-2025 --synthetic` "
                   "(tipwatch.cli.main), interpreter start to exit",
        "wall_stats": walls,
        "cpu_s": round(statistics.median(r["cpu_s"] for r in full), 3),
        "phases_s": {
            "imports": round(statistics.median(r["imports_s"] for r in full), 3),
            "indicators (build_input)": round(statistics.median(r["input_s"] for r in full), 3),
            "render (charts, HTML, PDF)": round(statistics.median(r["render_s"] for r in full), 3),
        },
        "split_s": _median_split([r["split_s"] for r in full]),
        "html_only_wall_stats": html_walls,
        "members": full[-1]["members"],
        "charts": html[-1]["charts"],
        "bytes": {**full[-1]["bytes"]},
        "reference_stats": ref,
        "ratio": walls["median_s"] / ref["median_s"],
        "html_only_ratio": html_walls["median_s"] / ref["median_s"],
        "target": f"< {TARGET_SECONDS:g} s",
        "target_as_ratio": TARGET_SECONDS / ref["median_s"],
        "met": walls["median_s"] < TARGET_SECONDS,
    }


def _fit(xs: list[float], ys: list[float]) -> dict:
    """Least squares y = a + b·x, with R²."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = my - slope * mx
    total = sum((y - my) ** 2 for y in ys)
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return {"slope_s": slope, "intercept_s": intercept, "r2": 1 - residual / total if total else 1.0}


def bench_members(store: Path, tmp: Path, repeat: int, sizes: list[int]) -> dict:
    """The report for ASEAN's members plus N more countries, for each N; the seconds per member."""
    extra = extra_countries(store, max(sizes))
    datas = {n: region_data(tmp / f"region-{n}", extra[:n]) for n in sizes}
    _say("members: warming up")
    run_child(store, tmp / "members-warm", BENCH_REGION, data=datas[sizes[0]])
    reference()
    runs: dict[int, list[dict]] = {n: [] for n in sizes}
    refs: list[float] = []
    for i in range(repeat):
        # Sizes in a rotating order, the reference between them.
        order = sizes[i % len(sizes):] + sizes[:i % len(sizes)]
        for n in order:
            _say(f"  members +{n}, run {i + 1}/{repeat}")
            runs[n].append(run_child(store, tmp / f"members-{n}-{i}", BENCH_REGION, data=datas[n]))
        refs.append(_timed_reference())
    ref = _stats(refs)
    points = []
    for n in sizes:
        walls = _stats([r["wall_s"] for r in runs[n]])
        points.append({
            "added": n, "members": runs[n][-1]["members"], "charts": runs[n][-1]["charts"],
            "wall_stats": walls, "ratio": walls["median_s"] / ref["median_s"],
            "cpu_s": round(statistics.median(r["cpu_s"] for r in runs[n]), 3),
            "split_s": _median_split([r["split_s"] for r in runs[n]]),
            "bytes": runs[n][-1]["bytes"],
        })
    xs = [p["members"] for p in points]
    fit = _fit(xs, [p["wall_stats"]["median_s"] for p in points])
    fit["cpu_slope_s"] = _fit(xs, [p["cpu_s"] for p in points])["slope_s"]
    phases = {}
    for phase in points[0]["split_s"]:
        phases[phase] = round(_fit(xs, [p["split_s"].get(phase, 0.0) for p in points])["slope_s"], 4)
    return {
        "name": f"the report for ASEAN's members plus N other countries, {YEARS[0]}–{YEARS[1]}, HTML + PDF",
        "added_countries": extra,
        "points": points,
        "fit": fit,
        "slope_ratio": fit["slope_s"] / ref["median_s"],
        "slope_by_phase_s": phases,
        "reference_stats": ref,
    }


def profile_full(store: Path, tmp: Path, top: int = 30) -> str:
    """cProfile one full render in this process (after a warm-up); proportions, not seconds."""
    from tipwatch.report.build import build_input
    from tipwatch.report.render import render_report
    from tipwatch.store import open_store

    with open_store(str(store)) as s:
        inp = build_input(s, REGION, YEARS, "public", synthetic_casework=True)
    render_report(inp, tmp / "profile-warm")
    prof = cProfile.Profile()
    prof.enable()
    render_report(inp, tmp / "profile")
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    text = _scrub(buf.getvalue())
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report-full-profile.txt").write_text(text, encoding="utf-8")
    return text


# ---------------------------------------------------------------------------------------------
# Output


def table(results: dict) -> str:
    b = results["benchmarks"]
    out = []
    if "full" in b and "error" not in b["full"]:
        r = b["full"]
        ref = r["reference_stats"]["median_s"]
        out.append(f"full demo report, {r['members']} members, {r['charts']} charts, HTML + PDF "
                   f"({r['bytes'].get('html', 0) / 1e6:.1f} MB HTML, {r['bytes'].get('pdf', 0) / 1e6:.1f} MB PDF)")
        w, h = r["wall_stats"], r["html_only_wall_stats"]
        out.append(f"  process, start to exit  {w['median_s']:.2f} s ({w['min_s']:.2f}–{w['max_s']:.2f})  "
                   f"ratio {r['ratio']:.2f}  target {r['target']} (≈ ratio {r['target_as_ratio']:.2f}): "
                   f"{'met' if r['met'] else 'NOT MET'}; CPU {r['cpu_s']:.2f} s")
        out.append(f"  its HTML alone          {h['median_s']:.2f} s ({h['min_s']:.2f}–{h['max_s']:.2f})  "
                   f"ratio {r['html_only_ratio']:.2f}")
        out.append("  phases: " + "; ".join(f"{k} {v:.2f}" for k, v in r["phases_s"].items()))
        out.append("  split:  " + "; ".join(f"{k} {v:.2f}" for k, v in r["split_s"].items()))
        out.append(f"  reference {ref:.2f} s")
    if "members" in b and "error" not in b["members"]:
        r = b["members"]
        ref = r["reference_stats"]["median_s"]
        out.append("")
        out.append("report by region size (HTML + PDF, fresh processes):")
        for p in r["points"]:
            w = p["wall_stats"]
            out.append(f"  +{p['added']:<3} {p['members']:>3} members {p['charts']:>4} charts  "
                       f"{w['median_s']:6.2f} s ({w['min_s']:.2f}–{w['max_s']:.2f})  ratio {p['ratio']:.2f}  "
                       f"CPU {p['cpu_s']:.2f} s")
        f = r["fit"]
        out.append(f"  per additional member: {f['slope_s']:.3f} s (ratio {r['slope_ratio']:.3f}); "
                   f"intercept {f['intercept_s']:.2f} s; R² {f['r2']:.3f}; CPU {f['cpu_slope_s']:.3f} s")
        out.append("  per member by phase: " + "; ".join(f"{k} {v:.3f}" for k, v in r["slope_by_phase_s"].items()))
        out.append(f"  reference {ref:.2f} s")
    for key, r in b.items():
        if "error" in r:
            out.append(f"{key}: not measured: {r['error']}")
    out.append("")
    out.append(f"reference: {REFERENCE_NAME}; medians of {results['repeat']} runs; ratio = subject ÷ reference")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (default 3)")
    parser.add_argument("--only", default="full,members", help="comma-separated: full, members")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help=f"countries added to ASEAN's members (default {','.join(map(str, SIZES))})")
    parser.add_argument("--store", type=Path, help="an existing demo store (else built in a temp folder)")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one full render (benchmarks/out/report-full-profile.txt)")
    parser.add_argument("--child", nargs=4, metavar=("STORE", "OUT", "REGION", "FORMATS"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        store, out, region, formats = args.child
        child(Path(store), Path(out), region, tuple(formats.split(",")), args.data)
        return 0
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    if set(wanted) - {"full", "members"} or args.repeat < 1:
        parser.error("--only takes full and/or members, --repeat at least 1")
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    if len(sizes) < 2:
        parser.error("--sizes needs two sizes or more for a slope")

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
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tipwatch-bench-report-") as name:
        tmp = Path(name)
        store = args.store or build_store(tmp)
        for key in wanted:
            before = source_fingerprint()
            try:
                if key == "full":
                    results["benchmarks"][key] = bench_full(store, tmp, args.repeat)
                else:
                    results["benchmarks"][key] = bench_members(store, tmp, args.repeat, sizes)
            except Exception as exc:  # one broken part should not hide the other's figures
                results["benchmarks"][key] = {"error": _scrub(f"{type(exc).__name__}: {exc}")}
            after = source_fingerprint()
            results["benchmarks"][key]["source"] = before if before == after else f"{before} -> {after}"
        if args.profile:
            _say("profiling one full render")
            print(profile_full(store, tmp))
    results["wall_s"] = time.perf_counter() - started
    results["source_at_end"] = source_fingerprint()

    OUT.mkdir(parents=True, exist_ok=True)
    history = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else []
    history.append(json.loads(_scrub(json.dumps(results, ensure_ascii=False, default=str))))
    RESULTS.write_text(json.dumps(history, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(results))
    mixed = [k for k, r in results["benchmarks"].items() if "->" in r.get("source", "")]
    print(f"\ntipwatch source {results['source_at_start']}"
          + (f" -> {results['source_at_end']} (changed during the run)"
             if results["source_at_end"] != results["source_at_start"] else ""))
    if mixed:
        print(f"WARNING: the source changed while {', '.join(mixed)} ran: run again")
    print(f"written: {RESULTS.relative_to(ROOT).as_posix()} (whole run {results['wall_s']:.0f} s)")
    return 1 if any("error" in r for r in results["benchmarks"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
