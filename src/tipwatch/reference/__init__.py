"""Reference data: countries, regions and their memberships, code lists, crosswalks, indicators.

All of it lives in versioned data files under `data/` (see its README for sources). This
module only reads them; adding a region, a code or a crosswalk row needs no code.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data"


def _rows(relpath: str) -> list[dict[str, str]]:
    with (DATA / relpath).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass(frozen=True)
class Country:
    """A country or territory: ISO 3166 alpha-3 plus the extensions tipwatch needs (XKX, CRQ)."""

    iso3: str
    iso2: str
    name: str
    unodc_region: str
    unodc_subregion: str


@dataclass(frozen=True)
class Region:
    """A grouping of countries: intergovernmental (ASEAN) or one of UNODC's."""

    id: str
    name: str
    kind: str
    parent: str
    source: str


@dataclass(frozen=True)
class Membership:
    """A country's membership of a region, with dates (``left`` is None while a member)."""

    region: str
    iso3: str
    joined: date | None
    left: date | None


@cache
def countries() -> dict[str, Country]:
    """All countries by ISO3."""
    return {
        r["iso3"]: Country(r["iso3"], r["iso2"], r["name"], r["unodc_region"], r["unodc_subregion"])
        for r in _rows("countries.csv")
    }


@cache
def regions() -> dict[str, Region]:
    """All regions by id (``ASEAN``, ``unodc:asia``, GLOTIP aggregate codes such as ``CAR``)."""
    return {
        r["id"]: Region(r["id"], r["name"], r["kind"], r["parent"], r["source"])
        for r in _rows("regions.csv")
    }


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@cache
def memberships() -> tuple[Membership, ...]:
    """Dated memberships of intergovernmental regions, plus UNODC's (undated) from countries."""
    dated = [
        Membership(r["region"], r["iso3"], _date(r["joined"]), _date(r["left"]))
        for r in _rows("memberships.csv")
    ]
    by_name = {(r.kind, r.name): r.id for r in regions().values()}
    undated = []
    for c in countries().values():
        for kind, name in (("unodc_region", c.unodc_region), ("unodc_subregion", c.unodc_subregion)):
            if (kind, name) in by_name:
                undated.append(Membership(by_name[(kind, name)], c.iso3, None, None))
    return tuple(dated + undated)


def region_id(name: str) -> str:
    """The region id for ``name``, ignoring case (``asean`` → ``ASEAN``).

    Raises:
        KeyError: No region has that id.
    """
    by_key = {r.casefold(): r for r in regions()}
    try:
        return by_key[name.casefold()]
    except KeyError:
        known = ", ".join(sorted(r for r, v in regions().items() if v.kind == "intergovernmental"))
        raise KeyError(
            f"{name} is not a known region (known: {known}, or a UNODC id such as unodc:asia)"
        ) from None


def members(region: str, year: int) -> list[str]:
    """ISO3 codes of the region's members during ``year`` (a member on 31 December counts).

    ASEAN counts 10 members in 2015 and 11 from 2025 (Timor-Leste joined on 26 October 2025).
    """
    region = region_id(region)
    end = date(year, 12, 31)
    return sorted(
        m.iso3
        for m in memberships()
        if m.region == region
        and (m.joined is None or m.joined <= end)
        and (m.left is None or m.left > end)
    )


@cache
def codelist(name: str) -> dict[str, dict[str, str]]:
    """A code list (``sex``, ``age``, ``form``, ``citizenship_special``) by code."""
    return {r["code"]: r for r in _rows(f"codelists/{name}.csv")}


def from_glotip_label(name: str) -> dict[str, str]:
    """Map GLOTIP's labels to tipwatch codes for one code list."""
    return {r["glotip_label"]: code for code, r in codelist(name).items() if r["glotip_label"]}


@cache
def crosswalk(name: str) -> dict[str, str]:
    """A label → code crosswalk from `data/crosswalks/<name>.csv` (empty code: unmappable)."""
    return {r["label"]: r["code"] for r in _rows(f"crosswalks/{name}.csv")}


@cache
def indicator_meta() -> list[dict]:
    """Indicator metadata, in report order."""
    return yaml.safe_load((DATA / "indicators.yaml").read_text(encoding="utf-8"))


@cache
def components() -> list[dict]:
    """The seven components of an effective criminal justice response (2011 ASEAN report)."""
    return yaml.safe_load((DATA / "components.yaml").read_text(encoding="utf-8"))


@cache
def assessment(series: str) -> dict:
    """An external assessment series (`data/assessments/<series>.yaml`): its codes, labels and ranks,
    and how each source coding maps to them (``us_tip_tier``: the US TIP Report's tiers)."""
    return yaml.safe_load((DATA / "assessments" / f"{series}.yaml").read_text(encoding="utf-8"))


@cache
def sources() -> dict[str, dict]:
    """Known sources by name: title, precedence (higher wins for the same figure), synthetic."""
    return {
        r["source"]: {**r, "precedence": int(r["precedence"]), "synthetic": r["synthetic"] == "true"}
        for r in _rows("sources.csv")
    }
