"""Ingest: receive a file, detect its format, parse and validate it, store it all or nothing.

Formats register themselves in `registry`; importing this package registers the built-ins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from tipwatch.ingest import (  # noqa: F401  (importing a format registers it)
    casefile,
    ctdc,
    glotip,
    htcds,
    registry,
    tiers,
)
from tipwatch.ingest.files import ReceivedFile, receive
from tipwatch.ingest.registry import Batch, InvalidFile, Problem, submission_id
from tipwatch.store import Store
from tipwatch.store.schema import raw_files, submissions


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    submission_id: str
    format: str
    vintage: date
    unchanged: bool
    report: dict
    #: The format was recognised from the file's content (not given with ``--format``).
    detected: bool = True


def parse_file(path: str | Path, *, format: str | None = None, vintage: date | None = None,
               crosswalks: tuple[Path, ...] = (), year: int | None = None) -> tuple[ReceivedFile, Batch]:
    """Read, detect and parse a file without touching any store (``tipwatch validate``)."""
    f = receive(path)
    fmt = registry.get(format) if format else registry.detect(f)
    return f, fmt.parse(f, vintage=vintage, crosswalks=tuple(crosswalks), year=year)


def import_file(store: Store, path: str | Path, *, format: str | None = None,
                vintage: date | None = None, crosswalks: tuple[Path, ...] = (),
                year: int | None = None) -> ImportResult:
    """Import one file into the store, all or nothing.

    The same file imported twice changes nothing. Another release of the same source is
    stored beside the first; the newest vintage is current whatever the order of imports.

    Args:
        store: The open store.
        path: A file, or a folder of CSV files (a case-level submission).
        format: A registered format's name: skip detection.
        vintage: The release date, for a file that does not say it.
        crosswalks: The user's own crosswalk files, tried before the bundled ones
            (`tipwatch.harmonise`).
        year: The year a file is about, for a file that does not say it (a tier list).

    Raises:
        InputError: The file cannot be read or recognised, or has problems (nothing stored).
    """
    f = receive(path)
    fmt = registry.get(format) if format else registry.detect(f)
    with store.engine.connect() as conn:
        existing = conn.execute(
            sa.select(submissions.c.id, submissions.c.vintage, submissions.c.report)
            # A format may store under another source's name (three tier layouts, one source).
            .where(sa.or_(submissions.c.source == fmt.name, submissions.c.format == fmt.name),
                   submissions.c.file_hash == f.sha256)
        ).first()
    if existing is not None:
        return ImportResult(existing.id, fmt.name, existing.vintage, True, json.loads(existing.report), not format)

    batch = fmt.parse(f, vintage=vintage, crosswalks=tuple(crosswalks), year=year)
    sid = submission_id(batch.source, f.sha256)
    now = datetime.now(UTC).replace(tzinfo=None)
    obs = batch.observations
    obs = obs.add_column(0, "submission_id", pa.array([sid] * obs.num_rows, pa.string()))
    with store.engine.begin() as conn:
        known = conn.execute(sa.select(raw_files.c.file_hash).where(raw_files.c.file_hash == f.sha256)).first()
        if known is None:
            # Stored as an LZ4 frame: a fifth of a CSV folder's bytes to write, in a few
            # milliseconds (`tipwatch.store.raw_content` gives the file back, byte for byte).
            conn.execute(raw_files.insert().values(
                file_hash=f.sha256, file_name=f.name, size_bytes=len(f.content),
                content=pa.compress(f.content, codec="lz4", asbytes=True), content_codec="lz4",
                received_at=now))
        conn.execute(submissions.insert().values(
            id=sid, source=batch.source, scope=batch.scope, vintage=batch.vintage,
            file_hash=f.sha256, format=batch.format, imported_at=now,
            rows_read=batch.rows_read, rows_stored=obs.num_rows,
            report=json.dumps(batch.report, ensure_ascii=False, sort_keys=True)))
        store.bulk_insert(conn, "observations", obs)
        for table, rows in batch.microdata.items():
            store.bulk_insert(conn, table, rows)
    return ImportResult(sid, fmt.name, batch.vintage, False, batch.report, not format)


__all__ = ["ImportResult", "InvalidFile", "Problem", "import_file", "parse_file", "registry"]
