"""CTDC's global victim dataset: the 2020 layout and the 2024 synthetic layout.

The Counter-Trafficking Data Collaborative (CTDC, IOM) publishes one CSV row per victim record.
Two layouts are known, both described as data in ``reference/data/ctdc/layouts.yaml`` from
CTDC's codebooks:

- ``ctdc_2020``: the Global Dataset as released on 14 Apr 2020, 63 columns, countries as ISO
  3166 alpha-2 codes, registered as the format ``ctdc`` (source ``ctdc``). A file may carry
  only some of its columns, and columns of its own (a lookup table appended by whoever cut it):
  those are listed as ignored.
- ``ctdc_2024``: the Global Synthetic Dataset (codebook v2, Feb 2024), 27 columns, ISO 3166
  alpha-3, registered as ``ctdc_synthetic`` (source ``ctdc_synthetic``, synthetic: CTDC made
  the records up under differential privacy, so they never mix with real figures).

A layout is recognised from the header (never the file name): a column only one layout has
decides. A header of columns both layouts share (``yearOfRegistration, gender, ageBroad,
citizenship, …``) is decided by its first rows: ISO2 or ISO3 countries, Female/Male or
Woman/Man, ``0``/``-99`` flags or ``1``/empty.

The file's CTDC columns are read from memory by Arrow's CSV reader as text (dictionary-encoded,
no value read as missing, so Namibia's ``NA`` stays a code). A million records hold a few hundred
distinct combinations of codes: the codebook's rules (SQL, in DuckDB) and the country crosswalks
(`tipwatch.harmonise`) run once per combination, the cube's count takes each combination with its
number of records, and each record then takes its combination's result; nothing is done per row
in Python. What each value becomes:

- country ``0`` (also ``00``, ``ZZ`` in the 2020 layout) → ``unknown``; ``-99`` or an empty cell →
  missing (NULL); anything else → ISO3 through the crosswalks;
- flags ``1``/``0`` (or ``1.0``/``0.0``, as a file saved by pandas has them) → true/false,
  ``-99`` or empty → NULL; in the 2024 layout a record that names any type of exploitation has
  the other two types false, not NULL (the codebook's own rule for its percentages);
- gender → sex (``female``, ``male``, ``other`` for transgender/non-conforming, ``unknown``);
  ageBroad → the band as CTDC writes it (``9--17``) and the age group (child, adult, unknown;
  majorityStatus stands in where the band is missing).

Errors (the file is refused, nothing stored, every problem listed): a value that is not in the
codebook (a gender, an age band, a majority status, a data source or a trafficking duration),
a flag that is not 0, 1 or missing, a year that is not a year from 2002 to this year, a
country code no crosswalk maps or of the other ISO length (``NA`` in the ISO3 layout is R's
missing value more likely than Namibia), a column named twice, columns of both layouts in one
header, a header with no data, a row with more or fewer fields than the header (a cut or
hand-edited line: listed with its line, never padded), text that is not UTF-8. Warnings (the
file is imported, the report says so): columns that are not CTDC's (ignored), values that differ
from the codebook only in upper/lower case, records left out of the cube (no year, or no known
country of exploitation), and a release date assumed because ``--vintage`` was not given.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import yaml

from tipwatch import reference
from tipwatch.errors import InputError
from tipwatch.ingest import registry
from tipwatch.ingest.files import ReceivedFile
from tipwatch.ingest.glotip import OBSERVATIONS_IN
from tipwatch.ingest.registry import Batch, Format, InvalidFile, Problem, submission_id

LAYOUTS = reference.DATA / "ctdc" / "layouts.yaml"
#: Offending rows listed per column; beyond that one problem says how many more there are.
MAX_ROWS_PER_FIELD = 1000
DELIMITERS = (",", ";", "\t")
#: What the CSV reader takes at a time (each in parallel); a row may not be longer.
BLOCK_BYTES = 4 * 2**20
#: How much of a file detection reads: the header and the first rows.
HEAD_BYTES = 256 * 1024
_DASHES = ("\u2014", "\u2013")  # — and –, which CTDC's 2024 codebook prints for "--"

#: victim_records columns, in the store's order (``submission_id`` first).
RECORD_FIELDS = ("record_ref", "year", "sex", "age_broad", "age_group", "citizenship", "exploitation_country",
                 "forced_labour", "sexual_exploitation", "other_exploitation", "forms", "line")
FLAG_FIELDS = ("forced_labour", "sexual_exploitation", "other_exploitation")
COUNTRY_FIELDS = ("citizenship", "exploitation_country")


# --- the layouts, as data ------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a CTDC layout (see layouts.yaml for what each attribute means)."""

    name: str
    type: str
    field: str | None = None
    codes: tuple[tuple[str, str | None], ...] = ()
    forms: tuple[str, ...] = ()
    group: str | None = None
    dashes: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        """The header spellings that name this column, case-folded."""
        return tuple(dict.fromkeys(n.strip().casefold() for n in (self.name, *self.aliases)))


@dataclass(frozen=True)
class Layout:
    """A CTDC layout: where its records go and what each column may hold."""

    id: str
    source: str
    title: str
    vintage: date
    scope: str
    first_year: int
    missing: tuple[str, ...]
    country_coding: str
    country_letters: int
    unknown_countries: tuple[str, ...]
    record_ref: str | None
    fill_exploitation_blanks: bool
    columns: tuple[Column, ...]

    @property
    def by_key(self) -> dict[str, Column]:
        """Case-folded header spelling → column."""
        return {k: c for c in self.columns for k in c.keys}


@cache
def _data() -> dict:
    return yaml.safe_load(LAYOUTS.read_text(encoding="utf-8"))


@cache
def layouts() -> dict[str, Layout]:
    """The known CTDC layouts by id (``ctdc_2020``, ``ctdc_2024``), from layouts.yaml."""
    out = {}
    for lid, d in _data()["layouts"].items():
        cols = tuple(
            Column(c["name"], c["type"], c.get("field"), tuple((c.get("codes") or {}).items()),
                   tuple(c.get("forms") or ()), c.get("group"), bool(c.get("dashes")), tuple(c.get("aliases") or ()))
            for c in d["columns"]
        )
        out[lid] = Layout(lid, d["source"], d["title"], d["vintage"], d["scope"], int(d["first_year"]),
                          tuple(str(m) for m in d["missing"]), d["countries"]["coding"],
                          int(d["countries"]["letters"]), tuple(str(u) for u in d["countries"]["unknown"]),
                          d.get("record_ref"),
                          bool(d["fill_exploitation_blanks"]), cols)
    return out


# --- detection: from the header, the first rows where the header cannot tell ---------------------


@dataclass(frozen=True)
class Match:
    """How a file's header lines up with a layout."""

    layout: Layout
    delimiter: str
    header: tuple[str, ...]
    columns: tuple[tuple[int, Column], ...]  # position → column, first occurrence of each
    duplicates: tuple[tuple[int, str], ...]  # position, header text of a column named again
    foreign: tuple[str, ...]  # columns only the other layout has
    ignored: tuple[str, ...]  # header cells that are no CTDC column
    decided_by: str  # "header" or "first rows"


def _head_lines(f: ReceivedFile) -> list[str]:
    head = f.content[:HEAD_BYTES]
    text = head.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    if len(f.content) > HEAD_BYTES and lines:
        lines = lines[:-1]  # the last line read may be cut short
    return lines


def _split(line: str, delimiter: str) -> list[str]:
    return [c.strip() for c in next(csv.reader([line], delimiter=delimiter), [])]


@cache
def _known_keys() -> dict[str, set[str]]:
    """Case-folded column name → the layouts that have it."""
    out: dict[str, set[str]] = {}
    for lid, layout in layouts().items():
        for key in layout.by_key:
            out.setdefault(key, set()).add(lid)
    return out


def _match(layout: Layout, header: list[str], delimiter: str, decided_by: str) -> Match:
    by_key = layout.by_key
    known = _known_keys()
    seen: dict[str, int] = {}
    columns, duplicates, foreign, ignored = [], [], [], []
    for i, cell in enumerate(header):
        key = cell.casefold()
        col = by_key.get(key)
        if col is None:
            (foreign if key in known else ignored).append(cell or f"(column {i + 1}, no name)")
        elif col.name in seen:
            duplicates.append((i, cell))
        else:
            seen[col.name] = i
            columns.append((i, col))
    return Match(layout, delimiter, tuple(header), tuple(columns), tuple(duplicates), tuple(foreign),
                 tuple(ignored), decided_by)


def _sample_vote(lines: list[str], header: list[str], delimiter: str) -> str:
    """The layout the first rows look like (ties go to the 2020 layout, CTDC's real data)."""
    n = int(_data()["detection"]["sample_rows"])
    names = [c.casefold() for c in header]
    votes: Counter[str] = Counter()
    l20, l24 = layouts()["ctdc_2020"], layouts()["ctdc_2024"]
    genders = {lid: {k.casefold() for k, _ in lay.by_key["gender"].codes} for lid, lay in layouts().items()}
    for line in lines[1:n + 1]:
        cells = _split(line, delimiter)
        for name, value in zip(names, cells, strict=False):
            v = value.strip()
            if not v:
                continue
            if name in ("citizenship", "countryofexploitation"):
                if v in l20.missing or v in l20.unknown_countries:
                    votes["ctdc_2020"] += 1
                elif v.isalpha() and len(v) in (2, 3):
                    votes["ctdc_2020" if len(v) == 2 else "ctdc_2024"] += 1
            elif name == "gender":
                for lid, codes in genders.items():
                    votes[lid] += v.casefold() in codes
            elif name == "agebroad":
                votes["ctdc_2024"] += any(d in v for d in _DASHES)
            elif name.startswith(("is", "typeof", "recruiterrelation")):
                if v in ("0", "0.0", "1.0", *l20.missing):
                    votes["ctdc_2020"] += 1
                elif v in l24.missing:
                    votes["ctdc_2024"] += 1
    return "ctdc_2024" if votes["ctdc_2024"] > votes["ctdc_2020"] else "ctdc_2020"


@lru_cache(maxsize=1)  # both CTDC detectors, then the parser, look at the same file (one file kept)
def classify(f: ReceivedFile) -> Match | None:
    """The CTDC layout of a file, or None when its header is not CTDC's.

    Never raises: a detector must not.
    """
    try:
        if f.kind != "text":
            return None
        lines = _head_lines(f)
        if not lines:
            return None
        det = _data()["detection"]
        known = _known_keys()
        generic = {g.casefold() for g in det["generic"]}
        best = None
        for delimiter in DELIMITERS:
            header = _split(lines[0], delimiter)
            recognised = [c.casefold() for c in header if c.casefold() in known]
            if best is None or len(recognised) > len(best[2]):
                best = (delimiter, header, recognised)
        delimiter, header, recognised = best
        if len(set(recognised)) < int(det["min_columns"]) or not set(recognised) - generic:
            return None
        only = {lid: {k for k in recognised if known[k] == {lid}} for lid in layouts()}
        if only["ctdc_2020"] or only["ctdc_2024"]:
            lid = "ctdc_2024" if len(only["ctdc_2024"]) > len(only["ctdc_2020"]) else "ctdc_2020"
            return _match(layouts()[lid], header, delimiter, "header")
        lid = _sample_vote(lines, header, delimiter)
        return _match(layouts()[lid], header, delimiter, "first rows")
    except Exception:  # a detector never raises: the registry then says the file is not known
        return None


def _detector(layout_id: str):
    def detect(f: ReceivedFile) -> bool:
        m = classify(f)
        return m is not None and m.layout.id == layout_id

    detect.__doc__ = f"A CSV file whose header is CTDC's {layout_id} layout (or a subset of its columns)."
    return detect


# --- SQL pieces --------------------------------------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in(values) -> str:
    return "(" + ", ".join(_lit(v) for v in values) + ")" if values else "(NULL)"


def _norm(col: Column, v: str) -> str:
    """A code column's value as compared with the codebook: case-folded, dashes as CTDC's ``--``."""
    expr = v
    if col.dashes:
        for d in _DASHES:
            expr = f"replace({expr}, {_lit(d)}, '--')"
    return f"lower({expr})"


def _numbers(values: tuple[str, ...]) -> list[float]:
    out = []
    for v in values:
        with contextlib.suppress(ValueError):
            out.append(float(v))
    return out


class _Sql:
    """SQL expressions over the staged table ``raw`` (one text column per CTDC column present)."""

    def __init__(self, m: Match) -> None:
        self.m = m
        self.layout = m.layout
        self.present = {col.name: col for _, col in m.columns}
        self.missing = self.layout.missing
        self.missing_numbers = _numbers(self.missing)
        self.this_year = date.today().year

    def value(self, col: Column) -> str:
        """The column's text with the layout's missing codes as NULL."""
        return f"(CASE WHEN {_q(col.name)} IN {_in(self.missing)} THEN NULL ELSE {_q(col.name)} END)"

    def number(self, col: Column) -> str:
        return f"TRY_CAST({self.value(col)} AS DOUBLE)"

    def flag_value(self, col: Column) -> str:
        n = self.number(col)
        missing = f" OR {n} IN ({', '.join(repr(x) for x in self.missing_numbers)})" if self.missing_numbers else ""
        return f"(CASE WHEN {n} = 1 THEN TRUE WHEN {n} = 0 THEN FALSE WHEN {n} IS NULL{missing} THEN NULL END)"

    def bad(self, col: Column) -> str | None:
        """A condition true on a row whose value the codebook does not allow (None: not checked)."""
        v = self.value(col)
        if col.type == "year":
            n = self.number(col)
            return (f"({v} IS NOT NULL AND ({n} IS NULL OR {n} <> floor({n}) "
                    f"OR {n} NOT BETWEEN {self.layout.first_year} AND {self.this_year}))")
        if col.type == "code":
            labels = [label.casefold() for label, _ in col.codes]
            return f"({v} IS NOT NULL AND {_norm(col, v)} NOT IN {_in(labels)})"
        if col.type == "flag":
            n = self.number(col)
            allowed = ["0", "1", *(repr(x) for x in self.missing_numbers)]
            return f"({v} IS NOT NULL AND ({n} IS NULL OR {n} NOT IN ({', '.join(allowed)})))"
        return None

    def case_only(self, col: Column) -> str | None:
        """A condition true on a value that is the codebook's but for upper/lower case."""
        if col.type != "code":
            return None
        v = self.value(col)
        exact = [label for label, _ in col.codes]
        if col.dashes:  # the codebook's own typographic dash is not a case difference
            exact += [label.replace("--", d) for label, _ in col.codes for d in _DASHES]
        return f"({v} IS NOT NULL AND {v} NOT IN {_in(exact)} AND NOT {self.bad(col)})"

    def mapped(self, col: Column) -> str:
        """A code column's tipwatch code (NULL when missing)."""
        whens = " ".join(f"WHEN {_lit(label.casefold())} THEN {_lit(code) if code else 'NULL'}"
                         for label, code in col.codes)
        return f"(CASE {_norm(col, self.value(col))} {whens} END)"

    def canonical(self, col: Column) -> str:
        """A code column's value as the codebook writes it (``9--17``)."""
        whens = " ".join(f"WHEN {_lit(label.casefold())} THEN {_lit(label)}" for label, _ in col.codes)
        return f"(CASE {_norm(col, self.value(col))} {whens} END)"

    def field(self, name: str) -> Column | None:
        return next((c for c in self.present.values() if c.field == name), None)

    def typed(self) -> str:
        """SELECT of the typed record fields for each combination of values (``combos``), with its
        number of records ``_n``, the record id column's text, and each country column's text for the
        crosswalks. The line and the submission are the record's own: added by the caller."""
        out = ["_n"]
        year = self.field("year")
        out.append(f"CAST({self.number(year)} AS INTEGER) AS year" if year else "CAST(NULL AS INTEGER) AS year")
        sex = self.field("sex")
        out.append(f"coalesce({self.mapped(sex)}, 'unknown') AS sex" if sex else "'unknown' AS sex")
        band = self.field("age_broad")
        out.append(f"{self.canonical(band)} AS age_broad" if band else "CAST(NULL AS VARCHAR) AS age_broad")
        fallback = self.field("age_group_fallback")
        parts = [self.mapped(c) for c in (band, fallback) if c is not None]
        out.append(f"coalesce({', '.join([*parts, repr('unknown')])}) AS age_group")
        flags = {name: (self.flag_value(c) if (c := self.field(name)) else "CAST(NULL AS BOOLEAN)")
                 for name in FLAG_FIELDS}
        if self.layout.fill_exploitation_blanks:
            group = [self.flag_value(c) for c in self.present.values() if c.group == "exploitation"]
            if group:
                named = " OR ".join(f"coalesce({g}, FALSE)" for g in group)
                flags = {name: (f"(CASE WHEN {named} THEN coalesce({expr}, FALSE) ELSE {expr} END)"
                                if self.field(name) else expr) for name, expr in flags.items()}
        out += [f"{expr} AS {name}" for name, expr in flags.items()]
        # Each form once, in code order, from every flag that names it (string functions, not lists:
        # a list per row costs half a second on a million records).
        named: dict[str, list[str]] = {}
        for c in self.present.values():
            for form in c.forms:
                named.setdefault(form, []).append(f"{self.number(c)} = 1")
        forms = [f"CASE WHEN {' OR '.join(conds)} THEN {_lit(form)} END" for form, conds in sorted(named.items())]
        out.append(f"NULLIF(concat_ws(';', {', '.join(forms)}), '') AS forms" if forms
                   else "CAST(NULL AS VARCHAR) AS forms")
        ref = self.present.get(self.layout.record_ref) if self.layout.record_ref else None
        out.append(f"{_q(ref.name)} AS record_ref_text" if ref else "CAST(NULL AS VARCHAR) AS record_ref_text")
        for fname in COUNTRY_FIELDS:
            c = self.field(fname)
            if c is None:
                out += [f"CAST(NULL AS VARCHAR) AS {fname}_text", f"FALSE AS {fname}_unknown"]
                continue
            v = self.value(c)
            unknown = f"{v} IN {_in(self.layout.unknown_countries)}" if self.layout.unknown_countries else "FALSE"
            out += [f"(CASE WHEN {unknown} THEN NULL ELSE {v} END) AS {fname}_text",
                    f"coalesce({unknown}, FALSE) AS {fname}_unknown"]
        return "SELECT " + ",\n  ".join(out) + " FROM combos ORDER BY _combo"


# --- parsing -------------------------------------------------------------------------------------------


def _resolve(f: ReceivedFile, layout_id: str) -> Match:
    """The file's match with the layout asked for, or say why the file is not of that layout."""
    m = classify(f)
    want = layouts()[layout_id]
    if m is None:
        what = "a text (CSV) file" if f.kind == "text" else f"a {f.kind} file"
        raise InvalidFile(f.name, [Problem(
            "ctdc-header", f"this is {what} whose first line is not a CTDC header: expected CTDC's column "
            "names (yearOfRegistration, gender, ageBroad, citizenship, CountryOfExploitation, …)", line=1)])
    if m.layout.id != layout_id:
        if m.decided_by == "header":
            fmt = next(n for n, fm in registry.formats().items() if fm.parse is _PARSERS[m.layout.id])
            raise InvalidFile(f.name, [Problem(
                "ctdc-layout", f"the header is CTDC's {m.layout.title}, not the {want.title}: import it "
                f"with --format {fmt}, or without --format", line=1, found=m.layout.id, expected=layout_id)])
        header = _split(_head_lines(f)[0], m.delimiter)
        m = _match(want, header, m.delimiter, "--format")
    return m


def _data_lines(content: bytes, rows: int) -> pa.Array | None:
    """The line of each of the ``rows`` rows read, when the file has empty lines (which readers skip); else None.

    Counted on the bytes, not per line in Python: when the file has as many lines as the header
    and the rows, none is empty (the usual case, one pass at memchr speed). Otherwise a newline
    followed by another (or by CR LF) opens an empty line; every other line after the header holds a row.
    """
    lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1)
    if lines <= rows + 1:
        return None
    blanks = [m.start() for m in re.finditer(rb"\n(?=\r?\n)", content)]
    empty, before, last = [], 0, 0
    for p in blanks:  # newlines before each empty line, counted once over the file
        before += content.count(b"\n", last, p)
        last = p
        empty.append(before + 2)
    empty = np.array(empty, dtype=np.int64)
    numbers = np.arange(2, lines + 1, dtype=np.int64)
    return pa.array(np.delete(numbers, empty[empty <= lines] - 2).astype(np.int32))


#: Each CTDC column is read as dictionary-encoded text: a few distinct codes over a million rows.
_CODES = pa.dictionary(pa.int32(), pa.string())


def _read(content: bytes, m: Match, *, threads: bool, on_ragged) -> pa.Table:
    """The file's CTDC columns as text (``c<position>``), exactly as written: Namibia's ``NA`` is a code."""
    names = [f"c{i}" for i in range(len(m.header))]
    wanted = [f"c{i}" for i, _ in m.columns]
    return pa_csv.read_csv(
        pa.BufferReader(content),
        read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, use_threads=threads, block_size=BLOCK_BYTES),
        parse_options=pa_csv.ParseOptions(delimiter=m.delimiter, quote_char='"', double_quote=True,
                                          newlines_in_values=True, invalid_row_handler=on_ragged),
        convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(wanted, _CODES), include_columns=wanted,
                                              null_values=[], strings_can_be_null=False,
                                              quoted_strings_can_be_null=False))


def _ragged(f: ReceivedFile, m: Match) -> list[Problem]:
    """Every row whose number of fields is not the header's, with its line (read again, in order)."""
    rows = []

    def keep(row) -> str:
        rows.append(row)
        return "skip"

    read = _read(f.content, m, threads=False, on_ragged=keep)  # a parallel read does not know row numbers
    lines = _data_lines(f.content, read.num_rows + len(rows))
    problems = []
    for row in rows[:MAX_ROWS_PER_FIELD]:
        # The reader numbers the rows it sees (the header is 1; empty lines are not rows).
        line = row.number if lines is None or row.number is None else lines[row.number - 2].as_py()
        text = row.text if len(row.text) <= 80 else row.text[:77] + "..."
        problems.append(Problem("ctdc-fields", f"this row has {row.actual_columns} fields and the header "
                                f"{row.expected_columns}: a cell is missing or a {m.delimiter!r} too many "
                                "(a quote left open?)", line=line, found=text,
                                expected=f"{row.expected_columns} fields, as in the header"))
    if len(rows) > len(problems):
        problems.append(Problem("ctdc-more", f"{len(rows) - len(problems):,} more rows have a number of fields "
                                "that is not the header's (the first are listed above)"))
    return problems


@dataclass(frozen=True)
class _Staged:
    """A file's records as staged: each record's line and the combination of values it holds."""

    records: int
    blank: int  # rows with no value in any CTDC column, skipped
    line: pa.Array  # int32, per record
    combo: pa.Array  # int32, per record: its row in ``combos``
    first_line: pa.Array  # int32, per combination: the line of its first record

    def expand(self, values: pa.Array) -> pa.Array:
        """A value per combination → the value of each record."""
        return values.take(self.combo)


def _combinations(columns: list[pa.DictionaryArray]) -> tuple[pa.Array, np.ndarray]:
    """Each row's combination of values (numbered in order of first appearance), and the first row of each.

    The dictionary indices of the columns make one integer per row; the integers are renumbered
    whenever their range would outgrow 64 bits, so any number of columns and values works.
    """
    key = None
    span = 1
    for codes in columns:
        card = len(codes.dictionary) + 1  # the last value stands for an empty cell
        idx = codes.indices.fill_null(card - 1).to_numpy(zero_copy_only=False).astype(np.int64)
        if key is not None and span * card >= 2**62:
            key = pc.dictionary_encode(pa.array(key)).indices.to_numpy().astype(np.int64)
            span = int(key.max()) + 1
        key = idx if key is None else key * card + idx
        span *= card
    combo = pc.dictionary_encode(pa.array(key)).indices  # numbered in order of first appearance
    numbers = combo.to_numpy()
    running = np.maximum.accumulate(numbers)
    first = np.flatnonzero(np.r_[True, running[1:] > running[:-1]])
    return combo.cast(pa.int32()), first


def _stage(con: duckdb.DuckDBPyConnection, m: Match, f: ReceivedFile) -> _Staged:
    """Register ``raw`` (each record: ``_line`` and its CTDC columns as trimmed text, empty → NULL) and
    ``combos`` (each distinct combination of those values: ``_combo``, its number of records ``_n``, the values).

    The file is read from memory by Arrow's CSV reader, in parallel, each column dictionary-encoded.
    A CTDC file holds a few hundred distinct combinations of codes in a million records, so the
    codebook's rules and the mappings run once per combination and each record takes its result.
    A row with no value in any CTDC column is skipped (and counted); the others keep their line.

    Raises:
        InvalidFile: rows with more or fewer fields than the header (nothing else is checked then).
    """
    ragged = []
    table = _read(f.content, m, threads=True, on_ragged=lambda row: ragged.append(row) or "skip")
    if ragged:
        raise InvalidFile(f.name, _ragged(f, m))
    rows = table.num_rows
    # A row's line is its position + 2 (the header is line 1), empty lines (which the reader skips)
    # added back; a line break inside quotes (CTDC has none) would shift the lines after it.
    lines = _data_lines(f.content, rows)
    line = (pa.array(np.arange(2, rows + 2, dtype=np.int32)) if lines is None or len(lines) < rows
            else lines[:rows])
    columns = {}
    for (_, col), chunked in zip(m.columns, table.unify_dictionaries().columns, strict=True):
        codes = chunked.combine_chunks()
        if not isinstance(codes, pa.DictionaryArray):  # no chunk at all: a header without rows
            codes = pa.DictionaryArray.from_arrays(pa.array([], pa.int32()), pa.array([], pa.string()))
        text = pc.utf8_trim(codes.dictionary, " ")
        indices = pc.if_else(pc.take(pc.equal(text, ""), codes.indices), pa.scalar(None, pa.int32()), codes.indices)
        columns[col.name] = pa.DictionaryArray.from_arrays(indices, text)
    valued = None
    for array in columns.values():
        valued = pc.is_valid(array) if valued is None else pc.or_(valued, pc.is_valid(array))
    if valued is not None and pc.sum(valued).as_py() != rows:
        line = line.filter(valued)
        columns = {name: array.filter(valued) for name, array in columns.items()}
    records = len(line)
    con.register("raw", pa.table({"_line": line, **columns}))
    if records:
        combo, first = _combinations(list(columns.values()))
    else:
        combo, first = pa.array([], pa.int32()), np.array([], np.int64)
    picked = pa.array(first)
    con.register("combos", pa.table({
        "_combo": pa.array(np.arange(len(first), dtype=np.int32)),
        "_n": pa.array(np.bincount(combo.to_numpy(), minlength=len(first)).astype(np.int64)),
        **{name: array.take(picked).cast(pa.string()) for name, array in columns.items()},
    }))
    return _Staged(records, rows - records, line, combo, line.take(picked))


def _check(con: duckdb.DuckDBPyConnection, sql: _Sql) -> tuple[list[Problem], dict[str, int]]:
    """Every value the codebook does not allow, and the values that differ from it only in case."""
    conds = {}
    for col in sql.present.values():
        if (bad := sql.bad(col)) is not None:
            conds[(col.name, "bad")] = bad
        if (case := sql.case_only(col)) is not None:
            conds[(col.name, "case")] = case
    if not conds:
        return [], {}
    keys = list(conds)
    counts = con.execute("SELECT " + ", ".join(f"coalesce(sum(_n) FILTER (WHERE {c}), 0)" for c in conds.values())
                         + " FROM combos").fetchall()[0]
    found = dict(zip(keys, counts, strict=True))
    case_only = {name: n for (name, kind), n in found.items() if kind == "case" and n}
    problems: list[Problem] = []
    for (name, kind), n in found.items():
        if kind != "bad" or not n:
            continue
        col = sql.present[name]
        rows = con.execute(f"SELECT _line, {_q(name)} FROM raw WHERE {conds[(name, kind)]} ORDER BY _line "
                           f"LIMIT {MAX_ROWS_PER_FIELD}").fetchall()
        for line, value in rows:
            problems.append(_value_problem(sql, col, line, value))
        if n > len(rows):
            problems.append(Problem("ctdc-more", f"{n - len(rows):,} more rows have {name} values the codebook "
                                    "does not allow (the first are listed above)", field=name))
    return problems, case_only


def _value_problem(sql: _Sql, col: Column, line: int, value: str) -> Problem:
    missing = " or ".join(repr(m) for m in sql.missing)
    if col.type == "year":
        return Problem("ctdc-year", "the year of registration is not a year from "
                       f"{sql.layout.first_year} to {sql.this_year}", line=line, field=col.name, found=value,
                       expected=f"a year such as 2016, or {missing} or empty when not known")
    if col.type == "flag":
        return Problem("ctdc-flag", "a yes/no field holds something else than 1 (yes) or 0 (no)", line=line,
                       field=col.name, found=value, expected=f"1, 0, or {missing} or empty when not known")
    labels = [label for label, _ in col.codes]
    hint = difflib.get_close_matches(value, labels, n=1, cutoff=0.6)
    return Problem("ctdc-code", f"not one of the values CTDC's codebook allows for {col.name}"
                   + (f"; did you mean {hint[0]!r}?" if hint else ""), line=line, field=col.name, found=value,
                   expected=", ".join(labels) + f", or {missing} or empty when not known")


def _countries(table: pa.Table, staged: _Staged, sql: _Sql, crosswalks: tuple
               ) -> tuple[dict[str, pa.Array], list[Problem], dict]:
    """ISO3 (or ``unknown``) for each country column of ``table`` (a row per combination of values, with
    its number of records ``_n``); a code no crosswalk maps is a problem, listed with each record's line."""
    from tipwatch.harmonise import Harmoniser

    h = Harmoniser(extra=crosswalks)
    out, problems, counts = {}, [], {}
    countries = reference.countries()
    allowed = set(countries) | {"unknown", "stateless"}
    weights = table["_n"]
    for fname in COUNTRY_FIELDS:
        col = sql.field(fname)
        text = table[f"{fname}_text"]
        unknown = table[f"{fname}_unknown"]
        if col is None:
            out[fname] = pa.nulls(table.num_rows, pa.string())
            continue
        # A code of the other ISO length is a mix-up, not a code to guess: refused before mapping.
        other = 5 - sql.layout.country_letters  # 2 ↔ 3
        misfit = pc.and_(pc.equal(pc.utf8_length(text), other), pc.utf8_is_alpha(text))
        codes, _ = h.map("country", pc.if_else(misfit, pa.scalar(None, pa.string()), text), field=col.name,
                         weights=weights)
        bad = pc.and_(pc.is_valid(text), pc.invert(pc.is_in(codes, value_set=pa.array(sorted(allowed)))))
        if pc.any(bad).as_py():
            bad = staged.expand(bad)
            lines = pc.filter(staged.line, bad)
            found = pc.filter(staged.expand(text), bad)
            shown = min(len(lines), MAX_ROWS_PER_FIELD)
            for line, value in zip(lines[:shown].to_pylist(), found[:shown].to_pylist(), strict=True):
                tail = ""
                if len(value) == other and value.isalpha():
                    hint = [h.lookup("country", value)] if h.lookup("country", value) else []
                    what = (f"a {'two' if other == 2 else 'three'}-letter code in a layout of "
                            f"{'three' if other == 2 else 'two'}-letter codes ({sql.layout.country_coding})")
                    if other == 2 and value.upper() == "NA":
                        what += (": NA is Namibia's two-letter code, but R writes NA for a missing value; write NAM "
                                 "for Namibia, or leave the cell empty")
                        hint = []
                else:
                    what = f"not a country code tipwatch knows ({sql.layout.country_coding})"
                    hint = h.suggestions("country", value)
                    tail = "; a code of your own can be mapped with --crosswalk"
                if sql.layout.country_letters == 2:  # suggest codes as the file writes them
                    hint = [countries[c].iso2 if c in countries and countries[c].iso2 else c for c in hint]
                problems.append(Problem(
                    "ctdc-country", what + (f"; did you mean {' or '.join(hint)}?" if hint else "") + tail,
                    line=line, field=col.name,
                    found=value, expected=f"an {sql.layout.country_coding} code, "
                    + (" or ".join(repr(u) for u in sql.layout.unknown_countries) + " when unknown, "
                       if sql.layout.unknown_countries else "") + "or empty when missing"))
            if len(lines) > shown:
                problems.append(Problem("ctdc-more", f"{len(lines) - shown:,} more rows have {col.name} codes "
                                        "tipwatch cannot map (the first are listed above)", field=col.name))
        out[fname] = pc.if_else(unknown, pa.scalar("unknown"), codes)
        counts[fname] = {"column": col.name, "unknown": _records(weights, unknown),
                         "missing": _records(weights, pc.and_(pc.is_null(text), pc.invert(unknown))),
                         "mapped": _records(weights, pc.is_valid(codes))}
    return out, problems, {"report": h.report(), "counts": counts}


def _records(weights: pa.Array, where: pa.Array) -> int:
    """How many records the combinations where ``where`` is true stand for."""
    return int(pc.sum(pc.filter(weights, pc.fill_null(where, False))).as_py() or 0)


def _observations(con: duckdb.DuckDBPyConnection, combos: pa.Table) -> pa.Table:
    """The cube rows of ``victims_registered``, counted by the rule in `tipwatch.indicators.victims` from
    each combination of values (``combos``: the record fields, ``line`` of its first record, records ``_n``)."""
    import ibis

    from tipwatch.indicators.victims import INDICATOR, count_records

    backend = ibis.duckdb.from_connection(con)
    counted = backend.to_pyarrow(count_records(ibis.memtable(combos), weight="_n"))
    n = counted.num_rows
    unit = next(m["unit"] for m in reference.indicator_meta() if m["id"] == INDICATOR)

    def const(value, type_):
        return pa.array([value] * n, type_)

    return pa.table({
        "seq": pa.array(range(n), pa.int32()),
        "area": counted["area"], "area_kind": const("country", pa.string()),
        "year": counted["year"].cast(pa.int32()), "indicator": const(INDICATOR, pa.string()),
        "sex": counted["sex"], "age": counted["age"], "form": const("total", pa.string()),
        "citizenship": counted["citizenship"], "repatriated_to": const("total", pa.string()),
        "label": const("", pa.string()), "rank": const(1, pa.int32()),
        "value": counted["value"].cast(pa.float64()), "status": const("computed", pa.string()),
        "unit": const(unit, pa.string()), "legal_basis": pa.nulls(n, pa.string()),
        "sheet": const("", pa.string()), "line": counted["line"].cast(pa.int32()),
    }, schema=OBSERVATIONS_IN)


def parse_layout(f: ReceivedFile, layout_id: str, *, vintage: date | None = None, crosswalks: tuple = ()
                 ) -> Batch:
    """Read a CTDC file of the layout ``layout_id`` into victim records and cube figures.

    Raises:
        InvalidFile: Every problem of the file (nothing is stored).
        InputError: The file cannot be read as CSV text, or a crosswalk cannot be used.
    """
    m = _resolve(f, layout_id)
    layout = m.layout
    problems: list[Problem] = []
    for pos, cell in m.duplicates:
        problems.append(Problem("ctdc-duplicate-column", f"column {pos + 1} repeats a CTDC column: only the "
                                "first is read", line=1, field=cell, found=cell, expected="each column once"))
    if m.foreign:
        other = next(lay for lid, lay in layouts().items() if lid != layout.id)
        problems.append(Problem("ctdc-mixed-layout", f"the header mixes the {layout.title} with columns of the "
                                f"{other.title}", line=1, found=", ".join(m.foreign),
                                expected=f"the columns of one layout ({layout.id})"))
    sql = _Sql(m)
    con = duckdb.connect()
    try:
        try:
            staged = _stage(con, m, f)
        except pa.ArrowInvalid as exc:
            message = str(exc).splitlines()[0]
            if "utf8" in message.lower() or "utf-8" in message.lower():
                raise InputError(f"{f.name} is not UTF-8 text: save it as 'CSV UTF-8' and import it again.") \
                    from None
            if "straddl" in message or "block size" in message:
                raise InputError(f"{f.name} has a row longer than {BLOCK_BYTES // 2**20} MB: no CTDC record is that "
                                 "long, so the file is damaged (a quote left open?) or is not CTDC's.") from None
            raise InputError(f"{f.name} could not be read as CSV ({message}).") from None
        blank = staged.blank
        if staged.records == 0:
            problems.append(Problem("ctdc-empty", "the file has a CTDC header but no records", line=2))
            raise InvalidFile(f.name, problems)
        found, case_only = _check(con, sql)
        problems += found
        typed = con.sql(sql.typed()).to_arrow_table()
        countries, country_problems, harmonised = _countries(typed, staged, sql, tuple(crosswalks))
        problems += country_problems
        if problems:
            problems.sort(key=lambda p: (p.line is None, p.line or 0))
            raise InvalidFile(f.name, problems)

        n = staged.records
        fields = {name: (countries[name] if name in countries else typed[name]) for name in RECORD_FIELDS
                  if name not in ("record_ref", "line")}
        record_ref = pc.cast(staged.line, pa.string())
        if sql.layout.record_ref and sql.layout.record_ref in sql.present:
            record_ref = pc.coalesce(staged.expand(typed["record_ref_text"]), record_ref)
        sid = submission_id(layout.source, f.sha256)
        records = pa.table({"submission_id": pa.repeat(sid, n).cast(pa.string()), "record_ref": record_ref,
                            **{name: staged.expand(fields[name]) for name in RECORD_FIELDS[1:-1]},
                            "line": staged.line})
        observations = _observations(con, pa.table({**fields, "line": staged.first_line, "_n": typed["_n"]}))
        weights, year, country = typed["_n"], fields["year"], fields["exploitation_country"]
        stats = (_records(weights, pc.is_null(year)),
                 _records(weights, pc.and_(pc.is_valid(year), pc.equal(country, "unknown"))),
                 _records(weights, pc.and_(pc.is_valid(year), pc.is_null(country))),
                 _records(weights, pc.is_valid(fields["forms"])))
        floats = 0
        flag_cols = [c for c in sql.present.values() if c.type == "flag"]
        if flag_cols:
            floats = con.execute("SELECT " + " + ".join(
                f"coalesce(sum(_n) FILTER (WHERE {_q(c.name)} IN ('0.0', '1.0')), 0)" for c in flag_cols)
                + " FROM combos").fetchall()[0][0]
    finally:
        con.close()

    no_year, unknown_country, missing_country, with_forms = stats
    counted = n - no_year - unknown_country - missing_country
    assumed = vintage is None
    vintage = vintage or layout.vintage
    warnings = []
    if m.ignored:
        warnings.append(f"{len(m.ignored)} column{'s' if len(m.ignored) > 1 else ''} not in CTDC's {layout.id} "
                        f"layout, ignored: {', '.join(m.ignored)}")
    for name, k in case_only.items():
        warnings.append(f"{k:,} {name} values differ from CTDC's codebook only in upper/lower case: read as the "
                        "codebook's")
    if blank:
        warnings.append(f"{blank:,} row{'s' if blank > 1 else ''} with no value in any CTDC column skipped")
    if no_year:
        warnings.append(f"{no_year:,} records have no year of registration: stored, not counted into the cube")
    if unknown_country or missing_country:
        warnings.append(f"{unknown_country + missing_country:,} records have no known country of exploitation "
                        f"({unknown_country:,} coded unknown, {missing_country:,} missing): stored, not counted "
                        "into the cube")
    if assumed:
        warnings.append(f"release date not given: taken as {vintage:%d %b %Y}, the release the {layout.id} layout "
                        "was documented from; give --vintage YYYY-MM-DD for another release")
    cc = harmonised["counts"]
    summary = [
        f"{layout.title}: {n:,} victim records read from {len(m.columns)} CTDC column"
        f"{'s' if len(m.columns) != 1 else ''} (layout "
        + ("given with --format)" if m.decided_by == "--format" else f"recognised from its {m.decided_by})"),
        *(f"{c['column']}: {c['mapped']:,} mapped to ISO3, {c['unknown']:,} unknown (code "
          f"{'/'.join(layout.unknown_countries) or '-'}), {c['missing']:,} missing" for c in cc.values()),
        f"records counted into the cube (victims_registered): {counted:,}; figures: {observations.num_rows:,}",
    ]
    if layout.source != "ctdc":
        summary.append(f"stored as source {layout.source}: synthetic records, never mixed with real figures")
    report = {
        "layout": layout.id,
        "layout_title": layout.title,
        "source": layout.source,
        "vintage": vintage.isoformat(),
        "vintage_assumed": assumed,
        "detected_by": m.decided_by,
        "delimiter": m.delimiter,
        "rows_read": n + blank,
        "records_stored": n,
        "columns_read": [col.name for _, col in m.columns],
        "ignored_columns": list(m.ignored),
        "countries": cc,
        "flags_written_as_floats": floats,
        "records_with_forms": with_forms,
        "records_counted": counted,
        "records_not_counted": {"no_year": no_year, "exploitation_country_unknown": unknown_country,
                                "exploitation_country_missing": missing_country},
        "figures_counted": observations.num_rows,
        "harmonisation": harmonised["report"],
        "warnings": warnings,
        "summary": summary,
    }
    return Batch(layout.source, layout.scope, vintage, layout.source, n + blank, observations, report,
                 {"victim_records": records})


def _parser(layout_id: str):
    def parse(f: ReceivedFile, *, vintage: date | None = None, crosswalks: tuple = (), year: int | None = None
              ) -> Batch:
        return parse_layout(f, layout_id, vintage=vintage, crosswalks=crosswalks)

    parse.__doc__ = f"Parse a CTDC file of the {layout_id} layout (`parse_layout`)."
    return parse


_PARSERS = {lid: _parser(lid) for lid in ("ctdc_2020", "ctdc_2024")}

# The format name is the source the records are stored under: `import_file` finds an earlier
# import of the same file by format name and source.
registry.register(Format("ctdc", "CTDC global victim dataset, 2020 layout (CSV)", _detector("ctdc_2020"),
                         _PARSERS["ctdc_2020"]))
registry.register(Format("ctdc_synthetic", "CTDC global synthetic victim dataset, 2024 layout (CSV)",
                         _detector("ctdc_2024"), _PARSERS["ctdc_2024"]))
