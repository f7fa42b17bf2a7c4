"""What a Progress Report shows: indicators → privacy layer → `ReportInput`.

`build_input` gathers what a report shows (every figure released for the report's audience);
`render.render_report` lays it out. Nothing here computes a figure of its own.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import ibis
import pandas as pd

from tipwatch import __version__, indicators, privacy, reference
from tipwatch.errors import InputError
from tipwatch.report import statements
from tipwatch.report.model import ComponentMeta, IndicatorMeta, ReportInput, SourceInfo
from tipwatch.store import Store


def snapshot_hash(store: Store) -> str:
    """A hash of the store's current submissions: the same data gives the same hash."""
    subs = indicators.current_submissions(store.ibis).select("id", "file_hash").to_pandas()
    text = "\n".join(sorted(f"{r.id} {r.file_hash}" for r in subs.itertuples()))
    return hashlib.sha256(text.encode()).hexdigest()


def _sources(store: Store, only: set[str] | None = None) -> list[SourceInfo]:
    """Every submission (or those whose ids are in ``only``), oldest vintage first."""
    current = set(indicators.current_submissions(store.ibis).select("id").to_pandas()["id"])
    # Through ibis, so that a Parquet lake (`tipwatch.lake.Lake`, on Spark say) stands in for the store.
    files = store.ibis.table("raw_files").select("file_hash", "file_name")
    joined = store.ibis.table("submissions").inner_join(files, "file_hash").order_by(["vintage", "id"])
    rows = [SimpleNamespace(**r) for r in joined.to_pyarrow().to_pylist()]
    names = {"glotip": "UNODC Global Report on Trafficking in Persons (GLOTIP) data"}
    known = reference.sources()
    out = []
    for r in rows:
        if only is not None and r.id not in only:
            continue
        out.append(SourceInfo(
            name=names.get(r.source) or known.get(r.source, {}).get("title", r.source), vintage=r.vintage,
            file_name=r.file_name, file_hash=r.file_hash,
            rows=r.rows_read, current=r.id in current))
    return out


def tiers(store: Store, region: str, years: tuple[int, int], aud: privacy.Audience
          ) -> tuple[pd.DataFrame, list[SourceInfo]]:
    """The members' US TIP Report tier placements, released for ``aud``, and the files they come from.

    Every member has a row for each report year the placements cover (status ``not_ranked`` when
    the report did not rank it), so that a chart can leave a gap rather than guess.
    """
    from tipwatch.indicators import assessments

    placed = assessments.placements(store.ibis)
    placed = placed.filter(placed.year.between(years[0], years[1]))
    ids = set(placed.select("submission_id").distinct().to_pandas()["submission_id"])
    t = assessments.tiers(store.ibis, years=years, region=region, unranked=True).to_pandas()
    t["label"] = t["tier"].map(assessments.tier_labels())
    t = t.sort_values(["country", "year"], ignore_index=True)[
        ["country", "year", "tier", "label", "value", "status", "unit"]]
    # Public assessments, not counts: the privacy layer passes them whole, but they leave through it.
    return privacy.release(t, aud), (_sources(store, ids) if ids else [])


def legal_framework(countries: list[str], years: tuple[int, int], aud: privacy.Audience) -> pd.DataFrame:
    """The members' statuses on every legal-framework checklist item, released for ``aud``.

    Statuses are those in force on 31 December of the report's last year (`tipwatch.legal`):
    the chapters and profiles say "as of" that day. Every member has a row for every item
    (``unknown`` where no public source gives a status).
    """
    from datetime import date

    from tipwatch import legal

    t = legal.table(countries, date(years[1], 12, 31))
    # Assessments of laws, not counts (unit "status"): the privacy layer passes them whole, but
    # they leave through it like every other figure.
    t["value"] = float("nan")
    t["unit"] = "status"
    return privacy.release(t, aud)


#: Count columns of each case-record analysis, and the columns that rest on one of them.
_CASEWORK_COUNTS = {
    "attrition": (["investigated", "prosecuted_within", "convicted_within"],
                  {"prosecuted_share": ("prosecuted_within", "investigated"),
                   "convicted_share": ("convicted_within", "investigated")}),
    "durations": (["n"], {"median_days": "n"}),
    "sentences": (["convictions", "with_sentence"],
                  {"q1_months": "with_sentence", "median_months": "with_sentence", "q3_months": "with_sentence"}),
    "witnesses": (["identified", "testified", "protected", "compensated"],
                  {"testified_share": ("testified", "identified")}),
    "cooperation": (["sent", "executed", "refused", "pending", "withdrawn"],
                    {"median_days_to_execute": "executed"}),
}
#: Sums that hold within a row of an analysis (the privacy layer protects them): requests by status
#: add up to those sent; a cohort's prosecuted and convicted are some of its investigated.
_CASEWORK_SUMS = {
    "attrition": {"within": {"investigated": ["prosecuted_within", "convicted_within"]}},
    "sentences": {"within": {"convictions": ["with_sentence"]}},
    "cooperation": {"sums": {"sent": ["executed", "refused", "pending", "withdrawn"]}},
}


def casework(store: Store, countries: list[str], years: tuple[int, int], aud: privacy.Audience,
             synthetic: bool = False) -> dict[str, pd.DataFrame]:
    """The case-record analyses for ``countries``, released for ``aud`` (empty tables when none)."""
    from tipwatch.indicators import casefile
    from tipwatch.report.model import CASEWORK

    subs = indicators.current_submissions(store.ibis, synthetic=synthetic)
    if subs.filter(subs.id.isin(store.ibis.table("cases").select("submission_id").distinct()
                                .submission_id)).count().execute() == 0:
        # No case records: the analyses would only compile and return nothing.
        empty = {name: pd.DataFrame({c: [] for c in cols}) for name, cols in CASEWORK.items()}
        return {name: privacy.release_wide(df, aud, []) for name, df in empty.items()}
    out = {}
    for name, (counts, derived) in _CASEWORK_COUNTS.items():
        fn = getattr(casefile, name)
        df = fn(store.ibis, countries=countries, years=years, synthetic=synthetic).to_pandas()
        out[name] = privacy.release_wide(df, aud, counts, derived, **_CASEWORK_SUMS.get(name, {}))
    return out


def build_input(store: Store, region: str, years: tuple[int, int], audience: str = "public",
                synthetic_casework: bool = False) -> ReportInput:
    """Everything the report for ``region`` and ``years`` shows, released for ``audience``.

    Raises:
        InputError: Unknown region, or no data in the store.
    """
    try:
        region = reference.region_id(region)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    aud = privacy.audience(audience)
    expr = indicators.compute(store.ibis, region=region, years=years)
    # Sorted before the privacy layer: which cell secondary suppression withheld depended on the
    # order rows came back in, which differs between engines (and between runs of a parallel one).
    keys = ["indicator", "country", "year", "sex", "age", "form"]
    tidy = privacy.release(expr.to_pandas().sort_values(keys, ignore_index=True), aud)
    if tidy.empty:
        raise InputError(
            f"The store holds no figures for {region} in {years[0]}–{years[1]}: import data first "
            "(tipwatch import FILE, or tipwatch demo)."
        )
    tidy = tidy.sort_values(["indicator", "country", "year", "sex", "age", "form"], ignore_index=True)
    # The decade-of-progress comparison runs the same ibis definition over released figures. It
    # compares the years the achievements and challenges look at: ten years ending in the latest
    # year most members reported, not the first and last year any source has a figure in (CTDC's
    # records start in 2005, GLOTIP's 2021 is thin: no member had both).
    span = statements.years_compared(tidy, region, years)
    baseline_year = max(span[0], _first_year_with_data(tidy, years)) if span else _first_year_with_data(tidy, years)
    latest_year = span[1] if span else _last_year_with_data(tidy, years)
    baseline = indicators.change_from_baseline(
        ibis.memtable(tidy.drop(columns=["reporting", "below_threshold", "members"])),
        baseline_year, latest_year,
    ).to_pandas().sort_values(["indicator", "country"], ignore_index=True)
    baseline.attrs[privacy.RELEASED] = aud.name

    last = years[1]
    members = [(iso3, reference.countries()[iso3].name) for iso3 in reference.members(region, last)]
    comps = [ComponentMeta(c["id"], c["slug"], c["title"], c["standard"], c["data_needed"])
             for c in reference.components()]
    inds = [IndicatorMeta(i.id, i.component, i.meta["title"], i.unit, i.meta["definition"],
                          i.meta["counting_rule"], i.breakdowns)
            for i in indicators.indicators().values()]
    settings = {
        "tipwatch version": __version__,
        "region": region,
        "years": f"{years[0]}–{years[1]}",
        "audience": aud.name,
        **aud.settings_text(),
        "baseline year": str(baseline_year),
        "latest year": str(latest_year),
        "data snapshot (SHA-256)": snapshot_hash(store),
    }
    member_codes = sorted({m for y in range(years[0], years[1] + 1) for m in reference.members(region, y)})
    work = casework(store, member_codes, years, aud, synthetic=synthetic_casework)
    budget = (tidy.attrs.get(privacy.PROTECTION) or {}).get("differential_privacy")
    if budget:
        settings["differential privacy"] = (f"ε = {budget['epsilon']:g} spent by this release: "
                                            f"{budget['tables']} tables × ε {budget['epsilon_per_table']:g}")
    if synthetic_casework:
        settings["case records"] = "SYNTHETIC (tipwatch synth): for demonstration only"
    tier_rows, tier_sources = tiers(store, region, years, aud)
    from tipwatch import legal

    statuses = legal_framework([iso for iso, _ in members], years, aud)
    from tipwatch.indicators import consistency

    gaps = consistency.released(store.ibis, aud, countries=member_codes, years=years)
    return ReportInput(
        region_id=region, region_name=reference.regions()[region].name, years=years,
        members=members, tidy=tidy, baseline=baseline, indicators=inds, components=comps,
        sources=_sources(store), settings=settings, casework=work,
        casework_synthetic=synthetic_casework, tiers=tier_rows, tier_sources=tier_sources,
        discrepancies=gaps,
        checklist=list(legal.checklist()), legal=statuses,
    )


def _headline(tidy: pd.DataFrame) -> pd.DataFrame:
    return tidy[(tidy.sex == "total") & (tidy.age == "total") & (tidy.form == "total")
                & tidy.value.notna() & (tidy.members.isna())]


def _first_year_with_data(tidy: pd.DataFrame, years: tuple[int, int]) -> int:
    h = _headline(tidy)
    return int(h.year.min()) if not h.empty else years[0]


def _last_year_with_data(tidy: pd.DataFrame, years: tuple[int, int]) -> int:
    h = _headline(tidy)
    return int(h.year.max()) if not h.empty else years[1]


def write_report(store: Store, region: str, years: tuple[int, int], out_dir: Path,
                 audience: str = "public", formats: tuple[str, ...] = ("html", "pdf")) -> dict[str, Path]:
    """Write the Progress Report for ``region`` and ``years`` into ``out_dir``."""
    from tipwatch.report.render import render_report

    inp = build_input(store, region, years, audience)
    for table, what in ((inp.tidy, "the report"), (inp.baseline, "the report's baseline"),
                        (inp.tiers, "the report's tier placements"),
                        (inp.discrepancies, "the report's cross-source comparisons"),
                        (inp.legal, "the report's legal-framework statuses")):
        privacy.require_released(table, what)
    out_dir.mkdir(parents=True, exist_ok=True)
    return render_report(inp, out_dir, formats=formats)
