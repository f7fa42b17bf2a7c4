"""`tipwatch synth`: synthetic case records for a region, with their ground truth."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from tipwatch.cli import app, out
from tipwatch.cli.options import Region, Years, parse_years

Out = Annotated[Path, typer.Option("--out", help="Folder to write the country folders and ground_truth.json into.")]
Scale = Annotated[
    float, typer.Option("--scale", help="Size multiplier: 1 ≈ the real ASEAN region (~100,000 proceedings rows).")
]
Seed = Annotated[int, typer.Option("--seed", help="Seed: the same seed gives byte-identical files.")]


@app.command("synth")
def synth_cmd(
    region: Region = "ASEAN",
    years: Years = "2011-2025",
    scale: Scale = 1.0,
    seed: Seed = 1,
    out_dir: Out = Path("synthetic"),
) -> None:
    """Write SYNTHETIC case records (one submission per member country) and their ground truth."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tipwatch.synth import GroundTruth, generate

    span = parse_years(years) or (2011, 2025)
    start = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True) as progress:
        task = progress.add_task("generating", total=None)

        def step(done: int, total: int, label: str) -> None:
            progress.update(task, completed=done, total=total, description=f"generating {label}")

        folder = generate(region, span, scale=scale, seed=seed, out=out_dir, progress=step)
    truth = GroundTruth.load(folder)
    rows: dict[str, int] = {}
    for iso3 in truth.countries:
        for name, n in truth.data["countries"][iso3]["rows"].items():
            rows[name] = rows.get(name, 0) + n
    out.print(f"wrote synthetic submissions for {len(truth.countries)} countries "
              f"({', '.join(truth.countries)}) and ground_truth.json: {folder}")
    out.print("  " + ", ".join(f"{name} {n:,}" for name, n in rows.items()) + " rows")
    out.print("SYNTHETIC data: never mix with real submissions.")
    out.print(f"done in {time.perf_counter() - start:.1f} s")
