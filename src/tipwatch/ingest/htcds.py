"""Case records in the layout of the Human Trafficking Case Data Standard (HTCDS, IOM, CC BY 4.0).

HTCDS (github.com/UNMigration/HTCDS) names the fields of a victim-services case: a Person
(``prs_``) with a Victim (``vic_``) or Perpetrator (``per_``) context, the Case (``cas_``), the
Organisation (``org_``) and historic trafficking events (``hte_``). A CSV export with one row per
person in a case imports into the case-level tables (``cases``, ``persons``, ``services``) under
the source ``htcds``, and is counted into the cube by the same counting rules as the casefile
template (`tipwatch.indicators.casefile.count_submission`).

The columns tipwatch reads, and the few it adds to HTCDS (a case and a person reference, and
``prs_Context``), are declared in ``reference/data/htcds/columns.csv``; the layout, the mapping
and what it cannot give (HTCDS has no investigation, prosecution or verdict) are in
``docs/sources.md``. In short:

- **One reporting country per file**: the country of the organisation (``org_ShippingCountry``).
  A file with several is refused, with the rows of each, rather than split: a submission is one
  country's, approved by that country.
- **The period** is the whole calendar years the file's dates fall in (``--year`` narrows it to
  one year): the scope is ``ISO3:YYYY-01-01..YYYY-12-31``, as for the casefile template.
- **Victims** count as identified on the day their case was opened, and as referred on their
  referral dates. **Perpetrators** are kept as persons with the role ``suspect`` but count in no
  suspect indicator: HTCDS records no investigation.
- Values go through `tipwatch.harmonise` (the bundled ``htcds`` crosswalk and the user's
  own). A sex, nationality, form or organisation type nothing maps is stored as unknown (or
  left empty) and listed in the report; an unknown context or reporting country is a problem,
  because it decides what is stored and counted.
- **No names.** A file whose name, e-mail, telephone or street columns hold values is refused:
  tipwatch keeps every received file byte for byte, and must not keep those.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date
from functools import cache

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from tipwatch.errors import InputError
from tipwatch.harmonise import Harmoniser
from tipwatch.ingest import registry
from tipwatch.ingest.files import ReceivedFile
from tipwatch.ingest.registry import Batch, Format, InvalidFile, Problem, submission_id
from tipwatch.reference import DATA

SOURCE = "htcds"
COLUMNS = DATA / "htcds" / "columns.csv"
#: The HTCDS tables, by field-name prefix.
PREFIXES = ("org", "prs", "vic", "per", "hte", "cas")
#: Separator of a multi-select picklist's values (the HTCDS Excel toolkit's macro writes ";").
MULTI = ";"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}([T ].*)?$"


@cache
def columns() -> dict[str, dict[str, str]]:
    """The columns tipwatch knows, by name.

    ``use``: the column is required, optional, or personal (refused while it has values); ``value``:
    ``required`` if no row may leave it empty; ``kind``: text, date, code or codes (multi-select);
    ``domain``: the code list a code maps into (`tipwatch.harmonise`).
    """
    with COLUMNS.open(encoding="utf-8", newline="") as fh:
        return {r["column"]: r for r in csv.DictReader(fh)}


def _key(name: str) -> str:
    """A header cell as compared: prefix kept, then case, spaces and underscores ignored.

    The XLSForm of the HTCDS toolkit writes ``prs_First_Name`` and ``vic_Methods_of_Control``
    where the field reference writes ``FirstName`` and ``MethodsOfControl``.
    """
    name = name.strip().lstrip("\ufeff")
    prefix, sep, rest = name.partition("_")
    if not sep:
        return name.lower()
    return f"{prefix.lower()}_{rest.replace('_', '').replace(' ', '').lower()}"


# --- detection ------------------------------------------------------------------------------


def _delimiter(first_line: str) -> str:
    """Comma, or the semicolon or tab a spreadsheet's regional settings write instead."""
    return max((",", ";", "\t"), key=first_line.count)


def _header(f: ReceivedFile) -> list[str]:
    first = f.content[:65536].decode("utf-8-sig", errors="replace").split("\n", 1)[0]
    return next(csv.reader(io.StringIO(first), delimiter=_delimiter(first)), [])


def detect(f: ReceivedFile) -> bool:
    """A CSV file whose header has HTCDS field names (``prs_``, ``cas_``, …) of at least two tables."""
    if f.kind != "text":
        return False
    try:
        keys = [_key(c) for c in _header(f)]
    except csv.Error:
        return False
    prefixes = {k.split("_", 1)[0] for k in keys if "_" in k and k.split("_", 1)[0] in PREFIXES}
    htcds = sum(1 for k in keys if k.split("_", 1)[0] in PREFIXES)
    return "prs" in prefixes and len(prefixes) >= 2 and htcds >= 3


# --- reading --------------------------------------------------------------------------------


def _read(f: ReceivedFile) -> tuple[list[str], dict[str, pa.Array], pa.Array]:
    """Header, the known columns as text (empty cell → null) and each row's first line."""
    try:
        text = f.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{f.name} is not UTF-8 text: save it as 'CSV UTF-8' and send it again.") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n", 1)[0]))
    try:
        header = next(reader, [])
        at = {}
        for i, name in enumerate(header):
            at.setdefault(_key(name), i)  # the first of repeated names wins
        wanted = {name: at[_key(name)] for name in columns() if _key(name) in at}
        values: dict[str, list] = {name: [] for name in wanted}
        lines = []
        end = reader.line_num
        for raw in reader:
            # A long-text field may hold line breaks: a row starts on the line after the last one.
            start, end = end + 1, reader.line_num
            if not any(c.strip() for c in raw):
                continue
            for name, i in wanted.items():
                cell = raw[i].strip() if i < len(raw) else ""
                values[name].append(cell or None)
            lines.append(start)
    except csv.Error as exc:
        raise InputError(f"{f.name} could not be read as CSV (line {reader.line_num}: {exc}).") from None
    return header, {n: pa.array(v, pa.string()) for n, v in values.items()}, pa.array(lines, pa.int32())


def _dates(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """ISO dates (a date-time keeps its date) → date32, and where a value is not a date."""
    iso = pc.fill_null(pc.match_substring_regex(values, _ISO_DATE), False)
    head = pc.if_else(iso, pc.utf8_slice_codeunits(values, 0, 10), pa.scalar(None, pa.string()))
    stamp = pc.strptime(head, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2021-02-30 over to 2 March: a date must read back as written.
    real = pc.fill_null(pc.equal(pc.strftime(stamp, format="%Y-%m-%d"), head), False)
    parsed = pc.if_else(real, stamp.cast(pa.date32()), pa.scalar(None, pa.date32()))
    return parsed, pc.and_(pc.is_valid(values), pc.is_null(parsed))


def _rows(mask: pa.Array) -> list[int]:
    return pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist()


def _age(birth: pa.Array, on: pa.Array) -> pa.Array:
    """Whole years from ``birth`` to ``on`` (a birthday not yet reached that year does not count)."""
    before = pc.less(pc.add(pc.multiply(pc.month(on), 100), pc.day(on)),
                     pc.add(pc.multiply(pc.month(birth), 100), pc.day(birth)))
    return pc.subtract(pc.subtract(pc.year(on), pc.year(birth)), before.cast(pa.int64())).cast(pa.int32())


# --- parsing --------------------------------------------------------------------------------


def parse(f: ReceivedFile, *, vintage: date | None = None, crosswalks: tuple = (), year: int | None = None
          ) -> Batch:
    """Check, harmonise and count an HTCDS case export, or raise `InvalidFile` listing every problem.

    Args:
        f: The received CSV file.
        vintage: The export's date; default: the latest date in the file.
        crosswalks: The user's crosswalk files, tried before the bundled ``htcds`` crosswalk.
        year: Count only this year (the scope's period); default: every year of the file's dates.
    """
    header, col, lines = _read(f)
    spec = columns()
    problems: list[Problem] = []

    def problem(code: str, message: str, field: str = "", line: int | None = None, found: object = "",
                expected: str = "") -> None:
        problems.append(Problem(code, message, "", line, field, "" if found is None else str(found), expected))

    missing = [name for name, s in spec.items() if s["use"] == "required" and name not in col]
    for name in missing:
        problem("htcds-columns", f"the header has no column {name} ({spec[name]['description']})", name, 1,
                expected=", ".join(n for n, s in spec.items() if s["use"] == "required"))
    if missing:
        raise InvalidFile(f.name, problems)
    n = len(lines)
    if n == 0:
        raise InvalidFile(f.name, [Problem("htcds-empty", "the file has a header but no rows", line=2)])

    for name, s in spec.items():
        if s["use"] == "personal" and name in col:
            filled = _rows(pc.is_valid(col[name]))
            if filled:
                problem("htcds-personal-data", f"{name} holds {len(filled)} value(s): tipwatch keeps every file it "
                        "receives and must not keep names, contacts or addresses; empty the column (or remove it) "
                        "and send the file again", name, lines[filled[0]].as_py())
    for name, s in spec.items():
        if s["value"] == "required":
            for i in _rows(pc.is_null(col[name])):
                problem("htcds-required", f"{name} is empty", name, lines[i].as_py())

    dates = {}
    for name, s in spec.items():
        if s["kind"] == "date" and name in col:
            dates[name], bad = _dates(col[name])
            for i in _rows(bad):
                problem("htcds-date", "not a date", name, lines[i].as_py(), col[name][i].as_py(),
                        "a date as YYYY-MM-DD")

    h = Harmoniser(crosswalks)
    coded = {}
    for name, s in spec.items():
        if s["kind"] == "code" and name in col:
            coded[name], _ = h.map(s["domain"], col[name], field=name)
    for name, what in (("prs_Context", "Victim or Perpetrator"), ("org_ShippingCountry", "a country code or name")):
        for i in _rows(pc.and_(pc.is_valid(col[name]), pc.is_null(coded[name]))):
            value = col[name][i].as_py()
            hint = h.suggestions(spec[name]["domain"], value)
            code = "htcds-context" if name == "prs_Context" else "htcds-country"
            problem(code, "not a value tipwatch can map" + (f"; did you mean {' or '.join(hint)}?" if hint else ""),
                    name, lines[i].as_py(), value, what)

    reporting = Counter(c for c in coded["org_ShippingCountry"].to_pylist() if c)
    if len(reporting) > 1:
        each = ", ".join(f"{c} {k:,} row{'s' if k != 1 else ''}" for c, k in reporting.most_common())
        problem("htcds-countries", f"the file holds the cases of several reporting countries ({each}); a submission "
                "is one country's: split the file by org_ShippingCountry", "org_ShippingCountry")

    created = dates["cas_CreatedDate"]
    if "prs_Birthdate" in dates:
        age = _age(dates["prs_Birthdate"], created)
        for i in _rows(pc.or_(pc.less(age, 0), pc.greater(age, 120))):
            problem("htcds-birthdate", f"the birthdate gives an age of {age[i].as_py()} on the day the case was "
                    "opened", "prs_Birthdate", lines[i].as_py(), col["prs_Birthdate"][i].as_py(),
                    "a birthdate before cas_CreatedDate, at most 120 years before")
    else:
        age = pa.nulls(n, pa.int32())

    con = duckdb.connect()
    rows = pa.table({
        "line": lines,
        "case_ref": col["cas_CaseNumber"], "person_ref": col["prs_Id"], "role": coded["prs_Context"],
        "sex": pc.fill_null(coded["prs_Gender"], "unknown"), "age": age,
        "citizenship": pc.fill_null(coded["prs_Nationality"], "unknown"),
        "created": created,
        "incoming": dates.get("cas_IncomingReferralDate", pa.nulls(n, pa.date32())),
        "outgoing": dates.get("cas_OutgoingReferralDate", pa.nulls(n, pa.date32())),
        "provider": coded.get("org_Type", pa.nulls(n, pa.string())),
        "hte_country": coded.get("hte_Country", pa.nulls(n, pa.string())),
    })
    con.register("rows", rows)
    con.register("row_forms", _forms(h, col.get("vic_TypeOfExploitation"), lines))
    for case_ref, person_ref, first, again in con.execute(
            "SELECT case_ref, person_ref, min(line), list(line ORDER BY line)[2:] FROM rows "
            "WHERE case_ref IS NOT NULL AND person_ref IS NOT NULL GROUP BY ALL HAVING count(*) > 1 ORDER BY 3"
    ).fetchall():
        for line in again:
            problem("htcds-duplicate", f"person {person_ref} is in case {case_ref} already, on line {first}", "prs_Id",
                    line, person_ref, "one row per person and case")

    # Every date of the file: the period is the calendar years they fall in.
    span = con.execute("SELECT min(d), max(d), count(*) FILTER (WHERE year(d) = ?) FROM "
                       "(SELECT unnest([created, incoming, outgoing]) AS d FROM rows)", [year or 0]).fetchone()
    if year is not None and not problems and not span[2]:
        problem("htcds-year", f"no case was opened and no victim referred in {year}, the year given", "",
                found=year, expected=f"dates in {span[0].year}–{span[1].year}")
    if problems:
        con.close()
        # In file order, so that a clerk can work down the file; problems of the whole file first.
        raise InvalidFile(f.name, sorted(problems, key=lambda p: p.line or 0))

    country = next(iter(reporting))
    start, end = (date(year, 1, 1), date(year, 12, 31)) if year else (date(span[0].year, 1, 1),
                                                                      date(span[1].year, 12, 31))
    vintage = vintage or span[1]
    sid = submission_id(SOURCE, f.sha256)
    micro = _tables(con, sid, country)
    obs = _count(con, sid, country, start, end, vintage)
    con.close()

    victims = micro["persons"].filter(pc.equal(micro["persons"]["role"], "victim")).num_rows
    read = {_key(c) for c in spec if spec[c]["use"] != "personal"}
    unread = [c.strip() for c in header if c.strip() and _key(c) not in read and _key(c) not in
              {_key(p) for p, s in spec.items() if s["use"] == "personal"}]
    tables = {name: t.num_rows for name, t in micro.items()}
    report = {
        "vintage": vintage.isoformat(),
        "country": country,
        "period": [start.isoformat(), end.isoformat()],
        "source": SOURCE,
        "rows_read": n,
        "rows_stored": sum(tables.values()),
        "tables": tables,
        "figures_counted": obs.num_rows,
        "columns_not_read": unread,
        "warnings": [],
        "harmonisation": h.report(),
        "summary": [
            f"{country}, {start.isoformat()} to {end.isoformat()} ({SOURCE})",
            f"{n:,} person rows in {tables['cases']:,} cases: {victims:,} victims, {n - victims:,} perpetrators "
            "(kept with the role suspect; HTCDS records no investigation, so they count in no suspect figure)",
            "rows stored: " + ", ".join(f"{k} {v:,}" for k, v in tables.items()),
            f"figures counted into the cube: {obs.num_rows:,}",
            *([f"columns not read (kept in the received file only): {', '.join(unread)}"] if unread else []),
        ],
    }
    return Batch(SOURCE, f"{country}:{start.isoformat()}..{end.isoformat()}", vintage, "htcds", n, obs, report, micro)


def _forms(h: Harmoniser, values: pa.Array | None, lines: pa.Array) -> pa.Table:
    """One row per (line, form) of the multi-select ``vic_TypeOfExploitation``, mapped to form codes."""
    if values is None:
        return pa.table({"line": pa.array([], pa.int32()), "form": pa.array([], pa.string())})
    parts = pc.split_pattern(values, MULTI)
    flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
    codes, _ = h.map("form", flat, field="vic_TypeOfExploitation")
    return pa.table({"line": pc.take(lines, pc.list_parent_indices(parts)), "form": codes})


def _tables(con: duckdb.DuckDBPyConnection, sid: str, country: str) -> dict[str, pa.Table]:
    """The batch's ``cases``, ``persons`` and ``services`` (``submission_id`` first), as in the store.

    They stay in ``con`` as tables for the counting rules.
    """
    con.execute(f"""
        CREATE TABLE cases AS
        WITH case_forms AS (
            SELECT r.case_ref, CASE WHEN count(DISTINCT f.form) = 1 THEN min(f.form) END AS form
            FROM row_forms f JOIN rows r USING (line)
            WHERE r.role = 'victim' AND f.form IS NOT NULL GROUP BY r.case_ref)
        SELECT '{sid}' AS submission_id, r.case_ref, '{country}' AS country, min(r.created) AS opened_on,
               CAST(NULL AS VARCHAR) AS offence, any_value(cf.form) AS form,
               CASE WHEN count(r.hte_country) > 0 THEN bool_or(r.hte_country <> '{country}') END AS cross_border,
               CAST(min(r.line) AS INTEGER) AS line
        FROM rows r LEFT JOIN case_forms cf USING (case_ref)
        GROUP BY r.case_ref ORDER BY line""")
    # The Palermo Protocol: a child is a person under 18.
    con.execute(f"""
        CREATE TABLE persons AS
        SELECT '{sid}' AS submission_id, person_ref, case_ref, role, sex, age,
               CASE WHEN age < 18 THEN 'child' WHEN age >= 18 THEN 'adult' ELSE 'unknown' END AS age_group,
               citizenship, line
        FROM rows ORDER BY line""")
    con.execute(f"""
        CREATE TABLE services AS
        SELECT '{sid}' AS submission_id, person_ref, case_ref, service, service_date, provider,
               CAST(NULL AS DOUBLE) AS amount, line
        FROM (
            SELECT *, 'identified' AS service, created AS service_date FROM rows WHERE role = 'victim'
            UNION ALL
            SELECT * REPLACE (CAST(NULL AS VARCHAR) AS provider), 'referred', incoming FROM rows
            WHERE role = 'victim' AND incoming IS NOT NULL
            UNION ALL
            SELECT *, 'referred', outgoing FROM rows WHERE role = 'victim' AND outgoing IS NOT NULL)
        ORDER BY line, service_date""")
    return {name: con.sql(f"SELECT * FROM {name}").to_arrow_table() for name in ("cases", "persons", "services")}


def _count(con: duckdb.DuckDBPyConnection, sid: str, country: str, start: date, end: date, vintage: date
           ) -> pa.Table:
    """The batch's figures for the cube, by the casefile counting rules, before anything is stored."""
    import ibis

    from tipwatch.indicators.casefile import count_submission
    from tipwatch.ingest.casefile import _empty_table
    from tipwatch.ingest.glotip import OBSERVATIONS_IN

    _empty_table(con, "proceedings", sid)  # HTCDS has no criminal proceedings
    con.execute(
        "CREATE TABLE submissions AS SELECT ? AS id, ? AS source, ? AS scope, CAST(? AS DATE) AS vintage, "
        "CAST(now() AS TIMESTAMP) AS imported_at",
        [sid, SOURCE, f"{country}:{start.isoformat()}..{end.isoformat()}", vintage.isoformat()])
    counted = count_submission(ibis.duckdb.from_connection(con), sid).to_pyarrow()
    obs = counted.add_column(0, "seq", pa.array(range(counted.num_rows), pa.int32()))
    return obs.select(OBSERVATIONS_IN.names).cast(OBSERVATIONS_IN)


registry.register(Format(
    SOURCE, "HTCDS case records (Human Trafficking Case Data Standard, CSV with prs_/vic_/per_/cas_ columns)",
    detect, parse))
