"""Achievements and challenges: sentences stated by published rules over the released figures.

The rules are data (`reference/data/statements.yaml`, documented in docs/statements.md): a kind
(a member's count rose or fell, a regional figure changed, members below a share, members that
never reported), an indicator, thresholds and an English sentence template. `evaluate` runs them
over the report's released headline figures (`Figures`, built from `ReportInput.tidy`), so a
``<5``, a suppressed or an incomplete cell is never a number to a rule, and nothing here computes
a figure: a statement prints figures the report's tables print, and links each to one of them.

A statement is a sequence of parts: text, a cited figure (`Cited`: country, indicator, year and
the value as printed, linked to the table that prints it) and a count of members (`Count`, with
the members it counts). `Citations` knows every table of the document, so the link always points
to a table that exists and prints the same text; a statement citing a figure no table prints is a
defect and raises.

`decade` adds the coverage notes of the overview's decade-of-progress table: how many members
have figures in both years, and whether the regional figure is compared. A regional figure is
compared between two years only when the same members reported a number in both; otherwise the
report says why not, and the table's change cells say "not compared".
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import yaml
from babel.lists import format_list

from tipwatch import reference
from tipwatch.report.figures import MISSING, SUPPRESSED, Figure, Figures, short_name
from tipwatch.report.fmt import Formatter, is_percent
from tipwatch.report.i18n import N_, _
from tipwatch.report.tables import Cell, Table

RULES_FILE = reference.DATA / "statements.yaml"
POLARITIES = ("achievement", "challenge")
#: A rule's polarities as the methodology annex prints them (sorted and joined by a space).
POLARITY_TEXT = {"achievement": N_("achievement"), "challenge": N_("challenge"),
                 "achievement challenge": N_("achievement or challenge by outcome")}
# Statuses of a member's figure that a regional figure adds up: `indicators.definitions.NUMBERS`,
# and a number the privacy layer suppressed for this audience after the region was added up.
_ADDED = frozenset({"reported", "computed", SUPPRESSED})
#: What a rule of each kind may say, by outcome: the placeholders its template may use.
_CHANGE = frozenset({"country", "from_value", "from_year", "to_value", "to_year"})
_REGIONAL = frozenset({"region", "from_year", "to_year"})
_NOT_COMPARED = frozenset({"before", "after", "members_before", "members_after"})
PLACEHOLDERS: dict[str, dict[str, frozenset[str]]] = {
    "rise": {"": _CHANGE},
    "fall": {"": _CHANGE},
    "regional_change": {
        "rise": _REGIONAL | {"from_value", "to_value", "count", "members"},
        "fall": _REGIONAL | {"from_value", "to_value", "count", "members"},
        "not_compared": _REGIONAL | _NOT_COMPARED,
        "not_compared_swapped": _REGIONAL | _NOT_COMPARED | {"only_before", "only_after"},
    },
    "share_below": {"": frozenset({"count", "reporting", "year", "list"})},
    "never_reported": {"": frozenset({"count", "members", "years", "list"})},
}
#: Thresholds each kind needs (defaults in the file's ``defaults``).
THRESHOLDS: dict[str, tuple[str, ...]] = {
    "rise": ("min_change_pct", "min_change", "min_value", "min_span_years"),
    "fall": ("min_change_pct", "min_change", "min_value", "min_span_years"),
    "regional_change": ("min_change_pct", "min_span_years"),
    "share_below": ("below", "min_members", "min_reporting_share"),
    "never_reported": ("min_members",),
}
_DECADE = {
    "coverage": frozenset({"indicator", "from_year", "to_year", "count", "members", "with", "without"}),
    "coverage_all": frozenset({"indicator", "from_year", "to_year", "members"}),
    "coverage_none": frozenset({"indicator", "from_year", "to_year"}),
    "compared": frozenset({"count", "members", "from_year", "to_year"}),
    "not_compared": _NOT_COMPARED | {"from_year", "to_year"},
    "not_compared_swapped": _NOT_COMPARED | {"only_before", "only_after", "from_year", "to_year"},
    "not_compared_cell": frozenset(),
}


# -- the rules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One rule of `statements.yaml`.

    Attributes:
        id: Stable identifier, e.g. ``convictions-rose``.
        kind: ``rise``, ``fall``, ``regional_change``, ``share_below`` or ``never_reported``.
        component: The chapter (1–7) whose "Achievements and challenges" lists the statement.
        indicator: The indicator the rule reads.
        polarity: ``achievement`` or ``challenge`` by outcome (``""`` for kinds with one outcome;
            ``rise``, ``fall``, ``not_compared`` for a regional change).
        templates: The sentence by outcome, as ``polarity``.
        thresholds: The kind's thresholds, defaults filled in.
        headline: True when the overview repeats the rule's statements.
    """

    id: str
    kind: str
    component: int
    indicator: str
    polarity: dict[str, str]
    templates: dict[str, str]
    thresholds: dict[str, float]
    headline: bool = False

    def polarity_of(self, outcome: str) -> str:
        """The polarity of an outcome (a swapped comparison is a comparison not made)."""
        return self.polarity.get(outcome) or self.polarity.get(outcome.removesuffix("_swapped"), "challenge")


@dataclass(frozen=True)
class Rules:
    """The parsed statements file.

    Attributes:
        window_years: How many years the rules look back from the comparison year.
        min_reporting_share: Share of the members with a figure that makes a year the comparison year.
        names_in_text: A member's name inside a sentence, where it differs from its name.
        list_item: Template of one named member with its figure in a list.
        decade: Templates of the decade-of-progress notes.
        rules: The rules, in the order their statements are listed.
        kinds: What each kind does, with its thresholds as placeholders (for the annex).
    """

    window_years: int
    min_reporting_share: float
    names_in_text: dict[str, str]
    list_item: str
    decade: dict[str, str]
    rules: tuple[Rule, ...]
    kinds: dict[str, str] = field(default_factory=dict)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def load(path: Path | None = None) -> Rules:
    """Read and check a statements file.

    Args:
        path: The file; the bundled `reference/data/statements.yaml` when None.

    Returns:
        The rules, with each kind's default thresholds filled in.

    Raises:
        ValueError: Every problem of the file at once (unknown kind, indicator or placeholder,
            missing threshold or template, duplicate id).
    """
    if path is None:
        return _bundled()
    return _parse(Path(path))


@cache
def _bundled() -> Rules:
    return _parse(RULES_FILE)


def _parse(path: Path) -> Rules:
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    known = {m["id"] for m in reference.indicator_meta()}
    problems: list[str] = []
    defaults = spec.get("defaults") or {}
    rules: list[Rule] = []
    seen: set[str] = set()
    for number, item in enumerate(spec.get("rules") or [], start=1):
        rid = str(item.get("id") or f"#{number}")
        where = f"rule {rid}"
        kind = item.get("kind")
        if rid in seen:
            problems.append(f"{where}: the id is used twice")
        seen.add(rid)
        if kind not in PLACEHOLDERS:
            problems.append(f"{where}: kind {kind!r} is not one of {', '.join(PLACEHOLDERS)}")
            continue
        if item.get("indicator") not in known:
            problems.append(f"{where}: indicator {item.get('indicator')!r} is not in indicators.yaml")
        if item.get("component") not in range(1, 8):
            problems.append(f"{where}: component must be 1 to 7, not {item.get('component')!r}")
        outcomes = PLACEHOLDERS[kind]
        raw_templates = item.get("templates") if "" not in outcomes else {"": item.get("template")}
        templates = {k: str(v).strip() for k, v in (raw_templates or {}).items() if v}
        raw_polarity = item.get("polarity")
        polarity = dict(raw_polarity) if isinstance(raw_polarity, dict) else {"": raw_polarity}
        for outcome, allowed in outcomes.items():
            name = f"template {outcome}" if outcome else "template"
            if outcome not in templates:
                problems.append(f"{where}: {name} is missing")
                continue
            extra = _fields(templates[outcome]) - allowed
            if extra:
                problems.append(f"{where}: {name} uses {', '.join(sorted(extra))}; "
                                f"it may use {', '.join(sorted(allowed))}")
        for outcome, value in polarity.items():
            if value not in POLARITIES:
                problems.append(f"{where}: polarity {outcome + ' ' if outcome else ''}must be "
                                f"achievement or challenge, not {value!r}")
        thresholds = {**(defaults.get(kind) or {}), **(item.get("thresholds") or {})}
        missing = [t for t in THRESHOLDS[kind] if t not in thresholds]
        if missing:
            problems.append(f"{where}: threshold {', '.join(missing)} is not set (nor in defaults)")
        rules.append(Rule(id=rid, kind=kind, component=item.get("component", 0),
                          indicator=str(item.get("indicator")), polarity=polarity,
                          templates=templates, thresholds={k: float(v) for k, v in thresholds.items()},
                          headline=bool(item.get("headline", False))))
    window = spec.get("window") or {}
    decade = {k: str(v).strip() for k, v in (spec.get("decade") or {}).items()}
    for name, allowed in _DECADE.items():
        if name not in decade:
            problems.append(f"decade: template {name} is missing")
        elif _fields(decade[name]) - allowed:
            problems.append(f"decade: template {name} uses {', '.join(sorted(_fields(decade[name]) - allowed))}")
    kinds = {k: str(v).strip() for k, v in (spec.get("kinds") or {}).items()}
    for name, needed in THRESHOLDS.items():
        if name not in kinds:
            problems.append(f"kinds: {name} is not described")
        elif _fields(kinds[name]) - {*needed, "withheld"}:
            problems.append(f"kinds: {name} uses {', '.join(sorted(_fields(kinds[name]) - {*needed, 'withheld'}))}")
    list_item = str(spec.get("list_item") or "{country} ({value})")
    if _fields(list_item) - {"country", "value"}:
        problems.append("list_item may use {country} and {value} only")
    if problems:
        raise ValueError(f"{path.name} has {len(problems)} problem(s): " + "; ".join(problems) + ".")
    return Rules(
        window_years=int(window.get("years", 10)),
        min_reporting_share=float(window.get("min_reporting_share", 0.5)),
        names_in_text=dict(spec.get("names_in_text") or {}),
        list_item=list_item, decade=decade, rules=tuple(rules), kinds=kinds,
    )


# -- what a statement is made of --------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """Plain text of a statement."""

    text: str
    kind: ClassVar[str] = "text"


@dataclass(frozen=True)
class Count:
    """A number of members.

    Attributes:
        text: The number as printed.
        of: The members it counts (ISO3, display order); empty when it is a regional figure's
            count of members, which names none.
        indicator: With ``year`` and ``column``, the regional figure whose coverage it is.
        year: The year of that figure.
        column: ``reporting`` (members whose number was added) or ``members`` (members that year):
            the column of the released regional row it equals.
    """

    text: str
    of: tuple[str, ...]
    indicator: str = ""
    year: int | None = None
    column: str = ""
    kind: ClassVar[str] = "count"


class Citations:
    """The report's tables, so that a statement links each figure to a table that prints it."""

    def __init__(self) -> None:
        self._tables: list[Table] = []
        self._index: dict[str, list[tuple[Table, str]]] | None = None

    def add(self, table: Table) -> None:
        """Register a table of the document (call as it is numbered)."""
        self._tables.append(table)
        self._index = None

    def _cells(self) -> dict[str, list[tuple[Table, str]]]:
        if self._index is None:
            self._index = {}
            for table in self._tables:
                for row in table.rows:
                    for c in row.cells:
                        if c.key and c.kind == "number":
                            self._index.setdefault(c.key, []).append((table, c.text))
        return self._index

    def find(self, figure: Cited) -> Table:
        """The table a figure links to: the first of ``figure.prefer`` printing it, else the first.

        Raises:
            LookupError: No table of the document prints the figure as the statement does.
        """
        found = self._cells().get(figure.key, [])
        same = [table for table, text in found if text == figure.text]
        if not same:
            printed = sorted({text for _, text in found})
            raise LookupError(
                f"A statement cites {figure.key} as {figure.text}, but no table of the report prints "
                + (f"it so (they print {', '.join(printed)})." if printed else "it."))
        by_id = {t.id: t for t in same}
        return next((by_id[i] for i in figure.prefer if i in by_id), same[0])

    def first(self, ids: Iterable[str]) -> Table | None:
        """The first of the tables ``ids`` that the document holds."""
        tables = {t.id: t for t in self._tables}
        return next((tables[i] for i in ids if i in tables), None)


@dataclass(frozen=True)
class Cited:
    """A figure a statement cites, as printed, and the table it links to.

    Attributes:
        country: ISO3 code or the region id.
        indicator: Indicator id.
        year: The year.
        text: The value as printed (the same text as the table's cell).
        prefer: Ids of the tables to link to, best first (the chapter's own table first).
        citations: The document's tables; `table` is looked up there when the page is written.
    """

    country: str
    indicator: str
    year: int
    text: str
    prefer: tuple[str, ...] = ()
    citations: Citations | None = field(default=None, compare=False, repr=False)
    kind: ClassVar[str] = "figure"

    @property
    def key(self) -> str:
        """``country:indicator:year``, as the tables' cells (``data-key``)."""
        return f"{self.country}:{self.indicator}:{self.year}"

    @property
    def table(self) -> Table:
        """The table the figure links to (it exists and prints the same text)."""
        if self.citations is None:
            raise LookupError(f"{self.key} is not placed in a document: no table to link to.")
        return self.citations.find(self)


Part = Text | Count | Cited


@dataclass(frozen=True)
class Statement:
    """One achievement, challenge or caveat, as the report prints it.

    Attributes:
        rule: The rule's id (``decade`` for the decade-of-progress notes).
        kind: The rule's kind (``decade`` for those notes).
        polarity: ``achievement``, ``challenge`` or ``caveat``.
        component: The chapter it belongs to.
        indicator: The indicator it is about.
        subject: The member (ISO3) or region it is about.
        headline: True when the overview repeats it.
        parts: Text, cited figures and counts, in reading order.
        sources: Ids of tables it rests on besides its figures', best first.
        citations: The document's tables.
    """

    rule: str
    kind: str
    polarity: str
    component: int
    indicator: str
    subject: str
    headline: bool
    parts: tuple[Part, ...]
    sources: tuple[str, ...] = ()
    citations: Citations | None = field(default=None, compare=False, repr=False)

    @property
    def text(self) -> str:
        """The sentence as plain text."""
        return "".join(p.text for p in self.parts)

    @property
    def figures(self) -> tuple[Cited, ...]:
        """The figures it cites, in reading order."""
        return tuple(p for p in self.parts if isinstance(p, Cited))

    @property
    def anchor(self) -> str:
        """HTML id, unique in the report."""
        return f"st-{self.rule}-{self.subject}" if self.rule != "decade" else f"decade-{self.indicator}"

    @property
    def tables(self) -> list[Table]:
        """The tables it links to, in reading order, each once."""
        out: list[Table] = [f.table for f in self.figures]
        if self.sources and self.citations is not None:
            extra = self.citations.first(self.sources)
            out += [extra] if extra is not None else []
        return list({id(t): t for t in out}.values())


@dataclass(frozen=True)
class Findings:
    """Statements of one chapter (or the overview's headline ones), split by polarity.

    Attributes:
        achievements: Achievements, in rule order.
        challenges: Challenges, in rule order.
        window: The years the rules looked at, e.g. ``"2011–2020"``; ``""`` when none.
    """

    achievements: list[Statement]
    challenges: list[Statement]
    window: str

    @property
    def any(self) -> bool:
        """True when there is at least one statement."""
        return bool(self.achievements or self.challenges)


# -- evaluation ---------------------------------------------------------------------------------


class _Context:
    """What every rule needs: the figures, the window, names and how parts are made."""

    def __init__(self, figs: Figures, fmt: Formatter, rules: Rules, citations: Citations) -> None:
        self.figs, self.fmt, self.rules, self.citations = figs, fmt, rules, citations
        self.members = [iso for iso, _ in figs.members]
        tidy = figs.inp.tidy
        # Reporters of a regional figure are counted among every country the table holds (a
        # member that has since left still counted then), current members first.
        others = sorted(set(tidy["country"].astype(str)) - set(self.members) - {figs.region})
        self.countries = self.members + others
        self.window = _window(figs, rules)

    def name(self, iso: str) -> str:
        if iso in self.rules.names_in_text:
            # A message: "the Philippines" inside an English sentence, the name alone in Indonesian.
            return _(self.rules.names_in_text[iso])
        if iso == self.figs.region:
            return short_name(self.figs.inp)
        name = self.figs.name(iso)
        if name == iso and iso in reference.countries():
            return reference.countries()[iso].name
        return name

    def in_window(self, country: str, indicator: str) -> list[Figure]:
        lo, hi = self.window or (0, -1)
        return [f for f in self.figs.series(country, indicator) if lo <= f.year <= hi]

    def cite(self, figure: Figure, rule: Rule) -> Cited:
        if figure.number is None:  # pragma: no cover - the rules only pass numbers
            raise ValueError(f"{figure.country}:{figure.indicator}:{figure.year} is not a number")
        meta_component = self.figs.meta[figure.indicator].component if figure.indicator in self.figs.meta else 0
        prefer = [f"t-component-{c}-{figure.country}" for c in (rule.component, meta_component)]
        prefer += [f"t-regional-{figure.indicator}", f"t-profile-{figure.country}", "t-baseline"]
        return Cited(figure.country, figure.indicator, figure.year,
                     self.fmt.value(figure.number, figure.unit), tuple(prefer), self.citations)

    def count(self, members: Sequence[str]) -> Count:
        return Count(self.fmt.number(len(members)), tuple(members))

    def reporting(self, members: Sequence[str], indicator: str, year: int) -> Count:
        """The members behind the regional figure of ``indicator`` in ``year``."""
        return Count(self.fmt.number(len(members)), tuple(members), indicator, year, "reporting")

    def membership(self, indicator: str, year: int) -> Count:
        """The region's members in ``year``, as its regional figure states them."""
        f = self.figs.get(self.figs.region, indicator, year)
        if f is None or f.members is None:
            return self.count(self.members)
        return Count(self.fmt.number(f.members), (), indicator, year, "members")

    def reporters(self, indicator: str, year: int) -> list[str]:
        """Members whose figure the regional figure adds up: a number, or one suppressed for this
        audience (added before release); never a ``<5``."""
        out = []
        for iso in self.countries:
            f = self.figs.get(iso, indicator, year)
            if f is not None and f.status in _ADDED:
                out.append(iso)
        return out

    def names(self, members: Iterable[str]) -> list[Part]:
        return self.join([[Text(self.name(iso))] for iso in members])

    def join(self, items: list[list[Part]]) -> list[Part]:
        """Items joined as the locale joins a list ("A, B, and C"), parts kept."""
        if not items:
            return []
        marks = [f"\x00{i}\x00" for i in range(len(items))]
        joined = format_list(marks, locale=self.fmt.locale)
        out: list[Part] = []
        for i, piece in enumerate(joined.split("\x00")):
            if i % 2:
                out.extend(items[int(piece)])
            elif piece:
                out.append(Text(piece))
        return out

    def compose(self, template: str, values: dict[str, Any]) -> tuple[Part, ...]:
        """The parts of ``template`` (a message of the statements file, translated here) filled in."""
        parts: list[Part] = []
        for literal, name, _spec, _conversion in string.Formatter().parse(_(template)):
            if literal:
                parts.append(Text(literal))
            if name is None:
                continue
            value = values[name]
            if isinstance(value, list | tuple):
                parts.extend(value)
            elif isinstance(value, Text | Count | Cited):
                parts.append(value)
            else:
                parts.append(Text(str(value)))
        merged: list[Part] = []
        for part in parts:
            if isinstance(part, Text) and merged and isinstance(merged[-1], Text):
                merged[-1] = Text(merged[-1].text + part.text)
            else:
                merged.append(part)
        return tuple(merged)

    def statement(self, rule: Rule, subject: str, outcome: str, values: dict[str, Any],
                  sources: Sequence[str] = ()) -> Statement:
        return Statement(rule.id, rule.kind, rule.polarity_of(outcome), rule.component, rule.indicator,
                         subject, rule.headline, self.compose(rule.templates[outcome], values),
                         tuple(sources), self.citations)


def years_compared(tidy: pd.DataFrame, region: str, years: tuple[int, int],
                   rules: Rules | None = None) -> tuple[int, int] | None:
    """The years the rules look at, which the decade of progress also compares.

    They are `Rules.window_years` years ending in the comparison year: the latest year in which
    at least `Rules.min_reporting_share` of the region's members (as its regional figures count
    them) have a figure, a number or ``<5``, for any count indicator; else the latest year in which
    any member has one. The window starts no earlier than ``years[0]``.

    Args:
        tidy: A released tidy table (`ReportInput.tidy`).
        region: The region id of its regional rows.
        years: The report's first and last year.
        rules: The rules; the bundled file's when None.

    Returns:
        First and last year, or None when no member has a figure.
    """
    rules = rules or load()
    t = tidy[tidy["year"].between(years[0], years[1])]
    t = t[(t["sex"] == "total") & (t["age"] == "total") & (t["form"] == "total")]
    regional = t[t["country"] == region]
    t = t[(t["country"] != region) & (t["status"] != MISSING) & ~t["unit"].map(is_percent)]
    reporters = t.groupby("year")["country"].nunique()
    if reporters.empty:
        return None
    # Members that year as the regional figures state them; the countries the table holds if none.
    members = pd.to_numeric(regional["members"], errors="coerce").groupby(regional["year"]).max().dropna()
    fallback = tidy.loc[tidy["country"] != region, "country"].nunique()
    enough = [int(y) for y, n in reporters.items()
              if n >= max(1, math.ceil(rules.min_reporting_share * members.get(y, fallback)))]
    end = max(enough) if enough else int(reporters.index.max())
    return max(years[0], end - rules.window_years + 1), end


def _window(figs: Figures, rules: Rules) -> tuple[int, int] | None:
    return years_compared(figs.inp.tidy, figs.region, figs.inp.years, rules)


#: An evaluator: the statements one rule makes (at most one per member or for the region).
Evaluator = Callable[["_Context", Rule], Iterator["Statement"]]
_KINDS: dict[str, Evaluator] = {}


def kind(name: str) -> Callable[[Evaluator], Evaluator]:
    """Register the evaluator of a kind of rule (the built-ins register the same way).

    A new kind also needs its placeholders in `PLACEHOLDERS`, its thresholds in `THRESHOLDS` and
    a description under ``kinds`` in the statements file.
    """
    def register(fn: Evaluator) -> Evaluator:
        _KINDS[name] = fn
        return fn
    return register


def _member_change(ctx: _Context, rule: Rule, sign: int) -> Iterator[Statement]:
    t = rule.thresholds
    for iso in ctx.members:
        # A member's first and last number in the window; a flagged figure is an anomaly, not a level.
        series = [f for f in ctx.in_window(iso, rule.indicator) if f.number is not None and not f.flag]
        if len(series) < 2:
            continue
        a, b = series[0], series[-1]
        first, last = float(a.number or 0), float(b.number or 0)
        if b.year - a.year < t["min_span_years"] or min(first, last) < t["min_value"] or first <= 0:
            continue
        change = sign * (last - first)
        if change < t["min_change"] or 100 * change / first < t["min_change_pct"]:
            continue
        yield ctx.statement(rule, iso, "", {
            "country": ctx.name(iso), "from_value": ctx.cite(a, rule), "from_year": a.year,
            "to_value": ctx.cite(b, rule), "to_year": b.year})


@kind("rise")
def _rise(ctx: _Context, rule: Rule) -> Iterator[Statement]:
    """A member's figure rose: its last number in the window against its first."""
    return _member_change(ctx, rule, +1)


@kind("fall")
def _fall(ctx: _Context, rule: Rule) -> Iterator[Statement]:
    """A member's figure fell: its last number in the window against its first."""
    return _member_change(ctx, rule, -1)


def comparable(ctx: _Context, indicator: str, before_year: int, after_year: int) -> tuple[list[str], list[str]]:
    """The members behind a regional figure in two years: it is compared only when they are the same."""
    return ctx.reporters(indicator, before_year), ctx.reporters(indicator, after_year)


@kind("regional_change")
def _regional_change(ctx: _Context, rule: Rule) -> Iterator[Statement]:
    """The regional figure rose or fell between the window's first and last regional number.

    Compared only when the same members reported a number in both years: otherwise a change
    may be no more than a member starting or stopping to report, and the statement says so.
    """
    region, t = ctx.figs.region, rule.thresholds
    series = [f for f in ctx.in_window(region, rule.indicator) if f.number is not None]
    if len(series) < 2 or series[-1].year - series[0].year < t["min_span_years"]:
        return
    a, b = series[0], series[-1]
    before, after = comparable(ctx, rule.indicator, a.year, b.year)
    base = {"region": ctx.name(region), "from_year": a.year, "to_year": b.year}
    sources = (f"t-regional-{rule.indicator}",)
    if before != after:
        outcome = "not_compared" if len(before) != len(after) else "not_compared_swapped"
        yield ctx.statement(rule, region, outcome, {
            **base, "before": ctx.reporting(before, rule.indicator, a.year),
            "after": ctx.reporting(after, rule.indicator, b.year),
            "members_before": ctx.membership(rule.indicator, a.year),
            "members_after": ctx.membership(rule.indicator, b.year),
            "only_before": ctx.names(m for m in before if m not in after),
            "only_after": ctx.names(m for m in after if m not in before)}, sources)
        return
    first, last = float(a.number or 0), float(b.number or 0)
    if first <= 0:
        return
    pct = 100 * (last - first) / first
    if abs(pct) < t["min_change_pct"]:
        return
    yield ctx.statement(rule, region, "rise" if pct > 0 else "fall", {
        **base, "from_value": ctx.cite(a, rule), "to_value": ctx.cite(b, rule),
        "count": ctx.reporting(before, rule.indicator, a.year),
        "members": ctx.membership(rule.indicator, b.year)}, sources)


@kind("share_below")
def _share_below(ctx: _Context, rule: Rule) -> Iterator[Statement]:
    """Members whose figure is below a threshold, in the window's latest well-reported year."""
    t = rule.thresholds
    need = max(1, math.ceil(t["min_reporting_share"] * len(ctx.members)))
    lo, hi = ctx.window or (0, -1)
    for year in range(hi, lo - 1, -1):
        with_number = [iso for iso in ctx.reporters(rule.indicator, year)
                       if (f := ctx.figs.get(iso, rule.indicator, year)) is not None and f.number is not None]
        if len(with_number) >= need:
            break
    else:
        return
    below = [ctx.figs.get(iso, rule.indicator, year) for iso in with_number]
    named = [f for f in below if f is not None and f.number is not None and f.number < t["below"]]
    if len(named) < t["min_members"]:
        return
    items = [list(ctx.compose(ctx.rules.list_item, {"country": ctx.name(f.country), "value": ctx.cite(f, rule)}))
             for f in named]
    yield ctx.statement(rule, ctx.figs.region, "", {
        "count": ctx.count([f.country for f in named]),
        "reporting": ctx.reporting(with_number, rule.indicator, year),
        "year": year, "list": ctx.join(items)})


@kind("never_reported")
def _never_reported(ctx: _Context, rule: Rule) -> Iterator[Statement]:
    """Members with no figure at all (not even ``<5``) for the indicator in the window."""
    silent = [iso for iso in ctx.members
              if all(f.status == MISSING for f in ctx.in_window(iso, rule.indicator))]
    if len(silent) < rule.thresholds["min_members"] or ctx.window is None:
        return
    yield ctx.statement(rule, ctx.figs.region, "", {
        "count": ctx.count(silent), "members": ctx.count(ctx.members),
        "years": ctx.fmt.year_range(ctx.window), "list": ctx.names(silent)},
        (f"t-regional-{rule.indicator}",))


def evaluate(figs: Figures, fmt: Formatter, rules: Rules | None = None,
             citations: Citations | None = None) -> list[Statement]:
    """Every statement the rules make over the released figures, in rule then member order.

    Args:
        figs: The report's released figures.
        fmt: The formatter (figures print as the tables print them).
        rules: The rules; the bundled file's when None.
        citations: The document's tables, for the links (filled as the document is built).

    Returns:
        The statements. Rules on indicators the report has no figures of say nothing.
    """
    rules = rules or load()
    ctx = _Context(figs, fmt, rules, citations or Citations())
    if ctx.window is None:
        return []
    out: list[Statement] = []
    for rule in rules.rules:
        if rule.indicator in figs.meta:
            out.extend(_KINDS[rule.kind](ctx, rule))
    return out


def window(figs: Figures, rules: Rules | None = None) -> tuple[int, int] | None:
    """The years the rules look at (see `statements.yaml`, ``window``), None without figures."""
    return _window(figs, rules or load())


def findings(statements: Sequence[Statement], fmt: Formatter, years: tuple[int, int] | None, *,
             component: int | None = None, headline: bool = False) -> Findings:
    """The statements of one chapter, or the overview's headline ones, split by polarity.

    Args:
        statements: All statements of the report.
        fmt: The formatter.
        years: The window the rules looked at.
        component: Only this chapter's statements.
        headline: Only the rules marked ``headline``.
    """
    chosen = [s for s in statements
              if (component is None or s.component == component) and (not headline or s.headline)]
    return Findings([s for s in chosen if s.polarity == "achievement"],
                    [s for s in chosen if s.polarity == "challenge"],
                    fmt.year_range(years) if years else "")


# -- the decade of progress -------------------------------------------------------------------


@dataclass(frozen=True)
class Decade:
    """The overview's opening: the baseline table and a coverage note per indicator.

    Attributes:
        table: The baseline-against-latest table (numbered), or None when it has no rows.
        notes: One note per indicator of the table, in its order.
        years: Baseline and latest year.
    """

    table: Table | None
    notes: list[Statement]
    years: tuple[int, int] | None


def decade(figs: Figures, fmt: Formatter, table: Table, number: Callable[[Table], Table],
           rules: Rules | None = None, citations: Citations | None = None) -> Decade:
    """Number the decade-of-progress table and write its coverage notes.

    A regional row whose members differ between the two years gets "not compared" in its change
    columns: the change of a sum over different members is no change of the region.

    Args:
        figs: The report's released figures.
        fmt: The formatter.
        table: The baseline table (`tables.baseline`).
        number: Numbers a table in reading order (the document's ``table``).
        rules: The rules; the bundled file's when None.
        citations: The document's tables.

    Returns:
        The numbered table (None when empty) and one note per indicator.
    """
    frame = figs.inp.baseline
    if not table.rows or frame.empty:
        return Decade(None, [], None)
    rules = rules or load()
    ctx = _Context(figs, fmt, rules, citations or Citations())
    text = rules.decade
    by, ly = int(frame["baseline_year"].min()), int(frame["latest_year"].max())
    years = {"from_year": by, "to_year": ly}
    notes = []
    rows = {row.key: row for row in table.rows}
    for group in (r for r in table.rows if r.kind == "group"):
        meta = figs.meta.get(group.key)
        if meta is None:
            continue
        both = [iso for iso in ctx.members
                if all((f := figs.get(iso, meta.id, y)) is not None and f.number is not None for y in (by, ly))]
        without = [iso for iso in ctx.members if iso not in both]
        values = {**years, "indicator": meta.title, "count": ctx.count(both),
                  "members": ctx.count(ctx.members), "with": ctx.names(both), "without": ctx.names(without)}
        name = "coverage_all" if not without else "coverage_none" if not both else "coverage"
        parts = list(ctx.compose(text[name], values))
        region = [figs.get(figs.region, meta.id, y) for y in (by, ly)]
        if all(f is not None and f.number is not None for f in region):
            before, after = comparable(ctx, meta.id, by, ly)
            if before == after:
                sentence = ctx.compose(text["compared"], {
                    **years, "count": ctx.reporting(before, meta.id, by), "members": ctx.membership(meta.id, ly)})
            else:
                sentence = ctx.compose(text["not_compared" if len(before) != len(after) else "not_compared_swapped"], {
                    **years, "before": ctx.reporting(before, meta.id, by), "after": ctx.reporting(after, meta.id, ly),
                    "members_before": ctx.membership(meta.id, by), "members_after": ctx.membership(meta.id, ly),
                    "only_before": ctx.names(m for m in before if m not in after),
                    "only_after": ctx.names(m for m in after if m not in before)})
                row = rows.get(f"{meta.id}:{figs.region}")
                if row is not None:
                    row.cells[-2:] = [Cell(_(text["not_compared_cell"]), "text")] * 2
            parts += [Text(" "), *sentence]
        notes.append(Statement("decade", "decade", "caveat", meta.component, meta.id, meta.id, False,
                               ctx.compose("{p}", {"p": parts}), (table.id,), ctx.citations))
    return Decade(number(table), notes, (by, ly))


# -- the methodology annex --------------------------------------------------------------------


def methodology(figs: Figures, fmt: Formatter, rules: Rules | None = None) -> dict[str, Any]:
    """The rules as the methodology annex prints them, thresholds filled in.

    Args:
        figs: The report's released figures (for the window and the indicators' titles and units).
        fmt: The formatter.
        rules: The rules; the bundled file's when None.

    Returns:
        ``window`` (e.g. ``"2011–2020"``, ``""`` without figures), ``years`` (the window's
        length) and ``rules``: one dict per rule with ``id``, ``polarity``, ``component``,
        ``indicator`` (its title) and ``rule`` (what it does).
    """
    from tipwatch.report.fmt import WITHHELD

    rules = rules or load()
    span = _window(figs, rules)
    titles = {m["id"]: (m["title"], m["unit"]) for m in reference.indicator_meta()}

    def shown(name: str, value: float, unit: str) -> str:
        if name == "min_reporting_share":
            return fmt.percent(100 * value)
        if name.endswith("_pct") or (name == "below" and is_percent(unit)):
            return fmt.number(value, decimals=1) + "%"
        return fmt.number(value, decimals=1)

    out = []
    for rule in rules.rules:
        title, unit = titles.get(rule.indicator, (rule.indicator, ""))
        values = {k: shown(k, v, unit) for k, v in rule.thresholds.items()}
        polarity = sorted(set(rule.polarity.values()))
        out.append({
            "id": rule.id, "component": rule.component, "indicator": _(title),
            "polarity": _(POLARITY_TEXT[" ".join(polarity)]),
            "rule": _(rules.kinds[rule.kind]).format(withheld=WITHHELD, **values),
        })
    return {"window": fmt.year_range(span) if span else "", "years": rules.window_years,
            "share": fmt.percent(100 * rules.min_reporting_share), "rules": out}
