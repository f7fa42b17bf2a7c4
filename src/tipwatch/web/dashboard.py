"""The web dashboard's data: the report's released figures, indicators and charts, as JSON.

The dashboard shows what the Progress Report shows, for the same audience: `payload` calls the
report's own `build_input` (so every figure passed the privacy layer for that audience), indexes
it with the report's `Figures`, and builds the charts with the report's chart builders, called
with the same indicator lists as the report's overview and country profiles. The specs are the
ones the report's web page draws with vega-embed (`charts.interactive`), their rows inline
(a ``datasets`` entry named in the spec, no URL). Nothing here computes a figure.

Two views:

- the regional overview (``country=None``): every member's figures and the region's own
  (aggregates carry how many members they add up), the overview's charts;
- a country view (``country="THA"``): that country's figures only. The report input is cut down
  to the country's rows *before* anything is built from it, so no other country's figure and no
  regional aggregate (which adds up other countries) can reach the payload, not even in a chart's
  alternative text. That is what a national focal point sees (audience ``national:THA``).

`views` gives the overview and every member's view from one read of the store (a publication
stores them all). Which person may ask for which view and audience is the web application's
decision, not this module's (`tipwatch.web.access`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from tipwatch import privacy, reference
from tipwatch.errors import InputError
from tipwatch.report import charts, i18n
from tipwatch.report.build import build_input
from tipwatch.report.figures import MISSING, Figures, Tiers
from tipwatch.report.fmt import Formatter
from tipwatch.report.i18n import _
from tipwatch.report.localise import country_name, localise
from tipwatch.report.model import ReportInput
from tipwatch.store import Store

#: Columns of ``rows``, on every row: the released tidy table's (`tipwatch.indicators.TIDY_COLUMNS`,
#: documented in `ReportInput.tidy`), in that order; a column the table might gain later is not
#: served. ``reporting``, ``below_threshold`` and ``members`` describe a regional aggregate (members
#: with a number, with ``<5``, members that year) and are null on a country's row.
ROW_COLUMNS = ("country", "year", "indicator", "sex", "age", "form", "value", "status", "unit", "flag",
               "reporting", "below_threshold", "members")
COVERAGE_COLUMNS = ("reporting", "below_threshold", "members")
#: Columns of ``tiers``: the released US TIP Report placements (`ReportInput.tiers`).
TIER_COLUMNS = ("country", "year", "tier", "label", "value", "status")
#: Keys of the protection summary that count withheld figures over the whole release (every
#: country): a country view leaves them out and counts its own rows instead (``withheld``).
_RELEASE_COUNTS = ("primary_suppressed", "complementary_suppressed", "unprotectable")


def payload(store: Store, audience: str, region: str = "ASEAN", years: tuple[int, int] = (2003, 2021),
            country: str | None = None, lang: str = "en") -> dict[str, Any]:
    """What a dashboard page shows: the regional overview, or one country's view.

    Args:
        store: The store to read.
        audience: ``public``, ``regional`` or ``national:ISO3``: whose privacy rules release the
            figures, as for the report.
        region: Region id (``ASEAN``, any case).
        years: First and last year, inclusive.
        country: ISO3 code of a member for a country view; None for the regional overview.
        lang: Language of the titles, names and chart texts (`tipwatch.report.i18n.LANGUAGES`).

    Returns:
        A dict that `json.dumps` takes as it is (no NaN, no numpy or pandas values, dates as ISO
        strings), with the keys:

        - ``region``, ``region_name``, ``years`` (``[first, last]``), ``audience``, ``lang``;
        - ``country``: the country view's ISO3 code, or None for the overview;
        - ``protection``: how the figures were protected (`privacy.to_json`'s summary: k, width,
          method, differential privacy, figures withheld by each rule) and ``withheld``, the rows
          of this payload withheld for the audience. A country view leaves out the counts by rule,
          which cover every country's figures;
        - ``members``: ``[{"iso3", "name"}]``, the region's members in the last year (a country
          view: that country only);
        - ``components``: ``[{"id", "slug", "title"}]``, the seven components;
        - ``indicators``: ``[{"id", "component", "title", "unit", "definition", "counting_rule",
          "breakdowns"}]``, the report's indicator definitions;
        - ``rows``: the released tidy rows (`ROW_COLUMNS`): every breakdown, every status;
          ``value`` is null where withheld or missing;
        - ``headline``: per country (and, in the overview, the region) and indicator, the latest
          year with a figure: ``{"country", "indicator", "title", "year", "value", "status",
          "unit", "flag"}`` (+ coverage for the region). ``value`` is null unless the figure may
          be printed as a number (`Figure.number`: not for ``<5``, withheld or incomplete);
        - ``tiers``: the released US TIP Report placements (`TIER_COLUMNS`);
        - ``sources``: the releases and submissions the figures come from (a country view leaves
          out files submitted for another country: their names and sizes are not its to know);
        - ``charts``: Vega-Lite specs by name (overview: ``regional_trend``, ``country_comparison``,
          ``shares``; country view: ``country_trend``, ``tier_history``), only those with data;
        - ``captions``: each chart's caption, by the same names.

    Raises:
        InputError: Unknown region, audience or language, a country that is not a member of
            the region in those years, or no figures in the store.
    """
    language = i18n.language(lang)
    privacy.audience(audience)  # an unknown audience is refused before the store is read
    region_id = _region(region)
    iso = _member(country, region_id, years) if country is not None else None
    return _view(build_input(store, region_id, years, audience), iso, language, lang, _scopes(store))


def views(store: Store, audience: str, region: str = "ASEAN", years: tuple[int, int] = (2003, 2021),
          lang: str = "en") -> dict[str, Any]:
    """The regional overview and every member's country view, from one read of the store.

    Each view equals `payload` called with the same arguments (and ``country``), but the report
    input is built once rather than once per view: for ASEAN, one second instead of eleven.

    Returns:
        ``{"overview": payload, "countries": {iso3: payload}}``, a country view for each of the
        overview's ``members``.

    Raises:
        InputError: As `payload`.
    """
    language = i18n.language(lang)
    privacy.audience(audience)
    inp = build_input(store, _region(region), years, audience)
    scopes = _scopes(store)
    overview = _view(inp, None, language, lang, scopes)
    return {"overview": overview,
            "countries": {m["iso3"]: _view(inp, m["iso3"], language, lang, scopes) for m in overview["members"]}}


def _view(inp: ReportInput, iso: str | None, language: str, lang: str,
          scopes: dict[str, set[str]]) -> dict[str, Any]:
    """The payload of one view of a report input: the overview, or the country ``iso``'s."""
    with i18n.use(language):
        fmt = Formatter(lang)
        inp = localise(inp, language)
        if iso is not None:
            inp = _country_input(inp, iso, language)
        figs = Figures(inp)
        tiers = Tiers(inp)
        if iso is None:
            shown, captions = _overview_charts(figs, fmt)
        else:
            shown, captions = _country_charts(figs, tiers, fmt, iso)
        result = {
            "region": inp.region_id,
            "region_name": inp.region_name,
            "years": [int(inp.years[0]), int(inp.years[1])],
            "audience": privacy.require_released(inp.tidy, "the dashboard"),
            "lang": language,
            "country": iso,
            "protection": _protection(inp.tidy, whole=iso is None),
            "members": [{"iso3": code, "name": name} for code, name in inp.members],
            "components": [{"id": c.id, "slug": c.slug, "title": c.title} for c in inp.components],
            "indicators": [{"id": m.id, "component": m.component, "title": m.title, "unit": m.unit,
                            "definition": m.definition, "counting_rule": m.counting_rule,
                            "breakdowns": list(m.breakdowns)} for m in inp.indicators],
            "rows": _rows(inp.tidy),
            "headline": _headline(figs, with_region=iso is None),
            "tiers": _tiers(inp.tiers),
            "sources": [{"name": s.name, "vintage": s.vintage, "file_name": s.file_name,
                         "file_hash": s.file_hash, "rows": s.rows, "current": s.current}
                        for s in inp.sources if iso is None or _shared_or_own(scopes.get(s.file_hash, set()), iso)],
            "charts": {name: charts.interactive(spec) for name, spec in shown.items()},
            "captions": captions,
        }
    return plain(result)


def _scopes(store: Store) -> dict[str, set[str]]:
    """The scopes of the submissions of each stored file (``global``, ``THA:2019-01-01..2019-12-31``)."""
    subs = store.ibis.table("submissions").select("file_hash", "scope").to_pyarrow().to_pylist()
    out: dict[str, set[str]] = {}
    for row in subs:
        out.setdefault(row["file_hash"], set()).add(str(row["scope"]))
    return out


def _shared_or_own(scopes: set[str], iso: str) -> bool:
    """True unless a file was submitted for another country: a country view does not list those."""
    known = reference.countries()
    return not any((code := scope.partition(":")[0]) in known and code != iso for scope in scopes)


def _region(region: str) -> str:
    try:
        return reference.region_id(region)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None


def _member(country: str, region: str, years: tuple[int, int]) -> str:
    """``country`` as an ISO3 code of a member of ``region`` in at least one of ``years``."""
    iso = str(country).strip().upper()
    members = {m for y in range(years[0], years[1] + 1) for m in reference.members(region, y)}
    if iso not in members:
        known = ", ".join(sorted(members)) or "none"
        what = "not a country code" if iso not in reference.countries() else f"not a member of {region}"
        raise InputError(f"{country} is {what} in {years[0]}–{years[1]} (members: {known}).")
    return iso


def _country_input(inp: ReportInput, iso: str, language: str) -> ReportInput:
    """``inp`` cut down to one country: its rows and placements only, and it as the only member.

    Everything the payload holds is built from this input, so no other country's figure (nor a
    regional aggregate) can reach it.
    """
    name = dict(inp.members).get(iso) or country_name(iso, reference.countries()[iso].name, language)

    def own(table: pd.DataFrame) -> pd.DataFrame:
        out = table[table["country"] == iso].reset_index(drop=True)
        out.attrs = dict(table.attrs)  # released for the same audience
        return out

    return replace(inp, members=[(iso, name)], tidy=own(inp.tidy), tiers=own(inp.tiers),
                   baseline=own(inp.baseline), legal=own(inp.legal), casework={},
                   discrepancies=own(inp.discrepancies))


def _overview_charts(figs: Figures, fmt: Formatter) -> tuple[dict[str, dict], dict[str, str]]:
    """The report overview's charts (`render._Document.overview`), with its indicators and captions."""
    specs: dict[str, dict] = {}
    captions: dict[str, str] = {}
    present = figs.indicators_with_data()
    counts, percents = figs.counts(present), figs.percents(present)
    if counts:
        specs["regional_trend"] = charts.regional_trend(figs, fmt, counts)
        captions["regional_trend"] = _("Regional trends, with the members behind each figure")
        year = figs.latest_year([m.id for m in counts])
        if year is not None:
            specs["country_comparison"] = charts.country_comparison(figs, fmt, counts, year)
            captions["country_comparison"] = _("Members compared, {year}").format(year=year)
    regional = [m for m in percents if figs.has_data([m.id], [figs.region])]
    if regional:
        # The region's own shares and ratios, with coverage, as the report draws them.
        specs["shares"] = charts.regional_trend(figs, fmt, regional)
        captions["shares"] = _("Shares and ratios, regional")
    elif percents:
        specs["shares"] = charts.share_lines(figs, fmt, percents)
        captions["shares"] = _("Shares and ratios by member")
    return specs, captions


def _country_charts(figs: Figures, tiers: Tiers, fmt: Formatter, iso: str
                    ) -> tuple[dict[str, dict], dict[str, str]]:
    """A country profile's charts (`render._Document.profile` and ``profile_tiers``)."""
    specs: dict[str, dict] = {}
    captions: dict[str, str] = {}
    name = figs.name(iso)
    # Indicators as defined, not their per-category columns: the profile's key figures.
    present = [m for m in figs.indicators_with_data(iso) if m.id in figs.inp_ids]
    counts = figs.counts(present)
    if counts:
        specs["country_trend"] = charts.country_trend(figs, fmt, iso, counts)
        captions["country_trend"] = _("{name}: trends ({note})").format(name=name, note=charts.trend_mark_note())
    if tiers.has(iso):
        specs["tier_history"] = charts.tier_history(tiers, fmt, iso, name)
        captions["tier_history"] = _("{name}: US TIP Report tier by report year").format(name=name)
    return specs, captions


def _protection(tidy: pd.DataFrame, whole: bool) -> dict[str, Any]:
    summary = dict(tidy.attrs.get(privacy.PROTECTION) or {})
    if not whole:
        for key in _RELEASE_COUNTS:
            summary.pop(key, None)
    summary["withheld"] = int((tidy["status"] == privacy.SUPPRESSED).sum()) if "status" in tidy else 0
    return summary


def _rows(tidy: pd.DataFrame) -> list[dict[str, Any]]:
    """The released rows as `privacy.to_json` gives them (`ROW_COLUMNS` only)."""
    table = tidy[[c for c in ROW_COLUMNS if c in tidy.columns]]
    table.attrs = dict(tidy.attrs)
    rows = privacy.to_json(table, "the dashboard")["rows"]
    for row in rows:
        for c in COVERAGE_COLUMNS:
            if row.get(c) is not None:
                row[c] = int(row[c])  # numbers of members (float in the table, for its NaN)
    return rows


def _headline(figs: Figures, with_region: bool) -> list[dict[str, Any]]:
    """Each country's latest figure of each indicator (the region's too when ``with_region``)."""
    countries = [iso for iso, _name in figs.members] + ([figs.region] if with_region else [])
    shown = [m for m in figs.indicators if m.id in figs.inp_ids]
    out = []
    for iso in countries:
        for meta in shown:
            latest = next((f for f in reversed(figs.series(iso, meta.id)) if f.status != MISSING), None)
            if latest is None:
                continue
            item = {"country": iso, "indicator": meta.id, "title": meta.title, "year": latest.year,
                    "value": latest.number, "status": latest.status, "unit": latest.unit, "flag": latest.flag}
            if latest.has_coverage:
                item.update(reporting=latest.reporting, below_threshold=latest.below_threshold,
                            members=latest.members)
            out.append(item)
    return out


def _tiers(table: pd.DataFrame) -> list[dict[str, Any]]:
    privacy.require_released(table, "the dashboard's tier placements")
    cols = [c for c in TIER_COLUMNS if c in table.columns]
    return [dict(zip(cols, values, strict=True)) for values in table[cols].itertuples(index=False, name=None)]


def plain(value: Any) -> Any:
    """``value`` with only what `json.dumps` takes as it is: dicts, lists, str, int, finite float,
    bool and None.

    NaN, infinities and pandas' missing values become None; numpy numbers Python's; dates and
    times ISO strings; tuples and sets lists.
    """
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date, dt.time)):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


__all__ = ["ROW_COLUMNS", "TIER_COLUMNS", "payload", "plain", "views"]
