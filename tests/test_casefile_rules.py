"""The case-file validation catalogue: one broken fixture per rule, and the catalogue's own upkeep.

Each test stages a small submission the way the importer does (one ``stage_<resource>`` table per
sheet, all VARCHAR, ``_line`` = the row a clerk sees) and calls `validate` on it. The baseline is a
valid submission; each case in `BREAKS` changes it so that exactly one rule is broken.
"""

from __future__ import annotations

import copy
import csv
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.conftest import ROOT
from tipwatch.ingest import casefile
from tipwatch.ingest import casefile_rules as cr
from tipwatch.ingest.casefile_rules import Source, rules, validate
from tipwatch.ingest.files import receive
from tipwatch.ingest.registry import Problem

DOCS = ROOT / "docs" / "validation-rules.md"
CATALOGUE = ROOT / "src" / "tipwatch" / "reference" / "data" / "casefile" / "rules.yaml"

Data = dict[str, list[dict[str, str | None]]]
Columns = dict[str, list[str]]


def schema_columns(resource: str) -> list[str]:
    """The template's header of a resource, in order."""
    return [f["name"] for f in cr._schema()[resource]["schema"]["fields"]]


def stage(con: duckdb.DuckDBPyConnection, data: Data, columns: Columns | None = None) -> dict[str, Source]:
    """Load ``{resource: [row dicts]}`` as the importer would: ``stage_<resource>``, all VARCHAR.

    The header is the template's unless ``columns`` gives another (it may repeat a name, as a real
    header can; the table then has the column once). A row's missing keys are empty cells. Values
    are trimmed and empty cells become NULL; ``_line`` is the row's index + 2 (line 1 is the header).
    """
    sources = {}
    for resource, rows in data.items():
        header = list((columns or {}).get(resource) or schema_columns(resource))
        names = list(dict.fromkeys(header))
        cols = ", ".join(f'"{n}" VARCHAR' for n in names)
        con.execute(f'CREATE OR REPLACE TABLE "stage_{resource}" ({cols}, _line INTEGER)')
        values = []
        for i, row in enumerate(rows):
            cells = [(str(row.get(n)).strip() or None) if row.get(n) is not None else None for n in names]
            values.append([*cells, i + 2])
        if values:
            marks = ", ".join("?" * (len(names) + 1))
            con.executemany(f'INSERT INTO "stage_{resource}" VALUES ({marks})', values)
        sources[resource] = Source(resource, f"{resource}.csv", tuple(header))
    return sources


def row(**values: str | None) -> dict[str, str | None]:
    return values


# A valid submission: Thailand, 2020. Case C1 has three defendants (one convicted and appealed, one
# acquitted, one prosecuted) and two victims with services; C2 a suspect under investigation and two
# victims. Three cooperation requests: executed, refused (with grounds), pending.
BASELINE: Data = {
    "submission": [
        row(country="THA", period_start="2020-01-01", period_end="2020-12-31", prepared_on="2021-03-15",
            agency="Anti-Trafficking in Persons Division"),
    ],
    "cases": [
        row(case_ref="C1", opened_on="2020-02-01", offence="Sec. 6 Anti-Trafficking in Persons Act B.E. 2551",
            form="sexual_exploitation", cross_border="yes"),
        row(case_ref="C2", opened_on="2020-05-10", offence="Sec. 6/1", form="forced_labour", cross_border="no"),
    ],
    "persons": [
        row(person_ref="S1", case_ref="C1", role="suspect", sex="male", age="41", citizenship="THA"),  # line 2
        row(person_ref="S2", case_ref="C1", role="suspect", sex="female", age_group="adult", citizenship="MMR"),
        row(person_ref="S3", case_ref="C1", role="suspect", sex="male", age="29", age_group="adult",
            citizenship="THA"),  # line 4
        row(person_ref="V1", case_ref="C1", role="victim", sex="female", age="16", age_group="child",
            citizenship="MMR"),  # line 5
        row(person_ref="V2", case_ref="C1", role="victim", sex="female", age="19", citizenship="LAO"),
        row(person_ref="S4", case_ref="C2", role="suspect", sex="male", age_group="unknown", citizenship="THA"),
        row(person_ref="V3", case_ref="C2", role="victim", sex="male", age_group="unknown", citizenship="KHM"),
        row(person_ref="V4", case_ref="C2", role="victim", sex="male", age="35", citizenship="stateless"),  # 9
    ],
    "proceedings": [
        row(person_ref="S1", case_ref="C1", event="investigation_opened", event_date="2020-02-01"),  # line 2
        row(person_ref="S1", case_ref="C1", event="prosecution_initiated", event_date="2020-04-01"),
        row(person_ref="S1", case_ref="C1", event="first_instance_verdict", event_date="2020-09-01",
            outcome="convicted", sentence_months="60", fine="100000", assets_confiscated="250000"),  # line 4
        row(person_ref="S1", case_ref="C1", event="appeal_verdict", event_date="2020-12-01", outcome="convicted",
            sentence_months="48"),  # line 5
        row(person_ref="S2", case_ref="C1", event="investigation_opened", event_date="2020-02-01"),
        row(person_ref="S2", case_ref="C1", event="prosecution_initiated", event_date="2020-04-01"),
        row(person_ref="S2", case_ref="C1", event="first_instance_verdict", event_date="2020-09-01",
            outcome="acquitted"),  # line 8
        row(person_ref="S3", case_ref="C1", event="investigation_opened", event_date="2020-02-15"),
        row(person_ref="S3", case_ref="C1", event="prosecution_initiated", event_date="2020-05-01"),  # line 10
        row(person_ref="S4", case_ref="C2", event="investigation_opened", event_date="2020-05-10"),  # line 11
    ],
    "services": [
        row(person_ref="V1", case_ref="C1", service="identified", service_date="2020-02-01", provider="police"),
        row(person_ref="V1", case_ref="C1", service="referred", service_date="2020-02-02", provider="ngo"),
        row(person_ref="V1", case_ref="C1", service="sheltered", service_date="2020-02-02"),  # line 4
        row(person_ref="V1", case_ref="C1", service="testified", service_date="2020-09-01"),
        row(person_ref="V1", case_ref="C1", service="compensation_awarded", service_date="2020-09-01",
            amount="50000"),  # line 6
        row(person_ref="V2", case_ref="C1", service="identified", service_date="2020-02-01", provider="police"),
        row(person_ref="V3", case_ref="C2", service="identified", service_date="2020-05-10",
            provider="labour_inspection"),
        row(person_ref="V3", case_ref="C2", service="repatriated", service_date="2020-07-01"),  # line 9
    ],
    "cooperation_requests": [
        row(request_ref="R1", case_ref="C1", type="mla", requesting_country="THA", requested_country="MMR",
            sent_on="2020-03-01", received_on="2020-03-10", executed_on="2020-06-01", status="executed"),
        row(request_ref="R2", type="extradition", requesting_country="MYS", requested_country="THA",
            sent_on="2020-07-01", received_on="2020-07-03", status="refused",
            refusal_grounds="the person sought is a national of the requested State"),  # line 3
        row(request_ref="R3", case_ref="C2", type="police", requesting_country="THA", requested_country="KHM",
            sent_on="2020-11-20", status="pending"),  # line 4
    ],
}

Change = Callable[[Data, Columns], None]


def edit(resource: str, index: int, **values: str | None) -> Change:
    def change(data: Data, columns: Columns) -> None:
        data[resource][index].update(values)
    return change


def add(resource: str, **values: str | None) -> Change:
    def change(data: Data, columns: Columns) -> None:
        data[resource].append(values)
    return change


def copy_row(resource: str, index: int) -> Change:
    def change(data: Data, columns: Columns) -> None:
        data[resource].append(dict(data[resource][index]))
    return change


def drop_resource(resource: str) -> Change:
    def change(data: Data, columns: Columns) -> None:
        del data[resource]
    return change


def header(resource: str, edit_header: Callable[[list[str]], None]) -> Change:
    def change(data: Data, columns: Columns) -> None:
        edit_header(columns[resource])
    return change


@dataclass(frozen=True)
class Break:
    """One way to break exactly one rule, and the problem it must give."""

    code: str
    change: Change
    sheet: str
    line: int | None
    field: str
    fragment: str
    id: str = ""


BREAKS = [
    # The file and its header
    Break("missing-resource", drop_resource("persons"), "persons", None, "", "has no persons sheet or file"),
    Break("missing-column", header("cases", lambda h: h.remove("offence")), "cases.csv", None, "offence",
          "the header has no column offence"),
    Break("missing-column", header("cases", lambda h: h.__setitem__(h.index("case_ref"), "Case Ref")),
          "cases.csv", None, "case_ref", 'rename the column "Case Ref" to case_ref', id="renamed"),
    Break("missing-column", header("cases", lambda h: h.__setitem__(h.index("offence"), "ofense")),
          "cases.csv", None, "offence", 'rename the column "ofense" to offence', id="misspelt"),
    Break("extra-column", header("cases", lambda h: h.append("notes")), "cases.csv", None, "notes",
          "the column notes is not in the template"),
    Break("duplicate-column", header("cases", lambda h: h.append("form")), "cases.csv", None, "form",
          "the header has 2 columns named form"),
    Break("submission-row-count", copy_row("submission", 0), "submission.csv", 3, "",
          "the submission sheet has 2 data rows, and it must have exactly one"),
    # Generic rules from the Table Schema
    Break("required", edit("persons", 0, sex=None), "persons.csv", 2, "sex",
          "sex is empty, and it is required; write unknown when it is not known"),
    Break("required", edit("cases", 1, opened_on=""), "cases.csv", 3, "opened_on",
          "opened_on is empty, and it is required", id="no-hint"),
    Break("type-date", edit("cases", 1, opened_on="31/12/2019"), "cases.csv", 3, "opened_on",
          "31/12/2019 is not a valid date (YYYY-MM-DD); write dates as YYYY-MM-DD, e.g. 2019-12-31"),
    Break("type-date", edit("cases", 1, opened_on="2020-02-30"), "cases.csv", 3, "opened_on",
          "2020-02-30 is not a valid date (YYYY-MM-DD)", id="no-such-day"),
    Break("type-date", edit("cases", 1, opened_on="43961"), "cases.csv", 3, "opened_on",
          "e.g. 2020-05-10", id="excel-day-number"),
    Break("type-integer", edit("persons", 0, age="41 years"), "persons.csv", 2, "age",
          "41 years is not a whole number; did you mean 41?"),
    Break("type-number", edit("proceedings", 2, fine="100,000"), "proceedings.csv", 4, "fine",
          "100,000 is not a number; did you mean 100000?"),
    Break("type-boolean", edit("cases", 0, cross_border="Yes"), "cases.csv", 2, "cross_border",
          "Yes is not yes or no; did you mean yes?"),
    Break("codelist", edit("submission", 0, country="THAI"), "submission.csv", 2, "country",
          "THAI is not a country code; did you mean THA?"),
    Break("codelist", edit("persons", 1, sex="Female"), "persons.csv", 3, "sex",
          "Female is not a sex code; did you mean female?", id="case"),
    Break("codelist", edit("cooperation_requests", 2, requested_country="Cambodia"), "cooperation_requests.csv",
          4, "requested_country", "Cambodia is not a country code; did you mean KHM?", id="country-name"),
    Break("codelist", edit("cases", 1, form="forced labour"), "cases.csv", 3, "form",
          "did you mean forced_labour?", id="label"),
    Break("unique", add("cases", case_ref="C1", opened_on="2020-03-01"), "cases.csv", 4, "case_ref",
          "C1 is already on line 2; each case_ref may appear only once"),
    Break("primary-key", copy_row("persons", 0), "persons.csv", 10, "person_ref, case_ref",
          "S1, C1 is already on line 2"),
    Break("foreign-key", add("persons", person_ref="V9", case_ref="C9", role="victim", sex="female",
                             age_group="adult", citizenship="MMR"),
          "persons.csv", 10, "case_ref", "no row of cases.csv has case_ref = C9"),
    Break("foreign-key", add("proceedings", person_ref="S9", case_ref="C1", event="investigation_opened",
                             event_date="2020-03-01"),
          "proceedings.csv", 12, "person_ref", "no row of persons.csv has person_ref, case_ref = S9, C1",
          id="composite"),
    Break("minimum", edit("proceedings", 2, sentence_months="-6"), "proceedings.csv", 4, "sentence_months",
          "-6 is below 0, the smallest value allowed"),
    Break("maximum", edit("persons", 0, age="410"), "persons.csv", 2, "age",
          "410 is above 120, the largest value allowed"),
    # Persons
    Break("age-group-mismatch", edit("persons", 2, age="12"), "persons.csv", 4, "age_group",
          "age_group adult contradicts the age 12; an age of 12 is age_group child"),
    Break("age-or-age-group", edit("persons", 4, age=None), "persons.csv", 6, "age_group",
          "both age and age_group are empty"),
    # Proceedings
    Break("proceeding-not-suspect", add("proceedings", person_ref="V1", case_ref="C1",
                                        event="investigation_opened", event_date="2020-03-01"),
          "proceedings.csv", 12, "person_ref", "V1 is a victim in case C1"),
    Break("unknown-case", add("services", person_ref="V1", case_ref="C9", service="assisted",
                              service_date="2020-03-01"),
          "services.csv", 10, "case_ref", "case C9 is not in cases.csv"),
    Break("prosecution-before-investigation", edit("proceedings", 8, event_date="2020-02-10"), "proceedings.csv",
          10, "event_date", "the prosecution of S3 on 2020-02-10 is before the investigation opened on 2020-02-15"),
    Break("verdict-before-investigation", add("proceedings", person_ref="S4", case_ref="C2",
                                              event="first_instance_verdict", event_date="2020-04-01",
                                              outcome="acquitted"),
          "proceedings.csv", 12, "event_date",
          "the first_instance_verdict for S4 on 2020-04-01 is before the investigation opened on 2020-05-10"),
    Break("verdict-before-prosecution", add("proceedings", person_ref="S3", case_ref="C1",
                                            event="first_instance_verdict", event_date="2020-03-01",
                                            outcome="acquitted"),
          "proceedings.csv", 12, "event_date", "is before the prosecution initiated on 2020-05-01"),
    Break("conviction-without-prosecution", add("proceedings", person_ref="S4", case_ref="C2",
                                                event="first_instance_verdict", event_date="2020-08-01",
                                                outcome="convicted", sentence_months="24"),
          "proceedings.csv", 12, "event", "S4 is convicted in case C2 but has no prosecution_initiated"),
    Break("appeal-without-verdict", add("proceedings", person_ref="S3", case_ref="C1", event="appeal_verdict",
                                        event_date="2020-11-01", outcome="acquitted"),
          "proceedings.csv", 12, "event", "S3 has an appeal_verdict in case C1 but no first_instance_verdict"),
    Break("appeal-before-verdict", edit("proceedings", 3, event_date="2020-08-01"), "proceedings.csv", 5,
          "event_date", "the appeal_verdict for S1 on 2020-08-01 is before the first_instance_verdict of 2020-09-01"),
    Break("outcome-missing", edit("proceedings", 6, outcome=None), "proceedings.csv", 8, "outcome",
          "the first_instance_verdict row has no outcome"),
    Break("outcome-not-verdict", edit("proceedings", 1, outcome="convicted"), "proceedings.csv", 3, "outcome",
          "the prosecution_initiated row has the outcome convicted"),
    Break("sentence-without-conviction", edit("proceedings", 6, sentence_months="12"), "proceedings.csv", 8,
          "sentence_months", "a sentence_months of 12 is given on the first_instance_verdict with outcome acquitted"),
    Break("sentence-without-conviction", edit("proceedings", 1, fine="5000"), "proceedings.csv", 3, "fine",
          "a fine of 5000 is given on the prosecution_initiated", id="not-a-verdict"),
    # Dates
    Break("period-order", edit("submission", 0, period_start="2021-01-01"), "submission.csv", 2, "period_end",
          "the period ends on 2020-12-31, before it starts on 2021-01-01"),
    Break("date-after-period", edit("services", 7, service_date="2021-02-01"), "services.csv", 9, "service_date",
          "2021-02-01 is after the end of the reporting period, 2020-12-31"),
    Break("date-too-early", edit("cases", 1, opened_on="1920-05-10"), "cases.csv", 3, "opened_on",
          "1920-05-10 is before 1990-01-01; check the year"),
    Break("date-in-future", edit("proceedings", 9, event_date="2999-05-10"), "proceedings.csv", 11, "event_date",
          "2999-05-10 is in the future"),
    # Victim services
    Break("service-not-victim", add("services", person_ref="S1", case_ref="C1", service="assisted",
                                    service_date="2020-03-01"),
          "services.csv", 10, "person_ref", "S1 is a suspect in case C1"),
    Break("provider-missing", edit("services", 1, provider=None), "services.csv", 3, "provider",
          "the referred row has no provider"),
    Break("amount-missing", edit("services", 4, amount=None), "services.csv", 6, "amount",
          "compensation_awarded has no amount"),
    Break("amount-not-compensation", edit("services", 2, amount="500"), "services.csv", 4, "amount",
          "an amount of 500 is given on sheltered"),
    # International cooperation
    Break("received-before-sent", edit("cooperation_requests", 0, received_on="2020-02-20"),
          "cooperation_requests.csv", 2, "received_on", "received on 2020-02-20, before it was sent on 2020-03-01"),
    Break("executed-before-sent", edit("cooperation_requests", 0, executed_on="2020-02-01"),
          "cooperation_requests.csv", 2, "executed_on", "executed on 2020-02-01, before it was sent on 2020-03-01"),
    Break("executed-before-received", edit("cooperation_requests", 0, executed_on="2020-03-05"),
          "cooperation_requests.csv", 2, "executed_on",
          "executed on 2020-03-05, before it was received on 2020-03-10"),
    Break("executed-on-not-executed", edit("cooperation_requests", 2, executed_on="2020-12-01"),
          "cooperation_requests.csv", 4, "status", "the status is pending, but the request has an execution date"),
    Break("executed-without-date", edit("cooperation_requests", 0, executed_on=None), "cooperation_requests.csv",
          2, "executed_on", "the status is executed, but executed_on is empty"),
    Break("refused-without-grounds", edit("cooperation_requests", 1, refusal_grounds=None),
          "cooperation_requests.csv", 3, "refusal_grounds", "refused, but refusal_grounds is empty"),
    Break("grounds-not-refused", edit("cooperation_requests", 2, refusal_grounds="incomplete request"),
          "cooperation_requests.csv", 4, "refusal_grounds", "refusal_grounds is given, but the status is pending"),
    Break("same-country", edit("cooperation_requests", 2, requested_country="THA"), "cooperation_requests.csv",
          4, "requested_country", "the request is sent by THA to THA itself"),
    Break("submitter-not-party", edit("cooperation_requests", 2, requesting_country="VNM"),
          "cooperation_requests.csv", 4, "requesting_country",
          "the request goes from VNM to KHM, and neither is the submitting country THA"),
]


def write_csv_files(folder: Path, data: Data, columns: Columns) -> Path:
    """Write ``data`` as the CSV files a country would send (header as given, may repeat a name)."""
    folder.mkdir(parents=True, exist_ok=True)
    for resource, rows in data.items():
        header = list(columns.get(resource) or schema_columns(resource))
        with (folder / f"{resource}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            w.writerows([["" if row.get(n) is None else row.get(n) for n in header] for row in rows])
    return folder


def run(*changes: Change, limit: int | None = None) -> list:
    """Validate the baseline after ``changes``: written as real CSV files, read by the importer's reader."""
    data = copy.deepcopy(BASELINE)
    columns = {r: schema_columns(r) for r in data}
    for change in changes:
        change(data, columns)
    con = duckdb.connect()
    with tempfile.TemporaryDirectory() as tmp:
        received = receive(write_csv_files(Path(tmp) / "submission", data, columns))
        try:
            return validate(con, casefile.stage(received, con, Path(tmp)), limit=limit)
        finally:
            con.close()


@cache
def problems_of(brk: Break) -> tuple:
    """The problems a break gives (run once per session: the docs test reuses them)."""
    return tuple(run(brk.change))


def test_the_baseline_is_valid():
    assert run() == []


@pytest.mark.parametrize("brk", BREAKS, ids=[f"{b.code}-{b.id}" if b.id else b.code for b in BREAKS])
def test_each_rule_reports_its_break(brk: Break):
    problems = problems_of(brk)
    assert [(p.code, p.sheet, p.line, p.field) for p in problems] == [(brk.code, brk.sheet, brk.line, brk.field)]
    assert brk.fragment in problems[0].message
    assert "{" not in problems[0].message, "a template name the rule does not fill"
    # The message names where the problem is, as the clerk sees it.
    assert problems[0].message.startswith(brk.sheet)


def test_every_rule_has_a_break():
    assert {r.code for r in rules()} == {b.code for b in BREAKS}


def test_at_least_thirty_rules():
    assert len(rules()) >= 30


def test_catalogue_codes_are_stable_kebab_case_and_unique():
    codes = [r.code for r in rules()]
    assert len(codes) == len(set(codes))
    for r in rules():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.code), r.code
        assert r.severity in ("error", "warning"), r.code
        assert r.title and r.checks and r.message.startswith("{where}: "), r.code


def test_templates_use_only_names_they_are_given():
    standard = {"where", "label", "resource", "line", "field", "found", "expected", "hint", "title", "limit"}
    for r in rules():
        names = set(re.findall(r"{(\w+)}", r.message + r.suggestion))
        assert names <= standard | set(r.values), (r.code, names - standard - set(r.values))


def test_every_emitted_code_is_in_the_catalogue_and_every_entry_is_checked():
    assert cr.emitted_codes() == {r.code for r in rules()}


def test_every_rule_is_documented_with_a_real_message():
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^### `([a-z0-9-]+)`", text, flags=re.M))
    assert documented == {r.code for r in rules()}
    # The example under each heading is what the rule really says about its fixture.
    for code in documented:
        messages = [problems_of(b)[0].message for b in BREAKS if b.code == code]
        assert any(m in text for m in messages), f"{code}: none of {messages} is in the docs"


def test_the_codes_the_rules_are_about_are_still_in_their_code_lists():
    lists = cr._codelists()
    assert {cr.SUSPECT, cr.VICTIM} <= set(lists["role"])
    assert {cr.CHILD, cr.ADULT} <= set(lists["age"])
    assert {cr.INVESTIGATION, cr.PROSECUTION, *cr.VERDICTS} <= set(lists["event"])
    assert cr.CONVICTED in lists["outcome"]
    assert {cr.COMPENSATION, *cr.NEEDS_PROVIDER} <= set(lists["service"])
    assert {cr.EXECUTED, cr.REFUSED} <= set(lists["request_status"])


def test_every_schema_codelist_and_type_is_known():
    catalogue = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    for resource in cr._schema().values():
        for f in resource["schema"]["fields"]:
            assert f.get("type", "string") in cr._TYPES, f["name"]
            if "codelist" in f.get("constraints", {}):
                assert f["constraints"]["codelist"] in catalogue["codelists"], f["name"]


@pytest.mark.parametrize(("resource", "column"), [(r, c) for r in BASELINE for c in schema_columns(r)])
def test_a_column_missing_from_the_header_is_reported_once(resource, column):
    problems = run(header(resource, lambda h: h.remove(column)))
    assert [(p.code, p.sheet, p.field) for p in problems] == [("missing-column", f"{resource}.csv", column)]


def test_total_is_not_a_valid_value_in_a_case_file():
    problems = run(edit("persons", 0, sex="total"), edit("persons", 1, age_group="total"))
    assert [(p.code, p.line, p.field) for p in problems] == [("codelist", 2, "sex"), ("codelist", 3, "age_group")]


def test_a_suspects_victim_and_malformed_value_are_not_reported_twice():
    # An event that is not a code is a codelist problem only, not also a missing outcome etc.
    problems = run(edit("proceedings", 6, event="First instance verdict"))
    assert [(p.code, p.line) for p in problems] == [("codelist", 8)]
    assert problems[0].message.endswith("did you mean first_instance_verdict?")


def test_all_problems_of_a_file_at_once_ordered_by_sheet_line_and_column():
    problems = run(
        edit("services", 1, provider=None),
        edit("persons", 3, citizenship="Myanmar", sex="F"),
        edit("persons", 0, age="x"),
        edit("submission", 0, country="Thailand"),
    )
    assert [(p.sheet, p.line, p.field, p.code) for p in problems] == [
        ("submission.csv", 2, "country", "codelist"),
        ("persons.csv", 2, "age", "type-integer"),
        ("persons.csv", 5, "sex", "codelist"),
        ("persons.csv", 5, "citizenship", "codelist"),
        ("services.csv", 3, "provider", "provider-missing"),
    ]
    assert problems[0].message.endswith("did you mean THA?")
    assert problems[3].message.endswith("did you mean MMR?")


def test_occurrences_beyond_the_limit_are_counted_in_one_summary():
    changes = [edit("persons", i, sex="Female") for i in range(5)]
    problems = run(*changes, limit=2)
    assert [(p.code, p.line, p.field) for p in problems] == [
        ("codelist", 2, "sex"), ("codelist", 3, "sex"), ("codelist", None, "sex")]
    assert problems[-1].message == (
        "persons.csv, field sex: 3 more rows break this rule (Not a code of its code list); "
        "only the first 2 are listed")


def test_a_missing_optional_sheet_is_fine_and_checks_needing_it_are_skipped():
    assert run(drop_resource("cooperation_requests"), drop_resource("services"), drop_resource("proceedings")) == []


def test_the_checked_tables_are_dropped():
    data = copy.deepcopy(BASELINE)
    con = duckdb.connect()
    sources = stage(con, data)
    before = con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
    validate(con, sources)
    assert con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall() == before


def test_a_problem_carries_its_values_and_prints_its_place_once():
    (p,) = run(edit("submission", 0, country="THAI"))
    assert isinstance(p, Problem)
    assert (p.sheet, p.line, p.field, p.found) == ("submission.csv", 2, "country", "THAI")
    assert p.expected == "an ISO 3166 alpha-3 country code"
    assert str(p) == "submission.csv, line 2, field country: THAI is not a country code; did you mean THA? [codelist]."


@pytest.mark.parametrize(("codelist", "found", "expected"), [
    ("country", "THAI", "THA"),
    ("country", "tha", "THA"),
    ("country", "Viet Nam", "VNM"),
    ("country", "TH", "THA"),
    ("citizenship", "Stateless", "stateless"),
    ("sex", "Female", "female"),
    ("age", "Child (0-17)", "child"),
    ("form", "Forced labour", "forced_labour"),
    ("service", "compensation", "compensation_awarded"),
    ("country", "Atlantis", None),
])
def test_suggest_code(codelist, found, expected):
    assert cr.suggest_code(codelist, found) == expected


@pytest.mark.parametrize(("rule", "found", "expected"), [
    ("type-date", "31/12/2019", "2019-12-31"),
    ("type-date", "12/31/2019", "2019-12-31"),
    ("type-date", "2019/12/31", "2019-12-31"),
    ("type-date", "2019-12-31 00:00:00", "2019-12-31"),
    ("type-date", "20191231", "2019-12-31"),
    ("type-date", "2019-2-30", None),
    ("type-integer", "34.0", "34"),
    ("type-integer", "12.5", None),
    ("type-number", "1,500.50", "1500.50"),
    ("type-number", "1.500,50", "1500.50"),
    ("type-number", "THB 2 000", "2000"),
    ("type-boolean", "TRUE", "yes"),
    ("type-boolean", "N", "no"),
    ("type-boolean", "maybe", None),
])
def test_hints(rule, found, expected):
    con = duckdb.connect()
    compiler = cr._Compiler(con, {})
    assert cr._HINTS[rule](compiler, "cases", "x", found) == expected


def test_two_hundred_thousand_persons_with_three_planted_errors():
    """Not a timing test: a large file gives exactly the problems planted in it, no more."""
    con = duckdb.connect()
    n_cases, n_persons = 40_000, 200_000
    con.execute("CREATE TABLE stage_submission AS SELECT 'THA' AS country, '2020-01-01' AS period_start, "
                "'2020-12-31' AS period_end, '2021-03-15' AS prepared_on, CAST(NULL AS VARCHAR) AS agency, "
                "2 AS _line")
    con.execute(f"""CREATE TABLE stage_cases AS SELECT 'C' || i AS case_ref, '2020-03-01' AS opened_on,
        'Sec. 6' AS offence, 'forced_labour' AS form, 'no' AS cross_border, CAST(i + 2 AS INTEGER) AS _line
        FROM range({n_cases}) AS t(i)""")
    con.execute(f"""CREATE TABLE stage_persons AS SELECT 'P' || i AS person_ref, 'C' || (i % {n_cases}) AS case_ref,
        CASE WHEN i % 5 = 0 THEN 'suspect' ELSE 'victim' END AS role,
        CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END AS sex,
        CAST(18 + i % 50 AS VARCHAR) AS age, CAST(NULL AS VARCHAR) AS age_group, 'MMR' AS citizenship,
        CAST(i + 2 AS INTEGER) AS _line FROM range({n_persons}) AS t(i)""")
    con.execute("UPDATE stage_persons SET age = '130' WHERE _line = 1001")
    con.execute("UPDATE stage_persons SET sex = 'Female' WHERE _line = 77777")
    con.execute("UPDATE stage_persons SET case_ref = 'C-404' WHERE _line = 199999")
    sources = {r: Source(r, r, tuple(schema_columns(r))) for r in ("submission", "cases", "persons")}
    problems = validate(con, sources)
    assert [(p.code, p.line, p.field) for p in problems] == [
        ("maximum", 1001, "age"), ("codelist", 77777, "sex"), ("foreign-key", 199999, "case_ref")]
