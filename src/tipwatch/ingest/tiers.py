"""US TIP Report tier placements, in the codings researchers publish them in.

The US Department of State ranks governments every year in its Trafficking in Persons (TIP)
Report: Tier 1, Tier 2, the Tier 2 Watch List or Tier 3. tipwatch keeps the placements as an
external assessment of each country (series ``us_tip_tier`` of the ``assessments`` table), shown
beside the cube's figures, never added to them. Three layouts are registered here, each
recognised from its content:

- ``us_tip_tiers``: a country × report-year panel whose ``tier`` is the *factor* coding
  1 = Tier 1, 2 = Tier 2, 3 = Watch List, 4 = Tier 3, ``NA`` = not ranked (Kelley & Heiss's
  ``map_tiers.csv``: ``countryname, iso, year, ccode, tier``).
- ``us_tip_tier_list``: one report's list by country name in the *decimal* coding 1 / 2 / 2.5 /
  3, 666 = special case (``tiers_2015.csv``: ``countryname, tier``). Without a ``year`` column
  the report year comes from ``tipwatch import --year``.
- ``us_tip_tiers_stata``: the Stata file of Cho, Dreher and Neumayer's data with
  ``tierupdated`` in the decimal coding, 555 = not in the report.

How each code maps is data (`reference/data/assessments/us_tip_tier.yaml`), not code. A country given by
an ISO 3166 alpha-3 code is taken as it is; any other name or code goes through the crosswalks
(`tipwatch.harmonise`). A name no crosswalk knows, an unknown tier code or a country placed twice
in one year is a problem of the file, reported with its line, and nothing is stored: a tier list
with a country nobody can identify is not half imported.

The scope of a submission is the series and its span of report years
(``us_tip_tier:2001-2015``): a later release of the same span supersedes an earlier one, and for
each report year the placements come from the newest release that covers it
(`tipwatch.indicators.assessments`).
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from datetime import date
from pathlib import Path

import pyarrow as pa

from tipwatch import reference
from tipwatch.errors import InputError
from tipwatch.harmonise import Harmoniser
from tipwatch.ingest import registry
from tipwatch.ingest.files import ReceivedFile
from tipwatch.ingest.glotip import OBSERVATIONS_IN
from tipwatch.ingest.registry import Batch, Format, InvalidFile, Problem, submission_id

SERIES = "us_tip_tier"
#: The columns of the ``assessments`` table, ``submission_id`` first (`tipwatch.store.schema`).
ASSESSMENTS = pa.schema([
    ("submission_id", pa.string()), ("series", pa.string()), ("country", pa.string()),
    ("year", pa.int32()), ("value", pa.string()), ("rank", pa.float64()), ("note", pa.string()),
    ("line", pa.int32()),
])
NOT_RANKED = "not_ranked"
#: Column names of the two CSV layouts (compared case-insensitively, spaces ignored).
PANEL_COLUMNS = frozenset({"countryname", "iso", "year", "tier"})
LIST_COLUMNS = frozenset({"countryname", "tier"})
#: The Stata file's columns tipwatch reads.
STATA_COLUMNS = ("name", "year", "tierupdated")
#: Bytes of a file searched for the Stata variable name (its header and variable names come first).
STATA_SNIFF = 1 << 20


def spec() -> dict:
    """The series' definition: its tiers (code, label, rank) and how each coding maps to them."""
    return reference.assessment(SERIES)


def tier_labels() -> dict[str, str]:
    """tipwatch's tier codes → their labels (``2WL`` → ``Tier 2 Watch List``), best first."""
    return {str(t["code"]): t["label"] for t in spec()["tiers"]}


def tier_ranks() -> dict[str, float | None]:
    """tipwatch's tier codes → the rank charts plot (``2WL`` → 2.5; None for a special case)."""
    return {str(t["code"]): (None if t["rank"] is None else float(t["rank"])) for t in spec()["tiers"]}


# --- detection --------------------------------------------------------------------------------


def _text(f: ReceivedFile) -> str | None:
    if f.kind != "text":
        return None
    try:
        return f.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # A list saved from a spreadsheet on Windows: Windows-1252 decodes every byte but five.
        try:
            return f.content.decode("cp1252")
        except UnicodeDecodeError:
            return None


def _header(f: ReceivedFile) -> set[str]:
    """The column names of a CSV file's first line, lower case without spaces (empty if not text)."""
    if f.kind != "text":
        return set()
    # Only the first line: detection must stay quick whatever the size of the file.
    first = f.content[:65536].split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    row = next(csv.reader([first]), [])
    return {"".join(c.split()).lower() for c in row}


def _is_panel(f: ReceivedFile) -> bool:
    return _header(f) >= PANEL_COLUMNS


def _is_list(f: ReceivedFile) -> bool:
    header = _header(f)
    return header >= LIST_COLUMNS and not header >= PANEL_COLUMNS


def _is_stata(f: ReceivedFile) -> bool:
    return f.kind == "dta" and b"tierupdated" in f.content[:STATA_SNIFF]


# --- reading ----------------------------------------------------------------------------------


def _code_text(raw: object) -> str:
    """A tier cell as the codings spell it: ``2.0`` → ``2``, ``2.50`` → ``2.5``, NaN → empty."""
    if raw is None:
        return ""
    if isinstance(raw, float):
        return "" if math.isnan(raw) else f"{raw:g}"
    text = str(raw).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return "" if math.isnan(number) else f"{number:g}"


def _csv_rows(f: ReceivedFile) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header (normalised) and each data row with its line number in the file."""
    text = _text(f)
    if text is None:
        raise InputError(f"{f.name} is not a text (CSV) file: export the tier list again as CSV.")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = ["".join(c.split()).lower() for c in next(reader, [])]
    rows = []
    for row in reader:
        if not any(c.strip() for c in row):
            continue
        rows.append((reader.line_num, dict(zip(header, row, strict=False))))
    return header, rows


def _fix_code_page(text: str) -> str:
    # Stata 13 stores strings in the writer's code page and pandas reads them as Latin-1: this
    # file's "Cote D'Ivoire" has a Windows-1252 apostrophe (byte 0x92), a control character in
    # Latin-1. Read such a string as Windows-1252 instead.
    if any("\x80" <= ch <= "\x9f" for ch in text):
        try:
            return text.encode("latin-1").decode("cp1252")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return text
    return text


def _stata_rows(f: ReceivedFile) -> list[tuple[int, dict[str, str]]]:
    import pandas as pd

    try:
        frame = pd.read_stata(io.BytesIO(f.content), convert_categoricals=False,
                              columns=list(STATA_COLUMNS))
    except ValueError as exc:
        # pandas names the columns it did not find
        raise InvalidFile(f.name, [Problem(
            "tier-columns", f"the Stata file lacks a column tipwatch reads ({exc})",
            expected=", ".join(STATA_COLUMNS))]) from None
    except Exception as exc:  # pandas raises several error types for a damaged file
        raise InputError(f"{f.name} could not be read as a Stata file ({type(exc).__name__}: {exc}): "
                         "save it again from Stata, or export the tiers as CSV.") from exc
    rows = []
    # The line of a Stata row is its observation number, as Stata's browser shows it.
    for number, (name, year, tier) in enumerate(frame.itertuples(index=False, name=None), start=1):
        rows.append((number, {
            "countryname": _fix_code_page(str(name)) if isinstance(name, str) else "",
            "year": "" if year is None or (isinstance(year, float) and math.isnan(year)) else str(int(year)),
            "tier": _code_text(tier),
        }))
    return rows


# --- parsing ----------------------------------------------------------------------------------


def _parse(f: ReceivedFile, *, fmt: str, coding: str, header: list[str], rows: list[tuple[int, dict[str, str]]],
           vintage: date | None, crosswalks: tuple, year: int | None) -> Batch:
    s = spec()
    series, source = s["series"], s["source"]
    mapping = {str(k): str(v) for k, v in s["codings"][coding].items()}
    ranks = tier_ranks()
    countries = reference.countries()
    has_year = "year" in header
    has_iso = "iso" in header
    problems: list[Problem] = []

    missing = sorted((PANEL_COLUMNS if fmt == "us_tip_tiers" else LIST_COLUMNS) - set(header))
    if missing:
        raise InvalidFile(f.name, [Problem(
            "tier-columns", f"the header lacks {', '.join(missing)}", line=1,
            found=",".join(header), expected=", ".join(sorted(PANEL_COLUMNS if fmt == "us_tip_tiers"
                                                               else LIST_COLUMNS)))])
    if not has_year and year is None:
        raise InvalidFile(f.name, [Problem(
            "tier-year", "the file has no year column, so the TIP Report year must be given: "
                         "import it again with --year, e.g. --year 2015", line=1, field="year")])
    if has_year and year is not None:
        raise InvalidFile(f.name, [Problem(
            "tier-year", f"the file has its own year column: import it again without --year {year}",
            line=1, field="year")])

    # Each row: line, name, the code given as ISO (if any), year, tipwatch tier code.
    kept: list[tuple[int, str, str, int, str, str]] = []
    not_ranked = 0
    for line, row in rows:
        raw = _code_text(row.get("tier", ""))
        tier = mapping.get(raw)
        if tier is None:
            problems.append(Problem(
                "tier-code", f"not a tier in the {coding} coding", line=line, field="tier", found=raw,
                expected=", ".join(k for k in mapping if k)))
            continue
        if has_year:
            try:
                y = int(float(row.get("year", "")))
                if not 1900 <= y <= 2100:
                    raise ValueError
            except ValueError:
                problems.append(Problem("invalid-year", "the year is not a four-digit year", line=line,
                                        field="year", found=row.get("year", ""), expected="a year such as 2015"))
                continue
        else:
            y = int(year)
        if tier == NOT_RANKED:
            not_ranked += 1
            continue
        name = row.get("countryname", "").strip()
        iso = row.get("iso", "").strip().upper() if has_iso else ""
        kept.append((line, name, iso, y, tier, raw))

    # Names (and codes that are not ISO 3166) go through the crosswalks, each distinct one once.
    h = Harmoniser(extra=tuple(Path(p) for p in crosswalks))
    by_name = [k for k in kept if k[2] not in countries]
    codes, _ = h.map("country", [k[1] for k in by_name], field="countryname")
    mapped = dict(zip((k[0] for k in by_name), codes.to_pylist(), strict=True))
    suggestions = {u["value"]: u["suggestions"] for u in h.report()["unmapped"]}
    not_iso: Counter[tuple[str, str, str]] = Counter()

    seen: dict[tuple[str, int], int] = {}
    out: dict[str, list] = {name: [] for name in ASSESSMENTS.names}
    sid = submission_id(source, f.sha256)
    for line, name, iso, y, tier, raw in kept:
        country = iso if iso in countries else mapped.get(line)
        if country is None:
            hint = suggestions.get(name) or []
            problems.append(Problem(
                "tier-country", "not a country name or code tipwatch knows"
                + (f"; did you mean {' or '.join(hint)}?" if hint else "")
                + " Correct it, or map it in a crosswalk file of yours (--crosswalk FILE)",
                line=line, field="countryname", found=name or iso, expected="a country name or ISO3 code"))
            continue
        if iso and iso not in countries:
            not_iso[(iso, name, country)] += 1
        first = seen.setdefault((country, y), line)
        if first != line:
            problems.append(Problem(
                "tier-duplicate", f"{country} is placed twice in the {y} report (also on line {first})",
                line=line, field="countryname", found=name or iso, expected="one placement per country and year"))
            continue
        out["submission_id"].append(sid)
        out["series"].append(series)
        out["country"].append(country)
        out["year"].append(y)
        out["value"].append(tier)
        out["rank"].append(ranks[tier])
        out["note"].append(f"{coding} {raw}")
        out["line"].append(line)

    if problems:
        raise InvalidFile(f.name, problems)
    if not out["country"]:
        raise InvalidFile(f.name, [Problem("tier-empty", "the file has no tier placement (every row is "
                                                         "empty or not ranked)", line=2)])

    table = pa.table(out, schema=ASSESSMENTS)
    years = sorted(set(out["year"]))
    first, last = years[0], years[-1]
    labels = tier_labels()
    by_tier = Counter(out["value"])
    span = f"{first}" if first == last else f"{first}–{last}"
    summary = [
        f"US TIP Report tier placements, report year{'s' if first != last else ''} {span} "
        f"({coding} coding): {table.num_rows:,} placements of {len(set(out['country'])):,} countries",
        " · ".join(f"{labels[code]} {by_tier[code]:,}" for code in labels if by_tier[code]),
        f"not ranked (no row kept): {not_ranked:,} row{'s' if not_ranked != 1 else ''}",
    ]
    for (iso, name, country), n in sorted(not_iso.items()):
        summary.append(f"{iso} is not an ISO 3166 code: {name} mapped by name to {country} "
                       f"({n} row{'s' if n != 1 else ''})")
    report = {
        "summary": summary,
        "series": series,
        "coding": coding,
        "years": [first, last],
        "rows_read": len(rows),
        "placements": table.num_rows,
        "not_ranked": not_ranked,
        "by_tier": {code: by_tier[code] for code in labels if by_tier[code]},
        "harmonisation": h.report(),
    }
    # A report year's placements are final once it is published: without a release date, the
    # vintage is the last day of the latest report year in the file.
    scope = f"{series}:{first}-{last}"
    obs = OBSERVATIONS_IN.empty_table()
    return Batch(source, scope, vintage or date(last, 12, 31), fmt, len(rows), obs, report,
                 {"assessments": table})


def parse_panel(f: ReceivedFile, *, vintage: date | None = None, crosswalks: tuple = (), year: int | None = None
                ) -> Batch:
    """Read a country × report-year panel in the factor coding (``map_tiers.csv``).

    Args:
        f: The received file.
        vintage: The release date; default the last day of the latest report year in the file.
        crosswalks: The user's crosswalk files, tried before the bundled ones.
        year: Not used: the file has a year column (giving one is a problem of the file).

    Raises:
        InvalidFile: Every problem of the file, each with its line.
    """
    header, rows = _csv_rows(f)
    return _parse(f, fmt="us_tip_tiers", coding="factor", header=header, rows=rows, vintage=vintage,
                  crosswalks=crosswalks, year=year)


def parse_list(f: ReceivedFile, *, vintage: date | None = None, crosswalks: tuple = (), year: int | None = None
               ) -> Batch:
    """Read one report's tier list by country name in the decimal coding (``tiers_2015.csv``).

    Args:
        f: The received file.
        vintage: The release date; default 31 December of the report year.
        crosswalks: The user's crosswalk files, tried before the bundled ones.
        year: The TIP Report year, required when the file has no ``year`` column.

    Raises:
        InvalidFile: Every problem of the file, each with its line; a missing year asks for ``--year``.
    """
    header, rows = _csv_rows(f)
    return _parse(f, fmt="us_tip_tier_list", coding="decimal", header=header, rows=rows, vintage=vintage,
                  crosswalks=crosswalks, year=year)


def parse_stata(f: ReceivedFile, *, vintage: date | None = None, crosswalks: tuple = (), year: int | None = None
                ) -> Batch:
    """Read the tiers (``tierupdated``, decimal coding) of a Stata file; other variables are ignored.

    Args:
        f: The received file.
        vintage: The release date; default the last day of the latest report year in the file.
        crosswalks: The user's crosswalk files, tried before the bundled ones.
        year: Not used: the file has a year variable.

    Raises:
        InvalidFile: Every problem of the file, each with its observation number as the line.
    """
    rows = _stata_rows(f)
    return _parse(f, fmt="us_tip_tiers_stata", coding="decimal", header=["countryname", "year", "tier"],
                  rows=rows, vintage=vintage, crosswalks=crosswalks, year=year)


registry.register(Format("us_tip_tiers", "US TIP Report tiers by country and year, coded 1–4 (map_tiers.csv)",
                         _is_panel, parse_panel))
registry.register(Format("us_tip_tier_list", "US TIP Report tier list of one report, coded 1/2/2.5/3 "
                                             "(tiers_2015.csv)", _is_list, parse_list))
registry.register(Format("us_tip_tiers_stata", "US TIP Report tiers in a Stata file (tierupdated)",
                         _is_stata, parse_stata))
