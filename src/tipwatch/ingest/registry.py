"""The registry of source formats.

Every format — our own built-ins included — registers here the same way an add-on would: a
name, a detector that looks at the content (never the file name), and a parser that turns a
received file into a `Batch` ready for the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from tipwatch.errors import InputError
from tipwatch.ingest.files import ReceivedFile


def submission_id(source: str, file_hash: str) -> str:
    """Deterministic id of a file's submission: the same file always gets the same id."""
    return f"{source}:{file_hash[:24]}"


#: The longest value a problem shows as found (a longer one is cut, and its length said).
MAX_FOUND = 200


@dataclass
class Problem:
    """One thing wrong with a file, located precisely enough to fix it."""

    code: str
    message: str
    sheet: str = ""
    line: int | None = None
    field: str = ""
    found: str = ""
    expected: str = ""

    def __post_init__(self) -> None:
        # A value as found in a hostile or damaged file can be megabytes long: show its start.
        if isinstance(self.found, str) and len(self.found) > MAX_FOUND:
            self.found = f"{self.found[:MAX_FOUND - 40]}… ({len(self.found):,} characters in all)"

    def __str__(self) -> str:
        where = ", ".join(
            p for p in (self.sheet and f"sheet {self.sheet}", self.line and f"line {self.line}",
                        self.field and f"field {self.field}") if p
        )
        text = f"{where}: {self.message}" if where else self.message
        if self.found:
            text += f" (found {self.found!r}" + (f", expected {self.expected})" if self.expected else ")")
        return f"{text} [{self.code}]."


class InvalidFile(InputError):
    """A file whose content has problems; nothing of it was stored."""

    def __init__(self, name: str, problems: list[Problem]) -> None:
        self.problems = problems
        n = len(problems)
        first = problems[0]
        super().__init__(
            f"{name} was not imported: {n} problem{'s' if n > 1 else ''} found, the first: {first}"
        )

    def details(self, limit: int = 50) -> list[str]:
        """Every problem, one line each (the first ``limit``)."""
        lines = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"… and {len(self.problems) - limit} more (use --json to see them all)")
        return lines

    def as_json(self) -> list[dict]:
        """The problems as JSON-ready dicts."""
        return [dict(vars(p)) for p in self.problems]


@dataclass
class Batch:
    """What a parser produced: one submission's observations and its import report."""

    source: str
    scope: str
    vintage: date
    format: str
    rows_read: int
    observations: pa.Table
    report: dict = field(default_factory=dict)
    #: Case-level tables (name → rows, ``submission_id`` first), for formats that carry them.
    microdata: dict[str, pa.Table] = field(default_factory=dict)


@dataclass(frozen=True)
class Format:
    """A source format tipwatch can import.

    ``detect(f)`` says from the content (never the file name) whether ``f`` is of this format;
    it must be quick and must not raise. ``parse(f, *, vintage, crosswalks, year)`` reads it
    all, or raises `InvalidFile` (or `InputError`) without storing anything: ``vintage`` is
    the release date for a file that does not carry one, ``crosswalks`` the user's crosswalk
    files (`tipwatch.harmonise`), ``year`` the year for a file that does not say it.
    """

    name: str
    title: str
    detect: Callable[[ReceivedFile], bool]
    parse: Callable[..., Batch]


_FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    """Make a format available to `tipwatch import`."""
    _FORMATS[fmt.name] = fmt
    return fmt


def formats() -> dict[str, Format]:
    """Registered formats by name."""
    return dict(_FORMATS)


def detect(f: ReceivedFile) -> Format:
    """Return the format whose detector recognises the file's content.

    Raises:
        InputError: No registered format recognises the file.
    """
    for fmt in _FORMATS.values():
        if fmt.detect(f):
            return fmt
    names = ", ".join(fmt.title for fmt in _FORMATS.values())
    if f.kind == "text" and f.name.lower().endswith((".xlsx", ".xls")):
        raise InputError(
            f"{f.name} is a text (CSV) file with an Excel name, not a workbook: export the data "
            "again as .xlsx, or give the file its real name."
        )
    if f.kind == "xlsx":
        what = "an Excel workbook"
    elif f.kind == "text":
        what = "a text file"
    else:
        what = f"a {f.kind} file"
    raise InputError(f"{f.name} is {what} but not one tipwatch knows how to import (known: {names}).")


def get(name: str) -> Format:
    """Return a registered format by name (for ``--format``)."""
    try:
        return _FORMATS[name]
    except KeyError:
        raise InputError(f"{name} is not a known format (known: {', '.join(_FORMATS)}).") from None
