"""The validation catalogue of the case-file submission template, compiled to DuckDB SQL.

The catalogue (codes, titles, message and suggestion templates, severities) is data:
`reference/data/casefile/rules.yaml`. The data model is the Table Schema data package beside it.
This module turns both into SQL and the SQL's rows into `Problem` objects:

1. The importer has loaded each resource as ``stage_<resource>``, a table or a view (all VARCHAR,
   plus ``_line`` unless each row's line is its position + 2, as in a CSV file with its header).
2. `validate` copies each into a temporary *checked* table that holds, for every field of the
   schema, the text as written (``<field>__raw``) and the typed value (``<field>``), which is NULL
   when the text is not a valid value of the field's type or code list. Rules about one value read
   the raw text; rules about relations between values read the typed columns, so a value that is
   already reported as malformed never sets off a second, confusing problem.
3. Every check is a registered unit that returns one ``SELECT`` giving rows of
   ``(code, line, field, found, expected, extra)``; ``extra`` is a JSON object of the names a
   message template uses. Generic checks are generated per field from the schema; cross-field and
   cross-table checks are written out. All checks of one resource are UNION ALL'd and run once,
   with a window that keeps the first `limit` rows per rule and field and counts the rest.
4. Messages and suggestions are rendered in Python from those few rows only.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any, NamedTuple

import duckdb
import yaml

from tipwatch import reference
from tipwatch.ingest.registry import Problem

CASEFILE = reference.DATA / "casefile"

# Codes the cross-field rules are about. They are logic, not lists: a test checks that each is
# still a code of its code list.
SUSPECT, VICTIM = "suspect", "victim"
CHILD, ADULT = "child", "adult"
INVESTIGATION = "investigation_opened"
PROSECUTION = "prosecution_initiated"
FIRST_VERDICT, APPEAL = "first_instance_verdict", "appeal_verdict"
VERDICTS = (FIRST_VERDICT, APPEAL)
CONVICTED = "convicted"
COMPENSATION = "compensation_awarded"
NEEDS_PROVIDER = ("identified", "referred")
EXECUTED, REFUSED = "executed", "refused"

# A short code list is spelt out in `expected`; a long one (countries) is described.
_SPELL_OUT = 12


@dataclass(frozen=True)
class Source:
    """One resource as the importer found it in the received file.

    Attributes:
        resource: The data package resource (``cases``, ``persons``, ...).
        label: What a clerk sees: a sheet name (``persons``) or a file name (``persons.csv``).
        columns: The header as found in the file, in order.
    """

    resource: str
    label: str
    columns: tuple[str, ...]


@dataclass
class CasefileProblem(Problem):
    """A `Problem` whose message already names its sheet, line, field and values.

    A clerk may read the message alone (in a JSON report, a dashboard), so it says where the
    problem is. Printed, it is that message and the code: `Problem.__str__` would put the location
    and the values in front and behind it a second time.
    """

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]."


@dataclass(frozen=True)
class Rule:
    """One entry of the validation catalogue.

    Attributes:
        code: Stable kebab-case code (``codelist``, ``verdict-before-investigation``).
        title: A short name for lists and reports.
        severity: ``error`` (the file cannot be imported as it is) or ``warning``.
        checks: What the rule checks, in a sentence.
        message: The message template; see the head of `rules.yaml` for its names.
        suggestion: The suggestion template, appended to the message after a semicolon.
        values: The extra template names the rule's SQL fills in.
    """

    code: str
    title: str
    severity: str
    checks: str
    message: str
    suggestion: str = ""
    values: tuple[str, ...] = ()


# --- Catalogue, schema and code lists (data files) ------------------------------------------------


@cache
def _catalogue() -> dict[str, Any]:
    return yaml.safe_load((CASEFILE / "rules.yaml").read_text(encoding="utf-8"))


@cache
def _rules_by_code() -> dict[str, Rule]:
    out = {}
    for r in _catalogue()["rules"]:
        out[r["code"]] = Rule(r["code"], r["title"], r["severity"], r["checks"], r["message"],
                              r.get("suggestion", ""), tuple(r.get("values", ())))
    return out


def rules() -> list[Rule]:
    """The validation catalogue, in the order of `rules.yaml`."""
    return list(_rules_by_code().values())


@cache
def _schema() -> dict[str, dict]:
    """The data package's resources by name, in file order."""
    package = json.loads((CASEFILE / "datapackage.json").read_text(encoding="utf-8"))
    return {r["name"]: r for r in package["resources"]}


def _casefile_codelist(name: str) -> dict[str, str]:
    with (CASEFILE / "codelists" / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return {r["code"]: r["label"] for r in csv.DictReader(fh)}


@cache
def _codelists() -> dict[str, dict[str, str]]:
    """Every code list the schema names: code → label (a country's name for countries)."""
    out = {}
    for name, spec in _catalogue()["codelists"].items():
        source = spec["from"]
        if source == "countries":
            codes = {iso3: c.name for iso3, c in reference.countries().items()}
        elif source == "reference":
            codes = {code: row["label"] for code, row in reference.codelist(name).items()}
        elif source == "casefile":
            codes = _casefile_codelist(name)
        else:
            raise ValueError(f"rules.yaml: code list {name} comes from unknown source {source!r}")
        for code in spec.get("exclude", ()):
            codes.pop(code, None)
        special = reference.codelist("citizenship_special")
        for code in spec.get("plus", ()):
            codes[code] = special.get(code, {}).get("label", code)
        out[name] = codes
    return out


@cache
def _aliases(name: str) -> dict[str, str]:
    """Case-folded spellings that mean a code: the code itself, its label; for countries ISO2."""
    codes = _codelists()[name]
    alias = {label.casefold(): code for code, label in codes.items()}
    if _catalogue()["codelists"][name]["from"] == "countries":
        alias.update({c.iso2.casefold(): iso3 for iso3, c in reference.countries().items() if c.iso2})
    alias.update({code.casefold(): code for code in codes})
    return alias


# --- SQL helpers ----------------------------------------------------------------------------------


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: object) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _raw(name: str) -> str:
    return _ident(f"{name}__raw")


def _select(code: str, field: str, found: str, expected: str = "NULL", extra: dict[str, str] | None = None,
            line: str = "_line") -> str:
    """The projection every check returns; the caller appends FROM and WHERE."""
    if extra:
        pairs = ", ".join(f"{_lit(k)}: CAST({v} AS VARCHAR)" for k, v in extra.items())
        extra_sql = f"CAST(to_json({{{pairs}}}) AS VARCHAR)"
    else:
        extra_sql = "CAST(NULL AS VARCHAR)"
    return (f"SELECT {_lit(code)} AS code, CAST({line} AS INTEGER) AS line, {_lit(field)} AS field, "
            f"CAST({found} AS VARCHAR) AS found, CAST({expected} AS VARCHAR) AS expected, {extra_sql} AS extra")


# How each Table Schema type is checked and typed. The patterns are stricter than DuckDB's casts on
# purpose: DuckDB reads '12.5' as the integer 13 and '2019-1-5' as a date; a submission must not.
_TYPES: dict[str, tuple[str, str, str]] = {
    # type: (SQL type, cast of {v} when valid else NULL, expected)
    "string": ("VARCHAR", "{v}", "text"),
    "date": ("DATE", "CASE WHEN regexp_full_match({v}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
                     "THEN TRY_CAST({v} AS DATE) END", "a date written YYYY-MM-DD"),
    "integer": ("BIGINT", "CASE WHEN regexp_full_match({v}, '[+-]?[0-9]{{1,18}}') THEN CAST({v} AS BIGINT) END",
                "a whole number"),
    # Table Schema also allows NaN and INF; an amount or a sentence never is.
    "number": ("DOUBLE", "CASE WHEN regexp_full_match({v}, '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?') "
                         "THEN CAST({v} AS DOUBLE) END", "a number such as 1500 or 12.5"),
    "boolean": ("BOOLEAN", "CASE WHEN {v} IN ({true}) THEN TRUE WHEN {v} IN ({false}) THEN FALSE END",
                "yes or no"),
}


class _Row(NamedTuple):
    resource: str
    code: str
    line: int | None
    field: str
    found: str | None
    expected: str | None
    extra: dict[str, Any]
    total: int = 1


class _Compiler:
    """What the checks need to write their SQL: the schema, the sources, the checked tables."""

    def __init__(self, con: duckdb.DuckDBPyConnection, sources: dict[str, Source], prefix: str | None = None) -> None:
        unknown = set(sources) - set(_schema())
        if unknown:
            raise ValueError(f"not resources of the case-file template: {', '.join(sorted(unknown))}")
        self.con = con
        self.sources = sources
        self.prefix = prefix or f"_tw_check_{uuid.uuid4().hex[:12]}_"
        self.params = _catalogue()["params"]
        self.today = date.today()
        self.columns = {
            r: {d[0] for d in con.execute(f"SELECT * FROM {_ident('stage_' + r)} LIMIT 0").description}
            for r in sources
        }
        self.created: list[str] = []

    def has(self, *resources: str) -> bool:
        return all(r in self.sources for r in resources)

    def t(self, resource: str) -> str:
        """The checked table of a resource."""
        return _ident(self.prefix + resource)

    def fields(self, resource: str) -> list[dict]:
        return _schema()[resource]["schema"]["fields"]

    def present(self, resource: str, name: str) -> bool:
        return name in self.columns.get(resource, ())

    def available(self, need: str) -> bool:
        """Whether a resource (``persons``) or a column of one (``persons.role``) is in the file."""
        resource, _, column = need.partition(".")
        return self.has(resource) and (not column or self.present(resource, column))

    def label(self, resource: str) -> str:
        source = self.sources.get(resource)
        return source.label if source else resource

    def submission(self, name: str) -> str:
        """A value of the submission row, NULL unless there is exactly one row."""
        t = self.t("submission")
        return f"(SELECT {_ident(name)} FROM {t} WHERE (SELECT count(*) FROM {t}) = 1)"

    def prepare(self) -> None:
        """Create one checked table per resource present (a table of rows and a view over it)."""
        reads: list[str] = []
        views: list[str] = []
        for resource in self.sources:
            # A stage without ``_line`` (a view over a CSV file) is read here, once. Its rows are
            # numbered by a window over the scan, which follows the file's order (a table's rowid
            # does not: a wide projection may store chunks out of order); the header is line 1.
            numbered = "_line" in self.columns[resource]
            cols = ["_line" if numbered else "CAST(row_number() OVER () + 1 AS INTEGER) AS _line"]
            aliases = []  # text fields with no code list: the typed value is the text, stored once
            for f in self.fields(resource):
                name, typ = f["name"], f.get("type", "string")
                sql_type = _TYPES[typ][0]
                if not self.present(resource, name):
                    cols += [f"CAST(NULL AS {sql_type}) AS {_ident(name)}", f"CAST(NULL AS VARCHAR) AS {_raw(name)}"]
                    continue
                v = _ident(name)
                codelist = f.get("constraints", {}).get("codelist")
                if typ == "string" and not codelist:
                    cols.append(v)
                    aliases.append(f"{v} AS {_raw(name)}")
                    continue
                typed = _cast(typ, v)
                if codelist:
                    # list_contains, not IN: DuckDB may turn a long IN list into a join.
                    codes = ", ".join(map(_lit, _codelists()[codelist]))
                    typed = f"CASE WHEN list_contains([{codes}], {v}) THEN {typed} END"
                cols += [f"{typed} AS {v}", f"{v} AS {_raw(name)}"]
            table = self.prefix + resource
            reads.append(f"CREATE TABLE {_ident(table + '__rows')} AS SELECT {', '.join(cols)} "
                         f"FROM {_ident('stage_' + resource)}")
            views.append(f"CREATE VIEW {_ident(table)} AS SELECT *{''.join(', ' + a for a in aliases)} "
                         f"FROM {_ident(table + '__rows')}")
            self.created += [table + "__rows", table]
        # The window that numbers a file's rows reads it on one thread: read the files side by
        # side, each on a connection of its own (a cursor), so that both cores work.
        cursors = [self.con.cursor() for _ in reads]
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(lambda job: job[0].execute(job[1]), zip(cursors, reads, strict=True)))
        finally:
            for cur in cursors:
                cur.close()
        for sql in views:
            self.con.execute(sql)

    def drop(self, keep: Iterable[str] = ()) -> None:
        """Drop the checked tables, except those named in ``keep`` (with their rows)."""
        keep = {k for name in keep for k in (name, name + "__rows")}
        for name in reversed(self.created):
            if name not in keep:
                kind = "TABLE" if name.endswith("__rows") else "VIEW"
                self.con.execute(f"DROP {kind} IF EXISTS {_ident(name)}")
        self.created.clear()


# --- The registry of checks -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Check:
    code: str
    scope: str  # "field": called for every field of every resource present; "table": once per resource
    build: Callable[..., str | Iterable[str] | None]
    resource: str | None = None  # only this resource (None: every resource)
    needs: tuple[str, ...] = ()  # resources ("persons") or columns ("persons.role") it needs
    reads: tuple[str, ...] = ()  # columns of the checked resource it needs


_CHECKS: list[_Check] = []
_HEADER_CHECKS: dict[str, Callable[[_Compiler], Iterable[_Row]]] = {}
_HINTS: dict[str, Callable[..., str | None]] = {}


def check(code: str, *, scope: str = "table", resource: str | None = None, needs: tuple[str, ...] = (),
          reads: tuple[str, ...] = ()):
    """Register a SQL check under a catalogue code (the built-ins use this too).

    Args:
        code: The rule's code in `rules.yaml`.
        scope: ``"field"``: ``build(compiler, resource, field)`` for every field of the schema;
            ``"table"``: ``build(compiler, resource)``.
        resource: Run for this resource only.
        needs: Other resources (``persons``) or their columns (``persons.role``) that must be in
            the file for the check to run.
        reads: Columns of the checked resource that must be in its header. A check that takes an
            empty cell as a finding must name its column here, or a column missing from the
            header would be reported again on every row.
    """
    def deco(fn):
        _CHECKS.append(_Check(code, scope, fn, resource, needs, reads))
        return fn
    return deco


def header_check(code: str):
    """Register a check of the file's sheets and headers (no SQL: it reads `Source.columns`)."""
    def deco(fn):
        _HEADER_CHECKS[code] = fn
        return fn
    return deco


def hint(code: str):
    """Register the function that computes a rule's ``{hint}`` from a found value."""
    def deco(fn):
        _HINTS[code] = fn
        return fn
    return deco


def emitted_codes() -> set[str]:
    """Every code the registered checks can emit (a test compares it with the catalogue)."""
    return {c.code for c in _CHECKS} | set(_HEADER_CHECKS)


# --- Header checks --------------------------------------------------------------------------------


def _norm(name: str) -> str:
    return re.sub(r"[\s\-.]+", "_", name.strip().casefold())


@header_check("missing-resource")
def _missing_resource(c: _Compiler) -> Iterable[_Row]:
    for resource in _catalogue()["required_resources"]:
        if not c.has(resource):
            yield _Row(resource, "missing-resource", None, "", None, f"a {resource} sheet or file",
                       {"resource": resource})


@header_check("missing-column")
def _missing_column(c: _Compiler) -> Iterable[_Row]:
    for resource, source in c.sources.items():
        for f in c.fields(resource):
            if f["name"] not in source.columns:
                yield _Row(resource, "missing-column", None, f["name"], None, f["name"], {})


@header_check("extra-column")
def _extra_column(c: _Compiler) -> Iterable[_Row]:
    for resource, source in c.sources.items():
        names = {f["name"] for f in c.fields(resource)}
        renamed = set(_renamed(c, resource).values())
        # A blank header cell is an empty spreadsheet column, not a column someone meant; a column
        # that is a missing one misspelt ("Case Ref") is said once, by missing-column.
        for col in dict.fromkeys(source.columns):
            if col and col not in names and col != "_line" and col not in renamed:
                yield _Row(resource, "extra-column", None, col, col, None, {})


@header_check("duplicate-column")
def _duplicate_column(c: _Compiler) -> Iterable[_Row]:
    for resource, source in c.sources.items():
        for col, n in Counter(source.columns).items():
            if col and n > 1:
                yield _Row(resource, "duplicate-column", None, col, col, None, {"count": n})


def _renamed(c: _Compiler, resource: str) -> dict[str, str]:
    """Missing template columns → the header cell that looks like each ("Case Ref", "caseref")."""
    columns = c.sources[resource].columns
    names = [f["name"] for f in c.fields(resource)]
    others = [col for col in dict.fromkeys(columns) if col and col not in names]
    out: dict[str, str] = {}
    for field in (n for n in names if n not in columns):  # in template order: the same answer every time
        hit = next((col for col in others
                    if _norm(col) == field or _norm(col).replace("_", "") == field.replace("_", "")), None)
        if hit is None:
            close = difflib.get_close_matches(field, [_norm(col) for col in others], n=1, cutoff=0.75)
            hit = next((col for col in others if close and _norm(col) == close[0]), None)
        if hit is not None and hit not in out.values():
            out[field] = hit
    return out


@hint("missing-column")
def _hint_missing_column(c: _Compiler, resource: str, field: str, found: str | None) -> str | None:
    col = _renamed(c, resource).get(field)
    return f'"{col}"' if col else None


@hint("extra-column")
def _hint_extra_column(c: _Compiler, resource: str, field: str, found: str | None) -> str | None:
    # Only a template column the header lacks: one that is there cannot be what was meant.
    missing = [f["name"] for f in c.fields(resource) if f["name"] not in c.sources[resource].columns]
    close = difflib.get_close_matches(_norm(field), missing, n=1, cutoff=0.6)
    return close[0] if close else None


# --- Generic checks, generated from the Table Schema ----------------------------------------------


@check("submission-row-count", resource="submission")
def _submission_rows(c: _Compiler, resource: str) -> Iterable[str]:
    t = c.t(resource)
    yield (_select("submission-row-count", "", "n", "'1'", line="NULL")
           + f" FROM (SELECT count(*) AS n FROM {t}) WHERE n = 0")
    yield (_select("submission-row-count", "", "n", "'1'")
           + f" FROM (SELECT _line, count(*) OVER () AS n, row_number() OVER (ORDER BY _line) AS k FROM {t}) "
           "WHERE k > 1")


@check("required", scope="field")
def _required(c: _Compiler, resource: str, f: dict) -> str | None:
    name = f["name"]
    if not f.get("constraints", {}).get("required") or not c.present(resource, name):
        return None  # a missing column is reported once, as missing-column, not once per row
    return _select("required", name, "NULL", "'a value'") + f" FROM {c.t(resource)} WHERE {_raw(name)} IS NULL"


def _cast(typ: str, v: str) -> str:
    """The SQL that types ``v`` as ``typ``, NULL when ``v`` is not a valid value of it."""
    booleans = _catalogue()["booleans"]
    return _TYPES[typ][1].format(v=v, true=", ".join(map(_lit, booleans["true_values"])),
                                 false=", ".join(map(_lit, booleans["false_values"])))


def _type_check(typ: str) -> Callable[[_Compiler, str, dict], str | None]:
    def build(c: _Compiler, resource: str, f: dict) -> str | None:
        name = f["name"]
        if f.get("type", "string") != typ or not c.present(resource, name):
            return None
        # With a code list, cast the raw text again: the checked column is also NULL for a valid
        # value that is not a code of the list, which is codelist's business, not this rule's.
        # Without one, the checked column is NULL exactly when the text is not of the type.
        has_list = bool(f.get("constraints", {}).get("codelist"))
        invalid = f"({_cast(typ, _raw(name))}) IS NULL" if has_list else f"{_ident(name)} IS NULL"
        return (_select(f"type-{typ}", name, _raw(name), _lit(_TYPES[typ][2]))
                + f" FROM {c.t(resource)} WHERE {_raw(name)} IS NOT NULL AND {invalid}")
    return build


for _typ in _TYPES:
    if _typ != "string":
        check(f"type-{_typ}", scope="field")(_type_check(_typ))


def _codelist_expected(name: str) -> str:
    spec = _catalogue()["codelists"][name]
    codes = _codelists()[name]
    if "expected" in spec or len(codes) > _SPELL_OUT:
        return spec.get("expected", spec["what"])
    return "one of " + ", ".join(codes)


@check("codelist", scope="field")
def _codelist(c: _Compiler, resource: str, f: dict) -> str | None:
    name = f["name"]
    codelist = f.get("constraints", {}).get("codelist")
    if not codelist or not c.present(resource, name):
        return None
    what = _catalogue()["codelists"][codelist]["what"]
    # The checked column is NULL exactly when the raw text is not a code of the list.
    return (_select("codelist", name, _raw(name), _lit(_codelist_expected(codelist)), {"what": _lit(what)})
            + f" FROM {c.t(resource)} WHERE {_raw(name)} IS NOT NULL AND {_ident(name)} IS NULL")


@check("unique", scope="field")
def _unique(c: _Compiler, resource: str, f: dict) -> str | None:
    name = f["name"]
    if not f.get("constraints", {}).get("unique") or not c.present(resource, name):
        return None
    raw = _raw(name)
    repeated = (f"(SELECT {raw}, min(_line) AS first FROM {c.t(resource)} WHERE {raw} IS NOT NULL "
                f"GROUP BY ALL HAVING count(*) > 1)")
    return (_select("unique", name, f"x.{raw}", "'a value not used on another row'", {"first": "r.first"},
                    line="x._line")
            + f" FROM {c.t(resource)} AS x JOIN {repeated} AS r USING ({raw}) WHERE x._line > r.first")


def _bound(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@check("minimum", scope="field")
def _minimum(c: _Compiler, resource: str, f: dict) -> str | None:
    bound = f.get("constraints", {}).get("minimum")
    if bound is None or not c.present(resource, f["name"]):
        return None
    return (_select("minimum", f["name"], _raw(f["name"]), _lit(f"at least {_bound(bound)}"),
                    {"bound": _lit(_bound(bound))})
            + f" FROM {c.t(resource)} WHERE {_ident(f['name'])} < {bound}")


@check("maximum", scope="field")
def _maximum(c: _Compiler, resource: str, f: dict) -> str | None:
    bound = f.get("constraints", {}).get("maximum")
    if bound is None or not c.present(resource, f["name"]):
        return None
    return (_select("maximum", f["name"], _raw(f["name"]), _lit(f"at most {_bound(bound)}"),
                    {"bound": _lit(_bound(bound))})
            + f" FROM {c.t(resource)} WHERE {_ident(f['name'])} > {bound}")


@check("primary-key")
def _primary_key(c: _Compiler, resource: str) -> str | None:
    keys = _schema()[resource]["schema"].get("primaryKey")
    if not keys or not all(c.present(resource, k) for k in keys):
        return None
    if len(keys) == 1:
        f = next(f for f in c.fields(resource) if f["name"] == keys[0])
        if f.get("constraints", {}).get("unique"):
            return None  # already reported by unique
    raw = ", ".join(_raw(k) for k in keys)
    t = f"(SELECT _line, {raw} FROM {c.t(resource)} WHERE {' AND '.join(f'{_raw(k)} IS NOT NULL' for k in keys)})"
    # The repeated keys first (one hash aggregate), then their later rows: no window over every row.
    repeated = f"(SELECT {raw}, min(_line) AS first FROM {t} GROUP BY ALL HAVING count(*) > 1)"
    return (_select("primary-key", ", ".join(keys), "concat_ws(', ', " + ", ".join(f"r.{_raw(k)}" for k in keys) + ")",
                    "'a combination not used on another row'", {"first": "r.first"}, line="x._line")
            + f" FROM {t} AS x JOIN {repeated} AS r USING ({raw}) WHERE x._line > r.first")


@check("foreign-key")
def _foreign_key(c: _Compiler, resource: str) -> Iterable[str]:
    for fk in _schema()[resource]["schema"].get("foreignKeys", ()):
        fields, target, target_fields = fk["fields"], fk["reference"]["resource"], fk["reference"]["fields"]
        if not (c.has(target) and all(c.present(resource, f) for f in fields)
                and all(c.present(target, f) for f in target_fields)):
            continue  # a missing sheet or column is reported once, not as a broken reference per row
        mapping = dict(zip(target_fields, fields, strict=True))
        match = " AND ".join(f"p.{_raw(t)} = c.{_raw(f)}" for t, f in mapping.items())
        where = [f"c.{_raw(f)} IS NOT NULL" for f in fields]
        # Anti and semi joins (hash joins), not correlated NOT EXISTS: a million rows check in a blink.
        joins = [f"ANTI JOIN {c.t(target)} AS p ON {match}"]
        # When part of the key refers further on (a proceeding's case_ref: persons → cases) and that
        # part is already missing there, the nearer rule (unknown-case) says so; do not say it twice.
        guarded: set[str] = set()
        for parent_fk in _schema()[target]["schema"].get("foreignKeys", ()):
            grand = parent_fk["reference"]
            if (set(parent_fk["fields"]) <= set(target_fields) and c.has(grand["resource"])
                    and all(c.present(grand["resource"], g) for g in grand["fields"])):
                pairs = zip(grand["fields"], parent_fk["fields"], strict=True)
                g_match = " AND ".join(f"g.{_raw(g)} = c.{_raw(mapping[p])}" for g, p in pairs)
                joins.append(f"SEMI JOIN {c.t(grand['resource'])} AS g ON {g_match}")
                guarded |= {mapping[p] for p in parent_fk["fields"]}
        shown = [f for f in fields if f not in guarded] or fields
        found = f"concat_ws(', ', {', '.join(f'c.{_raw(f)}' for f in fields)})"
        yield (_select("foreign-key", ", ".join(shown), found,
                       _lit(f"a row of {c.label(target)} with the same {', '.join(target_fields)}"),
                       {"target": _lit(c.label(target)), "target_fields": _lit(", ".join(target_fields))},
                       line="c._line")
               + f" FROM (SELECT * FROM {c.t(resource)} WHERE {' AND '.join(w.removeprefix('c.') for w in where)}) "
               f"AS c {' '.join(joins)}")


# --- Dates ----------------------------------------------------------------------------------------


def _is_date(f: dict) -> bool:
    return f.get("type") == "date"


@check("date-too-early", scope="field")
def _date_too_early(c: _Compiler, resource: str, f: dict) -> str | None:
    if not _is_date(f) or not c.present(resource, f["name"]):
        return None
    floor = c.params["earliest_date"]
    return (_select("date-too-early", f["name"], _raw(f["name"]), _lit(f"on or after {floor}"), {"floor": _lit(floor)})
            + f" FROM {c.t(resource)} WHERE {_ident(f['name'])} < DATE {_lit(floor)}")


@check("date-in-future", scope="field")
def _date_in_future(c: _Compiler, resource: str, f: dict) -> str | None:
    if not _is_date(f) or not c.present(resource, f["name"]):
        return None
    # Python's today, not DuckDB's current_date: the same day the tests and the clerk see.
    today = c.today.isoformat()
    return (_select("date-in-future", f["name"], _raw(f["name"]), _lit(f"on or before {today}"))
            + f" FROM {c.t(resource)} WHERE {_ident(f['name'])} > DATE {_lit(today)}")


@check("date-after-period", scope="field", needs=("submission.period_end",))
def _date_after_period(c: _Compiler, resource: str, f: dict) -> str | None:
    if resource == "submission" or not _is_date(f) or not c.present(resource, f["name"]):
        return None
    end = c.submission("period_end")
    # A date in the future is after the period too; date-in-future is the more useful message.
    return (_select("date-after-period", f["name"], _raw(f["name"]), f"'on or before ' || {end}", {"end": end})
            + f" FROM {c.t(resource)} WHERE {_ident(f['name'])} > {end} "
            f"AND {_ident(f['name'])} <= DATE {_lit(c.today.isoformat())}")


@check("period-order", resource="submission")
def _period_order(c: _Compiler, resource: str) -> str:
    return (_select("period-order", "period_end", "period_end__raw", "period_start")
            + f" FROM {c.t(resource)} WHERE period_end < period_start")


# --- Persons --------------------------------------------------------------------------------------


@check("age-group-mismatch", resource="persons")
def _age_group_mismatch(c: _Compiler, resource: str) -> str:
    adult = int(c.params["adult_age"])
    right = f"CASE WHEN age < {adult} THEN {_lit(CHILD)} ELSE {_lit(ADULT)} END"
    return (_select("age-group-mismatch", "age_group", "age_group", right, {"age": "age__raw"})
            + f" FROM {c.t(resource)} WHERE age IS NOT NULL AND age >= 0 AND age_group IS NOT NULL "
            f"AND age_group <> {right}")


@check("age-or-age-group", resource="persons", reads=("age", "age_group"))
def _age_or_age_group(c: _Compiler, resource: str) -> str:
    return (_select("age-or-age-group", "age_group", "NULL", "'an age, or an age group'")
            + f" FROM {c.t(resource)} WHERE age__raw IS NULL AND age_group__raw IS NULL")


def _role_of(c: _Compiler, rows: str) -> str:
    """Each (person, case) that ``rows`` refers to, with its valid role, once (a repeated row is
    primary-key's business). Only the persons referred to are grouped, not every person."""
    return (f"(SELECT p.person_ref, p.case_ref, min(p.role) AS role FROM {c.t('persons')} AS p "
            f"SEMI JOIN {rows} AS x ON x.person_ref = p.person_ref AND x.case_ref = p.case_ref "
            "WHERE p.role IS NOT NULL GROUP BY p.person_ref, p.case_ref)")


def _wrong_role(c: _Compiler, resource: str, code: str, role: str) -> str:
    return (_select(code, "person_ref", "x.person_ref", _lit(f"a person whose role is {role}"),
                    {"role": "r.role", "case": "x.case_ref"}, line="x._line")
            + f" FROM {c.t(resource)} AS x JOIN {_role_of(c, c.t(resource))} AS r "
            f"ON r.person_ref = x.person_ref AND r.case_ref = x.case_ref WHERE r.role <> {_lit(role)}")


@check("unknown-case", needs=("cases",))
def _unknown_case(c: _Compiler, resource: str) -> str | None:
    # Persons and cooperation requests refer to cases directly (foreign-key); proceedings and
    # services only through persons, so their case_ref is checked here, by its own name.
    if resource not in ("proceedings", "services") or not (
            c.present(resource, "case_ref") and c.present("cases", "case_ref")):
        return None
    return (_select("unknown-case", "case_ref", "case_ref", _lit(f"a case_ref of {c.label('cases')}"),
                    {"target": _lit(c.label("cases"))})
            + f" FROM {c.t(resource)} WHERE case_ref IS NOT NULL "
            f"AND case_ref NOT IN (SELECT case_ref FROM {c.t('cases')} WHERE case_ref IS NOT NULL)")


# --- Proceedings ----------------------------------------------------------------------------------


@check("proceeding-not-suspect", resource="proceedings", needs=("persons.role",))
def _proceeding_not_suspect(c: _Compiler, resource: str) -> str:
    return _wrong_role(c, resource, "proceeding-not-suspect", SUSPECT)


def _first(c: _Compiler, event: str) -> str:
    """The first date of an event per person and case."""
    return (f"(SELECT person_ref, case_ref, min(event_date) AS d FROM {c.t('proceedings')} "
            f"WHERE event = {_lit(event)} AND event_date IS NOT NULL GROUP BY person_ref, case_ref)")


def _before(c: _Compiler, code: str, events: Iterable[str], earlier: str) -> str:
    """Rows of ``events`` dated before the person's first ``earlier`` event in the same case."""
    return (_select(code, "event_date", "e.event_date__raw", "f.d", {"event": "e.event", "person": "e.person_ref"},
                    line="e._line")
            + f" FROM {c.t('proceedings')} AS e JOIN {_first(c, earlier)} AS f "
            "ON f.person_ref = e.person_ref AND f.case_ref = e.case_ref "
            f"WHERE e.event IN ({', '.join(map(_lit, events))}) AND e.event_date < f.d")


@check("prosecution-before-investigation", resource="proceedings")
def _prosecution_before_investigation(c: _Compiler, resource: str) -> str:
    return _before(c, "prosecution-before-investigation", [PROSECUTION], INVESTIGATION)


@check("verdict-before-investigation", resource="proceedings")
def _verdict_before_investigation(c: _Compiler, resource: str) -> str:
    return _before(c, "verdict-before-investigation", VERDICTS, INVESTIGATION)


@check("verdict-before-prosecution", resource="proceedings")
def _verdict_before_prosecution(c: _Compiler, resource: str) -> str:
    return _before(c, "verdict-before-prosecution", VERDICTS, PROSECUTION)


@check("appeal-before-verdict", resource="proceedings")
def _appeal_before_verdict(c: _Compiler, resource: str) -> str:
    return _before(c, "appeal-before-verdict", [APPEAL], FIRST_VERDICT)


def _without(c: _Compiler, code: str, where: str, missing: str) -> str:
    """Rows matching ``where`` whose person has no ``missing`` event in the same case."""
    t = c.t("proceedings")
    return (_select(code, "event", "e.event", _lit(f"a {missing} row for the same person_ref and case_ref"),
                    {"person": "e.person_ref", "case": "e.case_ref"}, line="e._line")
            + f" FROM {t} AS e WHERE {where} AND e.person_ref IS NOT NULL AND e.case_ref IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {t} AS o WHERE o.person_ref = e.person_ref "
            f"AND o.case_ref = e.case_ref AND o.event = {_lit(missing)})")


@check("conviction-without-prosecution", resource="proceedings")
def _conviction_without_prosecution(c: _Compiler, resource: str) -> str:
    where = f"e.event = {_lit(FIRST_VERDICT)} AND e.outcome = {_lit(CONVICTED)}"
    return _without(c, "conviction-without-prosecution", where, PROSECUTION)


@check("appeal-without-verdict", resource="proceedings")
def _appeal_without_verdict(c: _Compiler, resource: str) -> str:
    return _without(c, "appeal-without-verdict", f"e.event = {_lit(APPEAL)}", FIRST_VERDICT)


@check("outcome-missing", resource="proceedings", reads=("outcome",))
def _outcome_missing(c: _Compiler, resource: str) -> str:
    return (_select("outcome-missing", "outcome", "NULL", _lit("an outcome"), {"event": "event"})
            + f" FROM {c.t(resource)} WHERE event IN ({', '.join(map(_lit, VERDICTS))}) AND outcome__raw IS NULL")


@check("outcome-not-verdict", resource="proceedings")
def _outcome_not_verdict(c: _Compiler, resource: str) -> str:
    return (_select("outcome-not-verdict", "outcome", "outcome__raw", _lit("no outcome"), {"event": "event"})
            + f" FROM {c.t(resource)} WHERE event NOT IN ({', '.join(map(_lit, VERDICTS))}) "
            "AND outcome__raw IS NOT NULL")


@check("sentence-without-conviction", resource="proceedings")
def _sentence_without_conviction(c: _Compiler, resource: str) -> Iterable[str]:
    verdicts = ", ".join(map(_lit, VERDICTS))
    what = (f"CASE WHEN event IN ({verdicts}) THEN 'the ' || event || ' with outcome ' || outcome "
            "ELSE 'the ' || event END")
    # Not assets_confiscated: confiscation without conviction exists (non-conviction-based forfeiture).
    for name in ("sentence_months", "fine"):
        if c.present(resource, name):
            yield (_select("sentence-without-conviction", name, _raw(name), _lit(f"a verdict with outcome {CONVICTED}"),
                           {"what": what})
                   + f" FROM {c.t(resource)} WHERE {_raw(name)} IS NOT NULL AND event IS NOT NULL "
                   f"AND (event NOT IN ({verdicts}) OR (outcome IS NOT NULL AND outcome <> {_lit(CONVICTED)}))")


# --- Victim services ------------------------------------------------------------------------------


@check("service-not-victim", resource="services", needs=("persons.role",))
def _service_not_victim(c: _Compiler, resource: str) -> str:
    return _wrong_role(c, resource, "service-not-victim", VICTIM)


@check("provider-missing", resource="services", reads=("provider",))
def _provider_missing(c: _Compiler, resource: str) -> str:
    return (_select("provider-missing", "provider", "NULL", _lit("a provider"), {"service": "service"})
            + f" FROM {c.t(resource)} WHERE service IN ({', '.join(map(_lit, NEEDS_PROVIDER))}) "
            "AND provider__raw IS NULL")


@check("amount-missing", resource="services", reads=("amount",))
def _amount_missing(c: _Compiler, resource: str) -> str:
    return (_select("amount-missing", "amount", "NULL", _lit("the amount awarded"))
            + f" FROM {c.t(resource)} WHERE service = {_lit(COMPENSATION)} AND amount__raw IS NULL")


@check("amount-not-compensation", resource="services")
def _amount_not_compensation(c: _Compiler, resource: str) -> str:
    return (_select("amount-not-compensation", "amount", "amount__raw", _lit("no amount"), {"service": "service"})
            + f" FROM {c.t(resource)} WHERE service <> {_lit(COMPENSATION)} AND amount__raw IS NOT NULL")


# --- International cooperation --------------------------------------------------------------------


def _date_order(c: _Compiler, code: str, later: str, earlier: str, unless: str = "FALSE") -> str:
    return (_select(code, later, f"{later}__raw", earlier)
            + f" FROM {c.t('cooperation_requests')} WHERE {later} < {earlier} AND NOT coalesce({unless}, FALSE)")


@check("received-before-sent", resource="cooperation_requests")
def _received_before_sent(c: _Compiler, resource: str) -> str:
    return _date_order(c, "received-before-sent", "received_on", "sent_on")


@check("executed-before-sent", resource="cooperation_requests")
def _executed_before_sent(c: _Compiler, resource: str) -> str:
    return _date_order(c, "executed-before-sent", "executed_on", "sent_on")


@check("executed-before-received", resource="cooperation_requests")
def _executed_before_received(c: _Compiler, resource: str) -> str:
    # Executed before it was sent is said once, by executed-before-sent.
    return _date_order(c, "executed-before-received", "executed_on", "received_on", unless="executed_on < sent_on")


@check("executed-on-not-executed", resource="cooperation_requests")
def _executed_on_not_executed(c: _Compiler, resource: str) -> str:
    return (_select("executed-on-not-executed", "status", "status", _lit(EXECUTED), {"executed_on": "executed_on__raw"})
            + f" FROM {c.t(resource)} WHERE executed_on__raw IS NOT NULL AND status <> {_lit(EXECUTED)}")


@check("executed-without-date", resource="cooperation_requests", reads=("executed_on",))
def _executed_without_date(c: _Compiler, resource: str) -> str:
    return (_select("executed-without-date", "executed_on", "NULL", _lit("the date of execution"))
            + f" FROM {c.t(resource)} WHERE status = {_lit(EXECUTED)} AND executed_on__raw IS NULL")


@check("refused-without-grounds", resource="cooperation_requests", reads=("refusal_grounds",))
def _refused_without_grounds(c: _Compiler, resource: str) -> str:
    return (_select("refused-without-grounds", "refusal_grounds", "NULL", _lit("the grounds for refusal"))
            + f" FROM {c.t(resource)} WHERE status = {_lit(REFUSED)} AND refusal_grounds__raw IS NULL")


@check("grounds-not-refused", resource="cooperation_requests")
def _grounds_not_refused(c: _Compiler, resource: str) -> str:
    return (_select("grounds-not-refused", "refusal_grounds", "refusal_grounds__raw", _lit("no grounds"),
                    {"status": "status"})
            + f" FROM {c.t(resource)} WHERE refusal_grounds__raw IS NOT NULL AND status <> {_lit(REFUSED)}")


@check("same-country", resource="cooperation_requests")
def _same_country(c: _Compiler, resource: str) -> str:
    return (_select("same-country", "requested_country", "requested_country", _lit("another country than the "
                    "requesting_country"))
            + f" FROM {c.t(resource)} WHERE requested_country = requesting_country")


@check("submitter-not-party", resource="cooperation_requests", needs=("submission.country",))
def _submitter_not_party(c: _Compiler, resource: str) -> str:
    own = c.submission("country")
    return (_select("submitter-not-party", "requesting_country", "requesting_country", own,
                    {"requested": "requested_country"})
            + f" FROM {c.t(resource)} WHERE requesting_country <> {own} AND requested_country <> {own}")


# --- Hints: corrections computed from a found value -----------------------------------------------

_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})")
_YMD = re.compile(r"(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ]\d{1,2}:\d{2}.*")
_EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (it counts 1900 as a leap year, so not 31 Dec)


def _iso(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


@hint("type-date")
def _hint_date(c: _Compiler, resource: str, field: str, found: str | None) -> str | None:
    s = (found or "").strip()
    if m := _DATETIME.fullmatch(s):
        return m.group(1)
    if m := _YMD.fullmatch(s):
        return _iso(*(int(g) for g in m.groups()))
    if m := _COMPACT.fullmatch(s):
        return _iso(*(int(g) for g in m.groups()))
    if m := _DMY.fullmatch(s):
        a, b, y = (int(g) for g in m.groups())
        if y < 100:  # a two-digit year: the most recent one that is not in the future
            y += 2000 if 2000 + y <= c.today.year else 1900
        # Day first unless that is impossible: the order most member states write.
        day, month = (b, a) if b > 12 >= a else (a, b)
        return _iso(y, month, day)
    if re.fullmatch(r"\d{5}(\.0+)?", s):  # a spreadsheet day number that lost its date format
        return (_EXCEL_EPOCH + timedelta(days=int(float(s)))).isoformat()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return None  # written correctly, but no such day (2019-02-30): nothing to suggest
    return "2019-12-31"


@hint("type-integer")
def _hint_integer(c: _Compiler, resource: str, field: str, found: str | None) -> str | None:
    s = (found or "").strip()
    if m := re.fullmatch(r"([+-]?\d+)\.0*", s):
        return str(int(m.group(1)))
    numbers = re.findall(r"\d+", s)
    if len(numbers) == 1 and not re.search(r"\d[.,]\d", s):  # "34 years", "approx. 30"
        return numbers[0]
    return None


@hint("type-number")
def _hint_number(c: _Compiler, resource: str, field: str, found: str | None) -> str | None:
    s = re.sub(r"[^\d,.+\-]", "", found or "")  # currency signs, spaces, letters
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", s):  # 1,500 or 1,500.50
        out = s.replace(",", "")
    elif re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?", s):  # 1.500 or 1.500,50
        out = s.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"[+-]?\d+,\d+", s):  # a decimal comma
        out = s.replace(",", ".")
    elif re.fullmatch(r"[+-]?\d+(\.\d+)?", s):
        out = s
    else:
        return None
    return out if out != (found or "").strip() else None


@hint("type-boolean")
def _hint_boolean(c: _Compiler, resource: str, field: str, found: str | None) -> str | None:
    b = _catalogue()["booleans"]
    key = (found or "").strip().casefold()
    if key in {v.casefold() for v in b["true_values"] + b["true_hints"]}:
        return b["true_values"][0]
    if key in {v.casefold() for v in b["false_values"] + b["false_hints"]}:
        return b["false_values"][0]
    return None


def _field(resource: str, name: str) -> dict:
    return next((f for f in _schema()[resource]["schema"]["fields"] if f["name"] == name), {})


def suggest_code(codelist: str, found: str) -> str | None:
    """The code of a code list that ``found`` most likely means, or None.

    Tries, in order: the same code in other capitals (``Female`` → ``female``), a label or a
    country name or ISO2 code (``Thailand``, ``TH`` → ``THA``), the same words with underscores
    (``forced labour`` → ``forced_labour``), then the closest code or label (``THAI`` → ``THA``).
    """
    key = found.strip().casefold()
    alias = _aliases(codelist)
    for candidate in (key, re.sub(r"[\s\-]+", "_", key)):
        if candidate in alias:
            return alias[candidate]
    codes = {code.casefold(): code for code in _codelists()[codelist]}
    close = difflib.get_close_matches(key, list(codes), n=1, cutoff=0.6)
    if close:
        return codes[close[0]]
    close = difflib.get_close_matches(key, list(alias), n=1, cutoff=0.8)
    return alias[close[0]] if close else None


@hint("codelist")
def _hint_codelist(c: _Compiler, resource: str, field: str, found: str | None) -> str | None:
    codelist = _field(resource, field).get("constraints", {}).get("codelist")
    return suggest_code(codelist, found) if codelist and found else None


@hint("required")
def _hint_required(c: _Compiler, resource: str, field: str, found: str | None) -> str | None:
    codelist = _field(resource, field).get("constraints", {}).get("codelist")
    return "unknown" if codelist and "unknown" in _codelists()[codelist] else None


# --- Running and rendering ------------------------------------------------------------------------


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _where(label: str, line: int | None, field: str) -> str:
    """Where a problem is, as far as it is known: ``persons.csv, line 14, field age``."""
    w = _catalogue()["where"]
    parts = [w["label"].format(label=label)]
    if line is not None:
        parts.append(w["line"].format(line=line))
    if field:
        parts.append(w["field"].format(field=field))
    return w["separator"].join(parts)


def _render(c: _Compiler, row: _Row, limit: int) -> Problem:
    rule = _rules_by_code()[row.code]
    label = c.label(row.resource)
    values = _SafeDict(row.extra)
    values.update(label=label, resource=row.resource, line=row.line, field=row.field,
                  found="" if row.found is None else row.found,
                  expected="" if row.expected is None else row.expected,
                  where=_where(label, row.line, row.field), title=rule.title, limit=limit)
    message = rule.message.format_map(values)
    suggestion = rule.suggestion
    if suggestion and "{hint}" in suggestion:
        fn = _HINTS.get(row.code)
        found_hint = fn(c, row.resource, row.field, row.found) if fn else None
        suggestion = suggestion.format_map(_SafeDict(values, hint=found_hint)) if found_hint else ""
    elif suggestion:
        suggestion = suggestion.format_map(values)
    if suggestion:
        message += "; " + suggestion
    return CasefileProblem(row.code, message, label, row.line, row.field,
                           "" if row.found is None else row.found, "" if row.expected is None else row.expected)


def _queries(c: _Compiler, resource: str) -> list[str]:
    out = []
    for chk in _CHECKS:
        if chk.resource not in (None, resource) or not all(map(c.available, chk.needs)):
            continue
        if not all(c.present(resource, name) for name in chk.reads):
            continue
        if chk.scope == "field":
            built: Iterable[str | None] = [chk.build(c, resource, f) for f in c.fields(resource)]
        else:
            result = chk.build(c, resource)
            built = [result] if isinstance(result, str) or result is None else list(result)
        out += [q for q in built if q]
    return out


def _run(c: _Compiler, resource: str, limit: int) -> list[_Row]:
    queries = _queries(c, resource)
    if not queries:
        return []
    union = "\nUNION ALL\n".join(f"SELECT * FROM ({q})" for q in queries)
    sql = f"""
        SELECT code, line, field, found, expected, extra, total FROM (
            SELECT *,
                row_number() OVER (PARTITION BY code, field ORDER BY line NULLS FIRST, found) AS rank_,
                count(*) OVER (PARTITION BY code, field) AS total
            FROM ({union}) AS problems_
        ) WHERE rank_ <= {int(limit)}
    """
    return [_Row(resource, code, line, field, found, expected, json.loads(extra) if extra else {}, total)
            for code, line, field, found, expected, extra, total in c.con.execute(sql).fetchall()]


def validate(con: duckdb.DuckDBPyConnection, sources: dict[str, Source], *, limit: int | None = None,
             keep: str | None = None) -> list[Problem]:
    """Check a staged case-file submission against the whole catalogue.

    Args:
        con: The connection holding one ``stage_<resource>`` table per source: all columns VARCHAR
            (trimmed, empty cells NULL), named as in the header, plus ``_line INTEGER``.
        sources: The resources found in the file, by resource name; a resource not in it was not
            in the file.
        limit: Occurrences listed per rule, resource and field (default: ``limit`` in rules.yaml);
            the others are counted in one summary problem.
        keep: Keep the checked tables, as temporary views named ``<keep><resource>``: each
            field typed (NULL where the text is not a valid value of the field's type and code
            list), the text as it came in ``_raw_<field>``, and ``_line``. An importer types
            a valid file from them instead of casting every value a second time.

    Returns:
        Every problem of the file (each a `CasefileProblem`, which is a `Problem`), ordered by
        resource (as in the data package), then line (problems of a whole sheet or of its header
        first, summaries last), then column.
    """
    limit = _catalogue()["limit"] if limit is None else limit
    c = _Compiler(con, sources, keep)
    rows: list[_Row] = [r for fn in _HEADER_CHECKS.values() for r in fn(c)]
    try:
        c.prepare()
        for resource in sources:
            rows += _run(c, resource, limit)
    finally:
        c.drop(keep=[keep + r for r in sources] if keep else ())

    order = {name: i for i, name in enumerate(_schema())}

    def position(resource: str, field: str) -> int:
        columns = sources[resource].columns if resource in sources else ()
        first = field.split(", ")[0]
        if first in columns:
            return columns.index(first)
        names = [f["name"] for f in _schema()[resource]["schema"]["fields"]]
        return len(columns) + (names.index(first) if first in names else len(names))

    keyed = []
    listed: Counter[tuple[str, str, str]] = Counter()
    totals: dict[tuple[str, str, str], int] = {}
    for row in rows:
        keyed.append(((order[row.resource], 0 if row.line is None else 1, row.line or 0,
                       position(row.resource, row.field), row.code), _render(c, row, limit)))
        key = (row.resource, row.code, row.field)
        listed[key] += 1
        totals[key] = max(totals.get(key, 0), row.total)
    for (resource, code, field), total in totals.items():
        more = total - listed[(resource, code, field)]
        if more > 0:
            label = c.label(resource)
            message = _catalogue()["summary"].format_map(_SafeDict(
                where=_where(label, None, field), more=f"{more:,}", limit=f"{limit:,}",
                title=_rules_by_code()[code].title))
            keyed.append(((order[resource], 2, 0, position(resource, field), code),
                          CasefileProblem(code, message, label, None, field)))
    keyed.sort(key=lambda kv: kv[0])
    return [p for _, p in keyed]
