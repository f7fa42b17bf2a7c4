"""Harmonisation: national categories → tipwatch's code lists, through crosswalk files.

A member state's data speaks its own language: an offence is an article of its law, a form of
exploitation has a local name, a nationality is written in Portuguese or as an ISO2 code. A
*crosswalk* is a CSV file that maps such labels to tipwatch codes and says, for every row, on
what basis (the law article, or the source of the mapping)::

    domain,label,code,basis,note
    country,Tailândia,THA,"Unicode CLDR territory names, locale pt",

``domain`` is the code list the label maps into (`domains`). A user adds a crosswalk without
writing code: pass it with ``tipwatch import --crosswalk FILE``, or put it in the folder named
by ``$TIPWATCH_CROSSWALKS``. A label is looked up, first hit wins, in

1. the user's files, in the order given (``--crosswalk``, then the ``$TIPWATCH_CROSSWALKS`` folder);
2. the bundled files in ``reference/data/crosswalks/`` (alphabetical);
3. the built-in matches: a code or label of the domain's code list, and for ``country`` also the
   ISO2 codes and English names of ``countries.csv``.

Matching ignores case, accents and surrounding or repeated whitespace. `Harmoniser.map` works on
the distinct values of a column (Arrow dictionary encoding), so a million rows with a few hundred
distinct labels cost a few hundred look-ups. An unmapped value never fails an import: the column
gets null, and the report lists the value with up to three suggested codes.

The two ``glotip_*.csv`` files of the bundled folder have the older ``label,code,note`` layout
that `tipwatch.ingest.glotip` reads through `tipwatch.reference.crosswalk`; the harmoniser lists
them but does not use them.
"""

from __future__ import annotations

import csv
import difflib
import os
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tipwatch import reference
from tipwatch.errors import InputError

#: The columns of a crosswalk file, in this order.
HEADER = ("domain", "label", "code", "basis", "note")
#: The folder of user crosswalks, every ``*.csv`` in it (a setting, read when a `Harmoniser` is made).
CROSSWALKS_ENV = "TIPWATCH_CROSSWALKS"
BUNDLED = reference.DATA / "crosswalks"
#: The id under which built-in matches are counted.
BUILTIN = "builtin"
#: Suggestions are worked out for this many unmapped values of a field (the most frequent first):
#: beyond that a file is not in the vocabulary the crosswalk expects, and more hints would not help.
MAX_SUGGESTED = 100


def normalise(text: str) -> str:
    """The form labels are compared in: no accents, case-folded, single spaces, straight apostrophes.

    ``"  Côte  d’Ivoire "`` and ``"cote d'ivoire"`` compare equal.
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00b4", "'")
    return " ".join(text.casefold().split())


# --- domains: the code lists a label can map into ---------------------------------------------


@dataclass(frozen=True)
class Domain:
    """A code list labels are mapped into: its codes, and the built-in matches (label → code)."""

    name: str
    codes: frozenset[str]
    builtin: dict[str, str]  # normalised label → code
    source: str


def _codelist_file(name: str) -> Path | None:
    for folder in ("codelists", "casefile/codelists"):
        path = reference.DATA / folder / f"{name}.csv"
        if path.exists():
            return path
    return None


def _read_codelist(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _builtin(rows: Iterable[tuple[str, ...]]) -> dict[str, str]:
    """Normalised code and labels → code; the first row to claim a label keeps it."""
    out: dict[str, str] = {}
    for code, *labels in rows:
        for text in (code, *labels):
            if text:
                out.setdefault(normalise(text), code)
    return out


@cache
def domains() -> dict[str, Domain]:
    """Every domain a crosswalk can map into, by name.

    ``country``: ISO3 codes of ``countries.csv`` and the lower-case codes of
    ``codelists/citizenship_special.csv`` (``unknown``, ``stateless``, …). ``age_group``: the age
    code list without ``total`` (a person is a child, an adult, or of unknown age). Every other
    code list of ``codelists/`` (sex, form, offence, …) and of the case-level template
    (``casefile/codelists/``: role, service, provider, …) is a domain of its own name.
    """
    out: dict[str, Domain] = {}
    countries = reference.countries().values()
    special = reference.codelist("citizenship_special")
    out["country"] = Domain(
        "country",
        frozenset([c.iso3 for c in countries] + list(special)),
        _builtin([*((c.iso3, c.iso2, c.name) for c in countries),
                  *((code, r["label"]) for code, r in special.items())]),
        "countries.csv + codelists/citizenship_special.csv",
    )
    ages = {code: r for code, r in reference.codelist("age").items() if code != "total"}
    out["age_group"] = Domain("age_group", frozenset(ages), _builtin((c, r["label"]) for c, r in ages.items()),
                              "codelists/age.csv without total")
    names = sorted({p.stem for folder in ("codelists", "casefile/codelists")
                    for p in (reference.DATA / folder).glob("*.csv")} - {"age", "citizenship_special"})
    for name in names:
        path = _codelist_file(name)
        rows = _read_codelist(path)
        out[name] = Domain(name, frozenset(r["code"] for r in rows),
                           _builtin((r["code"], r.get("label", "")) for r in rows),
                           path.relative_to(reference.DATA).as_posix())
    return out


def _domain(name: str) -> Domain:
    try:
        return domains()[name]
    except KeyError:
        raise ValueError(f"{name!r} is not a harmonisation domain (known: {', '.join(domains())})") from None


# --- crosswalk files --------------------------------------------------------------------------


class CrosswalkError(InputError):
    """A crosswalk file that cannot be used: every problem of the file, with its line."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        n = len(problems)
        super().__init__(f"crosswalk {path.name} cannot be used: {n} problem{'s' if n > 1 else ''}, "
                         f"the first: {problems[0]}")

    def details(self, limit: int = 50) -> list[str]:
        """Every problem, one line each (the first ``limit``)."""
        lines = self.problems[:limit]
        if len(self.problems) > limit:
            lines.append(f"… and {len(self.problems) - limit} more")
        return lines


@dataclass(frozen=True)
class Crosswalk:
    """One crosswalk file, checked: its rows by domain as normalised label → (code, line)."""

    id: str
    path: Path
    origin: str  # "user", "env" or "bundled"
    layout: str  # "crosswalk", or "glotip" for the older label,code,note files
    rows: int
    table: dict[str, dict[str, str]] = field(default_factory=dict)  # domain → normalised label → code
    basis: tuple[str, ...] = ()
    labels: dict[tuple[str, str], str] = field(default_factory=dict)  # (domain, normalised) → label as written

    @property
    def domains(self) -> tuple[str, ...]:
        """The domains the file maps into."""
        return tuple(self.table)


def _suggest(text: str, candidates: dict[str, str], n: int = 3) -> list[str]:
    """Up to ``n`` codes whose code or a label is closest to ``text``, best first.

    difflib's similarity ratio, at least 0.6 (difflib's own cut-off) and within 0.1 of the best
    match: "THAI" suggests THA (0.86, from "tha"), not Haiti (0.57) nor Thailand's weaker 0.67.
    """
    key = normalise(text)
    if not key:
        return []
    sm = difflib.SequenceMatcher()
    sm.set_seq2(key)
    scored = []
    for cand, code in candidates.items():
        sm.set_seq1(cand)
        if sm.real_quick_ratio() >= 0.6 and sm.quick_ratio() >= 0.6:
            ratio = sm.ratio()
            if ratio >= 0.6:
                scored.append((-ratio, cand, code))
    scored.sort()
    out: list[str] = []
    for neg, _, code in scored:
        if -neg < -scored[0][0] - 0.1 or len(out) == n:
            break
        if code not in out:
            out.append(code)
    return out


def read_crosswalk(path: str | Path, *, origin: str = "user", id: str | None = None) -> Crosswalk:
    """Read and check one crosswalk file.

    Args:
        path: A UTF-8 CSV file with the header ``domain,label,code,basis,note``.
        origin: Where it came from: ``user`` (``--crosswalk``), ``env`` or ``bundled``.
        id: The id its rows are counted under (default: the file's stem).

    Raises:
        CrosswalkError: Every problem of the file at once — an unknown domain, a code that is not
            in its domain's code list, an empty label or basis, a label mapped twice to different
            codes — each with its line and value.
        InputError: The file does not exist, is not UTF-8, or is a GLOTIP-layout crosswalk.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"crosswalk {path} does not exist: check the file name and folder.")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except UnicodeDecodeError:
        raise InputError(f"crosswalk {path.name} is not UTF-8 text: save it as 'CSV UTF-8'.") from None
    header = tuple(c.strip().lower() for c in (rows[0] if rows else []))
    if header[:3] == ("label", "code", "note"):
        raise InputError(f"crosswalk {path.name} has the GLOTIP layout (label,code,note): add a domain and a "
                         f"basis column, as in {','.join(HEADER)}.")
    if header[:len(HEADER)] != HEADER:
        raise CrosswalkError(path, [f"line 1: the header is {','.join(header) or '(empty)'}; "
                                    f"expected {','.join(HEADER)}"])
    known = domains()
    problems: list[str] = []
    table: dict[str, dict[str, str]] = {}
    lines: dict[tuple[str, str], int] = {}
    written: dict[tuple[str, str], str] = {}
    bases: list[str] = []
    count = 0
    for line, raw in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in raw] + [""] * (len(HEADER) - len(raw))
        if not any(cells):
            continue
        count += 1
        domain, label, code, basis = cells[:4]
        domain = domain.lower()  # "Country" is the country domain; codes stay as the code list writes them
        where = f"line {line}"
        if domain not in known:
            hint = difflib.get_close_matches(domain.lower(), list(known), n=1)
            problems.append(f"{where}: domain {domain!r} is not a code list tipwatch maps into"
                            + (f"; did you mean {hint[0]}?" if hint else f" (known: {', '.join(known)})"))
            continue
        if not label:
            problems.append(f"{where}: the label is empty; write the national category it maps from")
        if not basis:
            problems.append(f"{where}: the basis of {label!r} → {code!r} is empty; name the law article or the "
                            "source of the mapping")
        d = known[domain]
        if code not in d.codes:
            hint = _suggest(code, d.builtin) if code else []
            what = f"code {code!r} is not in the {domain} code list ({d.source})" if code else "the code is empty"
            problems.append(f"{where}: {what}" + (f"; did you mean {' or '.join(hint)}?" if hint else ""))
        if not label or code not in d.codes:
            continue
        key = normalise(label)
        previous = table.setdefault(domain, {}).get(key)
        if previous is not None and previous != code:
            problems.append(f"{where}: {label!r} is mapped to {code!r} here and to {previous!r} on line "
                            f"{lines[domain, key]}; keep one")
            continue
        table[domain][key] = code
        lines.setdefault((domain, key), line)
        written.setdefault((domain, key), label)
        if basis:
            bases.append(basis)
    if problems:
        raise CrosswalkError(path, problems)
    return Crosswalk(id or path.stem, path, origin, "crosswalk", count, table, tuple(dict.fromkeys(bases)), written)


def _legacy(path: Path) -> Crosswalk:
    with path.open(encoding="utf-8", newline="") as fh:
        n = sum(1 for _ in csv.DictReader(fh))
    return Crosswalk(path.stem, path, "bundled", "glotip", n)


def _is_legacy(path: Path) -> bool:
    with path.open(encoding="utf-8", newline="") as fh:
        return fh.readline().strip().lower().startswith("label,code")


@cache
def _bundled(folder: Path, stamp: tuple) -> tuple[Crosswalk, ...]:
    out = []
    for path in sorted(folder.glob("*.csv")):
        out.append(_legacy(path) if _is_legacy(path) else read_crosswalk(path, origin="bundled"))
    return tuple(out)


def bundled() -> tuple[Crosswalk, ...]:
    """The crosswalks that come with tipwatch, including the GLOTIP-layout ones (read again when edited)."""
    return _bundled(BUNDLED, tuple((p.name, p.stat().st_mtime_ns) for p in sorted(BUNDLED.glob("*.csv"))))


def env_files() -> list[Path]:
    """Every ``*.csv`` of the folder named by ``$TIPWATCH_CROSSWALKS``, in name order (none if unset).

    Raises:
        InputError: The variable names something that is not a folder.
    """
    folder = os.environ.get(CROSSWALKS_ENV, "").strip()
    if not folder:
        return []
    p = Path(folder)
    if not p.is_dir():
        raise InputError(f"{CROSSWALKS_ENV} is set to {folder}, which is not a folder: set it to the folder of "
                         "your crosswalk files, or unset it.")
    return sorted(p.glob("*.csv"))


# --- the harmoniser ---------------------------------------------------------------------------


@dataclass
class FieldReport:
    """What mapping one field did."""

    field: str
    domain: str
    rows: int
    mapped: int
    touched: dict[str, int]  # crosswalk id (file stem, or "builtin") → rows it mapped
    unmapped: list[dict]  # {"field", "value", "rows", "suggestions"}, most rows first


class Harmoniser:
    """Maps columns of national labels to tipwatch codes, and remembers what it did for the report."""

    def __init__(self, extra: tuple[Path, ...] | list[Path] = ()) -> None:
        """Load the crosswalks: ``extra`` first (in order), then ``$TIPWATCH_CROSSWALKS``, then the bundled.

        Args:
            extra: The user's crosswalk files (``--crosswalk``), tried before all others.

        Raises:
            CrosswalkError: A user's crosswalk has problems (all of them listed).
            InputError: A file is missing or unreadable, or ``$TIPWATCH_CROSSWALKS`` is not a folder.
        """
        used: Counter[str] = Counter(c.id for c in bundled())
        user = []
        for origin, paths in (("user", list(extra)), ("env", env_files())):
            for path in paths:
                stem = Path(path).stem
                used[stem] += 1
                # A user's file may share a bundled file's name: count its rows apart.
                cid = stem if used[stem] == 1 else f"{stem}#{used[stem]}"
                user.append(read_crosswalk(path, origin=origin, id=cid))
        #: The crosswalks in the order they are tried.
        self.crosswalks: tuple[Crosswalk, ...] = (*user, *(c for c in bundled() if c.layout == "crosswalk"))
        self._touched: Counter[str] = Counter()
        self._unmapped: dict[tuple[str, str], dict] = {}
        self._lookup: dict[str, dict[str, tuple[str, str]]] = {}

    def _table(self, domain: str) -> dict[str, tuple[str, str]]:
        """Normalised label → (code, crosswalk id), every layer folded in, highest precedence winning."""
        table = self._lookup.get(domain)
        if table is None:
            d = _domain(domain)
            table = {k: (code, BUILTIN) for k, code in d.builtin.items()}
            for cw in reversed(self.crosswalks):  # lowest precedence first, so that higher ones overwrite
                for k, code in cw.table.get(domain, {}).items():
                    table[k] = (code, cw.id)
            self._lookup[domain] = table
        return table

    def lookup(self, domain: str, value: str | None) -> str | None:
        """One value's code, or None (nothing recorded: for a file's header, not its rows)."""
        if value is None or not value.strip():
            return None
        hit = self._table(domain).get(normalise(value))
        return hit[0] if hit else None

    def suggestions(self, domain: str, value: str) -> list[str]:
        """Up to three codes of ``domain`` whose code or labels are closest to ``value``."""
        return _suggest(value, {k: code for k, (code, _) in self._table(domain).items()})

    def map(self, domain: str, values, *, field: str, weights: pa.Array | None = None) -> tuple[pa.Array, FieldReport]:
        """Map a column of labels to codes of ``domain``.

        Args:
            domain: The code list to map into (`domains`), e.g. ``country``.
            values: A pyarrow Array or ChunkedArray, or a list of ``str | None``.
            field: The field's name as the user knows it (for the report).
            weights: How many rows each value stands for, when ``values`` holds each distinct
                combination of a file once (the report counts rows); one each when not given.

        Returns:
            The codes (``pa.string()``; null where the value is null, empty or unmapped) and what
            happened. Only the distinct values are looked up.

        Raises:
            ValueError: ``domain`` is not a harmonisation domain (a defect of the caller).
        """
        table = self._table(domain)
        arr = _strings(values)
        encoded = pc.dictionary_encode(arr)
        distinct = encoded.dictionary.to_pylist()
        counts = [0] * len(distinct)
        if distinct and weights is not None:
            present = pc.is_valid(encoded.indices)
            counts = np.bincount(encoded.indices.filter(present).to_numpy(), minlength=len(distinct),
                                 weights=pc.filter(weights, present).to_numpy()).astype(np.int64).tolist()
        elif distinct:
            vc = pc.value_counts(encoded.indices.drop_null())
            for index, n in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True):
                counts[index] = n
        codes: list[str | None] = []
        touched: Counter[str] = Counter()
        missing: list[tuple[str, int]] = []
        for value, n in zip(distinct, counts, strict=True):
            key = normalise(value)
            hit = table.get(key) if key else None
            if hit is None:
                codes.append(None)
                if key:
                    missing.append((value, n))
                continue
            codes.append(hit[0])
            touched[hit[1]] += n
        out = pc.take(pa.array(codes, pa.string()), encoded.indices) if distinct else pa.nulls(len(arr), pa.string())
        missing.sort(key=lambda m: (-m[1], m[0]))
        candidates = {k: code for k, (code, _) in table.items()}
        unmapped = [{"field": field, "value": value, "rows": n,
                     "suggestions": _suggest(value, candidates) if i < MAX_SUGGESTED else []}
                    for i, (value, n) in enumerate(missing)]
        rows = len(arr) if weights is None else int(pc.sum(weights).as_py() or 0)
        report = FieldReport(field, domain, rows, sum(touched.values()), dict(touched), unmapped)
        self._touched.update(touched)
        for u in unmapped:
            seen = self._unmapped.get((field, u["value"]))
            if seen is None:
                self._unmapped[field, u["value"]] = dict(u)
            else:
                seen["rows"] += u["rows"]
        return out, report

    def report(self) -> dict:
        """Everything mapped so far, JSON-ready, for an import report's ``harmonisation`` key.

        ``{"crosswalks": {crosswalk_id: rows_touched}, "unmapped": [{"field", "value", "rows",
        "suggestions"}]}``: crosswalks in the order they are tried (``builtin`` last), unmapped
        values most rows first.
        """
        order = [c.id for c in self.crosswalks] + [BUILTIN]
        crosswalks = {cid: self._touched[cid] for cid in order if self._touched[cid]}
        unmapped = sorted(self._unmapped.values(), key=lambda u: (-u["rows"], u["field"], u["value"]))
        return {"crosswalks": crosswalks, "unmapped": [dict(u) for u in unmapped]}


def _strings(values) -> pa.Array:
    """``values`` as one string Array (a list, an Array of any string-like type, or a ChunkedArray)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    if not isinstance(values, pa.Array):
        values = pa.array(list(values) if not isinstance(values, Sequence) else values, pa.string())
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if values.type != pa.string():
        values = values.cast(pa.string())
    return values


__all__ = [
    "BUILTIN", "CROSSWALKS_ENV", "HEADER", "Crosswalk", "CrosswalkError", "Domain", "FieldReport", "Harmoniser",
    "bundled", "domains", "env_files", "normalise", "read_crosswalk",
]
