"""Counting rules for case-level microdata, and the analyses only microdata allows.

A country that sends every case (the casefile template: ``cases``, ``persons``,
``proceedings``, ``services``, ``cooperation_requests``) is counted into the same cube as a
country that sends GLOTIP aggregates, under the same indicator ids, so the two sit side by side
("One cube", DESIGN.md). `count_submission` is that counting; the other public functions are
the cohort and duration analyses that the report reads from microdata directly.

Everything here is an ibis expression: it runs unchanged on DuckDB, PostgreSQL and Spark. The
rules, in plain words with worked examples, are in ``docs/counting-rules.md`` (quoted by the
report's methodology annex). In short:

- **Persons, not cases.** UNODC counts persons for suspects, prosecuted and convicted (and
  tipwatch does the same for victims): a ``person_ref`` counts once per indicator and year,
  however many cases or events it has that year.
- **The year of the event.** A person counts in the year of the investigation, charge,
  conviction or service, not in the year the case was opened.
- **First-instance convictions.** UNODC counts persons convicted at first instance. A
  conviction quashed on appeal still counts, in its first-instance year; a first-instance
  acquittal (or dismissal) reversed on appeal counts in the year of the appeal verdict, because
  that is the person's first conviction in the case.
- **Zero is a figure.** A country that sends case records and recorded no conviction in a year
  of its period reported 0, not nothing: every indicator gets a total row for every year of the
  submission's period.
- **Medians are interpolated.** DuckDB's ``quantile_cont``, PostgreSQL's ``percentile_cont``
  and Spark's ``percentile`` (what ibis's ``median``/``quantile`` compile to) all interpolate
  between the two middle values: the median of 48 and 60 months is 54.
"""

from __future__ import annotations

import re
from datetime import date

import ibis
import ibis.expr.types as ir

from tipwatch import reference
from tipwatch.errors import InputError
from tipwatch.indicators.cube import current_submissions
from tipwatch.indicators.definitions import count
from tipwatch.indicators.registry import register

#: ``submissions.scope`` of a casefile submission: reporting country and period, inclusive.
SCOPE = re.compile(r"^([A-Z]{3}):(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")

#: Person counts from ``proceedings`` (suspects): indicator id → event.
SUSPECT_EVENTS = {
    "persons_formal_contact": "investigation_opened",
    "persons_prosecuted": "prosecution_initiated",
}

#: Person counts from ``services`` (victims): indicator id → service.
VICTIM_SERVICES = {
    "detected_victims": "identified",
    "victims_assisted": "assisted",
    "victims_sheltered": "sheltered",
    "victims_repatriated": "repatriated",
    "victims_testified": "testified",
    "victims_protected": "protection_measure",
    "victims_compensated": "compensation_awarded",
}

#: Every indicator `count_submission` emits, in the order it emits them.
INDICATORS = (
    "persons_formal_contact", "persons_prosecuted", "persons_convicted", "offences",
    *VICTIM_SERVICES,
)

#: Indicators that only case-level data can give (GLOTIP has no such figure). They are read
#: from the cube like any count.
CASEFILE_ONLY = tuple(i for i in VICTIM_SERVICES if i != "detected_victims")

#: The columns of `tipwatch.ingest.glotip.OBSERVATIONS_IN` except ``seq``, with their types.
OBSERVATION_TYPES = {
    "area": "string", "area_kind": "string", "year": "int32", "indicator": "string",
    "sex": "string", "age": "string", "form": "string", "citizenship": "string",
    "repatriated_to": "string", "label": "string", "rank": "int32", "value": "float64",
    "status": "string", "unit": "string", "legal_basis": "string", "sheet": "string",
    "line": "int32",
}

_PERSON_CASE = ["submission_id", "person_ref", "case_ref"]


# --- Scope ---------------------------------------------------------------------------------


def parse_scope(scope: str) -> tuple[str, date, date]:
    """Split a casefile submission's scope into country, first and last day.

    Args:
        scope: ``ISO3:YYYY-MM-DD..YYYY-MM-DD``, e.g. ``THA:2017-01-01..2021-12-31``.

    Returns:
        The reporting country's ISO3 code and the period's first and last day (inclusive).

    Raises:
        InputError: ``scope`` is not of that form, or the period ends before it starts.
    """
    m = SCOPE.match(scope)
    if m is None:
        raise InputError(f"{scope!r} is not a casefile scope; expected ISO3:YYYY-MM-DD..YYYY-MM-DD.")
    try:
        start, end = date.fromisoformat(m.group(2)), date.fromisoformat(m.group(3))
    except ValueError as exc:
        raise InputError(f"{scope!r} has an impossible date: {exc}.") from exc
    if end < start:
        raise InputError(f"The period of {scope!r} ends before it starts.")
    return m.group(1), start, end


def _periods(backend) -> ir.Table:
    """Current submissions with the first and last day of their period (null if no period)."""
    subs = current_submissions(backend)

    def part(i: int) -> ir.Value:
        return subs.scope.re_extract(SCOPE.pattern, i).nullif("").cast("date")

    return subs.select(submission_id=subs.id, period_start=part(2), period_end=part(3))


# --- Building blocks: who did what, when ---------------------------------------------------


#: Stands for "the current synthetic submissions" where a submission id is expected.
SYNTHETIC = "*synthetic*"


def _current(synthetic: bool) -> str | None:
    return SYNTHETIC if synthetic else None


def _table(backend, name: str, submission_id: str | None) -> ir.Table:
    """One microdata table: one submission's rows, or the current submissions' rows.

    ``None`` reads the current real submissions, `SYNTHETIC` the current synthetic ones: the two
    never mix. Current means the newest vintage per source and scope (`current_submissions`): a
    second version of a submission replaces the first, whose rows stay in the store but are not read.
    """
    t = backend.table(name)
    if submission_id not in (None, SYNTHETIC):
        return t.filter(t.submission_id == submission_id)
    cur = current_submissions(backend, synthetic=submission_id == SYNTHETIC)
    return t.semi_join(cur.select(submission_id="id"), "submission_id")


def _people(backend, submission_id: str | None, role: str) -> ir.Table:
    """Persons of one role in their cases, with the case's country and the person's breakdowns."""
    p = _table(backend, "persons", submission_id)
    p = p.filter(p.role == role).select(*_PERSON_CASE, sex=p.sex, age=p.age_group)
    c = _table(backend, "cases", submission_id)
    c = c.select("submission_id", "case_ref", country=c.country)
    return p.inner_join(c, ["submission_id", "case_ref"])


def _suspect_events(backend, submission_id: str | None) -> ir.Table:
    """Proceedings of suspects, one row per event, with country, sex and age group.

    Proceedings rows of a person whose role in that case is not ``suspect`` are ignored:
    the template records proceedings for suspects and defendants only.
    """
    e = _table(backend, "proceedings", submission_id)
    e = e.select(*_PERSON_CASE, "event", "event_date", "outcome", "sentence_months")
    return e.inner_join(_people(backend, submission_id, "suspect"), _PERSON_CASE)


def _victim_services(backend, submission_id: str | None) -> ir.Table:
    """Services given to victims, one row per service event, with country, sex and age group."""
    s = _table(backend, "services", submission_id)
    s = s.select(*_PERSON_CASE, "service", event_date=s.service_date)
    return s.inner_join(_people(backend, submission_id, "victim"), _PERSON_CASE)


def _convictions(events: ir.Table) -> ir.Table:
    """One conviction per person and case: the date and sentence that count.

    UNODC counts first-instance convictions, so a first-instance conviction counts whatever
    the appeal court later does (a quashed conviction still counts, in its own year). A person
    with no first-instance conviction in the case (acquitted or dismissed, then convicted on
    appeal) is convicted by the appeal verdict, which counts in its year. If a case has several
    qualifying verdicts (a retrial), the earliest counts.
    """
    convicted = events.outcome == "convicted"
    first = events.filter((events.event == "first_instance_verdict") & convicted)
    appeal = events.filter((events.event == "appeal_verdict") & convicted)
    appeal = appeal.anti_join(first, _PERSON_CASE)
    both = first.union(appeal)
    earliest = ibis.row_number().over(group_by=_PERSON_CASE, order_by=[both.event_date, both.event])
    return both.mutate(_n=earliest).filter(ibis._._n == 0).drop("_n")


def _first_per_year(events: ir.Table) -> ir.Table:
    """One row per indicator, person and year: persons, not cases.

    The person's sex and age group are taken from the case of their first qualifying event in
    the year (earliest date, then the smallest case reference), so that a person whose age group
    differs between two cases (a child in one, an adult in a later one) is still counted once and
    the breakdowns add up to the total.
    """
    t = events.mutate(year=events.event_date.year().cast("int32"))
    first = ibis.row_number().over(
        group_by=[t.submission_id, t.indicator, t.country, t.year, t.person_ref],
        order_by=[t.event_date, t.case_ref],
    )
    return t.mutate(_n=first).filter(ibis._._n == 0).drop("_n")


def _cells(persons: ir.Table) -> ir.Table:
    """Counts per indicator by sex × age with totals: (total,total), (sex,total), (total,age), (sex,age).

    The persons are counted once, by sex × age; the margins are sums of those few cells. That is
    exact because `_first_per_year` leaves one row per person, indicator and year, so every
    person is in exactly one cell.
    """
    keys = ["submission_id", "indicator", "country", "year"]
    fine = persons.group_by([*keys, "sex", "age"]).agg(value=persons.count().cast("int64"))
    parts = []
    for by_sex in (False, True):
        for by_age in (False, True):
            if by_sex and by_age:
                g = fine
            else:
                g = fine.group_by([*keys, *(["sex"] if by_sex else []), *(["age"] if by_age else [])]).agg(
                    value=fine.value.sum())
            parts.append(g.select(
                *keys,
                sex=g.sex if by_sex else ibis.literal("total"),
                age=g.age if by_age else ibis.literal("total"),
                value=g.value.cast("int64"),
            ))
    return ibis.union(*parts)


# --- Counting submissions into the cube ----------------------------------------------------

_ROW_TYPES = {"submission_id": "string", "country": "string", "year": "int32", "sex": "string", "age": "string",
              "value": "int64", "indicator": "string"}


def _row_types(t: ir.Table) -> ir.Table:
    """The same columns and types for every part of the union (NOT NULL differs between tables)."""
    return t.select(*(t[c].cast(ty).name(c) for c, ty in _ROW_TYPES.items()))


def _scopes(backend, submission_ids: list[str] | None, synthetic: bool) -> dict[str, tuple[str, date, date]]:
    """The submissions to count, each with its country and period.

    Explicit ids must all be casefile submissions of the store; ``None`` means every current
    submission (real or synthetic) whose scope is a casefile scope.
    """
    if submission_ids is None:
        subs = current_submissions(backend, synthetic=synthetic)
    else:
        subs = backend.table("submissions")
        subs = subs.filter(subs.id.isin(list(submission_ids)))
    found = subs.select("id", "scope").to_pyarrow().to_pylist()
    scopes = {row["id"]: row["scope"] for row in found}
    if submission_ids is None:
        return {sid: parse_scope(scope) for sid, scope in sorted(scopes.items()) if SCOPE.match(scope)}
    missing = [sid for sid in submission_ids if sid not in scopes]
    if missing:
        raise InputError(f"There is no submission {missing[0]!r} in the store.")
    return {sid: parse_scope(scopes[sid]) for sid in submission_ids}


def count_submissions(backend, submission_ids: list[str] | None = None, *, synthetic: bool = False) -> ir.Table:
    """The figures of casefile submissions, as rows for the ``observations`` cube.

    Indicators: ``persons_formal_contact`` (suspects with ``investigation_opened``),
    ``persons_prosecuted`` (``prosecution_initiated``), ``persons_convicted`` (see
    `_convictions`), ``offences`` (cases opened), and victims with a service:
    ``detected_victims`` (``identified``), ``victims_assisted``, ``victims_sheltered``,
    ``victims_repatriated``, ``victims_testified``, ``victims_protected``
    (``protection_measure``) and ``victims_compensated`` (``compensation_awarded``).

    Rules: persons, not cases (a person counts once per indicator and year); the year of the
    event; only events inside the submission's period (the file's cases may reach back before
    it, but a year before the period would hold only the cases still open in it). Each person
    count is given for sex × age group with totals; ``offences`` counts cases and has totals
    only. Every indicator has a total row for every year the period touches, 0 when nothing
    happened: a country that sends its case records and convicted nobody reported 0.

    The area is the country of the cases (``cases.country``); zero rows use the scope's
    country, which should be the same (a submission covers one reporting country). A year the
    period covers only in part is counted over the part covered. Each submission is counted on
    its own (person references are not linked across submissions), all of them in one query.

    The expression reads only the tables ``submissions``, ``cases``, ``persons``,
    ``proceedings`` and ``services``, so an importer can count a batch before anything is
    stored by running it over an in-memory DuckDB that holds the batch's tables.

    Args:
        backend: An ibis backend over a store (`Store.ibis`).
        submission_ids: The casefile submissions to count (current or not); None for every
            current one.
        synthetic: With ``submission_ids=None``: count the current synthetic submissions
            instead of the real ones.

    Returns:
        ``submission_id`` and the columns of `tipwatch.ingest.glotip.OBSERVATIONS_IN` except
        ``seq`` (see `OBSERVATION_TYPES`), ordered by submission, indicator, year, sex and age,
        with ``area_kind`` ``country``, ``status`` ``computed`` and ``form``, ``citizenship``,
        ``repatriated_to`` ``total``.

    Raises:
        InputError: No such submission, or its scope is not ``ISO3:YYYY-MM-DD..YYYY-MM-DD``.
    """
    scopes = _scopes(backend, submission_ids, synthetic)
    ids = list(scopes)
    units = {m["id"]: m["unit"] for m in reference.indicator_meta()}
    periods = ibis.memtable(
        [{"submission_id": sid, "period_start": start, "period_end": end}
         for sid, (_, start, end) in scopes.items()],
        schema={"submission_id": "string", "period_start": "date", "period_end": "date"},
    )

    def table(name: str) -> ir.Table:
        t = backend.table(name)
        return t.filter(t.submission_id.isin(ids) if ids else ibis.literal(False))

    def in_period(t: ir.Table, date_col: str = "event_date") -> ir.Table:
        t = t.inner_join(periods, "submission_id")
        return t.filter(t[date_col].between(t.period_start, t.period_end)).drop("period_start", "period_end")

    def tagged(t: ir.Table, column: str, mapping: dict[str, str]) -> ir.Table:
        # One pass over the events: each event names the indicator it counts for (or none).
        ind = ibis.cases(*((t[column] == code, name) for name, code in mapping.items()),
                         else_=ibis.null("string"))
        return t.mutate(indicator=ind).filter(ibis._.indicator.notnull())

    persons = table("persons")
    cases = table("cases").select("submission_id", "case_ref", "country", "opened_on")

    def people(role: str) -> ir.Table:
        p = persons.filter(persons.role == role).select(*_PERSON_CASE, sex=persons.sex, age=persons.age_group)
        return p.inner_join(cases.drop("opened_on"), ["submission_id", "case_ref"])

    events = table("proceedings").select(*_PERSON_CASE, "event", "event_date", "outcome", "sentence_months")
    events = events.inner_join(people("suspect"), _PERSON_CASE)
    services = table("services")
    services = services.select(*_PERSON_CASE, "service", event_date=services.service_date)
    services = services.inner_join(people("victim"), _PERSON_CASE)

    cols = ["submission_id", "country", "person_ref", "case_ref", "event_date", "sex", "age", "indicator"]
    suspects = tagged(in_period(events), "event", SUSPECT_EVENTS)
    victims = tagged(in_period(services), "service", VICTIM_SERVICES)
    # The period filter applies to the date the conviction counts in, not to the first verdict:
    # a 2016 acquittal reversed in 2018 is a 2018 conviction.
    convicted = in_period(_convictions(events)).mutate(indicator=ibis.literal("persons_convicted"))

    # All person indicators in one table, so that the first-event window and the group-by run
    # once, not once per indicator (the expression, and the work, stay small).
    everyone = ibis.union(suspects.select(*cols), convicted.select(*cols), victims.select(*cols))
    parts = [_row_types(_cells(_first_per_year(everyone)))]
    # Offences are cases, not persons: one row per case opened in the year.
    c = in_period(cases, "opened_on")
    g = c.group_by("submission_id", "country", year=c.opened_on.year().cast("int32")).agg(value=c.count())
    parts.append(_row_types(g.select("submission_id", "country", "year", sex=ibis.literal("total"),
                                     age=ibis.literal("total"), value=g.value.cast("int64"),
                                     indicator=ibis.literal("offences"))))

    zeros = ibis.memtable(
        [{"submission_id": sid, "country": country, "year": y, "sex": "total", "age": "total", "value": 0,
          "indicator": ind}
         for sid, (country, start, end) in scopes.items()
         for ind in INDICATORS for y in range(start.year, end.year + 1)],
        schema=_ROW_TYPES,
    )
    rows = ibis.union(*parts, _row_types(zeros))
    rows = rows.group_by(["submission_id", "country", "year", "indicator", "sex", "age"]).agg(value=rows.value.sum())
    unit = ibis.cases(*((rows.indicator == i, units[i]) for i in INDICATORS), else_=ibis.null("string"))
    out = rows.select(
        submission_id=rows.submission_id,
        area=rows.country,
        area_kind=ibis.literal("country"),
        year=rows.year,
        indicator=rows.indicator,
        sex=rows.sex,
        age=rows.age,
        form=ibis.literal("total"),
        citizenship=ibis.literal("total"),
        repatriated_to=ibis.literal("total"),
        label=ibis.literal(""),
        rank=ibis.literal(1),
        value=rows.value,
        status=ibis.literal("computed"),
        unit=unit,
        legal_basis=ibis.null(),
        sheet=ibis.literal(""),
        line=ibis.literal(0),
    )
    types = {"submission_id": "string", **OBSERVATION_TYPES}
    out = out.select(*(out[c].cast(t).name(c) for c, t in types.items()))
    return out.order_by(["submission_id", "indicator", "year", "sex", "age"])


def count_submission(backend, submission_id: str) -> ir.Table:
    """The figures of one casefile submission: `count_submissions` of that one, without its id column.

    Raises:
        InputError: No such submission, or its scope is not ``ISO3:YYYY-MM-DD..YYYY-MM-DD``.
    """
    return count_submissions(backend, [submission_id]).drop("submission_id")


# --- Microdata-only analyses ---------------------------------------------------------------


def _where(t: ir.Table, country_col: str, year_col: str, countries: list[str] | None,
           years: tuple[int, int] | None) -> ir.Table:
    if countries is not None:
        t = t.filter(t[country_col].isin(list(countries)))
    if years is not None:
        t = t.filter(t[year_col].between(years[0], years[1]))
    return t


def _share(num: ir.Value, den: ir.Value) -> ir.Value:
    """``num / den`` in percent (0–100), null when the denominator is 0."""
    return ibis.ifelse(den > 0, num.cast("float64") / den.cast("float64") * 100.0, ibis.null("float64"))


def attrition(backend, within_years: int = 2, *, countries: list[str] | None = None,
              years: tuple[int, int] | None = None, synthetic: bool = False) -> ir.Table:
    """Cohort attrition: of persons investigated in year Y, how many were prosecuted and convicted.

    The cohort is **persons**, not person-case pairs: a person enters the cohort of the year of
    their earliest ``investigation_opened`` in the submission, whatever the case. They count as
    prosecuted (convicted) if they have a ``prosecution_initiated`` event (a conviction, as
    counted in the cube) in any of their cases, dated from that first investigation to the same
    calendar day ``within_years`` years later, both inclusive. A person is identified by their
    ``person_ref`` within one submission: references are the country's own and are not linked
    across submissions.

    A cohort is ``complete`` only when every member's window lies inside the submission's
    period: its last window ends on 31 December of Y + ``within_years``, which must not be
    after the period's last day (otherwise the cohort is right-censored: later prosecutions
    are not in the data yet), and Y must not start before the period (otherwise the cohort
    holds only the persons whose cases were still open in the period: left-truncated).
    Incomplete cohorts are returned, flagged, so the report can show them and say why.

    Args:
        backend: An ibis backend over a store.
        within_years: N, the length of the follow-up window in years.
        countries: Only these countries (ISO3); None for all.
        years: Only cohorts whose year is in this range, inclusive; None for all.

    Returns:
        ``country, cohort_year, investigated, prosecuted_within, convicted_within,
        prosecuted_share, convicted_share, complete``; shares are percentages of
        ``investigated``.
    """
    events = _suspect_events(backend, _current(synthetic))
    person = ["submission_id", "country", "person_ref"]
    inv = events.filter(events.event == "investigation_opened")
    cohort = inv.group_by(person).agg(start=inv.event_date.min())
    window_end = cohort.start + ibis.interval(years=within_years)

    def reached(later: ir.Table) -> ir.Table:
        hit = cohort.semi_join(later, [
            cohort.submission_id == later.submission_id,
            cohort.person_ref == later.person_ref,
            later.event_date >= cohort.start,
            later.event_date <= window_end,
        ])
        return hit.select(*person, hit=ibis.literal(1))

    pros = events.filter(events.event == "prosecution_initiated")
    conv = _convictions(events)
    t = cohort.left_join(reached(pros).rename(prosecuted="hit"), person).select(*person, "start", "prosecuted")
    t = t.left_join(reached(conv).rename(convicted="hit"), person).select(
        *person, "start", "prosecuted", "convicted")
    t = t.mutate(cohort_year=t.start.year().cast("int64"))
    t = t.inner_join(_periods(backend), "submission_id")
    last_window_end = ibis.date(t.cohort_year + within_years, 12, 31)
    in_period = (last_window_end <= t.period_end) & (ibis.date(t.cohort_year, 1, 1) >= t.period_start)
    # A submission without a readable period cannot show that its cohorts are complete.
    t = t.mutate(in_period=ibis.ifelse(in_period, 1, 0).fill_null(0))
    g = t.group_by(["country", "cohort_year"]).agg(
        investigated=t.count(),
        prosecuted_within=t.prosecuted.count(),
        convicted_within=t.convicted.count(),
        all_in_period=t.in_period.min(),
    )
    g = g.select(
        "country", "cohort_year",
        investigated=g.investigated.cast("int64"),
        prosecuted_within=g.prosecuted_within.cast("int64"),
        convicted_within=g.convicted_within.cast("int64"),
        prosecuted_share=_share(g.prosecuted_within, g.investigated),
        convicted_share=_share(g.convicted_within, g.investigated),
        complete=g.all_in_period == 1,
    )
    return _where(g, "country", "cohort_year", countries, years).order_by(["country", "cohort_year"])


def durations(backend, *, countries: list[str] | None = None,
              years: tuple[int, int] | None = None, synthetic: bool = False) -> ir.Table:
    """Median days from investigation to first-instance verdict, per country and verdict year.

    Counted per person and case (each defendant's own path through a case): from the person's
    earliest ``investigation_opened`` in the case to their earliest ``first_instance_verdict``
    in it, whatever the outcome (convicted, acquitted or dismissed). Person-case pairs with no
    recorded investigation have no duration and are left out of ``n``. The median is the
    interpolated one (the mean of the two middle values when ``n`` is even).

    Args:
        backend: An ibis backend over a store.
        countries: Only these countries (ISO3); None for all.
        years: Only verdicts in these years, inclusive; None for all.

    Returns:
        ``country, year, n, median_days``.
    """
    e = _suspect_events(backend, _current(synthetic))
    keys = [*_PERSON_CASE, "country"]
    inv = e.filter(e.event == "investigation_opened")
    inv = inv.group_by(keys).agg(opened=inv.event_date.min())
    ver = e.filter(e.event == "first_instance_verdict")
    ver = ver.group_by(keys).agg(verdict=ver.event_date.min())
    j = inv.inner_join(ver, keys)
    j = j.mutate(year=j.verdict.year().cast("int64"), days=j.verdict.delta(j.opened, unit="day").cast("float64"))
    g = j.group_by(["country", "year"]).agg(n=j.count(), median_days=j.days.median())
    g = g.select("country", "year", n=g.n.cast("int64"), median_days=g.median_days.cast("float64"))
    return _where(g, "country", "year", countries, years).order_by(["country", "year"])


def sentences(backend, *, countries: list[str] | None = None,
              years: tuple[int, int] | None = None, synthetic: bool = False) -> ir.Table:
    """Prison sentences of convictions, per country and year of conviction.

    A conviction is one person in one case, dated as the cube counts it (first instance, or
    the appeal that reversed an acquittal), with the sentence recorded on that verdict; a
    sentence changed on appeal is not followed. Unlike the cube's person counts, a person
    convicted in two cases has two convictions here, each with its own sentence. Quartiles
    are interpolated (DuckDB ``quantile_cont`` = PostgreSQL ``percentile_cont``).

    Args:
        backend: An ibis backend over a store.
        countries: Only these countries (ISO3); None for all.
        years: Only convictions in these years, inclusive; None for all.

    Returns:
        ``country, year, convictions, with_sentence, q1_months, median_months, q3_months``:
        all convictions, those with a prison sentence in months, and the sentences' quartiles
        (null when none has a sentence).
    """
    c = _convictions(_suspect_events(backend, _current(synthetic)))
    c = c.mutate(year=c.event_date.year().cast("int64"))
    m = c.sentence_months.cast("float64")
    g = c.group_by(["country", "year"]).agg(
        convictions=c.count(),
        with_sentence=m.count(),
        q1_months=m.quantile(0.25),
        median_months=m.median(),
        q3_months=m.quantile(0.75),
    )
    g = g.select(
        "country", "year",
        convictions=g.convictions.cast("int64"),
        with_sentence=g.with_sentence.cast("int64"),
        q1_months=g.q1_months.cast("float64"),
        median_months=g.median_months.cast("float64"),
        q3_months=g.q3_months.cast("float64"),
    )
    return _where(g, "country", "year", countries, years).order_by(["country", "year"])


def witnesses(backend, *, countries: list[str] | None = None,
              years: tuple[int, int] | None = None, synthetic: bool = False) -> ir.Table:
    """Victims as witnesses, per country and year (component 6).

    Persons, not cases, each in the year of the service: victims ``identified``, who
    ``testified``, who were granted a ``protection_measure`` and who were awarded
    compensation (``compensation_awarded``). ``testified_share`` is a period ratio (testified in
    Y ÷ identified in Y, in percent), not a cohort share: victims usually testify a year or more
    after identification, so it can exceed 100.

    Args:
        backend: An ibis backend over a store.
        countries: Only these countries (ISO3); None for all.
        years: Only these years, inclusive; None for all.

    Returns:
        ``country, year, identified, testified, protected, compensated, testified_share``; one
        row per country and year with at least one of the four services.
    """
    wanted = {"identified": "identified", "testified": "testified",
              "protected": "protection_measure", "compensated": "compensation_awarded"}
    s = _victim_services(backend, _current(synthetic))
    s = s.filter(s.service.isin(list(wanted.values())))
    # One row per person, service and year: persons, not cases or service events.
    d = s.select("submission_id", "country", "person_ref", "service",
                 year=s.event_date.year().cast("int64")).distinct()
    g = d.group_by(["country", "year"]).agg(
        **{col: d.count(where=d.service == service) for col, service in wanted.items()})
    g = g.select("country", "year", *(g[c].cast("int64").name(c) for c in wanted),
                 testified_share=_share(g.testified, g.identified))
    return _where(g, "country", "year", countries, years).order_by(["country", "year"])


def cooperation(backend, *, countries: list[str] | None = None,
                years: tuple[int, int] | None = None, synthetic: bool = False) -> ir.Table:
    """International cooperation requests, per requesting × requested country and type.

    Requests count by their status as last reported: ``sent`` is every request, and
    ``executed + refused + pending + withdrawn == sent``. The turnaround is the median of
    days from ``sent_on`` to ``executed_on`` over executed requests only (interpolated);
    a request never answered is ``pending`` and has no duration (it would only make the
    median look shorter than it is). A request reported by both countries (sent by one,
    received by the other) appears in both submissions and is counted twice: requests carry
    each country's own reference and cannot be matched.

    Args:
        backend: An ibis backend over a store.
        countries: Only requests with one of these countries (ISO3) as requesting or
            requested country; None for all.
        years: Only requests sent in these years, inclusive; None for all.

    Returns:
        ``requesting_country, requested_country, type, sent, executed, refused, pending,
        withdrawn, median_days_to_execute``.
    """
    r = _table(backend, "cooperation_requests", _current(synthetic))
    if countries is not None:
        r = r.filter(r.requesting_country.isin(list(countries)) | r.requested_country.isin(list(countries)))
    if years is not None:
        r = r.filter(r.sent_on.year().between(years[0], years[1]))
    done = (r.status == "executed") & r.executed_on.notnull()
    # Null unless executed, rather than ``median(where=done)``: ibis compiles a filtered median
    # for Spark with a non-constant percentage, which Spark refuses; every engine's median skips nulls.
    days = ibis.ifelse(done, r.executed_on.delta(r.sent_on, unit="day").cast("float64"), ibis.null("float64"))
    g = r.group_by(["requesting_country", "requested_country", "type"]).agg(
        sent=r.count(),
        **{s: r.count(where=r.status == s) for s in ("executed", "refused", "pending", "withdrawn")},
        median_days_to_execute=days.median(),
    )
    g = g.select(
        "requesting_country", "requested_country", "type",
        *(g[c].cast("int64").name(c) for c in ("sent", "executed", "refused", "pending", "withdrawn")),
        median_days_to_execute=g.median_days_to_execute.cast("float64"),
    )
    return g.order_by(["requesting_country", "requested_country", "type"])


# The cube-side indicators that only case records give: counts of the rows `count_submission`
# stored, read like any other count (GLOTIP's own ids are registered in `definitions`).
for _id in CASEFILE_ONLY:
    register(_id, "count")(lambda obs, _id=_id: count(obs, _id))


__all__ = [
    "CASEFILE_ONLY", "INDICATORS", "OBSERVATION_TYPES", "attrition", "cooperation", "count_submission",
    "count_submissions",
    "durations", "parse_scope", "sentences", "witnesses",
]
