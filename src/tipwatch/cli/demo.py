"""`tipwatch demo`: the store from the bundled GLOTIP release, then the ASEAN Progress Report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from tipwatch import settings
from tipwatch.cli import app, out
from tipwatch.cli.imports import summary
from tipwatch.cli.options import Db
from tipwatch.cli.report import run_report

BUNDLED = Path(__file__).resolve().parents[1] / "bundled" / "unodc-glotip-2023" / "data_glotip.xlsx"
#: US TIP Report tiers 2001–2015 (Kelley & Heiss), shown in each member's profile.
TIERS = Path(__file__).resolve().parents[1] / "bundled" / "tip-scorecard" / "map_tiers.csv"
#: CTDC's victim records of 14 Apr 2020 (7 of 63 columns): compared with GLOTIP in the report's annex.
CTDC = Path(__file__).resolve().parents[1] / "bundled" / "ctdc-2020-subset" / "dados_app.csv"


@app.command("demo")
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the report.")] = Path("tipwatch-report"),
    db: Db = None,
) -> None:
    """Import the bundled sources (UNODC's 2023 GLOTIP release, the US TIP Report tiers, CTDC's
    victim records) and a synthetic region's case records, then write the ASEAN report 2003–2021
    (the case-record chapters are labelled synthetic)."""
    from tipwatch.ingest import import_file
    from tipwatch.store import open_store

    start = time.perf_counter()
    url = settings.resolve_db(db)
    with open_store(url) as store:
        result = import_file(store, BUNDLED)
        tiers = import_file(store, TIERS)
        ctdc = import_file(store, CTDC)
    verb = "already in the store" if result.unchanged else "imported"
    out.print(f"UNODC GLOTIP release of {result.vintage:%d %B %Y}: {verb} ({url})")
    if not result.unchanged:
        for line in summary(result.report)[:3]:
            out.print(f"  {line}")
    out.print(f"US TIP Report tiers {'–'.join(map(str, tiers.report['years']))}: "
              f"{'already in the store' if tiers.unchanged else 'imported'}")
    out.print(f"CTDC victim records of {ctdc.vintage:%d %B %Y}: "
              f"{'already in the store' if ctdc.unchanged else 'imported'}")
    _import_synthetic_region(store_url=url)
    paths = run_report(db, "ASEAN", (2003, 2021), out_dir, synthetic_casework=True)
    for kind, path in paths.items():
        out.print(f"wrote {kind.upper()}: {path}")
    out.print(f"done in {time.perf_counter() - start:.1f} s")


#: The demo's synthetic case records: ASEAN, the report's last decade, a fixed seed.
SYNTH = {"region": "ASEAN", "years": (2011, 2021), "scale": 0.5, "seed": 1}


def _import_synthetic_region(store_url: str) -> None:
    import tempfile

    from rich.progress import Progress

    from tipwatch.ingest import import_file
    from tipwatch.store import open_store
    from tipwatch.synth import GroundTruth, generate

    with tempfile.TemporaryDirectory(prefix="tipwatch-synth-") as tmp, open_store(store_url) as store:
        folder = generate(out=Path(tmp), **SYNTH)
        countries = GroundTruth.load(folder).countries
        with Progress(transient=True) as progress:
            task = progress.add_task("importing synthetic case records", total=len(countries))
            for iso3 in countries:
                import_file(store, folder / iso3)
                progress.advance(task)
    out.print(f"SYNTHETIC case records for {len(countries)} ASEAN members, 2011–2021: imported "
              "(kept apart from real data)")
