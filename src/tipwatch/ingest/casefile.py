"""tipwatch's own case-level submission: the template workbook, or its CSV files.

A submission covers one reporting country and one period (its ``submission`` sheet). It is
read into an in-memory DuckDB as text with each row's line number, checked by the validation
catalogue (`casefile_rules`, compiled to SQL), typed, and counted into the cube by the
counting rules (`tipwatch.indicators.casefile`) — all before the store is touched, so that the
import stores everything or nothing.

A submission whose agency calls itself synthetic (``tipwatch synth`` writes "Synthetic data")
is stored under the source ``synthetic``, never mixed with real submissions.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from datetime import date, datetime
from functools import cache
from pathlib import Path, PurePosixPath

import duckdb
import pyarrow as pa

from tipwatch.errors import InputError
from tipwatch.ingest import registry
from tipwatch.ingest.files import ReceivedFile, read_sheets
from tipwatch.ingest.registry import Batch, Format, InvalidFile, submission_id
from tipwatch.reference import DATA

PACKAGE = DATA / "casefile" / "datapackage.json"
TABLES = ("cases", "persons", "proceedings", "services", "cooperation_requests")


@cache
def datapackage() -> dict:
    """The template's Table Schema data package."""
    return json.loads(PACKAGE.read_text(encoding="utf-8"))


def resources() -> dict[str, dict]:
    """The template's resources by name, in order."""
    return {r["name"]: r for r in datapackage()["resources"]}


def fields(resource: str) -> list[dict]:
    """A resource's fields, in template order."""
    return resources()[resource]["schema"]["fields"]


# --- detection ------------------------------------------------------------------------------


def _zip_members(f: ReceivedFile) -> dict[str, str]:
    """Resource name → member path, for the CSV files of a zip archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(f.content)) as zf:
            names = zf.namelist()
    except zipfile.BadZipFile as exc:
        raise InputError(f"{f.name} is damaged or incomplete ({exc}): send it again.") from exc
    found = {}
    for name in names:
        p = PurePosixPath(name)
        if p.suffix.lower() == ".csv" and p.stem in resources():
            found[p.stem] = name
    return found


def detect(f: ReceivedFile) -> bool:
    """A workbook with ``cases`` and ``persons`` sheets, or CSV files of those names."""
    if f.kind == "xlsx":
        from python_calamine import CalamineWorkbook

        try:
            names = {n.strip().lower() for n in CalamineWorkbook.from_filelike(io.BytesIO(f.content)).sheet_names}
        except Exception:  # a damaged workbook: another detector or the reader says why
            return False
        return {"cases", "persons"} <= names
    if f.kind == "zip":
        return {"cases", "persons"} <= set(_zip_members(f))
    return False


# --- staging: text, with line numbers -------------------------------------------------------


def _text(value: object) -> str | None:
    """A spreadsheet cell as the text a clerk typed (calamine gives floats and datetimes)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _stage_rows(con: duckdb.DuckDBPyConnection, resource: str, rows: list[list]) -> tuple[str, ...]:
    header = [(_text(c) or "") for c in (rows[0] if rows else [])]
    while header and not header[-1]:
        header.pop()
    width = len(header)
    named = [h or f"column_{i + 1}" for i, h in enumerate(header)]
    # The first of repeated names wins; the validation catalogue reports the repetition.
    first = {name: named.index(name) for name in dict.fromkeys(named)}
    cols: dict[str, list] = {name: [] for name in first}
    lines = []
    for i, raw in enumerate(rows[1:], start=2):
        values = [_text(v) for v in raw[:width]]
        if not any(v is not None for v in values):
            continue
        values += [None] * (width - len(values))
        for name, at in first.items():
            cols[name].append(values[at])
        lines.append(i)
    table = pa.table({**{n: pa.array(v, pa.string()) for n, v in cols.items()},
                      "_line": pa.array(lines, pa.int32())})
    con.register("_in", table)
    con.execute(f'CREATE TABLE "stage_{resource}" AS SELECT * FROM _in')
    con.unregister("_in")
    return tuple(header)


def _quote(name: str) -> str:
    """A column name as a quoted SQL identifier (a header can hold anything)."""
    return '"' + name.replace('"', '""') + '"'


def _stage_csv(con: duckdb.DuckDBPyConnection, resource: str, path: Path, label: str) -> tuple[str, ...]:
    """``stage_<resource>``: a view over the CSV file, which validation reads once.

    Every column is text, trimmed, an empty cell NULL. The view has no ``_line``: a row's line is
    its position + 2 (a field with a line break inside quotes would shift later lines; the
    template has none).
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            names = [c.strip() for c in next(csv.reader(fh), [])]
    except UnicodeDecodeError as exc:
        raise InputError(f"{label} is not UTF-8 text: save it as 'CSV UTF-8' and send it again.") from exc
    if not names:
        return ()
    unique = list(dict.fromkeys(names))
    cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(names))) + "}"
    # The first of repeated names wins; the validation catalogue reports the repetition.
    first = {n: names.index(n) for n in unique}
    select = ", ".join(f"NULLIF(TRIM(c{first[n]}), '') AS {_quote(n)}" for n in unique)
    file = "'" + str(path).replace("'", "''") + "'"
    con.execute(
        f'CREATE VIEW "stage_{resource}" AS SELECT {select} '
        f"FROM read_csv({file}, header = true, auto_detect = false, columns = {cols}, delim = ',', "
        "quote = '\"', escape = '\"', null_padding = true, strict_mode = false, encoding = 'utf-8')")
    return tuple(names)


def _read_error(exc: duckdb.Error, sources: dict) -> InputError:
    """A clerk's sentence for a CSV file DuckDB could not read while validating it."""
    message = str(exc).splitlines()[0]
    label = next((s.label for s in sources.values() if s.label in str(exc)), "A file of the submission")
    if "unicode" in message.lower() or "utf" in message.lower():
        return InputError(f"{label} is not UTF-8 text: save it as 'CSV UTF-8' and send it again.")
    return InputError(f"{label} could not be read as CSV ({message}).")


def stage(f: ReceivedFile, con: duckdb.DuckDBPyConnection, workdir: Path) -> dict:
    """Load every resource the file holds into ``stage_<resource>`` tables; return their sources."""
    from tipwatch.ingest.casefile_rules import Source

    sources = {}
    if f.kind == "xlsx":
        sheets = {name.strip().lower(): rows for name, rows in read_sheets(f).items()}
        for resource in resources():
            if resource in sheets:
                header = _stage_rows(con, resource, sheets[resource])
                sources[resource] = Source(resource, f"sheet {resource}", header)
    else:
        members = _zip_members(f)
        with zipfile.ZipFile(io.BytesIO(f.content)) as zf:
            for resource, member in members.items():
                # A folder's files are read where they are; a zip's are unpacked for DuckDB to read.
                target = f.member_path(member)
                if target is None:
                    target = workdir / f"{resource}.csv"
                    target.write_bytes(zf.read(member))
                label = PurePosixPath(member).name
                header = _stage_csv(con, resource, target, label)
                sources[resource] = Source(resource, label, header)
    return sources


# --- typing, after validation ---------------------------------------------------------------

#: Prefix of the checked tables `validate` keeps for typing.
CHECKED = "checked_"

#: The store's column types (`tipwatch.store.schema`) in DuckDB.
_STORE_TYPES = {"date": "DATE", "integer": "INTEGER", "number": "DOUBLE", "string": "VARCHAR", "boolean": "BOOLEAN"}


def _typed(resource: str, extra: dict[str, str]) -> str:
    """The rows of a valid resource, typed as the store keeps them, from its checked table.

    Validation has already typed every value (and found none it could not type), so this only
    casts to the store's widths and adds the submission's columns.
    """
    exprs = [f'CAST("{f["name"]}" AS {_STORE_TYPES[f.get("type", "string")]}) AS "{f["name"]}"'
             for f in fields(resource)]
    exprs += [f"{expr} AS {name}" for name, expr in extra.items()]
    return f'SELECT {", ".join(exprs)}, _line AS line FROM "{CHECKED}{resource}"'


def parse(f: ReceivedFile, *, vintage: date | None = None, crosswalks: tuple = (), year: int | None = None
          ) -> Batch:
    """Stage, validate, type and count a case-level submission, or raise `InvalidFile`."""
    from tipwatch.indicators.casefile import count_submission
    from tipwatch.ingest.casefile_rules import rules, validate

    con = duckdb.connect()
    with tempfile.TemporaryDirectory(prefix="tipwatch-") as tmp:
        sources = stage(f, con, Path(tmp))
        try:
            problems = validate(con, sources, keep=CHECKED)
        except duckdb.Error as exc:
            raise _read_error(exc, sources) from exc
    warning = {r.code for r in rules() if r.severity == "warning"}
    errors = [p for p in problems if p.code not in warning]
    if errors:
        raise InvalidFile(f.name, problems)
    warnings = [str(p) for p in problems if p.code in warning]

    sub = con.execute(f'SELECT country, period_start, period_end, prepared_on, agency FROM "{CHECKED}submission"'
                      ).fetchone()
    country, start, end, prepared, agency = sub
    source = "synthetic" if agency and "synthetic" in agency.lower() else "casefile"
    sid = submission_id(source, f.sha256)
    scope = f"{country}:{start.isoformat()}..{end.isoformat()}"

    micro: dict[str, pa.Table] = {}
    for resource in TABLES:
        if resource not in sources:
            continue
        extra = {"submission_id": f"'{sid}'"}
        if resource == "cases":
            extra["country"] = f"'{country}'"
        sql = _typed(resource, extra)
        if resource == "persons":
            # The age group is given, or follows from the age (the Palermo Protocol: a child is under 18).
            sql = (f"SELECT * REPLACE (COALESCE(age_group, CASE WHEN age < 18 THEN 'child' "
                   f"WHEN age >= 18 THEN 'adult' ELSE 'unknown' END) AS age_group) FROM ({sql})")
        # A view: the counting rules read it, and the store gets its rows as Arrow, once.
        con.execute(f'CREATE VIEW "{resource}" AS {sql}')
        micro[resource] = con.sql(f'SELECT * FROM "{resource}"').to_arrow_table()
    for resource in TABLES:  # counting rules see every table, empty where the file had none
        if resource not in sources:
            _empty_table(con, resource, sid)
    con.execute(
        "CREATE TABLE submissions AS SELECT ? AS id, ? AS source, ? AS scope, CAST(? AS DATE) AS vintage, "
        "CAST(now() AS TIMESTAMP) AS imported_at", [sid, source, scope, (vintage or prepared).isoformat()])

    import ibis

    counted = count_submission(ibis.duckdb.from_connection(con), sid).to_pyarrow()
    obs = counted.add_column(0, "seq", pa.array(range(counted.num_rows), pa.int32()))
    from tipwatch.ingest.glotip import OBSERVATIONS_IN

    obs = obs.select(OBSERVATIONS_IN.names).cast(OBSERVATIONS_IN)
    report = {
        "vintage": (vintage or prepared).isoformat(),
        "country": country,
        "period": [start.isoformat(), end.isoformat()],
        "source": source,
        "rows_read": sum(t.num_rows for t in micro.values()),
        "rows_stored": sum(t.num_rows for t in micro.values()),
        "tables": {name: t.num_rows for name, t in micro.items()},
        "figures_counted": obs.num_rows,
        "warnings": warnings,
        "duplicates_collapsed": 0,
        "below_threshold": 0,
        "thousands_separators": 0,
    }
    con.close()
    return Batch(source, scope, vintage or prepared, "casefile", report["rows_read"], obs, report, micro)


def _empty_table(con, resource: str, sid: str) -> None:
    from tipwatch.store import schema

    table = getattr(schema, resource)
    types = {"String": "VARCHAR", "Text": "VARCHAR", "Date": "DATE", "Integer": "INTEGER",
             "Float": "DOUBLE", "Boolean": "BOOLEAN"}
    cols = ", ".join(f'"{c.name}" {types[type(c.type).__name__]}' for c in table.columns)
    con.execute(f'CREATE TABLE "{resource}" ({cols})')


registry.register(Format(
    "casefile", "tipwatch case-level submission (template workbook, or its CSV files in a folder or zip)",
    detect, parse))
