"""UNODC's GLOTIP export (``data_glotip.xlsx`` from dataUNODC), any release.

The layout, as published (see the dataset's SOURCE.md): banner rows (``UNODC``, then the
release date, the *vintage*), a header row, then one long-format row per figure. What this
parser does with each quirk:

- ``<5`` is UNODC's own suppression of counts 1–4: stored as status ``below_threshold`` with
  no value, never as a number.
- ``1,469``: thousands separators are removed.
- Exact duplicate rows are collapsed and counted in the import report.
- Rows whose ``Country`` is empty are UNODC's regional aggregates (``CAR``, ``SAM``, …): kept
  with ``area_kind = unodc_aggregate``, never mixed with countries.
- Rows with a country but no ISO3 code (Sark) get the code from the area crosswalk.
- ``by citizenship`` / ``by country of repatriation`` categories are free text, partly
  mis-encoded: normalised to ISO3 through the citizenship crosswalk (then pycountry), and
  listed in the report where that fails.
- Several rows can share every label (UNODC folds sub-forms into "Other forms of
  exploitation"): each is kept, numbered by its order in the file (``rank``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, datetime
from functools import cache

import pyarrow as pa

from tipwatch import reference
from tipwatch.ingest import registry
from tipwatch.ingest.files import ReceivedFile, read_workbook
from tipwatch.ingest.registry import Batch, Format, InvalidFile, Problem

REQUIRED = ("Iso3_code", "Country", "Indicator", "Dimension", "Category", "Sex", "Age", "Year")
VALUE_COLUMNS = ("txtVALUE", "VALUE")  # UNODC's other crime files call it VALUE
DIMENSIONS = {
    "Total": None,
    "by form of exploitation": "form",
    "by citizenship": "citizenship",
    "by country of repatriation": "repatriated_to",
}
MAX_HEADER_SEARCH = 10
_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")


def _header_index(rows: list[list]) -> int | None:
    for i, row in enumerate(rows[:MAX_HEADER_SEARCH]):
        cells = {str(c).strip() for c in row}
        if "Iso3_code" in cells and cells & set(VALUE_COLUMNS):
            return i
    return None


def detect(f: ReceivedFile) -> bool:
    """A GLOTIP export is a workbook whose header row has ``Iso3_code`` and ``txtVALUE``."""
    if f.kind != "xlsx":
        return False
    _, rows = read_workbook(f)
    return _header_index(rows) is not None


def _vintage(banner: list[list]) -> date | None:
    for row in banner:
        for cell in row:
            if isinstance(cell, datetime):
                return cell.date()
            if isinstance(cell, date):
                return cell
            m = _DATE.match(str(cell))
            if m:
                day, month, year = (int(g) for g in m.groups())
                try:
                    return date(year, month, day)
                except ValueError:
                    return None
    return None


@cache
def _indicators() -> dict[str, str]:
    return {m["glotip_indicator"]: m["id"] for m in reference.indicator_meta() if m.get("glotip_indicator")}


@cache
def _country_names() -> dict[str, str]:
    names = {c.name.casefold(): c.iso3 for c in reference.countries().values()}
    names.update({k.casefold(): v for k, v in reference.crosswalk("glotip_area").items() if v})
    return names


def _fix_mojibake(text: str) -> str:
    # UTF-8 bytes once read as Latin-1 ("CÃ´te d'Ivoire"): undo when it round-trips cleanly.
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


class _Citizenship:
    """Maps GLOTIP's free-text nationalities to ISO3 or a special code, remembering misses."""

    def __init__(self) -> None:
        self.table = reference.crosswalk("glotip_citizenship")
        self.countries = reference.countries()
        self.special = set(reference.codelist("citizenship_special"))
        self.mapped = 0
        self.unmapped: Counter[str] = Counter()
        self._cache: dict[str, str] = {}

    def __call__(self, label: str) -> str:
        code = self._cache.get(label)
        if code is None:
            code = self._lookup(label)
            self._cache[label] = code
        if code == "unmapped":
            self.unmapped[label] += 1
        else:
            self.mapped += 1
        return code

    def _lookup(self, label: str) -> str:
        if not label.strip():
            return "unknown"
        for candidate in (label, _fix_mojibake(label), label.strip()):
            code = self.table.get(candidate)
            if code is not None:
                return code or "unmapped"
            code = _country_names().get(candidate.strip().casefold())
            if code:
                return code
        try:
            import pycountry

            hit = pycountry.countries.lookup(_fix_mojibake(label).strip())
            if hit.alpha_3 in self.countries:
                return hit.alpha_3
        except LookupError:
            pass
        return "unmapped"


def parse(f: ReceivedFile, *, vintage: date | None = None, crosswalks: tuple = (), year: int | None = None
          ) -> Batch:
    """Turn a GLOTIP export into observations, or raise `InvalidFile` listing every problem.

    Args:
        f: The received workbook.
        vintage: The release date, when the file has lost its banner rows.
    """
    sheet, rows = read_workbook(f)
    h = _header_index(rows)
    if h is None:
        raise InvalidFile(f.name, [Problem(
            "glotip-header", "no header row with Iso3_code and txtVALUE in the first rows: "
            "this is not a GLOTIP export", sheet=sheet)])
    header = [str(c).strip() for c in rows[h]]
    missing = [c for c in REQUIRED if c not in header]
    value_col = next((c for c in VALUE_COLUMNS if c in header), None)
    if missing:
        raise InvalidFile(f.name, [Problem(
            "glotip-columns", f"the header row lacks {', '.join(missing)}", sheet=sheet,
            line=h + 1, expected=", ".join(REQUIRED))])
    vintage = vintage or _vintage(rows[:h])
    if vintage is None:
        raise InvalidFile(f.name, [Problem(
            "glotip-vintage", "the release date banner (e.g. 30/05/2023) is missing above the "
            "header: give the release date with --vintage YYYY-MM-DD", sheet=sheet, line=1)])

    col = {name: header.index(name) for name in (*REQUIRED, value_col)}
    width = len(header)
    sexes = reference.from_glotip_label("sex")
    ages = reference.from_glotip_label("age")
    forms = reference.from_glotip_label("form")
    indicators = _indicators()
    countries = reference.countries()
    aggregates = reference.regions()
    area_xwalk = reference.crosswalk("glotip_area")
    units = {m["id"]: m["unit"] for m in reference.indicator_meta()}
    citizenship = _Citizenship()

    problems: list[Problem] = []
    seen: set[tuple] = set()
    duplicates = 0
    ranks: Counter[tuple] = Counter()
    stats: Counter[str] = Counter()
    aggregate_rows: Counter[str] = Counter()
    without_iso3: dict[str, dict] = {}
    out: dict[str, list] = defaultdict(list)

    def problem(code: str, message: str, line: int, field: str, found: object, expected: str = ""):
        problems.append(Problem(code, message, sheet, line, field, str(found), expected))

    data = rows[h + 1:]
    for i, raw in enumerate(data):
        line = h + 2 + i
        row = tuple(raw[:width])
        if not any(str(c).strip() for c in row):
            continue
        if row in seen:
            duplicates += 1
            continue
        seen.add(row)
        stats["rows"] += 1

        iso = str(row[col["Iso3_code"]]).strip()
        country = str(row[col["Country"]]).strip()
        if country:
            if iso in countries:
                area, kind = iso, "country"
            elif not iso:
                area = area_xwalk.get(country) or _country_names().get(country.casefold())
                kind = "country"
                if not area:
                    problem("unknown-area", f"{country} has no ISO3 code and none is known for it",
                            line, "Iso3_code", iso, "an ISO 3166 alpha-3 code")
                    continue
                entry = without_iso3.setdefault(country, {"code": area, "rows": 0})
                entry["rows"] += 1
            else:
                hint = _country_names().get(country.casefold())
                problem("unknown-country-code", f"{iso} is not an ISO 3166 alpha-3 code"
                        + (f"; did you mean {hint}?" if hint else ""), line, "Iso3_code", iso,
                        "an ISO 3166 alpha-3 code")
                continue
        else:
            area = area_xwalk.get(iso) or iso
            kind = "unodc_aggregate"
            if area not in aggregates:
                problem("unknown-aggregate", f"{iso or '(empty)'} is neither a country nor a known "
                        "UNODC aggregate", line, "Iso3_code", iso, "a code in regions.csv")
                continue
            aggregate_rows[area] += 1

        indicator = indicators.get(str(row[col["Indicator"]]).strip())
        if indicator is None:
            problem("unknown-indicator", "not a GLOTIP indicator tipwatch knows", line, "Indicator",
                    row[col["Indicator"]], ", ".join(indicators))
            continue
        sex = sexes.get(str(row[col["Sex"]]).strip())
        age = ages.get(str(row[col["Age"]]).strip())
        if sex is None:
            problem("unknown-sex", "not a sex in the code list", line, "Sex", row[col["Sex"]],
                    ", ".join(sexes))
        if age is None:
            problem("unknown-age", "not an age group in the code list", line, "Age", row[col["Age"]],
                    ", ".join(ages))
        try:
            year = int(float(row[col["Year"]]))
            if not 1900 <= year <= 2100:
                raise ValueError
        except (TypeError, ValueError):
            problem("invalid-year", "the year is not a four-digit year", line, "Year", row[col["Year"]],
                    "a year such as 2019")
            continue

        value, status = None, "reported"
        cell = row[col[value_col]]
        if isinstance(cell, float | int):
            value = float(cell)
        else:
            text = str(cell).strip()
            if text == "<5":
                status = "below_threshold"
                stats["below_threshold"] += 1
            elif not text:
                status = "missing"
            else:
                if "," in text:
                    stats["thousands_separators"] += 1
                try:
                    value = float(text.replace(",", ""))
                except ValueError:
                    problem("invalid-value", "the value is neither a number nor <5", line, value_col,
                            text, "a count such as 1,469, or <5")
                    continue
        if value is not None and value < 0:
            problem("negative-value", "a count cannot be negative", line, value_col, cell, ">= 0")
            continue

        dim_label = str(row[col["Dimension"]]).strip()
        if dim_label not in DIMENSIONS:
            problem("unknown-dimension", "not a GLOTIP dimension", line, "Dimension", dim_label,
                    ", ".join(DIMENSIONS))
            continue
        label = str(row[col["Category"]])
        breakdown = {"form": "total", "citizenship": "total", "repatriated_to": "total"}
        dim = DIMENSIONS[dim_label]
        if dim == "form":
            form = forms.get(label.strip())
            if form is None:
                problem("unknown-form", "not a form of exploitation in the code list", line,
                        "Category", label, ", ".join(forms))
                continue
            breakdown["form"] = form
        elif dim is not None:
            breakdown[dim] = citizenship(label)
        if sex is None or age is None:
            continue

        key = (area, year, indicator, sex, age, breakdown["form"], breakdown["citizenship"],
               breakdown["repatriated_to"], label)
        ranks[key] += 1
        out["seq"].append(len(out["seq"]))
        out["area"].append(area)
        out["area_kind"].append(kind)
        out["year"].append(year)
        out["indicator"].append(indicator)
        out["sex"].append(sex)
        out["age"].append(age)
        out["form"].append(breakdown["form"])
        out["citizenship"].append(breakdown["citizenship"])
        out["repatriated_to"].append(breakdown["repatriated_to"])
        out["label"].append(label)
        out["rank"].append(ranks[key])
        out["value"].append(value)
        out["status"].append(status)
        out["unit"].append(units[indicator])
        out["legal_basis"].append(None)
        out["sheet"].append(sheet)
        out["line"].append(line)

    if problems:
        raise InvalidFile(f.name, problems)
    if not out["seq"]:
        raise InvalidFile(f.name, [Problem("glotip-empty", "the sheet has a header but no data rows",
                                           sheet, h + 2)])

    table = pa.table(out, schema=OBSERVATIONS_IN)
    report = {
        "vintage": vintage.isoformat(),
        "sheet": sheet,
        "rows_read": len(data),
        "duplicates_collapsed": duplicates,
        "rows_stored": table.num_rows,
        "below_threshold": stats["below_threshold"],
        "thousands_separators": stats["thousands_separators"],
        "aggregate_rows": dict(sorted(aggregate_rows.items())),
        "rows_without_iso3": without_iso3,
        "citizenship_mapped": citizenship.mapped,
        "citizenship_unmapped": dict(citizenship.unmapped.most_common()),
        "same_label_rows": sum(n for n in ranks.values() if n > 1),
    }
    return Batch("glotip", "global", vintage, "glotip", len(data), table, report)


OBSERVATIONS_IN = pa.schema([
    ("seq", pa.int32()), ("area", pa.string()), ("area_kind", pa.string()), ("year", pa.int32()),
    ("indicator", pa.string()), ("sex", pa.string()), ("age", pa.string()), ("form", pa.string()),
    ("citizenship", pa.string()), ("repatriated_to", pa.string()), ("label", pa.string()),
    ("rank", pa.int32()), ("value", pa.float64()), ("status", pa.string()), ("unit", pa.string()),
    ("legal_basis", pa.string()), ("sheet", pa.string()), ("line", pa.int32()),
])

registry.register(Format("glotip", "UNODC GLOTIP export (data_glotip.xlsx)", detect, parse))
