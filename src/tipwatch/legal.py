"""Legal frameworks as data: the checklist items, and each country's status per item over time.

The checklist (`reference/data/legal/checklist.yaml`) lists what a member's law and practice
should provide, item by item, each drawn from the Palermo Protocol, ACTIP or the ASEAN
Practitioner Guidelines and belonging to one of the seven components. The statuses
(`reference/data/legal/status.csv`) say, per country and item, ``yes``, ``partial``, ``no`` or
``unknown`` from a date, with the law cited and the public source that supports it. A row
applies from its ``since`` date until a later row of the same country and item supersedes it.

The rule the data keeps: **a status is unknown unless a public source says otherwise.** Every
country × item without a row is ``unknown`` — which is not ``no`` — and the bundled file holds a
row only where a source given in it supports it (docs/legal-frameworks.md).

Both files are checked when read: every problem of a file is reported at once, with its line
and field, as `LegalDataError`.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from tipwatch import reference
from tipwatch.errors import InputError

DATA = reference.DATA / "legal"
CHECKLIST_FILE = DATA / "checklist.yaml"
STATUS_FILE = DATA / "status.csv"

#: The statuses a country can have on an item, best first.
STATUSES = ("yes", "partial", "no", "unknown")
UNKNOWN = "unknown"
#: Columns a status file must have (``note`` is optional).
HEADER = ("country", "item", "status", "since", "law", "source")
#: Columns of `table`.
COLUMNS = ("country", "item", "component", "status", "since", "law", "source", "note")

_URL = re.compile(r"^https?://[^\s/]+\.[^\s]+$")
# An item id starts with its instrument's key: PG-1-A.4, PAL-3c, ACTIP-14.
_ID = re.compile(r"^([A-Z]+)-[0-9A-Za-z][0-9A-Za-z.-]*$")


class LegalDataError(InputError):
    """A checklist or status file that cannot be used: every problem of the file, with its line."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = Path(path)
        self.problems = problems
        n = len(problems)
        super().__init__(f"{self.path.name} cannot be used: {n} problem{'s' if n > 1 else ''}, "
                         f"the first: {problems[0]}")

    def details(self, limit: int = 50) -> list[str]:
        """Every problem, one line each (the first ``limit``)."""
        lines = self.problems[:limit]
        if len(self.problems) > limit:
            lines.append(f"… and {len(self.problems) - limit} more")
        return lines


@dataclass(frozen=True)
class Source:
    """Where a checklist item comes from.

    Attributes:
        instrument: The instrument's key (``PG``, ``PAL``, ``ACTIP``).
        title: The instrument's full title.
        short: Its short title, e.g. ``Palermo Protocol (2000)``.
        provision: The article, paragraph or guideline, e.g. ``art. 3(c)`` or ``Part One, A.4``.
        url: A public copy of the text.
        verified: False when the provision's number was not checked against the official text.
    """

    instrument: str
    title: str
    short: str
    provision: str
    url: str
    verified: bool = True

    @property
    def citation(self) -> str:
        """E.g. ``"Palermo Protocol (2000), art. 3(c)"``: the short title and the provision."""
        return f"{self.short}, {self.provision}"


@dataclass(frozen=True)
class Item:
    """One checklist item.

    Attributes:
        id: Stable id, e.g. ``PG-1-A.4``.
        component: The component (1–7) it belongs to.
        title: What the item asks for, as a title.
        short: A few words, for the country profiles.
        question: The question a state answers with yes, partial or no.
        source: The instrument and provision it is drawn from.
        related: The same standard in other instruments, for readers.
        note: A caveat about the source.
    """

    id: str
    component: int
    title: str
    short: str
    question: str
    source: Source
    related: str = ""
    note: str = ""


@dataclass(frozen=True)
class Status:
    """A country's status on an item from a date.

    Attributes:
        country: ISO3 code.
        item: Checklist item id.
        status: ``yes``, ``partial``, ``no`` or ``unknown``.
        since: The date it applies from; None for the implicit ``unknown``.
        law: The act and section cited.
        source: The public URL that supports it.
        note: What the law provides, in a sentence.
    """

    country: str
    item: str
    status: str
    since: date | None = None
    law: str = ""
    source: str = ""
    note: str = ""

    @property
    def known(self) -> bool:
        """True unless the status is ``unknown``."""
        return self.status != UNKNOWN


# --- the checklist ------------------------------------------------------------------------


def read_checklist(path: str | Path) -> tuple[Item, ...]:
    """Read and check a checklist file.

    Args:
        path: A YAML file with ``instruments`` and ``items`` (the layout of the bundled
            ``checklist.yaml``).

    Returns:
        The items, in the file's order.

    Raises:
        LegalDataError: Every problem of the file at once: a missing field, an id used twice or
            not starting with its instrument, a component that is not 1–7, an unknown
            instrument, a source without a URL.
        InputError: The file does not exist or is not YAML.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"checklist {path} does not exist: check the file name and folder.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"checklist {path.name} is not UTF-8 YAML ({exc.__class__.__name__}): "
                         "check its indentation and quotes.") from None
    if not isinstance(data, dict) or not isinstance(data.get("instruments"), dict) \
            or not isinstance(data.get("items"), list):
        raise LegalDataError(path, ["the file needs two keys: instruments (a mapping) and items (a list)"])
    problems: list[str] = []
    instruments: dict[str, dict] = {}
    for key, spec in data["instruments"].items():
        spec = spec if isinstance(spec, dict) else {}
        for name in ("title", "short", "url"):
            if not str(spec.get(name) or "").strip():
                problems.append(f"instrument {key}: the {name} is empty")
        if spec.get("url") and not _URL.match(str(spec["url"])):
            problems.append(f"instrument {key}: {spec['url']!r} is not a URL; give the full address, "
                            "starting https://")
        instruments[str(key)] = spec
    components = {c["id"] for c in reference.components()}
    items: list[Item] = []
    seen: set[str] = set()
    for n, raw in enumerate(data["items"], start=1):
        raw = raw if isinstance(raw, dict) else {}
        where = f"item {raw.get('id') or f'number {n}'}"
        missing = [k for k in ("id", "component", "title", "short", "question", "source") if not raw.get(k)]
        if missing:
            problems.append(f"{where}: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing")
            continue
        item_id, src = str(raw["id"]), raw["source"]
        if item_id in seen:
            problems.append(f"{where}: the id is used twice; ids must be unique")
        seen.add(item_id)
        if not isinstance(src, dict) or not src.get("instrument") or not src.get("provision"):
            problems.append(f"{where}: the source needs an instrument and a provision")
            continue
        key = str(src["instrument"])
        if key not in instruments:
            problems.append(f"{where}: instrument {key!r} is not one of {', '.join(instruments)}")
            continue
        found = _ID.match(item_id)
        if not found or found.group(1) != key:
            problems.append(f"{where}: the id must start with its instrument, as {key}-… (e.g. PG-1-A.4, PAL-3c)")
        if raw["component"] not in components:
            problems.append(f"{where}: component {raw['component']!r} is not one of the seven (1-7)")
        url = str(src.get("url") or instruments[key].get("url") or "")
        if src.get("url") and not _URL.match(url):
            problems.append(f"{where}: {url!r} is not a URL; give the full address, starting https://")
        items.append(Item(
            id=item_id, component=int(raw["component"]) if str(raw["component"]).isdigit() else 0,
            title=_text(raw["title"]), short=_text(raw["short"]), question=_text(raw["question"]),
            source=Source(key, _text(instruments[key].get("title")), _text(instruments[key].get("short")),
                          _text(src["provision"]), url, bool(src.get("verified", True))),
            related=_text(raw.get("related", "")), note=_text(raw.get("note", "")),
        ))
    if problems:
        raise LegalDataError(path, problems)
    return tuple(items)


def _text(value: object) -> str:
    return " ".join(str(value or "").split())


@cache
def checklist() -> tuple[Item, ...]:
    """The bundled checklist items, by component then as listed in the file."""
    return tuple(sorted(read_checklist(CHECKLIST_FILE), key=lambda i: i.component))


def items() -> dict[str, Item]:
    """The bundled checklist items by id."""
    return {i.id: i for i in checklist()}


# --- statuses -----------------------------------------------------------------------------


def read_status(path: str | Path, checklist_items: Iterable[Item] | None = None) -> tuple[Status, ...]:
    """Read and check a status file.

    Args:
        path: A UTF-8 CSV file with the header ``country,item,status,since,law,source`` (and
            optionally ``note``).
        checklist_items: The items its ``item`` column may name (default: the bundled checklist).

    Returns:
        The rows, sorted by country, item and date.

    Raises:
        LegalDataError: Every problem of the file at once — an unknown country, item or status,
            a date that is not ``YYYY-MM-DD``, an empty law, a source that is not a URL, two
            rows for the same country, item and date — each with its line and field.
        InputError: The file does not exist or is not UTF-8.
    """
    path = Path(path)
    known_items = {i.id: i for i in (checklist() if checklist_items is None else checklist_items)}
    if not path.is_file():
        raise InputError(f"status file {path} does not exist: check the file name and folder.")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except UnicodeDecodeError:
        raise InputError(f"status file {path.name} is not UTF-8 text: save it as 'CSV UTF-8'.") from None
    header = [c.strip().lower() for c in (rows[0] if rows else [])]
    missing = [c for c in HEADER if c not in header]
    if missing:
        raise LegalDataError(path, [f"line 1: the header lacks {', '.join(missing)}; expected "
                                    f"{','.join(HEADER)},note"])
    countries = reference.countries()
    problems: list[str] = []
    out: list[Status] = []
    first_line: dict[tuple[str, str, date], int] = {}
    for line, raw in enumerate(rows[1:], start=2):
        cells = dict(zip(header, (c.strip() for c in raw), strict=False))
        if not any(cells.values()):
            continue
        country, item, word = cells.get("country", ""), cells.get("item", ""), cells.get("status", "")
        since_text, law, source = cells.get("since", ""), cells.get("law", ""), cells.get("source", "")
        found: list[str] = []
        if country not in countries:
            hints = _country_hints(country, countries)
            found.append(f"field country: {country!r} is not a country code (ISO 3166 alpha-3)"
                         + (f"; did you mean {' or '.join(hints)}?" if hints else ""))
        if item not in known_items:
            hint = _closest(item, {_key(i): i for i in known_items})
            found.append(f"field item: {item!r} is not a checklist item"
                         + (f"; did you mean {hint}?" if hint else " (see checklist.yaml)"))
        if word not in STATUSES:
            found.append(f"field status: {word!r} is not a status; use {', '.join(STATUSES[:-1])} or {UNKNOWN}")
        since = _date(since_text)
        if since is None:
            found.append(f"field since: {since_text!r} is not a date; write the day the status applies "
                         "from as YYYY-MM-DD (e.g. 2015-03-01)")
        if not law and word != UNKNOWN:
            found.append("field law: it is empty; cite the act and section (or name the law that has no "
                         "such provision)")
        if not source:
            found.append("field source: it is empty; every status needs the public source (a URL) that "
                         "supports it")
        elif not _URL.match(source):
            found.append(f"field source: {source!r} is not a URL; give the full address, starting https://")
        if since is not None and not found:
            key = (country, item, since)
            if key in first_line:
                found.append(f"{country} {item} already has a status from {since.isoformat()} on line "
                             f"{first_line[key]}; keep one")
            first_line.setdefault(key, line)
        if found:
            problems.extend(f"line {line}, {p}" for p in found)
            continue
        out.append(Status(country, item, word, since, law, source, cells.get("note", "")))
    if problems:
        raise LegalDataError(path, problems)
    return tuple(sorted(out, key=lambda s: (s.country, s.item, s.since or date.min)))


def _date(text: str) -> date | None:
    """An ISO date written ``YYYY-MM-DD``, or None (``2015-3-1`` and ``2015-02-30`` are not dates)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _country_hints(text: str, countries: dict[str, reference.Country]) -> list[str]:
    """Up to three codes ``text`` may have meant: its upper case, a country's name, or a typo.

    A three-letter value suggests the codes one letter away (``SGX``: SGP or SGS); anything
    else the codes and names closest to it (``Singapore``: SGP; ``THAI``: THA).
    """
    value = text.strip()
    by_name = {c.name.lower(): iso for iso, c in countries.items()}
    if value.upper() in countries:
        return [value.upper()]
    if value.lower() in by_name:
        return [by_name[value.lower()]]
    if len(value) == 3 and value.isalpha():
        near = [iso for iso in sorted(countries)
                if sum(a != b for a, b in zip(iso, value.upper(), strict=True)) == 1]
        return near[:3]
    candidates = {**{iso.lower(): iso for iso in countries}, **by_name}
    hits = difflib.get_close_matches(value.lower(), list(candidates), n=3, cutoff=0.6)
    return list(dict.fromkeys(candidates[h] for h in hits))


def _key(item_id: str) -> str:
    """An item id without case and punctuation: ``PG-1-A4`` and ``pg-1-a.4`` both give ``pg1a4``."""
    return re.sub(r"[^0-9a-z]", "", item_id.lower())


def _closest(text: str, candidates: dict[str, str]) -> str | None:
    """The candidate whose key is ``text``'s (`_key`), else the closest one (difflib, at least 0.6)."""
    key = _key(text)
    if key in candidates:
        return candidates[key]
    hit = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    return candidates[hit[0]] if hit else None


@cache
def statuses() -> tuple[Status, ...]:
    """The bundled status rows (every one with its public source)."""
    return read_status(STATUS_FILE)


def status(country: str, item: str, on: date, rows: Sequence[Status] | None = None) -> Status:
    """A country's status on a checklist item in force on a date.

    A row applies from its ``since`` date; a later row of the same country and item supersedes
    it. With no row in force, the status is ``unknown`` (with no law and no source): the data
    holds a status only where a public source supports it.

    Args:
        country: ISO3 code.
        item: Checklist item id.
        on: The date.
        rows: The status rows (default: the bundled file).

    Returns:
        The status in force on ``on``.

    Raises:
        InputError: ``country`` is not a country code or ``item`` not a checklist item.
    """
    if country not in reference.countries():
        raise InputError(f"{country} is not a country code (ISO 3166 alpha-3).")
    if item not in items():
        raise InputError(f"{item} is not a checklist item (see {CHECKLIST_FILE.name}).")
    in_force = [r for r in (statuses() if rows is None else rows)
                if r.country == country and r.item == item and r.since is not None and r.since <= on]
    return max(in_force, key=lambda r: r.since or date.min) if in_force else Status(country, item, UNKNOWN)


def table(countries: Sequence[str], on: date, rows: Sequence[Status] | None = None) -> pd.DataFrame:
    """Every country's status on every checklist item in force on a date: a tidy table.

    Args:
        countries: ISO3 codes, in the order wanted.
        on: The date.
        rows: The status rows (default: the bundled file).

    Returns:
        One row per country and item (countries in the given order, items by component), with
        the columns `COLUMNS`: ``since`` is a date (None for an implicit ``unknown``), ``law``,
        ``source`` and ``note`` empty where the status is unknown.
    """
    rows = statuses() if rows is None else rows
    records = []
    for country in countries:
        for item in checklist():
            s = status(country, item.id, on, rows)
            records.append({"country": country, "item": item.id, "component": item.component,
                            "status": s.status, "since": s.since, "law": s.law, "source": s.source,
                            "note": s.note})
    return pd.DataFrame(records, columns=list(COLUMNS))
