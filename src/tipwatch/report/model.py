"""What the report is made of: the released figures plus the metadata that explains them.

The report never computes a number itself. It receives tables that already passed the privacy
layer (`tipwatch.privacy.release`) for the report's audience, and lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from tipwatch.legal import Item


@dataclass(frozen=True)
class IndicatorMeta:
    """One indicator's metadata, as in `reference/data/indicators.yaml`."""

    id: str
    component: int
    title: str
    unit: str
    definition: str
    counting_rule: str
    breakdowns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComponentMeta:
    """One of the seven components of an effective criminal justice response (2011 report)."""

    id: int
    slug: str
    title: str
    standard: str
    data_needed: str


@dataclass(frozen=True)
class SourceInfo:
    """A release or submission whose figures the report uses."""

    name: str
    vintage: date
    file_name: str
    file_hash: str
    rows: int
    current: bool = True


@dataclass(frozen=True)
class ReportInput:
    """Everything one report needs.

    Attributes:
        region_id: Region identifier, e.g. ``"ASEAN"``.
        region_name: Display name of the region.
        years: First and last year covered, inclusive.
        members: ``(iso3, name)`` of the member states counted for the last year, in display order.
        tidy: Released indicator table. Columns: ``country`` (ISO3, or the region id for regional
            rows), ``year`` (int), ``indicator`` (id), ``sex``, ``age``, ``form`` (codes, ``total``
            where not broken down), ``value`` (float, NaN when withheld or missing), ``status``
            (``reported``, ``below_threshold``, ``incomplete``, ``computed``, ``missing``,
            ``suppressed``; see docs/indicators.md),
            ``unit``, ``flag`` (``None`` or e.g. ``ratio_above_100``), and for regional rows
            ``reporting`` (members with a number), ``below_threshold`` (members whose figure is
            ``<5``) and ``members`` (members that year).
        baseline: Released change-against-baseline table. Columns: ``country``, ``indicator``,
            ``baseline_year``, ``baseline_value``, ``baseline_status``, ``latest_year``,
            ``latest_value``, ``latest_status``, ``change``, ``change_pct``.
        indicators: Metadata of every indicator in ``tidy``.
        components: The seven components, in order.
        sources: Releases the figures come from.
        settings: How the report was made (tipwatch version, audience, store snapshot hash, ...),
            printed in the annex.
        casework: Analyses of case records (see `CASEWORK`), empty when the store holds none.
        casework_synthetic: True when those case records are synthetic (``tipwatch synth``):
            every place they appear must say so.
        tiers: Released US TIP Report tier placements of the members (an external assessment,
            shown in the country profiles; empty when the store holds none). Columns:
            ``country``, ``year`` (report year), ``tier`` (``1``, ``2``, ``2WL``, ``3``,
            ``special``; None when not ranked), ``label`` (``Tier 2 Watch List``), ``value`` (the
            rank charts plot: 1, 2, 2.5, 3; NaN for a special case or not ranked), ``status``
            (``reported`` or ``not_ranked``) and ``unit`` (``tier``). A year has rows only when
            the placements held cover it.
        tier_sources: The files the tier placements come from (current submissions).
    """

    region_id: str
    region_name: str
    years: tuple[int, int]
    members: list[tuple[str, str]]
    tidy: pd.DataFrame
    baseline: pd.DataFrame
    indicators: list[IndicatorMeta]
    components: list[ComponentMeta]
    sources: list[SourceInfo]
    settings: dict[str, str] = field(default_factory=dict)
    casework: dict[str, pd.DataFrame] = field(default_factory=dict)
    casework_synthetic: bool = False
    tiers: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {c: [] for c in ("country", "year", "tier", "label", "value", "status", "unit")}))
    tier_sources: list[SourceInfo] = field(default_factory=list)
    #: Released figures two sources give very differently for one country, year and indicator
    #: (`tipwatch.indicators.consistency`; columns ``COLUMNS`` there), for the data-quality annex.
    discrepancies: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {c: [] for c in ("comparison", "country", "year", "indicator_a", "source_a", "value_a",
                         "indicator_b", "source_b", "value_b", "ratio")}))
    #: The legal-framework checklist items (`tipwatch.legal.checklist`), by component; empty when
    #: the report is made without a checklist (its chapters then have no checklist section).
    checklist: list[Item] = field(default_factory=list)
    #: Released statuses of the members on each checklist item in force on 31 December of the last
    #: year (`tipwatch.legal.table`, columns ``country``, ``item``, ``component``, ``status`` —
    #: yes/partial/no/unknown —, ``since``, ``law``, ``source``, ``note``), plus ``value`` (NaN) and
    #: ``unit`` (``status``): assessments of laws, not counts, which the privacy layer passes whole.
    legal: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {c: [] for c in ("country", "item", "component", "status", "since", "law", "source", "note",
                         "value", "unit")}))


#: What ``ReportInput.casework`` holds: analyses only case records allow (released, wide tables;
#: withheld cells are NaN). Keys and columns, from `tipwatch.indicators.casefile`:
CASEWORK = {
    # Cohort attrition: of persons investigated in cohort_year, how many were prosecuted and
    # convicted within two years; shares in percent; complete is False for right-censored cohorts.
    "attrition": ("country", "cohort_year", "investigated", "prosecuted_within", "convicted_within",
                  "prosecuted_share", "convicted_share", "complete"),
    # Median days from investigation to first-instance verdict, by verdict year (n person-cases).
    "durations": ("country", "year", "n", "median_days"),
    # Sentences of persons convicted in the year: quartiles of prison months.
    "sentences": ("country", "year", "convictions", "with_sentence", "q1_months", "median_months",
                  "q3_months"),
    # Victims as witnesses: identified, testified, protected, compensated; testified share in percent.
    "witnesses": ("country", "year", "identified", "testified", "protected", "compensated",
                  "testified_share"),
    # International cooperation: requesting × requested country and request type.
    "cooperation": ("requesting_country", "requested_country", "type", "sent", "executed", "refused",
                    "pending", "withdrawn", "median_days_to_execute"),
}
