"""The report's data-file text in the report's language: indicators, components, checklist items,
statement rules, country names.

The report prints text that lives in versioned data files (`reference/data`), not in code. Each
such text is a gettext message like any sentence of a template: its English is the ``msgid``, and
the language's catalogue (`tipwatch.report.i18n`) holds the translation. Two functions share one
list of which fields are printed, so that the catalogue and the report cannot drift apart:

- `localise` gives a `ReportInput` whose printed texts are translated (the renderer builds the
  document from it, so tables, charts, statements and the annex all read the same words);
- `data_messages` lists every such text for the catalogue (``scripts/i18n.py extract``).

Country names are not in the catalogue: they are Babel's (CLDR's) territory names for the
language, found by the ISO 3166 alpha-2 code of `reference/data/countries.csv`; a country Babel
does not name keeps its English name.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from functools import cache

from babel import Locale

from tipwatch import reference
from tipwatch.report.i18n import _
from tipwatch.report.model import ReportInput

#: Values of the indicators' ``breakdowns`` as the annex prints them (the codes of `codelists/`).
BREAKDOWNS = ("sex", "age", "form")
#: The sources (`sources.csv`) whose titles are tipwatch's own descriptions, translated in Annex A;
#: every other source keeps its published name.
OWN_SOURCES = ("casefile", "htcds", "synthetic")


@cache
def _territories(lang: str) -> dict[str, str]:
    return dict(Locale.parse(lang).territories)


def country_name(iso3: str, english: str, lang: str) -> str:
    """A country's name in ``lang``: Babel's territory name, else ``english``.

    Args:
        iso3: ISO 3166 alpha-3 code.
        english: The name the report prints in English.
        lang: The report's language.

    Returns:
        The name in ``lang`` (``english`` for English, and for a code Babel does not name).
    """
    if lang == "en":
        return english
    country = reference.countries().get(iso3)
    if country is None or not country.iso2:
        return english
    return _territories(lang).get(country.iso2, english)


def localise(inp: ReportInput, lang: str) -> ReportInput:
    """``inp`` with its printed data-file texts in ``lang`` (the current catalogue).

    Only what is printed changes; ids, units (which the renderer reads, e.g. for percentages) and
    every figure stay as they are. English returns ``inp`` itself.

    Args:
        inp: The report input.
        lang: The report's language; `tipwatch.report.i18n.use` must have made its catalogue current.

    Returns:
        A copy with translated indicator, component and checklist texts, member names and the
        titles of tipwatch's own sources (`OWN_SOURCES`).
    """
    if lang == "en":
        return inp
    indicators = [replace(m, title=_(m.title), definition=_(m.definition), counting_rule=_(m.counting_rule))
                  for m in inp.indicators]
    components = [replace(c, title=_(c.title), standard=_(c.standard), data_needed=_(c.data_needed))
                  for c in inp.components]
    checklist = [replace(i, title=_(i.title), short=_(i.short), question=_(i.question),
                         related=_(i.related) if i.related else "",
                         source=replace(i.source, title=_(i.source.title), short=_(i.source.short)))
                 for i in inp.checklist]
    return replace(
        inp,
        sources=[replace(s, name=_(s.name)) for s in inp.sources],
        region_name=_(inp.region_name),
        members=[(iso, country_name(iso, name, lang)) for iso, name in inp.members],
        indicators=indicators, components=components, checklist=checklist,
    )


def data_messages() -> Iterator[tuple[str, str]]:
    """Every data-file text the report may print, with the file it comes from.

    Returns:
        ``(message, file)`` pairs, in file order; a message may come more than once.
    """
    from tipwatch import legal
    from tipwatch.indicators.consistency import comparisons
    from tipwatch.report import statements

    # The fields exactly as `tipwatch.report.build` puts them into the report input.
    for m in reference.indicator_meta():
        for key in ("title", "definition", "counting_rule", "unit"):
            yield str(m[key]), "indicators.yaml"
    for c in reference.components():
        for key in ("title", "standard", "data_needed"):
            yield str(c[key]), "components.yaml"
    for b in BREAKDOWNS:
        yield b, "indicators.yaml"
    known = reference.sources()
    yield from ((known[s]["title"], "sources.csv") for s in OWN_SOURCES if s in known)
    for item in legal.checklist():
        for text in (item.title, item.short, item.question, item.related, item.source.title, item.source.short):
            if text:
                yield text, "legal/checklist.yaml"
    for row in legal.statuses():
        if row.note:  # what the law provides, in tipwatch's words (the law itself is cited as it is)
            yield row.note, "legal/status.csv"
    rules = statements.load()
    for rule in rules.rules:
        yield from ((t, "statements.yaml") for t in rule.templates.values())
    yield from ((t, "statements.yaml") for t in rules.decade.values())
    yield from ((t, "statements.yaml") for t in rules.kinds.values())
    yield from ((t, "statements.yaml") for t in rules.names_in_text.values())
    yield rules.list_item, "statements.yaml"
    for spec in comparisons().values():
        yield str(spec["title"]).strip(), "consistency.yaml"
        yield str(spec["why"]).strip(), "consistency.yaml"
    for region in reference.regions().values():
        if region.kind == "intergovernmental":
            yield region.name, "regions.csv"
    tiers = reference.assessment("us_tip_tier")["tiers"]
    for tier in tiers.values() if isinstance(tiers, dict) else tiers:
        yield str(tier["label"]), "assessments/us_tip_tier.yaml"
    with (reference.DATA / "codelists" / "form.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["code"] != "total":
                yield row["code"].replace("_", " "), "codelists/form.csv"
