"""Receiving a file: existence, size, hash, and what kind of content it really holds."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tipwatch.errors import InputError

#: Larger files are refused before they are read into memory. GLOTIP's full export is 2.3 MB.
MAX_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class ReceivedFile:
    """A file's name, bytes and SHA-256, read once."""

    name: str
    content: bytes
    sha256: str
    #: For a folder received as an archive: each member's name, original path and size, so that a
    #: parser can read the files where they are instead of unpacking the archive again.
    members: tuple[tuple[str, Path, int], ...] = field(default=(), compare=False)

    def member_path(self, name: str) -> Path | None:
        """The original file of an archive member, if it is still the file that was received.

        Raises:
            InputError: The file changed size since it was received (it is being written).
        """
        for member, path, size in self.members:
            if member == name:
                try:
                    now = path.stat().st_size
                except OSError:
                    now = -1
                if now != size:
                    raise InputError(f"{member} changed while it was being imported: wait until it is "
                                     "written in full and import it again.")
                return path
        return None

    @property
    def kind(self) -> str:
        """What the bytes are, whatever the name says: ``xlsx``, ``zip``, ``dta``, ``text`` or ``binary``."""
        head = self.content[:8]
        # Stata: format 117 and later open with a tag; 113–115 with the release, byte order and type 1.
        if self.content.startswith(b"<stata_dta>") or (
                len(head) > 2 and head[0] in (113, 114, 115) and head[1] in (1, 2) and head[2] == 1):
            return "dta"
        if head.startswith(b"PK\x03\x04"):
            return "xlsx" if b"xl/" in self.content[:4096] or self._zip_has_xl() else "zip"
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            return "xls"
        try:
            self.content[:65536].decode("utf-8")
        except UnicodeDecodeError:
            try:
                self.content[:65536].decode("latin-1")
                return "text" if b"\x00" not in self.content[:65536] else "binary"
            except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes everything
                return "binary"
        return "text" if b"\x00" not in self.content[:65536] else "binary"

    def _zip_has_xl(self) -> bool:
        try:
            with zipfile.ZipFile(io.BytesIO(self.content)) as zf:
                return any(n.startswith("xl/") for n in zf.namelist())
        except zipfile.BadZipFile:
            return False


def receive(path: str | Path, max_bytes: int = MAX_BYTES) -> ReceivedFile:
    """Read a file to import, refusing what cannot be a submission.

    Raises:
        InputError: The file is missing, empty or larger than ``max_bytes``.

    A folder of CSV files (a case-level submission sent as CSV) is received as one zip archive
    of its ``.csv`` and ``.json`` files, built the same way every time, so that it has one hash
    and is kept byte for byte like any other file.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p} does not exist: check the file name and folder.")
    if p.is_dir():
        return _receive_folder(p, max_bytes)
    size = p.stat().st_size
    if size == 0:
        raise InputError(f"{p.name} is empty (0 bytes): export the data again and send the full file.")
    if size > max_bytes:
        raise InputError(
            f"{p.name} is {size / 2**20:,.0f} MB, more than the {max_bytes / 2**20:,.0f} MB tipwatch accepts "
            "in one file: split it by year or country."
        )
    try:
        content = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p.name} cannot be read: {exc.strerror}.") from exc
    return ReceivedFile(p.name, content, hashlib.sha256(content).hexdigest())


@lru_cache(maxsize=1)  # detection and parsing read the same workbook once
def read_workbook(f: ReceivedFile) -> tuple[str, list[list]]:
    """Return the first sheet's name and rows of an Excel workbook, or say why it is not one.

    Raises:
        InputError: The file is not an .xlsx workbook, or it is damaged or incomplete.
    """
    kind = f.kind
    if kind == "text":
        raise InputError(
            f"{f.name} is a text (CSV) file, not an Excel workbook, whatever its name says: "
            "export it from the source again as .xlsx."
        )
    if kind == "xls":
        raise InputError(f"{f.name} is an old-style .xls workbook: save it as .xlsx and import that.")
    if kind != "xlsx":
        raise InputError(f"{f.name} is not an Excel workbook (its content is {kind}).")
    try:
        with zipfile.ZipFile(io.BytesIO(f.content)) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InputError(
            f"{f.name} is damaged or incomplete ({exc}): download or export it again."
        ) from exc
    if bad is not None:
        raise InputError(f"{f.name} is damaged (part {bad} is corrupt): download or export it again.")

    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(f.content))
        sheet = wb.sheet_names[0]
        rows = wb.get_sheet_by_index(0).to_python()
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise InputError(
            f"{f.name} could not be read as a workbook ({type(exc).__name__}: {exc}): "
            "export it again as .xlsx."
        ) from exc
    return sheet, rows


def _receive_folder(folder: Path, max_bytes: int) -> ReceivedFile:
    files = sorted(f for f in folder.rglob("*") if f.is_file() and f.suffix.lower() in (".csv", ".json"))
    if not files:
        raise InputError(f"{folder} is a folder with no .csv files: give the file or folder to import.")
    total = sum(f.stat().st_size for f in files)
    if total > max_bytes:
        raise InputError(
            f"{folder.name} holds {total / 2**20:,.0f} MB of CSV, more than the "
            f"{max_bytes / 2**20:,.0f} MB tipwatch accepts at once: split it by year."
        )
    buf = io.BytesIO()
    members = []
    # Stored, not deflated: the archive is kept, not sent, and deflating a large folder costs seconds.
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for f in files:
            # A fixed timestamp: the same folder always gives the same bytes and the same hash.
            name = f.relative_to(folder).as_posix()
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            data = f.read_bytes()
            zf.writestr(info, data)
            members.append((name, f, len(data)))
    content = buf.getvalue()
    return ReceivedFile(f"folder {folder.name}", content, hashlib.sha256(content).hexdigest(), tuple(members))


def read_sheets(f: ReceivedFile) -> dict[str, list[list]]:
    """Every sheet of a workbook by name (rows as calamine gives them).

    Raises:
        InputError: As `read_workbook`.
    """
    read_workbook(f)  # the same checks and messages for a file that is not a sound workbook
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(f.content))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}
