"""Disclosure control (issue 6): protecting the whole demo cube for the public audience, as a ratio
against computing the unprotected indicators in the same run, and a cube ten times larger.

Run from the repository root::

    .venv/bin/python benchmarks/privacy.py               # 5 runs of each, fresh processes
    .venv/bin/python benchmarks/privacy.py --repeat 3

Cubes (all from the demo store, which ``tipwatch demo`` builds once into ``benchmarks/out/``):

- ``demo``: the report's cube, ``compute(region="ASEAN", years=(2003, 2021))``: GLOTIP and CTDC
  figures (3,336 rows). At k = 5 it holds no count from 1 to 4 (GLOTIP prints them as ``<5``,
  CTDC's records are 11-anonymous), so protecting it is building its relations and finding
  nothing to protect.
- ``cases``: the demo's synthetic case records counted into the cube (``synthetic=True``, ASEAN
  2011–2021, 13,277 rows): a third of its counts are 1 to 4 and its sums hold exactly, the
  hard case for complementary suppression.
- ``cases x10``: the ``cases`` cube ten times over (ten copies, each shifted by 11 years: 132,770
  rows, ten times the relations and small counts).

``compute`` is ``tipwatch.indicators.compute(...).to_pandas()``; ``protect`` is
``tipwatch.privacy.release(cube, audience("public"))`` (primary + complementary suppression,
ratios with their counts). Every timed run is a fresh Python process, imports and a warm-up
done before the clock starts; runs of the cases are interleaved; medians of N runs. Results go to
``benchmarks/out/privacy-results.json`` (git-ignored). Nothing here fails on a missed target.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

OUT = HERE / "out"
STORE = OUT / "privacy-demo.duckdb"
RESULTS = OUT / "privacy-results.json"
TARGET = 2.0  # protect ≤ 2 × compute
CASES = {
    "demo": {"region": "ASEAN", "years": (2003, 2021), "synthetic": False},
    "cases": {"region": "ASEAN", "years": (2011, 2021), "synthetic": True},
}


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _cube(name: str):
    from tipwatch.indicators import compute
    from tipwatch.store import open_store

    base = name.split()[0]
    with open_store(str(STORE)) as store:
        cube = compute(store.ibis, **CASES[base]).to_pandas()
    if name.endswith("x10"):
        import pandas as pd

        span = CASES[base]["years"][1] - CASES[base]["years"][0] + 1
        cube = pd.concat([cube.assign(year=cube.year + i * span) for i in range(10)], ignore_index=True)
    return cube


def one(what: str, name: str) -> dict:
    """Time one thing in this (fresh) process: ``compute`` or ``protect`` of cube ``name``."""
    from tipwatch import privacy
    from tipwatch.indicators import compute
    from tipwatch.store import open_store

    aud = privacy.audience("public")
    privacy.release(_cube("demo").head(50), aud)  # warm-up: imports, HiGHS
    if what == "compute":
        with open_store(str(STORE)) as store:
            start = time.perf_counter()
            cube = compute(store.ibis, **CASES[name]).to_pandas()
            elapsed = time.perf_counter() - start
        return {"seconds": elapsed, "rows": len(cube)}
    cube = _cube(name)
    start = time.perf_counter()
    out = privacy.release(cube, aud)
    elapsed = time.perf_counter() - start
    meta = out.attrs[privacy.PROTECTION]
    return {"seconds": elapsed, "rows": len(cube), "primary": meta["primary_suppressed"],
            "complementary": meta["complementary_suppressed"], "unprotectable": meta["unprotectable"]}


def _run(what: str, name: str) -> dict:
    res = subprocess.run([sys.executable, __file__, "--one", what, name], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--one", nargs=2, metavar=("WHAT", "CUBE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1])))
        return
    OUT.mkdir(exist_ok=True)
    if not STORE.exists():
        _say("building the demo store (once) …")
        code = "import sys; from tipwatch.cli import main; sys.exit(main(sys.argv[1:]))"
        subprocess.run([sys.executable, "-c", code, "demo", "--db", str(STORE), "--out",
                        str(OUT / "privacy-demo-report")], check=True, cwd=ROOT, capture_output=True)
    jobs = [("compute", "demo"), ("protect", "demo"), ("compute", "cases"), ("protect", "cases"),
            ("protect", "cases x10")]
    runs: dict[tuple[str, str], list[dict]] = {j: [] for j in jobs}
    for i in range(args.repeat):
        for j in jobs[i % len(jobs):] + jobs[: i % len(jobs)]:
            runs[j].append(_run(*j))
            _say(f"run {i + 1}: {j[0]} {j[1]}: {runs[j][-1]['seconds']:.3f} s")
    med = {j: statistics.median(r["seconds"] for r in rs) for j, rs in runs.items()}
    lines = []
    for name in ("demo", "cases"):
        ratio = med[("protect", name)] / med[("compute", name)]
        last = runs[("protect", name)][-1]
        lines.append(f"{name}: compute {med[('compute', name)]:.3f} s, protect {med[('protect', name)]:.3f} s, "
                     f"ratio {ratio:.2f} (target ≤ {TARGET:g}); {last['rows']:,} rows, {last['primary']:,} "
                     f"withheld as small, {last['complementary']:,} by complementary suppression")
    big = runs[("protect", "cases x10")][-1]
    lines.append(f"cases x10: protect {med[('protect', 'cases x10')]:.3f} s "
                 f"({med[('protect', 'cases x10')] / med[('protect', 'cases')]:.1f} × the cases cube); "
                 f"{big['rows']:,} rows, {big['primary']:,} small, {big['complementary']:,} complementary")
    for line in lines:
        print(line)
    record = {"when": datetime.now().isoformat(timespec="seconds"), "python": platform.python_version(),
              "repeat": args.repeat, "medians": {f"{a} {b}": v for (a, b), v in med.items()}, "summary": lines}
    history = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    RESULTS.write_text(json.dumps([*history, record], indent=1))


if __name__ == "__main__":
    main()
