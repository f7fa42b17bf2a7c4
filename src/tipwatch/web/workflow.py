"""The submission workflow: upload → validation report → submit → national approval →
regional acceptance (the file is imported and the country's years are locked) → publication.

Every upload is kept, valid or not: its bytes in ``raw_files`` (as every import keeps them) and
a row in ``uploads`` that records where it stands. A restatement (an upload for a country that
already has an accepted upload) opens a new version: its differences from the accepted version
are part of its validation report, and it goes through the same steps. Who may take each step
is checked here, not in the pages: the API and the pages call these functions alike.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from tipwatch.errors import Conflict, InputError, NotFound, PermissionDenied
from tipwatch.ingest import import_file, registry
from tipwatch.ingest.files import MAX_BYTES, receive
from tipwatch.store import Store
from tipwatch.store.schema import FIGURE_KEY, observations, raw_files, uploads
from tipwatch.web import audit
from tipwatch.web.auth import ROLE_NAMES, Principal

#: States, in the order an upload moves through them (``importing`` while an accepted file is imported).
STATES = ("invalid", "valid", "submitted", "approved", "importing", "accepted", "published", "returned", "superseded")
BUSY = "importing"
#: States an upload can be replaced from by a newer upload of the same country.
OPEN_STATES = ("invalid", "valid", "returned")
#: How many problems an upload's report keeps (the count is always complete).
MAX_PROBLEMS = 5000
#: How many changed figures a restatement's report lists (the counts are always complete).
MAX_DIFFERENCES = 500
#: Each step as the messages name it: (what the person may do, what the upload can be).
STEP_WORDS = {"submit": ("submit an upload", "submitted"), "approve": ("approve an upload", "approved"),
              "return": ("return an upload for correction", "returned"),
              "accept": ("accept and lock an upload", "accepted")}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .") or "upload"
    return base[:120]


@contextmanager
def _as_file(name: str, content: bytes):
    """The bytes as a file of that name, for the importers (which read files)."""
    with tempfile.TemporaryDirectory(prefix="tipwatch-upload-") as tmp:
        path = Path(tmp) / _safe_name(name)
        path.write_bytes(content)
        yield path


def _row(conn: sa.Connection, upload_id: str):
    row = conn.execute(sa.select(uploads).where(uploads.c.id == upload_id)).first()
    if row is None:
        raise NotFound(f"There is no upload {upload_id}.")
    return row


def _visible(who: Principal, row) -> None:
    if not who.may_see_country(row.country):
        # Not 403: another country's uploads are not this person's to know of.
        raise NotFound(f"There is no upload {row.id}.")


def as_dict(row, full: bool = True) -> dict:
    """An upload as the API gives it (``report`` parsed, only when ``full``)."""
    d = {c: getattr(row, c) for c in ("id", "country", "file_name", "format", "state", "problems", "uploaded_by",
                                      "uploaded_at", "updated_at", "submission_id", "restates", "note")}
    d["file_hash"] = row.file_hash
    if full:
        d["report"] = json.loads(row.report)
    return d


def list_uploads(engine: sa.Engine, who: Principal, country: str | None = None) -> list[dict]:
    """The uploads this person may see (their country's, or all for the region), newest first."""
    if not who.signed_in:
        raise PermissionDenied("Sign in to see uploads.")
    q = sa.select(uploads).order_by(uploads.c.uploaded_at.desc(), uploads.c.id.desc())
    if who.role in ("focal_point", "approver"):
        q = q.where(uploads.c.country == who.country)
    if country:
        q = q.where(uploads.c.country == country.upper())
    with engine.connect() as conn:
        return [as_dict(r, full=False) for r in conn.execute(q)]


def get_upload(engine: sa.Engine, who: Principal, upload_id: str, client: str | None = None) -> dict:
    """One upload with its validation report (every problem and its line): a microdata view, logged."""
    if not who.signed_in:
        raise PermissionDenied("Sign in to see uploads.")
    with engine.begin() as conn:
        row = _row(conn, upload_id)
        _visible(who, row)
        audit.record(conn, who, "view_microdata", upload_id, {"country": row.country}, client)
    return as_dict(row)


def file_content(store: Store, who: Principal, upload_id: str, client: str | None = None) -> tuple[str, bytes]:
    """An upload's file, byte for byte as received (logged)."""
    if not who.signed_in:
        raise PermissionDenied("Sign in to download files.")
    with store.engine.begin() as conn:
        row = _row(conn, upload_id)
        _visible(who, row)
        audit.record(conn, who, "download_file", upload_id, {"country": row.country}, client)
    return row.file_name, store.raw_content(row.file_hash)


def _country_of(scope: str) -> str:
    return scope.split(":", 1)[0].upper()


def _differences(store: Store, country: str, old_submission: str, new_obs: pa.Table) -> dict:
    key = list(FIGURE_KEY)
    cols = [*key, "value", "status"]
    with store.engine.connect() as conn:
        old = pd.read_sql(sa.select(*(observations.c[c] for c in cols))
                          .where(observations.c.submission_id == old_submission), conn)
    new = new_obs.select(cols).to_pandas()
    m = old.merge(new, on=key, how="outer", suffixes=("_old", "_new"), indicator=True)
    change = pd.Series("unchanged", index=m.index)
    change[m["_merge"] == "right_only"] = "added"
    change[m["_merge"] == "left_only"] = "removed"
    both = m["_merge"] == "both"
    differs = (m["status_old"] != m["status_new"]) | (m["value_old"].isna() != m["value_new"].isna()) | (
        (m["value_old"] != m["value_new"]) & m["value_old"].notna() & m["value_new"].notna())
    change[both & differs] = "revised"
    m["change"] = change
    changed = m[m.change != "unchanged"].sort_values(key)
    rows = [{**{k: getattr(r, k) for k in ("area", "year", "indicator", "sex", "age", "form")},
             "old_value": None if pd.isna(r.value_old) else float(r.value_old),
             "new_value": None if pd.isna(r.value_new) else float(r.value_new), "change": r.change}
            for r in changed.head(MAX_DIFFERENCES).itertuples()]
    counts = changed.change.value_counts().to_dict()
    return {"counts": {k: int(counts.get(k, 0)) for k in ("revised", "added", "removed")},
            "unchanged": int((m.change == "unchanged").sum()), "rows": rows, "listed": len(rows)}


def _accepted(conn: sa.Connection, country: str):
    return conn.execute(
        sa.select(uploads).where(uploads.c.country == country, uploads.c.state.in_(("accepted", "published")))
        .order_by(uploads.c.updated_at.desc(), uploads.c.id.desc())
    ).first()


def locked_years(engine: sa.Engine, country: str) -> list[int]:
    """The years an accepted upload of ``country`` covers: a new upload for them is a restatement."""
    with engine.connect() as conn:
        row = _accepted(conn, country)
    return [] if row is None else json.loads(row.report).get("years", [])


def upload(store: Store, who: Principal, file_name: str, content: bytes, client: str | None = None) -> dict:
    """Receive a file from a focal point, validate it, and keep it whatever the result.

    Returns:
        The upload with its validation report: state ``valid`` or ``invalid``.

    Raises:
        PermissionDenied: Only a national focal point uploads.
        InputError: The file is empty or too large (then it is not kept: there is nothing to keep).
    """
    if who.role != "focal_point":
        raise PermissionDenied(f"Only a national focal point uploads files; you are signed in as "
                               f"{ROLE_NAMES[who.role]}.")
    if not content:
        raise InputError(f"{file_name} is empty (0 bytes): export the data again and send the full file.")
    if len(content) > MAX_BYTES:
        raise InputError(f"{file_name} is more than the {MAX_BYTES // 2**20} MB tipwatch accepts in one file: "
                         "split it by year.")
    name = _safe_name(file_name)
    report: dict = {"problems": []}
    problems: list[dict] = []
    fmt_name = None
    years: list[int] = []
    batch = None
    with _as_file(name, content) as path:
        try:
            f = receive(path)
            fmt = registry.detect(f)
            fmt_name = fmt.name
            batch = fmt.parse(f, vintage=None, crosswalks=(), year=None)
        except registry.InvalidFile as exc:
            problems = exc.as_json()
        except InputError as exc:
            problems = [{"code": "unreadable-file", "message": str(exc), "sheet": "", "line": None, "field": "",
                         "found": "", "expected": ""}]
    file_hash = hashlib.sha256(content).hexdigest()
    if batch is not None:
        report["import_report"] = batch.report
        report["rows_read"] = batch.rows_read
        report["source"] = batch.source
        report["scope"] = batch.scope
        years = sorted({int(y) for y in batch.observations.column("year").to_pylist()})
        report["years"] = years
        country = _country_of(batch.scope)
        if len(country) != 3 or not country.isalpha():
            problems.append({"code": "wrong-country", "sheet": "", "line": None, "field": "", "found": batch.scope,
                             "expected": who.country,
                             "message": f"This file is not one country's submission (it covers {batch.scope}): "
                                        f"upload {who.country}'s file made from the submission template."})
        elif country != who.country:
            problems.append({"code": "wrong-country", "sheet": "", "line": None, "field": "", "found": country,
                             "expected": who.country,
                             "message": f"This file is about {country}; you submit for {who.country}: upload "
                                        f"{who.country}'s file, or ask {country}'s focal point to upload it."})
    report["problem_count"] = len(problems)
    report["problems"] = problems[:MAX_PROBLEMS]
    state = "invalid" if problems else "valid"
    uid = secrets.token_hex(8)
    now = _now()
    with store.engine.begin() as conn:
        prior = _accepted(conn, who.country)
        if prior is not None and batch is not None and not problems:
            report["restatement"] = _differences(store, who.country, prior.submission_id, batch.observations)
        if conn.execute(sa.select(raw_files.c.file_hash).where(raw_files.c.file_hash == file_hash)).first() is None:
            conn.execute(raw_files.insert().values(
                file_hash=file_hash, file_name=name, size_bytes=len(content),
                content=pa.compress(content, codec="lz4", asbytes=True), content_codec="lz4", received_at=now))
        conn.execute(uploads.update().where(uploads.c.country == who.country, uploads.c.state.in_(OPEN_STATES))
                     .values(state="superseded", updated_at=now, note=f"replaced by upload {uid}"))
        conn.execute(uploads.insert().values(
            id=uid, country=who.country, file_hash=file_hash, file_name=name, format=fmt_name, state=state,
            problems=len(problems), report=json.dumps(report, ensure_ascii=False, default=str),
            uploaded_by=who.username,
            uploaded_at=now, updated_at=now, submission_id=None,
            restates=prior.id if prior is not None else None, note=None))
        audit.record(conn, who, "upload", uid, {"country": who.country, "file": name, "state": state,
                                                 "problems": len(problems), "sha256": file_hash}, client)
        return as_dict(_row(conn, uid))


def _claim(store: Store, upload_id: str, from_state: str, to_state: str) -> None:
    with store.engine.begin() as conn:
        res = conn.execute(uploads.update().where(uploads.c.id == upload_id, uploads.c.state == from_state)
                           .values(state=to_state, updated_at=_now()))
    if res.rowcount != 1:
        raise Conflict(f"Upload {upload_id} changed while this step was taken: reload it and try again.")


def _step(store: Store, who: Principal, upload_id: str, *, action: str, roles: tuple[str, ...],
          from_states: tuple[str, ...], to_state: str, note: str | None = None, client: str | None = None,
          national: bool = True, on_move=None) -> dict:
    if not who.signed_in:
        from tipwatch.web.deps import NotSignedIn

        raise NotSignedIn("Sign in first.")
    if who.role not in roles:
        names = " or ".join(ROLE_NAMES[r] for r in roles)
        raise PermissionDenied(f"Only a {names} may {STEP_WORDS[action][0]}.")
    with store.engine.begin() as conn:
        row = _row(conn, upload_id)
        _visible(who, row)
        if national and who.role in ("focal_point", "approver") and row.country != who.country:
            raise NotFound(f"There is no upload {upload_id}.")
        if row.state not in from_states:
            raise Conflict(f"Upload {upload_id} is {row.state}: it can be {STEP_WORDS[action][1]} "
                           f"only when it is {' or '.join(from_states)}.")
    current, extra = row.state, {}
    if on_move is not None:
        # Claimed first, so that of two people taking the step at once (or two server processes)
        # only one does the work; given back if the work fails.
        _claim(store, upload_id, current, BUSY)
        current = BUSY
        try:
            extra = on_move(row)
        except BaseException:
            _claim(store, upload_id, BUSY, row.state)
            raise
    with store.engine.begin() as conn:
        res = conn.execute(uploads.update().where(uploads.c.id == upload_id, uploads.c.state == current)
                           .values(state=to_state, updated_at=_now(), note=note, **extra))
        if res.rowcount != 1:
            raise Conflict(f"Upload {upload_id} changed while this step was taken: reload it and try again.")
        audit.record(conn, who, action, upload_id, {"country": row.country, "from": row.state, "to": to_state,
                                                    **({"note": note} if note else {})}, client)
        return as_dict(_row(conn, upload_id))


def submit(store: Store, who: Principal, upload_id: str, client: str | None = None) -> dict:
    """A focal point sends a valid upload to their approver."""
    return _step(store, who, upload_id, action="submit", roles=("focal_point",), from_states=("valid",),
                 to_state="submitted", client=client)


def approve(store: Store, who: Principal, upload_id: str, client: str | None = None) -> dict:
    """The national approver approves a submitted upload for the region."""
    return _step(store, who, upload_id, action="approve", roles=("approver",), from_states=("submitted",),
                 to_state="approved", client=client)


def return_upload(store: Store, who: Principal, upload_id: str, note: str, client: str | None = None) -> dict:
    """The approver (a submitted upload) or the analyst (an approved one) sends it back, saying why."""
    note = (note or "").strip()
    if not who.signed_in:
        from tipwatch.web.deps import NotSignedIn

        raise NotSignedIn("Sign in first.")
    if who.role not in ("approver", "analyst"):
        raise PermissionDenied(f"Only a {ROLE_NAMES['approver']} or {ROLE_NAMES['analyst']} may "
                               f"{STEP_WORDS['return'][0]}.")
    if not note:
        raise InputError("Say why the upload goes back, so that the focal point knows what to correct.")
    states = ("submitted",) if who.role == "approver" else ("approved", "submitted")
    return _step(store, who, upload_id, action="return", roles=("approver", "analyst"), from_states=states,
                 to_state="returned", note=note[:2000], client=client)


def accept(store: Store, who: Principal, upload_id: str, client: str | None = None) -> dict:
    """The regional analyst accepts an approved upload: it is imported (all or nothing) and locked."""

    def load(row) -> dict:
        content = store.raw_content(row.file_hash)
        with _as_file(row.file_name, content) as path:
            result = import_file(store, path, format=row.format)
        return {"submission_id": result.submission_id}

    return _step(store, who, upload_id, action="accept", roles=("analyst",), from_states=("approved",),
                 to_state="accepted", client=client, on_move=load)
